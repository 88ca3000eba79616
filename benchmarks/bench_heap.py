"""Heap snapshot benchmark: `workbench summary` against Chrome DevTools' own code
(heap-snapshot-toolkit@1.1.3) and memlab (@memlab/core) on the same large snapshot, in one run.

    python benchmarks/bench_heap.py                 # generate ~7M-node snapshot, run all three
    python benchmarks/bench_heap.py --orders 760000 --keep
    python benchmarks/bench_heap.py --snapshot FILE # an existing file

Each tool runs as its own process; wall time and peak RSS (from wait4's rusage of that child)
are reported, with the ratios DevTools/workbench and memlab/workbench. The snapshot is made by
benchmarks/gen_large_heap.js with the local node. Peers are installed into .peers/heap.
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
    ap.add_argument("--orders", type=int, default=760000, help="size of the generated heap (760000 ~ 7M nodes)")
    ap.add_argument("--skip-memlab", action="store_true")
    ap.add_argument("--skip-devtools", action="store_true")
    ap.add_argument("--json", help="write results here")
    args = ap.parse_args()
    ensure_peers()
    snap = args.snapshot
    if not snap:
        data = HERE / "data"
        data.mkdir(exist_ok=True)
        snap = str(data / f"large-{args.orders}.heapsnapshot")
        if not os.path.exists(snap):
            print(f"generating {snap} ...", flush=True)
            subprocess.run(["node", "--max-old-space-size=16384", str(HERE / "gen_large_heap.js"), snap,
                            str(args.orders)], check=True)
    size_mb = os.path.getsize(snap) / 2**20
    head = open(snap, "rb").read(2048).decode(errors="replace")
    counts = dict(re.findall(r'"(node_count|edge_count)":(\d+)', head))
    print(f"snapshot {snap}: {size_mb:.0f} MiB, {int(counts['node_count']):,} nodes, {int(counts['edge_count']):,} edges",
          flush=True)
    env = dict(os.environ, PEER_DIR=str(PEER), WORKBENCH_QUIET="1")
    results = {}
    # warm numba's cache so the measured run is what a user sees on every later run
    subprocess.run([sys.executable, "-m", "workbench", "--quiet", "summary", str(ROOT / "datasets/heap/healthy/baseline.heapsnapshot.gz"), "--top", "1"],
                   check=True, capture_output=True)
    results["workbench"] = run_measured([sys.executable, "-m", "workbench", "--quiet", "summary", snap, "--top", "10"], env)
    print("workbench", {k: v for k, v in results["workbench"].items() if k in ("rc", "wall_s", "peak_rss_mb")}, flush=True)
    if not args.skip_devtools:
        results["devtools"] = run_measured(["node", "--max-old-space-size=20000", str(HERE / "peers/devtools_summary.mjs"), snap], env)
        print("devtools", {k: v for k, v in results["devtools"].items() if k in ("rc", "wall_s", "peak_rss_mb")}, flush=True)
    if not args.skip_memlab:
        results["memlab"] = run_measured(["node", "--max-old-space-size=20000", str(HERE / "peers/memlab_summary.js"), snap], env)
        print("memlab", {k: v for k, v in results["memlab"].items() if k in ("rc", "wall_s", "peak_rss_mb")}, flush=True)
    w = results["workbench"]
    print("\n| tool | wall (s) | peak RSS (MiB) | time ratio vs workbench | RSS ratio vs workbench |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        ok = "" if r["rc"] == 0 else f" (exit {r['rc']})"
        print(f"| {name}{ok} | {r['wall_s']:.1f} | {r['peak_rss_mb']:,} | {r['wall_s'] / w['wall_s']:.1f}x | "
              f"{r['peak_rss_mb'] / w['peak_rss_mb']:.2f}x |")
    if args.json:
        Path(args.json).write_text(json.dumps({"snapshot": snap, "size_mib": size_mb, **counts, "results": results}, indent=1))


if __name__ == "__main__":
    main()
