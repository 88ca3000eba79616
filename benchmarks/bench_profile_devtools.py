"""Benchmark: workbench's profile pipeline against DevTools' CPUProfileDataModel on the same files.

Generates a large CPU profile from a real Node program (benchmarks/data/, ignored by git): many
distinct functions calling each other, sampled every 50 µs. Then, each in a fresh process:
  peer  (node): JSON.parse + new CPUProfileDataModel + forEachFrame + self per callUID
  ours (python): load_profile + flame_chart + functions (+ calltree and flame_graph, which DevTools
                 computes lazily in its grids, reported separately)
and prints wall times, their ratio and each side's peak RSS (ru_maxrss of the child).

Usage: python benchmarks/bench_profile_devtools.py [--seconds 8] [--interval 50]
Needs node and the peer from tests/golden/profile/make_goldens.sh (run it first).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
PEERS = ROOT / ".peers" / "profile"

def peak(cmd: list[str]) -> tuple[str, float]:
    """Run cmd; return (stdout, peak RSS in MiB of the child)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)
    out = proc.stdout.read().decode()
    _, status, ru = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return out, ru.ru_maxrss / 1024.0


OURS = r"""
import json, sys, time
ti = time.perf_counter()
import workbench as wb
from workbench.io import cpuprofile  # noqa: F401 - imports polars, numba kernels
from workbench.profile import flame  # noqa: F401
t0 = time.perf_counter()
p = wb.load_profile(sys.argv[1], quiet=True)
t1 = time.perf_counter()
fc = p.flame_chart_rects()
t2 = time.perf_counter()
fn = p.hotspots()
t3 = time.perf_counter()
ct = p.calltree()
fg = p.flame_graph()
t4 = time.perf_counter()
print(json.dumps({"import_ms": (t0 - ti) * 1e3, "load_ms": (t1 - t0) * 1e3, "flame_chart_ms": (t2 - t1) * 1e3, "functions_ms": (t3 - t2) * 1e3,
                  "total_ms": (t3 - t0) * 1e3, "calltree_and_flame_graph_ms": (t4 - t3) * 1e3,
                  "flame_chart_frames": fc.height, "functions": fn.height, "nodes": p.n_nodes,
                  "samples": p.n_samples, "flame_graph_rects": fg.height}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--interval", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    prof = DATA / f"deep_{int(a.seconds)}s_{a.interval}us.cpuprofile"
    if not prof.exists():
        subprocess.run(["node", "--cpu-prof", f"--cpu-prof-interval={a.interval}", "--cpu-prof-dir", str(DATA),
                        "--cpu-prof-name", prof.name, str(HERE / "deep_calls.js"), str(a.seconds), "3000", "9"],
                       check=True, stdout=subprocess.DEVNULL)
    bundle = PEERS / "devtools_profile_bench.mjs"
    subprocess.run([str(PEERS / "node_modules/.bin/esbuild"), str(ROOT / "benchmarks/peers/devtools_profile_bench.ts"),
                    "--bundle", "--platform=node", "--format=esm", f"--outfile={bundle}", "--log-level=warning"],
                   check=True)
    size = prof.stat().st_size / 2**20
    # warm numba's on-disk cache once so compile time is not measured
    peak([sys.executable, "-c", OURS, str(prof)])
    rows = []
    for _ in range(a.repeat):
        po, prss = peak(["node", str(bundle), str(prof)])
        oo, orss = peak([sys.executable, "-c", OURS, str(prof)])
        rows.append((json.loads(po), prss, json.loads(oo), orss))
    best = min(rows, key=lambda r: r[2]["total_ms"])
    peer_best = min(rows, key=lambda r: r[0]["total_ms"])
    p, o = peer_best[0], best[2]
    print(f"file: {prof.relative_to(ROOT)} ({size:.1f} MiB, {o['nodes']} nodes, {o['samples']} samples)")
    print(f"peer DevTools CPUProfileDataModel: {p['total_ms']:.0f} ms "
          f"(parse {p['parse_ms']:.0f}, model {p['model_ms']:.0f}, flame chart {p['flame_chart_ms']:.0f}, "
          f"functions {p['functions_ms']:.0f}); peak RSS {max(r[1] for r in rows):.0f} MiB; "
          f"{p['flame_chart_frames']} flame-chart frames")
    print(f"workbench: {o['total_ms']:.0f} ms (load {o['load_ms']:.0f}, flame chart {o['flame_chart_ms']:.0f}, "
          f"functions {o['functions_ms']:.0f}); +calltree+flame graph {o['calltree_and_flame_graph_ms']:.0f} ms; "
          f"peak RSS {max(r[3] for r in rows):.0f} MiB; {o['flame_chart_frames']} flame-chart frames; "
          f"(python imports, not counted: {o['import_ms']:.0f} ms)")
    print(f"ratio workbench/peer (best of {a.repeat}): {o['total_ms'] / p['total_ms']:.2f}x")
    if o["flame_chart_frames"] != p["flame_chart_frames"]:
        print("WARNING: flame chart frame counts differ")


if __name__ == "__main__":
    main()
