// Runs Chrome DevTools' own heap snapshot code (as bundled by heap-snapshot-toolkit) on one
// snapshot and prints, as JSON on stdout, every number workbench must reproduce:
// per node (ordinal order) the shallow size after DevTools' re-attribution, retained size,
// distance, immediate dominator ordinal and class name; the Summary aggregates; the Statistics.
// usage: node devtools_dump.mjs SNAPSHOT[.gz]   (with NODE_PATH pointing at the toolkit install)
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.PEER_DIR, 'package.json'));
const toolkitPath = require.resolve('heap-snapshot-toolkit');
const { parse } = await import(toolkitPath);

const file = process.argv[2];
let stream = createReadStream(file);
if (file.endsWith('.gz')) stream = stream.pipe(createGunzip());
stream.setEncoding('utf8');
const snap = await parse(stream);

const nf = snap.nodeFieldCount;
const n = snap.nodeCount;
const selfSize = new Array(n);
const id = new Array(n);
const classIdx = new Array(n);
const classNames = [];
const classIndexOf = new Map();
const node = snap.createNode(0);
for (let i = 0; i < n; i++) {
  node.nodeIndex = i * nf;
  selfSize[i] = node.selfSize();
  id[i] = node.id();
  const cn = node.className();
  let ci = classIndexOf.get(cn);
  if (ci === undefined) { ci = classNames.length; classNames.push(cn); classIndexOf.set(cn, ci); }
  classIdx[i] = ci;
}
const aggregates = snap.aggregatesWithFilter({});
const summary = Object.entries(aggregates).map(([key, a]) => ({
  key, name: a.name, count: a.count, distance: a.distance, self: a.self, maxRet: a.maxRet,
}));
const out = {
  node_count: n,
  id,
  self_size: selfSize,
  retained_size: Array.from(snap.retainedSizes),
  distance: Array.from(snap.nodeDistances),
  dominator: Array.from(snap.dominatorsTree),
  class_names: classNames,
  class_index: classIdx,
  summary,
  statistics: snap.getStatistics(),
  total_size: snap.totalSize,
  max_js_node_id: snap.maxJsNodeId(),
};
process.stdout.write(JSON.stringify(out));
