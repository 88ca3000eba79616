'use strict';
// A healthy service that fills a bounded lookup table once, lazily, on its first request (after the
// baseline snapshot) and never grows it again: the three-snapshot method sees 5,000 entries new in
// target and alive in final, but none is added in the last window. find_leaks must call it a
// plateau, not a leak (tests/heap/test_leaks.py runs this with node at test time).
const { run } = require('./_heap_harness');
const outDir = process.argv[2];

class RateEntry {
  constructor(code) { this.code = code; this.label = 'rate-' + code; this.limits = [code % 7, code % 11]; }
}

let table = null; // filled on first use, then only read
function rates() {
  if (table === null) {
    table = new Map();
    for (let i = 0; i < 5000; i++) table.set('c' + i, new RateEntry(i));
  }
  return table;
}

function handler(req, res) {
  const code = Number(req.url.split('/').pop()) % 5000;
  const entry = rates().get('c' + code);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ code: entry.code, label: entry.label }));
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => [],
  phase: () => Array.from({ length: 800 }, () => `/rate/${n++}`),
});
