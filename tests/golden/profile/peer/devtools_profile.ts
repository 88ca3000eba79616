// Peer harness: runs Chrome DevTools' own profile models (chrome-devtools-frontend, bundled by
// make_goldens.sh with esbuild) on a .cpuprofile or .heapprofile and prints what DevTools computes.
// Usage: node devtools_bundle.mjs cpu|cpu-samples|heap FILE
// cpu-samples: each node's hitCount is first set to the number of its entries in `samples` (the one
// sample convention workbench uses; V8 files can disagree by a few hits), then DevTools computes as usual.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import {CPUProfileDataModel} from '../../../../.peers/profile/devtools/package/front_end/models/cpu_profile/CPUProfileDataModel.js';
import {ProfileNode, ProfileTreeModel} from '../../../../.peers/profile/devtools/package/front_end/models/cpu_profile/ProfileTreeModel.js';

const [kind, file] = process.argv.slice(2);
let raw = fs.readFileSync(file);
if (raw[0] === 0x1f && raw[1] === 0x8b) raw = zlib.gunzipSync(raw);
const doc = JSON.parse(raw.toString('utf8'));

function key(n: any): string {
  const cf = n.callFrame;
  return `${cf.functionName}\u0001${cf.url}\u0001${cf.lineNumber + 1}\u0001${cf.columnNumber + 1}`;
}

// Everything below only reads what DevTools' models computed (self, total, depth, parent, samples).
function describe(root: any, all: any[]) {
  const nodes = all.map((n: any) => ({
    id: n.id, parent: n.parent ? n.parent.id : -1, depth: n.depth, key: key(n), callUID: n.callUID,
    self: n.self, total: n.total,
  }));
  // Call tree merged by callUID among siblings (DevTools TopDownProfileDataGrid's childrenByCallUID),
  // keyed by the path of frame keys from the root.
  const calltree: Record<string, {self: number, total: number}> = {};
  const stack: [any, string][] = [[root, '']];
  while (stack.length) {
    const [n, prefix] = stack.pop()!;
    const path = n === root ? '(root)' : prefix + '\u0002' + key(n);
    const e = calltree[path] || (calltree[path] = {self: 0, total: 0});
    e.self += n.self;
    e.total += n.total;
    for (const c of n.children) stack.push([c, path]);
  }
  // Functions: self summed over a callUID's nodes; total over its outermost nodes (ancestors checked
  // through DevTools' parent links); devtools_naive_total adds every node's total.
  const functions: Record<string, {self: number, total: number, devtools_naive_total: number}> = {};
  for (const n of all) {
    if (n === root) continue;
    const f = functions[key(n)] || (functions[key(n)] = {self: 0, total: 0, devtools_naive_total: 0});
    f.self += n.self;
    f.devtools_naive_total += n.total;
    let a = n.parent, inner = false;
    while (a && a !== root) { if (a.callUID === n.callUID) { inner = true; break; } a = a.parent; }
    if (!inner) f.total += n.total;
  }
  return {root_total: root.total, max_depth: (root as any).maxDepth, nodes, calltree, functions};
}

if (kind === 'cpu-samples') {
  const counts = new Map<number, number>();
  for (const id of doc.samples) counts.set(id, (counts.get(id) || 0) + 1);
  for (const n of doc.nodes) n.hitCount = counts.get(n.id) || 0;
}
if (kind === 'cpu' || kind === 'cpu-samples') {
  const model = new CPUProfileDataModel(doc);
  const all = model.nodes()!;
  const out: any = describe(model.profileHead, all);
  out.profile_start_ms = model.profileStartTime;
  out.profile_end_ms = model.profileEndTime;
  out.total_hit_count = model.totalHitCount;
  out.max_depth = model.maxDepth;
  // DevTools' flame chart: every frame opened/closed by forEachFrame (times in ms).
  const frames: any[] = [];
  model.forEachFrame(() => {}, (depth: number, node: any, _i: number, start: number, dur: number, self: number) => {
    frames.push([depth, node.id, key(node), start, dur, self]);
  });
  out.flame_chart = frames;
  process.stdout.write(JSON.stringify(out));
} else {
  // The heap profile tree exactly as HeapProfileView.ts's SamplingHeapProfileModel builds it
  // (self = selfSize; no ordinal range), on DevTools' ProfileTreeModel.
  const all: any[] = [];
  const build = (src: any): any => {
    const n: any = new ProfileNode(src.callFrame);
    n.self = src.selfSize; n.id = src.id;
    all.push(n);
    n.children = src.children.map(build);
    return n;
  };
  const root = build(doc.head);
  const model = new ProfileTreeModel();
  model.initialize(root);
  process.stdout.write(JSON.stringify(describe(root, all)));
}
