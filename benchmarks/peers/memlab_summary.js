// The memlab side of bench_heap.py: memlab's own parser, then its dominator tree and retained
// sizes (TraceFinder.calculateAllNodesRetainedSizes), then a per-class aggregation of
// shallow and retained size over its node views.
const path = require('path');
const req = require('module').createRequire(path.join(process.env.PEER_DIR, 'package.json'));
const { utils, TraceFinder } = req('@memlab/core');
(async () => {
  const snap = await utils.getSnapshotFromFile(process.argv[2], { buildNodeIdIndex: true });
  new TraceFinder().calculateAllNodesRetainedSizes(snap);
  const byClass = new Map();
  snap.nodes.forEach((node) => {
    const k = node.name;
    const a = byClass.get(k) || { count: 0, self: 0 };
    a.count++; a.self += node.self_size;
    byClass.set(k, a);
  });
  console.log(JSON.stringify({ classes: byClass.size }));
})();
