"""Capture benchmark: a heap snapshot streamed over the inspector vs the target writing it itself
with v8.writeHeapSnapshot (the peer: V8's own serializer to a local file), same process, same
state; plus a live guppy3 heap as a PyHeap vs guppy's own heap() + byclodo Stat.

    python benchmarks/bench_capture.py [--ballast 1500000] [--repeat 2]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import workbench as wb  # noqa: E402
import workbench.pyheap as ph  # noqa: E402


def vm_hwm_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ballast", type=int, default=1_500_000)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    d = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    proc = subprocess.Popen(["node", "--inspect-port=0", str(ROOT / "datasets/scenarios/capture_leaky_service.js"),
                             "--ballast", str(a.ballast), "--sessions", "10000"], stdout=subprocess.PIPE, text=True)
    json.loads(proc.stdout.readline())
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res = {"peer_ms": [], "ours_ms": [], "ours_gz_ms": []}
    try:
        with wb.attach(pid=proc.pid, quiet=True, timeout=120) as s:
            for i in range(a.repeat):
                peer = d / f"peer{i}.heapsnapshot"
                ms = s.evaluate("(() => { const t = process.hrtime.bigint(); require('v8').writeHeapSnapshot("
                                f"{json.dumps(str(peer))}); return Number(process.hrtime.bigint() - t) / 1e6; }})()",
                                timeout=120)
                res["peer_ms"].append(ms)
                t = time.perf_counter()
                ours = s.take_heap_snapshot(d / f"ours{i}.heapsnapshot")
                res["ours_ms"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                s.take_heap_snapshot(d / f"ours{i}.heapsnapshot.gz")
                res["ours_gz_ms"].append((time.perf_counter() - t) * 1000)
                os.unlink(peer) if i + 1 < a.repeat else None
            node_hwm = vm_hwm_mib(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = os.path.getsize(ours)
    gz = os.path.getsize(str(ours) + ".gz")
    ps = wb.load_snapshot(peer, quiet=True).summary()
    os_ = wb.load_snapshot(ours, quiet=True).summary()
    print(f"snapshot: {size / 2**20:.1f} MiB ({gz / 2**20:.1f} MiB gz), "
          f"{wb.load_snapshot(ours, quiet=True).node_count:,} nodes")
    print(f"peer v8.writeHeapSnapshot (in-process, local file): best {min(res['peer_ms']):.0f} ms")
    print(f"workbench take_heap_snapshot over the inspector:      best {min(res['ours_ms']):.0f} ms "
          f"({min(res['ours_ms']) / min(res['peer_ms']):.2f}x), {size / 2**20 / (min(res['ours_ms']) / 1000):.0f} MiB/s")
    print(f"workbench take_heap_snapshot to .gz:                  best {min(res['ours_gz_ms']):.0f} ms")
    print(f"peak RSS: python {rss0:.0f} MiB before capture, {rss1:.0f} MiB after (the streamed file is never held); "
          f"node VmHWM {node_hwm:.0f} MiB")
    print(f"Summary rows: ours {len(os_)}, peer {len(ps)}; total self_size ours {os_['self_size'].sum():,} "
          f"peer {ps['self_size'].sum():,}")

    # guppy3: our per-object PyHeap vs guppy's own heap() + Stat of the same process
    keep = [{"k": i, "v": str(i)} for i in range(300_000)]  # noqa: F841 - a heap worth measuring
    from guppy import hpy
    hp = hpy()
    hp.heap()  # guppy's one-time initialisation, outside both timings
    best_g = best_o = 1e9
    for _ in range(a.repeat):
        t = time.perf_counter()
        x = hp.heap()
        n = sum(r.count for r in x.byclodo.stat.get_rows())
        best_g = min(best_g, time.perf_counter() - t)
        del x
        t = time.perf_counter()
        h = ph.take_heap(hp)
        best_o = min(best_o, time.perf_counter() - t)
    print(f"guppy3 heap() + byclodo Stat: best {best_g * 1000:.0f} ms for {n:,} objects; "
          f"workbench take_heap (per object): best {best_o * 1000:.0f} ms ({best_o / best_g:.2f}x), {h.count:,} objects")


if __name__ == "__main__":
    main()
