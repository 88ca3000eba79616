'use strict';
// A service that subscribes a listener to a shared config EventEmitter on every request and
// never unsubscribes. The leak: closures (and the RequestContext each captures) held by the
// emitter's _events.configChanged array.
// planted: onConfigChanged 1500
const { run } = require('./_heap_harness');
const EventEmitter = require('events');
const outDir = process.argv[2];

const configBus = new EventEmitter();
configBus.setMaxListeners(0);

class RequestContext {
  constructor(id, headers) {
    this.id = id;
    this.headers = Object.assign({}, headers);
    this.trace = new Array(32).fill(id);
    this.startedAt = process.hrtime.bigint();
  }
}

function handler(req, res) {
  const ctx = new RequestContext(req.url, req.headers);
  // Bug: the listener is added per request and never removed.
  configBus.on('configChanged', function onConfigChanged(cfg) { ctx.config = cfg; });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: ctx.id, listeners: configBus.listenerCount('configChanged') }));
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => [],
  phase: () => Array.from({ length: 1500 }, () => `/orders/${n++}`),
});
