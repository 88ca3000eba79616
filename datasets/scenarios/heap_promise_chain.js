'use strict';
// Requests wait on a promise that never settles: a config reload was supposed to resolve
// `configReady`, but its resolve function is lost, so every request's continuation (a closure over
// its PendingLookup) stays attached to the promise forever, in V8's PromiseReaction list.
// Planted: 1,500 PendingLookup objects per phase.
// planted: PendingLookup 1500
const { run } = require('./_heap_harness');
const outDir = process.argv[2];

class PendingLookup {
  constructor(url) { this.url = url; this.startedAt = Date.now(); this.headers = { accept: 'application/json', url }; }
}

const configReady = new Promise(() => {});   // Bug: never resolved

function handler(req, res) {
  const lookup = new PendingLookup(req.url);
  configReady.then(function answerLookup() { lookup.answer = JSON.stringify(lookup); });
  // respond without waiting, as the code's fallback path does; the continuation stays queued
  res.writeHead(200);
  res.end('fallback');
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => Array.from({ length: 50 }, () => `/lookup/${n++}`),
  phase: () => Array.from({ length: 1500 }, () => `/lookup/${n++}`),
});
