'use strict';
// Allocation instrumentation on timeline, as DevTools records it: heap object tracking with
// allocation stacks, some work, then a snapshot taken over the inspector protocol. The result is
// a .heaptimeline (samples, trace_function_infos, trace_tree and locations populated).
const inspector = require('inspector');
const fs = require('fs');
const path = require('path');
const outDir = process.argv[2];
fs.mkdirSync(outDir, { recursive: true });

const session = new inspector.Session();
session.connect();
const post = (method, params) => new Promise((resolve, reject) =>
  session.post(method, params || {}, (err, res) => (err ? reject(err) : resolve(res))));

class Order { constructor(id) { this.id = id; this.items = [{ sku: `sku-${id}`, qty: id % 5 }]; } }
const retained = [];
function handle(i) { const o = new Order(i); if (i % 3 === 0) retained.push(o); return JSON.stringify(o); }

(async () => {
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 300; i++) handle(round * 300 + i);
    await new Promise((r) => setTimeout(r, 60));
  }
  const chunks = [];
  session.on('HeapProfiler.addHeapSnapshotChunk', (m) => chunks.push(m.params.chunk));
  // takeHeapSnapshot while tracking is on; stopTrackingHeapObjects would stream a second copy.
  await post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  session.removeAllListeners('HeapProfiler.addHeapSnapshotChunk');
  await post('HeapProfiler.stopTrackingHeapObjects', { reportProgress: false });
  fs.writeFileSync(path.join(outDir, 'orders.heaptimeline'), chunks.join(''));
  session.disconnect();
})();
