'use strict';
// Shared harness for the heap scenarios: a real HTTP server on 127.0.0.1, a client that sends
// requests to it, and three snapshots (baseline, target, final) written with v8.writeHeapSnapshot.
// Usage from a scenario: run({ name, handler, warmup, phase, outDir }).
const http = require('http');
const path = require('path');
const fs = require('fs');
const v8 = require('v8');

function request(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: 'GET', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

async function sendMany(port, paths) {
  // Small fixed concurrency, like a client pool.
  const queue = paths.slice();
  const workers = Array.from({ length: 8 }, async () => {
    while (queue.length) await request(port, queue.shift());
  });
  await Promise.all(workers);
}

function snapshot(outDir, name) {
  const file = path.join(outDir, `${name}.heapsnapshot`);
  if (global.gc) { global.gc(); global.gc(); }
  v8.writeHeapSnapshot(file);
  return file;
}

async function run({ handler, warmup, phase, outDir, idle }) {
  fs.mkdirSync(outDir, { recursive: true });
  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  await sendMany(port, warmup());
  snapshot(outDir, 'baseline');
  await sendMany(port, phase(1));
  snapshot(outDir, 'target');
  await sendMany(port, phase(2));
  if (idle) await idle();
  snapshot(outDir, 'final');
  server.close();
  // Timers left behind by leaking scenarios must not keep the process alive.
  process.exit(0);
}

module.exports = { run, request };
