"""Benchmark: loading a 1 GB .cpuprofile, and zooming the FlameGraph widget on a 100,000-node call tree.

1. Records a real CPU profile with a large call tree: a Node program with thousands of generated
   functions calling each other at random, sampled every 50 µs by ``node --cpu-prof``
   (benchmarks/data/, ignored by git).
2. Builds bigger files from it: the same ``nodes``, and its ``samples``/``timeDeltas`` repeated until the
   file reaches the target size (1 GiB, plus a 256 MiB one the peer can still open); endTime is
   adjusted so the times stay consistent.
3. Each in a fresh process, on each file: the peer (Chrome DevTools' CPUProfileDataModel 1.0.1705227 in
   node: JSON.parse + model + flame chart + self per function) and workbench (``load_profile`` +
   ``hotspots``). Prints wall time and peak RSS (ru_maxrss of the child) of both.
4. Widget: ``FlameGraph(profile)`` on the recorded profile; times ``zoom(node)`` (re-root in Python, new
   altair spec, validated and assigned to the JupyterChart) on the heaviest nodes at several depths.

Usage: python benchmarks/bench_profile_large.py [--gib 1.0] [--seconds 14] [--skip-peer]
Needs node, and the peer from tests/golden/profile/make_goldens.sh (run it first) unless --skip-peer.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
PEERS = ROOT / ".peers" / "profile"

OURS = r"""
import json, resource, sys, time
import workbench as wb
from workbench.io import cpuprofile  # noqa: F401 - imports polars and the numba kernels
t0 = time.perf_counter()
p = wb.load_profile(sys.argv[1], quiet=True)
t1 = time.perf_counter()
hs = p.hotspots()
t2 = time.perf_counter()
print(json.dumps({"load_s": t1 - t0, "hotspots_s": t2 - t1, "samples": p.n_samples, "nodes": p.n_nodes,
                  "top": hs["function"][0], "top_self_samples": int(hs["self_samples"][0])}))
"""

BASELINE = "import workbench, workbench.io.cpuprofile, polars, numba"


def run_measured(cmd: list[str]) -> tuple[int, str, str, float, float]:
    """Run cmd in a fresh process: (exit status, stdout, last stderr line, wall s, peak RSS MiB of the child)."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: exec the command with stdout/stderr to files
        out = os.open("/tmp/wb_bench_out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open("/tmp/wb_bench_err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.chdir(ROOT)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    out = Path("/tmp/wb_bench_out").read_text(errors="replace")
    errl = [ln for ln in Path("/tmp/wb_bench_err").read_text(errors="replace").splitlines() if ln.strip()]
    errs = [ln for ln in errl if "Error" in ln] or errl
    return os.waitstatus_to_exitcode(status), out, (errs[-1].strip() if errs else ""), wall, ru.ru_maxrss / 1024


def record(seconds: float, n_fns: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    prof = DATA / f"tree_{int(seconds)}s_{n_fns}f.cpuprofile"
    if not prof.exists():
        subprocess.run(["node", "--cpu-prof", "--cpu-prof-interval=50", "--cpu-prof-dir", str(DATA),
                        "--cpu-prof-name", prof.name, str(HERE / "deep_calls.js"), str(seconds), str(n_fns), "10"],
                       check=True, stdout=subprocess.DEVNULL)
    return prof


def blow_up(base: Path, target_bytes: int) -> Path:
    out = DATA / f"{base.stem}_{target_bytes / 2**30:.2f}GiB.cpuprofile"
    if out.exists() and out.stat().st_size >= target_bytes * 0.98:
        return out
    d = json.loads(base.read_bytes())
    nodes = json.dumps(d["nodes"], separators=(",", ":"))
    sb = ",".join(map(str, d["samples"]))
    db = ",".join(map(str, d["timeDeltas"]))
    per_copy = len(sb) + len(db) + 2
    k = max(1, int((target_bytes - len(nodes) - 200) / per_copy))
    span = sum(d["timeDeltas"])
    start = d["startTime"]
    end = start + span * k + (d["endTime"] - start - span)
    with open(out, "w") as f:
        f.write('{"nodes":' + nodes + f',"startTime":{start},"endTime":{end},"samples":[')
        for i in range(k):
            f.write(sb if i == 0 else "," + sb)
        f.write('],"timeDeltas":[')
        for i in range(k):
            f.write(db if i == 0 else "," + db)
        f.write("]}")
    return out


def peer_cmd(path: Path) -> list[str]:
    bundle = PEERS / "devtools_profile_bench.mjs"
    if not bundle.exists():
        subprocess.run([str(PEERS / "node_modules/.bin/esbuild"), str(ROOT / "benchmarks/peers/devtools_profile_bench.ts"),
                        "--bundle", "--platform=node", "--format=esm", f"--outfile={bundle}",
                        "--log-level=warning"], check=True)
    return ["node", "--max-old-space-size=16000", str(bundle), str(path)]


def synthetic_tree(n_nodes: int = 120_000, n_samples: int = 2_000_000) -> Path:
    """A .cpuprofile with a 120,000-node call tree (the recorded one has fewer): a random tree whose nodes
    attach preferentially to recent ones (deep, bushy stacks) over 3000 functions in 60 files; samples
    drawn with heavy-tailed weights, 100 µs apart."""
    import numpy as np

    out = DATA / f"synthetic_{n_nodes}.cpuprofile"
    if out.exists():
        return out
    rng = np.random.default_rng(4)
    parent = np.zeros(n_nodes, np.int64)
    for i in range(1, n_nodes):
        parent[i] = max(0, i - 1 - int(rng.geometric(0.02))) if rng.random() < 0.9 else int(rng.integers(0, i))
    fn = rng.integers(0, 3000, n_nodes)
    kids = [[] for _ in range(n_nodes)]
    for i in range(1, n_nodes):
        kids[parent[i]].append(i + 1)
    nodes = [{"id": i + 1, "callFrame": {"functionName": "(root)" if i == 0 else f"f{fn[i]}", "scriptId": "0" if i == 0
              else str(1 + fn[i] % 60), "url": "" if i == 0 else f"file:///srv/app/mod{fn[i] % 60}.js",
              "lineNumber": -1 if i == 0 else int(fn[i]), "columnNumber": -1 if i == 0 else 4},
              "hitCount": 0, "children": kids[i]} for i in range(n_nodes)]
    w = rng.pareto(1.2, n_nodes) + 1e-3
    w[0] = 0
    samples = rng.choice(n_nodes, n_samples, p=w / w.sum()) + 1
    hits = np.bincount(samples - 1, minlength=n_nodes)
    for i, nd in enumerate(nodes):
        nd["hitCount"] = int(hits[i])
    doc = {"nodes": nodes, "startTime": 0, "endTime": 100 * n_samples, "samples": samples.tolist(),
           "timeDeltas": [100] * n_samples}
    out.write_text(json.dumps(doc, separators=(",", ":")))
    return out


def widget_bench(base: Path) -> None:
    import numpy as np

    import workbench as wb
    from workbench.profile.calltree import merged
    from workbench.widgets.flame import FlameGraph

    p = wb.load_profile(base, quiet=True)
    m = merged(p)
    t0 = time.perf_counter()
    w = FlameGraph(p, min_frac=0.0)  # no width pruning: only the 3000-rectangle cap
    first = time.perf_counter() - t0
    times = []
    for depth in (3, 6, 9, 12, 15):
        at = np.nonzero(m.depth == depth)[0]
        if not len(at):
            continue
        node = int(at[np.argmax(m.total[at])])
        w.zoom(node)
        times.append((depth, w.last_render_s, w.rects.height))
    w.zoom(0)
    times.append((0, w.last_render_s, w.rects.height))
    share = w.search("f1")
    print(f"widget ({base.name}): call tree of {p.n_nodes} nodes ({m.n} after merging same-frame siblings); first render "
          f"{first:.2f} s (numba/altair warm-up included)")
    for depth, s, n in times:
        print(f"  zoom to the heaviest node at depth {depth:2d}: {s * 1000:.0f} ms ({n} rectangles)")
    print(f"  search 'f1': {w.last_render_s * 1000:.0f} ms, share {100 * share:.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=14)
    ap.add_argument("--functions", type=int, default=6000)
    ap.add_argument("--skip-peer", action="store_true")
    a = ap.parse_args()
    base = record(a.seconds, a.functions)
    widget_bench(synthetic_tree())
    _, _, _, _, rss0 = run_measured([sys.executable, "-c", BASELINE])
    print(f"python + workbench imports alone: peak RSS {rss0:.0f} MiB")
    for gib in (0.25, a.gib):
        f = blow_up(base, int(gib * 2**30))
        size = f.stat().st_size
        print(f"\nfile: {f.relative_to(ROOT)} ({size / 2**20:.0f} MiB)")
        run_measured([sys.executable, "-c", OURS, str(base)])  # warm numba's on-disk cache
        rc, out, err, wall, rss = run_measured([sys.executable, "-c", OURS, str(f)])
        if rc == 0:
            o = json.loads(out)
            print(f"  workbench: load {o['load_s']:.1f} s, hotspots {o['hotspots_s']:.2f} s, process {wall:.1f} s; "
                  f"peak RSS {rss:.0f} MiB = {rss * 2**20 / size:.2f}x file; {o['samples']} samples, "
                  f"{o['nodes']} nodes; top {o['top']} ({o['top_self_samples']} samples)")
        else:
            print(f"  workbench FAILED ({rc}): {err}")
        if not a.skip_peer:
            rc, out, err, wall, prss = run_measured(peer_cmd(f))
            if rc == 0:
                o = json.loads(out)
                print(f"  peer DevTools CPUProfileDataModel: {o['total_ms'] / 1000:.1f} s (parse "
                      f"{o['parse_ms'] / 1000:.1f}, model {o['model_ms'] / 1000:.1f}), process {wall:.1f} s; "
                      f"peak RSS {prss:.0f} MiB = {prss * 2**20 / size:.2f}x file")
            else:
                print(f"  peer DevTools CPUProfileDataModel FAILED (exit {rc}) after {wall:.1f} s, peak RSS "
                      f"{prss:.0f} MiB: {err[:160]}")


if __name__ == "__main__":
    main()
