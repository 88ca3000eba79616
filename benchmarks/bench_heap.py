"""Heap snapshot benchmark: `workbench summary` against Chrome DevTools' own code
(heap-snapshot-toolkit@1.1.3) and memlab (@memlab/core) on the same large snapshot, in one run.

    python benchmarks/bench_heap.py                 # generate a ~7M-node, ~0.6 GB snapshot, run all three
    python benchmarks/bench_heap.py --scale 3       # a bigger generated heap
    python benchmarks/bench_heap.py --snapshot FILE # an existing file

Each tool runs as its own process, --repeat times, alternating (so a change in machine load hits
all of them alike); best and median wall time and peak RSS (from wait4's rusage of that child)
are reported, with the ratios DevTools/workbench and memlab/workbench. The file is read once
first so that every tool finds it in the page cache, and workbench's numba cache is warm (as on
every run after the first). The snapshot is made by benchmarks/gen_large_heap.js with the local
node. Peers are installed into .peers/heap.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER = ROOT / ".peers" / "heap"


def ensure_peers() -> None:
    need = []
    if not (PEER / "node_modules" / "heap-snapshot-toolkit").exists():
        need.append("heap-snapshot-toolkit@1.1.3")
    if not (PEER / "node_modules" / "@memlab" / "core").exists():
        need.append("@memlab/core@2.0.5")
    if need:
        PEER.mkdir(parents=True, exist_ok=True)
        if not (PEER / "package.json").exists():
            (PEER / "package.json").write_text('{"name": "peers-heap", "private": true}\n')
        env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="true", PUPPETEER_SKIP_CHROMIUM_DOWNLOAD="true")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", *need], cwd=PEER, check=True, env=env)


def run_measured(cmd, env=None) -> dict:
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: exec with output to files
        with open("/tmp/bench_heap.out", "wb") as o, open("/tmp/bench_heap.err", "wb") as e:
            os.dup2(o.fileno(), 1)
            os.dup2(e.fileno(), 2)
        os.execvpe(cmd[0], cmd, env or os.environ)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    return {"tool": None, "rc": os.waitstatus_to_exitcode(status), "wall_s": round(wall, 2),
            "peak_rss_mb": round(ru.ru_maxrss / 1024), "out": Path("/tmp/bench_heap.out").read_text(errors="replace")[-1500:],
            "err": Path("/tmp/bench_heap.err").read_text(errors="replace")[-1500:]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--snapshot")
    ap.add_argument("--scale", type=float, default=2, help="size of the generated heap (2: ~7.2M nodes, ~0.6 GB)")
    ap.add_argument("--skip-memlab", action="store_true")
    ap.add_argument("--skip-devtools", action="store_true")
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool, alternating; best and median reported")
    args = ap.parse_args()
    ensure_peers()
    snap = args.snapshot
    if not snap:
        data = HERE / "data"
        data.mkdir(exist_ok=True)
        snap = str(data / f"svc-{args.scale:g}.heapsnapshot")
        if not os.path.exists(snap):
            print(f"generating {snap} ...", flush=True)
            subprocess.run(["node", "--max-old-space-size=16384", str(HERE / "gen_large_heap.js"), snap,
                            f"{args.scale:g}"], check=True)
    size_mb = os.path.getsize(snap) / 2**20
    head = open(snap, "rb").read(2048).decode(errors="replace")
    counts = dict(re.findall(r'"(node_count|edge_count)":(\d+)', head))
    print(f"snapshot {snap}: {size_mb:.0f} MiB, {int(counts['node_count']):,} nodes, {int(counts['edge_count']):,} edges",
          flush=True)
    env = dict(os.environ, PEER_DIR=str(PEER), WORKBENCH_QUIET="1")
    # the file in the page cache for everyone, and numba's cache warm (what a user sees on every
    # run after the first)
    with open(snap, "rb") as f:
        while f.read(64 << 20):
            pass
    subprocess.run([sys.executable, "-m", "workbench", "--quiet", "summary", str(ROOT / "datasets/heap/healthy/baseline.heapsnapshot.gz"), "--top", "1"],
                   check=True, capture_output=True)
    tools = {"workbench": [sys.executable, "-m", "workbench", "--quiet", "summary", snap, "--top", "10"]}
    if not args.skip_devtools:
        tools["devtools"] = ["node", "--max-old-space-size=20000", str(HERE / "peers/devtools_summary.mjs"), snap]
    if not args.skip_memlab:
        tools["memlab"] = ["node", "--max-old-space-size=20000", str(HERE / "peers/memlab_summary.js"), snap]
    runs = {name: [] for name in tools}
    for i in range(args.repeat):  # alternate tools so load changes hit all of them alike
        for name, cmd in tools.items():
            r = run_measured(cmd, env)
            runs[name].append(r)
            print(f"run {i + 1} {name}: rc={r['rc']} wall={r['wall_s']}s peak_rss={r['peak_rss_mb']} MiB", flush=True)
    results = {}
    for name, rs in runs.items():
        ok = [r for r in rs if r["rc"] == 0] or rs
        walls = sorted(r["wall_s"] for r in ok)
        best = min(ok, key=lambda r: r["wall_s"])
        results[name] = dict(best, wall_s=walls[0], median_s=walls[len(walls) // 2],
                             peak_rss_mb=max(r["peak_rss_mb"] for r in ok))
    w = results["workbench"]
    print(f"\n| tool | best wall (s) | median wall (s) | peak RSS (MiB) | time ratio vs workbench (best, median) "
          f"| RSS ratio vs workbench |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        ok = "" if r["rc"] == 0 else f" (exit {r['rc']})"
        print(f"| {name}{ok} | {r['wall_s']:.1f} | {r['median_s']:.1f} | {r['peak_rss_mb']:,} | "
              f"{r['wall_s'] / w['wall_s']:.1f}x, {r['median_s'] / w['median_s']:.1f}x | "
              f"{r['peak_rss_mb'] / w['peak_rss_mb']:.2f}x |")
    if args.json:
        Path(args.json).write_text(json.dumps({"snapshot": snap, "size_mib": size_mb, **counts, "results": results}, indent=1))


if __name__ == "__main__":
    main()
