// The DevTools side of bench_heap.py: Chrome DevTools' own heap snapshot code (as bundled by
// heap-snapshot-toolkit) computes what `workbench summary` prints: parse, all passes
// (distances, dominators, retained sizes, class names), the Summary aggregates, Statistics.
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.PEER_DIR, 'package.json'));
const { parse } = await import(require.resolve('heap-snapshot-toolkit'));
const snap = await parse(createReadStream(process.argv[2], 'utf-8'));
const agg = snap.aggregatesWithFilter({});
const rows = Object.values(agg).sort((a, b) => b.maxRet - a.maxRet).slice(0, 10);
console.log(JSON.stringify({ classes: Object.keys(agg).length, top: rows.map((r) => [r.name, r.count, r.maxRet]),
  statistics: snap.getStatistics() }));
