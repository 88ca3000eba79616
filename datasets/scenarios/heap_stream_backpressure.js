'use strict';
// An audit log written to a stream whose consumer is paused: every request writes a chunk and
// ignores write()'s return value (backpressure), so the chunks pile up in the stream's buffers
// (the readable side's BufferList up to its highWaterMark, then the writable side's buffered
// requests). Planted: one AuditChunk per request, 1,200 per phase, in objectMode.
// planted: AuditChunk 1200
const { PassThrough } = require('stream');
const { run } = require('./_heap_harness');
const outDir = process.argv[2];

class AuditChunk {
  constructor(url, n) { this.url = url; this.n = n; this.line = `${n} GET ${url} ` + 'a'.repeat(80); }
}

const audit = new PassThrough({ objectMode: true, highWaterMark: 16 });
audit.pause();   // Bug: the shipper that should consume the audit stream was never started.
let seq = 0;

function handler(req, res) {
  audit.write(new AuditChunk(req.url, seq++));   // return value ignored
  res.writeHead(200);
  res.end('ok');
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => Array.from({ length: 50 }, () => `/audit/${n++}`),
  phase: () => Array.from({ length: 1200 }, () => `/audit/${n++}`),
});
