"""Comparison and leak hunting, side by side with DevTools' own diff (heap-snapshot-toolkit@1.1.3
in .peers/heap) on the same files: wall time of each side in the same run, their ratio, and peak
RSS (ours: this process; the peer: its node child).

    python benchmarks/bench_heap_compare.py [BASELINE TARGET FINAL]   (default: datasets/heap/api_gateway)
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PEER_JS = r"""
import { createReadStream } from 'node:fs'; import { createGunzip } from 'node:zlib';
import { createRequire } from 'node:module'; import path from 'node:path';
const require = createRequire(path.join(process.env.PEER_DIR, 'package.json'));
const { parse, diff } = await import(require.resolve('heap-snapshot-toolkit'));
async function load(f) { let s = createReadStream(f); if (f.endsWith('.gz')) s = s.pipe(createGunzip()); s.setEncoding('utf8'); return parse(s); }
const t0 = performance.now();
const a = await load(process.argv[2]); const b = await load(process.argv[3]);
const t1 = performance.now();
const d = await diff(a, b);
const t2 = performance.now();
console.log(JSON.stringify({load_s: (t1 - t0) / 1000, diff_s: (t2 - t1) / 1000, rows: Object.keys(d).length}));
"""


def main(argv):
    files = argv or [str(ROOT / "datasets" / "heap" / "api_gateway" / f"{n}.heapsnapshot.gz")
                     for n in ("baseline", "target", "final")]
    import json
    import workbench as wb
    from workbench.heap.diff import compare
    peer_js = ROOT / ".peers" / "heap" / "bench_compare.mjs"
    peer_js.write_text(PEER_JS)
    t = time.perf_counter()
    res = subprocess.run(["node", "--max-old-space-size=16384", str(peer_js), files[0], files[1]], capture_output=True,
                         text=True, check=True, env=dict(os.environ, PEER_DIR=str(ROOT / ".peers" / "heap")))
    peer_wall = time.perf_counter() - t
    peer = json.loads(res.stdout)
    peer_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    t = time.perf_counter()
    a, b = (wb.load_snapshot(f, quiet=True) for f in files[:2])
    for s in (a, b):
        s.retained_sizes, s.distances, s.class_index  # noqa: B018 -- DevTools' passes, as parse() runs them
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    rows = compare(a, b)
    t_cmp = time.perf_counter() - t
    c = wb.load_snapshot(files[2], quiet=True)
    t = time.perf_counter()
    rep = wb.find_leaks(a, b, c)
    t_leaks = time.perf_counter() - t
    ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"files: {', '.join(Path(f).name for f in files)} ({Path(files[0]).parent.name})")
    print(f"DevTools (toolkit): parse+passes two snapshots {peer['load_s']:.2f} s, diff {peer['diff_s']:.3f} s, "
          f"{peer['rows']} rows; wall {peer_wall:.2f} s; peak RSS {peer_rss:.0f} MB")
    print(f"workbench: load+passes two snapshots {t_load:.2f} s, compare {t_cmp:.3f} s, {len(rows)} rows; "
          f"find_leaks (third snapshot loaded, passes included) {t_leaks:.2f} s; peak RSS {ours_rss:.0f} MB")
    print(f"ratio (toolkit / workbench): load {peer['load_s'] / t_load:.2f}x, diff {peer['diff_s'] / t_cmp:.2f}x")
    print(f"first suspect: {rep.suspects['class'][0]} x{rep.suspects['count'][0]}" if len(rep.suspects) else "no suspects")


if __name__ == "__main__":
    main(sys.argv[1:])
