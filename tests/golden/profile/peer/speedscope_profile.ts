// Peer harness: runs speedscope's own importers (jlfwong/speedscope src/import/chrome.ts, v8proflog.ts,
// bundled by make_goldens.sh with esbuild) on a .cpuprofile, Chrome trace or `--prof-process --preprocess`
// JSON (or a legacy head/timestamps .cpuprofile) and prints, per profile, what speedscope computes: each frame's self and total weight (µs) and
// the profile's total weight. Usage: node speedscope_bundle.mjs FILE
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import {importFromChromeCPUProfile, importFromChromeTimeline, importFromOldV8CPUProfile} from '../../../../.peers/profile/speedscope/src/import/chrome';
import {importFromV8ProfLog} from '../../../../.peers/profile/speedscope/src/import/v8proflog';

const [file] = process.argv.slice(2);
let raw = fs.readFileSync(file);
if (raw[0] === 0x1f && raw[1] === 0x8b) raw = zlib.gunzipSync(raw);
const doc = JSON.parse(raw.toString('utf8'));
const name = file.split('/').pop()!;

let profiles: any[];
if (Array.isArray(doc) || doc.traceEvents) {
  profiles = importFromChromeTimeline(Array.isArray(doc) ? doc : doc.traceEvents, name).profiles;
} else if (doc.code && doc.ticks) {
  profiles = [importFromV8ProfLog(doc)];
} else if (doc.head) {
  profiles = [importFromOldV8CPUProfile(doc)];
} else {
  profiles = [importFromChromeCPUProfile(doc)];
}
const out = profiles.map((p: any) => {
  const frames: any[] = [];
  p.forEachFrame((f: any) => frames.push({name: f.name, file: f.file ?? null, line: f.line ?? null,
    col: f.col ?? null, self: f.getSelfWeight(), total: f.getTotalWeight()}));
  return {name: p.getName(), total_weight: p.getTotalWeight(), frames};
});
process.stdout.write(JSON.stringify({profiles: out}));
