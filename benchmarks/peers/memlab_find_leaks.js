// The memlab side of bench_leaks.py: memlab's own find-leaks (findLeaksBySnapshotFilePaths, the API
// behind `memlab find-leaks --baseline --target --final`) on three snapshots. memlab prints its
// report as its CLI does (one block per leak cluster: "--Similar leaks in this run: N--" and the
// trace, one "--edge--->" line per step), which bench_leaks.py parses; the last line is a JSON
// summary: the number of clusters returned and the seconds memlab took.
const path = require('path');
const req = require('module').createRequire(path.join(process.env.PEER_DIR, 'package.json'));
const { findLeaksBySnapshotFilePaths } = req('@memlab/api');
const { config } = req('@memlab/core');
// memlab's default leak rules look for detached DOM elements and unmounted React fibers, which a
// Node heap has none of; its oversize rule with a 0-byte threshold makes every object that is new
// in target and alive in final a candidate, as a Node user runs it
config.oversizeObjectAsLeak = true;
config.oversizeThreshold = 0;

(async () => {
  const [baseline, target, final, workDir] = process.argv.slice(2);
  const t0 = process.hrtime.bigint();
  const leaks = await findLeaksBySnapshotFilePaths(baseline, target, final, { workDir });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log('\n' + JSON.stringify({ suspects: leaks.length, seconds }));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
