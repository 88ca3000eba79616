"""Reports and redaction, measured beside their peers in the same run.

- report: `workbench report notebooks/01_api_gateway_memory_leak.ipynb` against the peer pipeline
  `jupyter nbconvert --execute --to html` on the same notebook (nbconvert's page loads require.js, the
  widget manager and vega from CDNs, so it is not readable offline; ours inlines them). Wall time,
  HTML size, and how many remote script/link references each page has.
- redact: `workbench redact` on the api_gateway snapshots against `workbench.load_snapshot` (reading
  the same file, the floor for any tool that must parse it); wall time and peak RSS of each child.

Usage: python benchmarks/bench_report.py   (about a minute on 2 cores)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "01_api_gateway_memory_leak.ipynb"
SNAP = ROOT / "datasets" / "heap" / "api_gateway" / "final.heapsnapshot.gz"


def run(cmd, **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - t0


def remote_refs(html: str) -> int:
    from workbench.report import check_offline
    return len(check_offline(html))


def main() -> None:
    out = Path(tempfile.mkdtemp(prefix="bench-report-"))
    env = dict(os.environ, WORKBENCH_QUIET="1")
    t_ours = run([sys.executable, "-m", "workbench", "--quiet", "report", str(NB), "-o", str(out / "ours.html")], env=env)
    t_peer = run([sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "html", str(NB),
                        "--output-dir", str(out), "--output", "peer"], env=env, cwd=NB.parent)
    ours, peer = (out / "ours.html").read_text(), (out / "peer.html").read_text()
    res = {"report": {"workbench_s": round(t_ours, 2), "nbconvert_s": round(t_peer, 2),
                      "ratio": round(t_ours / t_peer, 2),
                      "workbench_html_mb": round(len(ours.encode()) / 2**20, 2),
                      "nbconvert_html_mb": round(len(peer.encode()) / 2**20, 2),
                      "workbench_remote_refs": remote_refs(ours), "nbconvert_remote_refs": remote_refs(peer)}}
    # each in a fresh interpreter, which reports its own time and peak RSS
    code_load = f"import workbench as wb; wb.load_snapshot({str(SNAP)!r}, quiet=True)"
    code_red = f"from workbench.redact import redact; redact({str(SNAP)!r}, {str(out / 'red.heapsnapshot.gz')!r})"
    rows = {}
    for name, code in (("load_snapshot", code_load), ("redact", code_red)):
        wrapper = ("import resource, time; t=time.perf_counter(); exec(" + repr(code) + "); "
                   "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        r = subprocess.run([sys.executable, "-c", wrapper], check=True, capture_output=True, text=True)
        t, rss = r.stdout.split()[-2:]
        rows[name] = {"s": round(float(t), 2), "peak_rss_mb": round(int(rss) / 1024, 1)}
    rows["ratio_time"] = round(rows["redact"]["s"] / rows["load_snapshot"]["s"], 2)
    res["redact"] = rows
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
