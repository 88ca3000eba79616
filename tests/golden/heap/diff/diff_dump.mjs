// Runs heap-snapshot-toolkit's own diff(start, end) (DevTools' Comparison) on the three snapshots
// of one scenario and prints, as JSON, for each pair the Comparison rows with the ids of the
// added/deleted objects, the "allocated between" Summary (DevTools' NodeFilter(min, max)) and
// DevTools' retainers (createRetainingEdgesProvider, its default filter) of a few new objects.
// usage: node diff_dump.mjs BASELINE TARGET FINAL   (PEER_DIR = the toolkit install)
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.PEER_DIR, 'package.json'));
const { parse, diff } = await import(require.resolve('heap-snapshot-toolkit'));

async function load(file) {
  let stream = createReadStream(file);
  if (file.endsWith('.gz')) stream = stream.pipe(createGunzip());
  stream.setEncoding('utf8');
  return parse(stream);
}

const names = ['baseline', 'target', 'final'];
const snaps = {};
for (let i = 0; i < 3; i++) snaps[names[i]] = await load(process.argv[2 + i]);

function ids(snap, indexes) {
  const node = snap.createNode(0);
  return indexes.map((idx) => { node.nodeIndex = idx; return node.id(); });
}

const out = { max_js_object_id: {}, pairs: [], allocated_between: [], retainers: [] };
for (const n of names) out.max_js_object_id[n] = snaps[n].maxJsNodeId();
for (const [a, b] of [['baseline', 'target'], ['target', 'final'], ['baseline', 'final']]) {
  // The toolkit caches a snapshot's diffs by the base's uid, which its parse() leaves undefined:
  // a second diff against the same end snapshot would return the first one. Fresh end each time.
  const end = await load(process.argv[2 + names.indexOf(b)]);
  const d = await diff(snaps[a], end);
  const rows = Object.entries(d).map(([key, r]) => ({
    key, name: r.name, addedCount: r.addedCount, removedCount: r.removedCount, addedSize: r.addedSize,
    removedSize: r.removedSize, countDelta: r.countDelta, sizeDelta: r.sizeDelta,
    addedIds: ids(end, r.addedIndexes), deletedIds: ids(snaps[a], r.deletedIndexes),
  }));
  out.pairs.push({ before: a, after: b, rows });
}
// the 3-snapshot technique: objects of S3 (and of S2) allocated between S1 and S2
for (const view of ['target', 'final']) {
  const filter = { minNodeId: out.max_js_object_id.baseline, maxNodeId: out.max_js_object_id.target };
  const agg = snaps[view].aggregatesWithFilter(filter);
  out.allocated_between.push({
    view, min: filter.minNodeId, max: filter.maxNodeId,
    summary: Object.entries(agg).map(([key, a]) => ({ key, name: a.name, count: a.count, distance: a.distance, self: a.self, maxRet: a.maxRet })),
  });
}
// DevTools' Retainers of the first few objects new in final (largest classes first)
{
  const snap = await load(process.argv[4]);
  const nf = snap.nodeFieldCount;
  const d = await diff(snaps.target, snap);
  const top = Object.values(d).sort((x, y) => y.sizeDelta - x.sizeDelta).slice(0, 4);
  for (const r of top) {
    for (const idx of r.addedIndexes.slice(0, 2)) {
      const provider = snap.createRetainingEdgesProvider(idx);
      const range = provider.serializeItemsRange(0, 1000000);
      const node = snap.createNode(idx);
      out.retainers.push({
        node_id: node.id(), ordinal: idx / nf,
        items: range.items.map((e) => ({ name: e.name, type: e.type, from_id: e.node.id, distance: e.node.distance })),
      });
    }
  }
}
process.stdout.write(JSON.stringify(out));
