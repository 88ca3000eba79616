'use strict';
// Two snapshots of one process, for the Comparison and Retainers widgets on big heaps
// (benchmarks/bench_heap_widgets.py): gen_large_heap.js's heap, then the same heap after 200,000
// more sessions were kept (a leak the Comparison should show as ~200,000 new Session objects).
// usage: node --max-old-space-size=16384 gen_large_pair.js BEFORE.heapsnapshot AFTER.heapsnapshot [SCALE]
const v8 = require('v8');
const [before, after, scale] = process.argv.slice(2);
process.argv[2] = before;
process.argv[3] = scale || '2';
require('./gen_large_heap.js');
class Session {
  constructor(i) { this.id = i; this.user = `user${i}`; this.data = { hits: i % 7, path: `/api/${i % 100}` }; }
}
global.__sessions = [];
for (let i = 0; i < 200000; i++) global.__sessions.push(new Session(i));
v8.writeHeapSnapshot(after);
