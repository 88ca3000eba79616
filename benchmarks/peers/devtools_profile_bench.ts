// Peer side of benchmarks/profile_bench.py: DevTools' CPUProfileDataModel on one .cpuprofile.
// Reads + parses the file, builds the model (tree, totals, sample fix-ups), walks forEachFrame
// (the flame chart) and sums self time per callUID (the Bottom-Up top level). Prints timings as JSON.
import * as fs from 'node:fs';
import {CPUProfileDataModel} from '../../.peers/profile/devtools/package/front_end/models/cpu_profile/CPUProfileDataModel.js';

const file = process.argv[2];
const t0 = performance.now();
const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
const t1 = performance.now();
const model = new CPUProfileDataModel(doc);
const t2 = performance.now();
let frames = 0;
model.forEachFrame(() => {}, () => { frames++; });
const t3 = performance.now();
const bySelf = new Map<string, number>();
for (const n of model.nodes()!) bySelf.set(n.callUID, (bySelf.get(n.callUID) || 0) + n.self);
const t4 = performance.now();
process.stdout.write(JSON.stringify({parse_ms: t1 - t0, model_ms: t2 - t1, flame_chart_ms: t3 - t2,
  functions_ms: t4 - t3, total_ms: t4 - t0, flame_chart_frames: frames, functions: bySelf.size}));
