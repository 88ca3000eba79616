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

Workbench runs four ways: ``first open`` (an empty cache folder: parse, every pass, Summary, and
the cache entry written, as a user's first ``workbench summary`` of a file), the same with the
JIT's kernels (``WORKBENCH_AOT=0``: no ahead-of-time module, every kernel loaded from numba's
cache), ``no cache`` (WORKBENCH_CACHE=0: parse, passes and Summary only) and ``re-open`` (the
entry of the first open memory-mapped). Before the runs, ``workbench compile`` builds the
ahead-of-time kernels (the command starts that build itself after a user's first heap command,
as numba's cache is filled by the first run). ``--phases`` then times the first open's phases in one process (median of
--repeat runs): imports, numba's start (its first kernel call), the reader's sections, each
DevTools pass, the Summary and the cache write.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
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


PHASES = r"""
import json, os, sys, time
t0 = time.perf_counter()
from workbench.cli import _quiet_blas_probe, _small_pages   # as the command does
_quiet_blas_probe()
_small_pages()
import numpy as np, polars as pl
t1 = time.perf_counter()
import workbench.io.heapsnapshot as H
from workbench.heap.snapshot import HeapSnapshot
from workbench.io import cache
t2 = time.perf_counter()
out = {"import numpy+polars": t1 - t0, "import workbench": t2 - t1}
t = time.perf_counter()
from workbench import _aot
aot = _aot.install()
out["kernels: compiled module loaded" if aot else "kernels: none compiled"] = time.perf_counter() - t
t = time.perf_counter()
import workbench.io._json_kernels as J
J.count_byte(np.zeros(8, np.uint8), 0, 8, 44)
out["first kernel call (numba's start without the compiled module)"] = time.perf_counter() - t
T = {}
def wrap(name):
    f = getattr(H, name)
    def g(*a, **k):
        t = time.perf_counter(); r = f(*a, **k)
        key = "read " + (a[1] if name == "_scan_numbers" else name.strip("_").replace("scan_", ""))
        T[key] = T.get(key, 0) + time.perf_counter() - t
        return r
    setattr(H, name, g)
for n in ("_scan_numbers", "_scan_strings", "_validate"):
    wrap(n)
t = time.perf_counter(); raw = H.read_raw(sys.argv[1], quiet=True); total_read = time.perf_counter() - t
out.update(T)
out["read (rest: header, small sections)"] = total_read - sum(T.values())
t = time.perf_counter(); snap = HeapSnapshot(raw, quiet=True); out["model init"] = time.perf_counter() - t
if os.environ.get("WORKBENCH_THREADS") == "1":
    for label, attr in (("pass: graph flags", "essential_edges"), ("pass: shallow sizes", "self_sizes"),
                        ("pass: dominators + retained", "_dominators"), ("pass: distances", "distances"),
                        ("pass: class names", "class_index")):
        t = time.perf_counter(); getattr(snap, attr); out[label] = time.perf_counter() - t
else:
    t = time.perf_counter(); snap.analyze(); out["passes: analyze() (the dominator pass beside the others)"] = time.perf_counter() - t
t = time.perf_counter(); snap.summary(); snap.statistics(); out["Summary + Statistics"] = time.perf_counter() - t
t = time.perf_counter()
arrays, info = snap.cache_state()
cache.store(H._cache_key(sys.argv[1]), arrays, info, background=False)
out["cache write (the command leaves it to a child at exit)"] = time.perf_counter() - t
out["entry MiB"] = sum(a.nbytes for a in arrays.values()) / 2**20
print(json.dumps(out), flush=True)
os._exit(0)   # as the command does (no interpreter teardown)
"""


def _wait_for_entry(folder, timeout: float = 300) -> None:
    """Until the cache folder holds only whole entries (the command's child finishes writing one
    after the command exits)."""
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        names = [q.name for q in Path(folder).iterdir()] if Path(folder).exists() else []
        if names and all(n.endswith(".wbc") for n in names):
            return
        time.sleep(0.05)


def phases(snap: str, repeat: int, one_thread: bool = False) -> dict:
    """Median time of each phase of a first open, in one process per run (own cache folder);
    ``one_thread``: the passes one by one on one thread (WORKBENCH_THREADS=1), each timed."""
    runs = []
    for _ in range(repeat):
        d = tempfile.mkdtemp(prefix="bench-heap-cache-")
        try:
            env = dict(os.environ, WORKBENCH_CACHE_DIR=d, WORKBENCH_QUIET="1")
            if one_thread:
                env["WORKBENCH_THREADS"] = "1"
            t = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", PHASES, snap], env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t
            if r.returncode:
                raise SystemExit(r.stderr[-3000:])
            res = json.loads(r.stdout.strip().splitlines()[-1])
            res["interpreter start + exit (rest of the wall)"] = wall - sum(v for k, v in res.items() if k != "entry MiB")
            runs.append(res)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--snapshot")
    ap.add_argument("--scale", type=float, default=2, help="size of the generated heap (2: ~7.2M nodes, ~0.6 GB)")
    ap.add_argument("--skip-memlab", action="store_true")
    ap.add_argument("--skip-devtools", action="store_true")
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool, alternating; best and median reported")
    ap.add_argument("--phases", action="store_true", help="also time the phases of a first open (one process per run)")
    ap.add_argument("--phases-only", action="store_true", help="only the phases")
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
                   check=True, capture_output=True, env=dict(os.environ, WORKBENCH_AOT="0"))
    # ... and the ahead-of-time kernels built (``workbench compile``; the command starts the same
    # build in the background after a user's first heap command)
    r = subprocess.run([sys.executable, "-m", "workbench", "compile"], check=True, capture_output=True, text=True)
    print(r.stdout.strip(), flush=True)
    if args.phases or args.phases_only:
        for one in (False, True):
            ph = phases(snap, args.repeat, one_thread=one)
            print(f"\nphases of a first open{', the passes on one thread' if one else ''} (median of {args.repeat}, "
                  f"one process each; load {os.getloadavg()[0]:.1f}):")
            print("| phase | s |\n|---|---|")
            for k, v in ph.items():
                print(f"| {k} | {v:.2f} |" if k != "entry MiB" else f"| (cache entry: {v:,.0f} MiB) | |")
        if args.phases_only:
            return
    wb_cmd = [sys.executable, "-m", "workbench", "--quiet", "summary", snap, "--top", "10"]
    reopen_dir = tempfile.mkdtemp(prefix="bench-heap-reopen-")
    tools = {"workbench (first open)": (wb_cmd, "fresh"), "workbench (no cache)": (wb_cmd, "off"),
             "workbench (first open, JIT kernels: WORKBENCH_AOT=0)": (wb_cmd, "fresh-jit")}
    if not args.skip_devtools:
        tools["devtools"] = (["node", "--max-old-space-size=20000", str(HERE / "peers/devtools_summary.mjs"), snap], None)
    if not args.skip_memlab:
        tools["memlab"] = (["node", "--max-old-space-size=20000", str(HERE / "peers/memlab_summary.js"), snap], None)
    tools["workbench (re-open)"] = (wb_cmd, "reopen")
    # the re-open's entry, written once before the runs
    subprocess.run(wb_cmd, env=dict(env, WORKBENCH_CACHE_DIR=reopen_dir), check=True, capture_output=True)
    _wait_for_entry(reopen_dir)   # its child writes it after the command exits
    runs = {name: [] for name in tools}
    loads = []
    for i in range(args.repeat):  # alternate tools so load changes hit all of them alike
        for name, (cmd, mode) in tools.items():
            fresh = None
            if mode in ("fresh", "fresh-jit"):
                fresh = tempfile.mkdtemp(prefix="bench-heap-first-")
                tenv = dict(env, WORKBENCH_CACHE_DIR=fresh)
                if mode == "fresh-jit":
                    tenv["WORKBENCH_AOT"] = "0"
            elif mode == "off":
                tenv = dict(env, WORKBENCH_CACHE="0")
            elif mode == "reopen":
                tenv = dict(env, WORKBENCH_CACHE_DIR=reopen_dir)
            else:
                tenv = env
            # no writeback of an earlier run's files (a cache entry is hundreds of MiB of dirty
            # page cache, flushed up to 30 s later) during this one
            os.sync()
            loads.append(os.getloadavg()[0])
            r = run_measured(cmd, tenv)
            if fresh:
                # the entry is finished by a child after the CLI exits: wait for it (so that it
                # does not share the machine with the next tool) and note when it was complete
                t_end = time.perf_counter()
                _wait_for_entry(fresh)
                r["entry_ready_s"] = round(r["wall_s"] + time.perf_counter() - t_end, 2)
                shutil.rmtree(fresh, ignore_errors=True)
            runs[name].append(r)
            ready = f" (entry complete after {r['entry_ready_s']} s)" if "entry_ready_s" in r else ""
            print(f"run {i + 1} {name}: rc={r['rc']} wall={r['wall_s']}s peak_rss={r['peak_rss_mb']} MiB{ready}",
                  flush=True)
    shutil.rmtree(reopen_dir, ignore_errors=True)
    print(f"load average (1 min) before the runs: {min(loads):.1f}-{max(loads):.1f}, median {statistics.median(loads):.1f}")
    results = {}
    for name, rs in runs.items():
        ok = [r for r in rs if r["rc"] == 0] or rs
        walls = sorted(r["wall_s"] for r in ok)
        best = min(ok, key=lambda r: r["wall_s"])
        results[name] = dict(best, wall_s=walls[0], median_s=statistics.median(walls),
                             peak_rss_mb=round(statistics.median(r["peak_rss_mb"] for r in ok)))
    ref = results.get("devtools")
    print("\n| tool | best wall (s) | median wall (s) | peak RSS (MiB, median) | DevTools time / this (median) "
          "| this RSS / DevTools RSS |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        ok = "" if r["rc"] == 0 else f" (exit {r['rc']})"
        ratio = f"{ref['median_s'] / r['median_s']:.1f}x" if ref else "-"
        rss = f"{r['peak_rss_mb'] / ref['peak_rss_mb']:.2f}" if ref else "-"
        print(f"| {name}{ok} | {r['wall_s']:.2f} | {r['median_s']:.2f} | {r['peak_rss_mb']:,} | {ratio} | {rss} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"snapshot": snap, "size_mib": size_mb, **counts, "results": results}, indent=1))


if __name__ == "__main__":
    main()
