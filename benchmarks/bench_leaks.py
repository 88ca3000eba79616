"""memlab's find-leaks and workbench's leaks on the same three snapshots, side by side, in one run.

For every leaking heap dataset (datasets/heap/<scenario>/, planted counts in its MANIFEST; the
timer leaks first), alternating the two tools, ``--runs`` times each (median reported):
- memlab (@memlab/api and @memlab/core 2.0.5 from npm, installed into .peers/heap): its
  ``findLeaksBySnapshotFilePaths``, the API of ``memlab find-leaks --baseline --target --final``,
  with its oversize rule at 0 bytes (its default rules look for detached DOM and React fibers,
  which a Node heap has none of). Parsed from its report: clusters, the largest cluster's object
  count, the steps of its first trace, and the longest trace.
- workbench: ``workbench --quiet leaks B T F --format json``: suspects, serious ones, the first
  suspect's count, kind, and its path in steps (folded, and raw from ``find_leaks(fold=False)``).
Both as separate processes, wall time and peak RSS (wait4), start-up and gunzip excluded (files
are unpacked to a temporary folder first).

    python benchmarks/bench_leaks.py              # all leaking datasets, 3 runs each
    python benchmarks/bench_leaks.py timer_mix    # one
"""
from __future__ import annotations

import argparse
import gzip
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
ORDER = ["timer_mix", "timers", "lru_list", "promise_chain", "stream_backpressure", "listeners", "sessions",
         "api_gateway"]


def ensure_memlab() -> None:
    if (PEER / "node_modules" / "@memlab" / "api").exists():
        return
    PEER.mkdir(parents=True, exist_ok=True)
    if not (PEER / "package.json").exists():
        (PEER / "package.json").write_text('{"name": "peers-heap", "private": true}\n')
    env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="true", PUPPETEER_SKIP_CHROMIUM_DOWNLOAD="true")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "@memlab/api@2.0.5", "@memlab/core@2.0.5"],
                   cwd=PEER, check=True, env=env)


def measured(cmd, env=None) -> dict:
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            os.execvpe(cmd[0], cmd, env or os.environ)
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return {"rc": os.waitstatus_to_exitcode(status), "wall_s": wall, "peak_rss_mb": ru.ru_maxrss / 1024,
                "out": out.read().decode("utf-8", "replace"), "err": err.read().decode("utf-8", "replace")}


def parse_memlab(text: str) -> dict:
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    blocks = re.split(r"--Similar leaks in this run: ([\d,]+)--", text)
    sizes, steps = [], []
    for i in range(1, len(blocks), 2):
        sizes.append(int(blocks[i].replace(",", "")))
        body = blocks[i + 1].split("\n\n\n")[0]
        steps.append(sum(1 for line in body.splitlines() if line.lstrip().startswith("--") and "--->" in line))
    return {"clusters": len(sizes), "first_count": sizes[0] if sizes else 0, "first_steps": steps[0] if steps else 0,
            "largest_cluster": max(sizes, default=0), "longest_steps": max(steps, default=0)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    ensure_memlab()
    manifest = json.loads((ROOT / "datasets" / "heap" / "MANIFEST.json").read_text())["files"]
    planted = {k.split("/")[0]: (e["notes"]["planted_class"], e["counts"]["planted"])
               for k, e in manifest.items() if k.endswith("final.heapsnapshot.gz") and e["counts"].get("planted")}
    names = args.scenarios or [s for s in ORDER if s in planted]
    wb = shutil.which("workbench") or "workbench"
    rows = []
    for sc in names:
        tmp = Path(tempfile.mkdtemp(prefix=f"bench_leaks_{sc}_"))
        files = []
        for n in ("baseline", "target", "final"):
            dst = tmp / f"{n}.heapsnapshot"
            with gzip.open(ROOT / "datasets" / "heap" / sc / f"{n}.heapsnapshot.gz") as g, open(dst, "wb") as f:
                shutil.copyfileobj(g, f)
            files.append(str(dst))
        env = dict(os.environ, PEER_DIR=str(PEER))
        ml_runs, wb_runs = [], []
        for _ in range(args.runs):
            wd = tmp / "memlab"
            shutil.rmtree(wd, ignore_errors=True)
            wd.mkdir()
            ml_runs.append(measured(["node", "--max-old-space-size=16000", str(HERE / "peers" / "memlab_find_leaks.js"),
                                     *files, str(wd)], env))
            wb_runs.append(measured([wb, "--quiet", "leaks", *files, "--format", "json"]))
        for r in ml_runs + wb_runs:
            if r["rc"] != 0:
                sys.exit(f"{sc}: a run failed: {r['err'][-800:]}")
        ml = parse_memlab(ml_runs[0]["out"] + ml_runs[0]["err"])   # memlab prints its traces on stderr
        rep = json.loads(wb_runs[0]["out"])
        import workbench
        raw = workbench.find_leaks(*files, fold=False)
        top = rep["suspects"][0] if rep["suspects"] else {}
        rows.append({
            "scenario": sc, "planted": f"{planted[sc][1]:,} {planted[sc][0]}",
            "memlab_clusters": ml["clusters"], "memlab_first": ml["first_count"], "memlab_largest": ml["largest_cluster"],
            "memlab_first_steps": ml["first_steps"], "memlab_longest_steps": ml["longest_steps"],
            "memlab_s": statistics.median(r["wall_s"] for r in ml_runs),
            "memlab_rss_mb": statistics.median(r["peak_rss_mb"] for r in ml_runs),
            "wb_suspects": len(rep["suspects"]), "wb_serious": sum(s["serious"] for s in rep["suspects"]),
            "wb_first": f"{top.get('count', 0):,} {top.get('class', '')} ({top.get('kind', '')})",
            "wb_steps": len(top.get("path", [])), "wb_raw_steps": len(raw.path(0)) if len(raw.suspects) else 0,
            "wb_s": statistics.median(r["wall_s"] for r in wb_runs),
            "wb_rss_mb": statistics.median(r["peak_rss_mb"] for r in wb_runs),
        })
        shutil.rmtree(tmp, ignore_errors=True)
        r = rows[-1]
        print(f"{sc}: memlab {r['memlab_clusters']} clusters (first {r['memlab_first']:,} objects, "
              f"{r['memlab_first_steps']} steps; longest {r['memlab_longest_steps']}) {r['memlab_s']:.2f} s "
              f"{r['memlab_rss_mb']:.0f} MB | workbench {r['wb_suspects']} suspects, {r['wb_serious']} serious, "
              f"first {r['wb_first']}, {r['wb_steps']} steps folded ({r['wb_raw_steps']} raw) {r['wb_s']:.2f} s "
              f"{r['wb_rss_mb']:.0f} MB", flush=True)
    print()
    print("| scenario | planted | memlab clusters | memlab first cluster (objects, steps) | memlab longest trace |"
          " memlab s / MB | workbench suspects (serious) | workbench first suspect | its path, folded (raw) |"
          " workbench s / MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scenario']} | {r['planted']} | {r['memlab_clusters']} | {r['memlab_first']:,}, "
              f"{r['memlab_first_steps']} | {r['memlab_longest_steps']} | {r['memlab_s']:.2f} / {r['memlab_rss_mb']:.0f} |"
              f" {r['wb_suspects']} ({r['wb_serious']}) | {r['wb_first']} | {r['wb_steps']} ({r['wb_raw_steps']}) |"
              f" {r['wb_s']:.2f} / {r['wb_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
