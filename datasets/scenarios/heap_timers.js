'use strict';
// A service that starts a polling timer per client session and never clears it. The leak:
// PollingSession objects captured by the setInterval callbacks, held by the timer lists.
// planted: Timeout 1500
const { run } = require('./_heap_harness');
const outDir = process.argv[2];

class PollingSession {
  constructor(client) {
    this.client = client;
    this.buffered = [];
    this.payload = 'x'.repeat(256) + client;
    this.polls = 0;
  }
}

function handler(req, res) {
  const session = new PollingSession(req.url);
  // Bug: the interval is never cleared when the client goes away.
  setInterval(function pollUpstream() { session.polls++; }, 60 * 60 * 1000);
  res.writeHead(200);
  res.end('subscribed');
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => [],
  phase: () => Array.from({ length: 1500 }, () => `/subscribe/${n++}`),
});
