"""CLI subcommands for the metrics subject: ``metrics`` (a summary per metric) and ``diagnose``
(Clinic.js Doctor's verdict with per-signal issues and evidence)."""
from __future__ import annotations

import json
import math
import sys

import polars as pl

from ._common import add_format, emit_frame, emit_json, print_notes


def register(sub) -> None:
    p = sub.add_parser("metrics", help="load metric exports / GC logs / Doctor folders; one summary row per metric",
                       description="Load Prometheus/OpenMetrics scrapes, memoryUsage and event-loop CSV/JSONL "
                                   "samples, --trace-gc(-nvp) logs, Clinic.js Doctor folders and diagnostic "
                                   "reports; print one row per (run, metric, labels).")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--run", help="only this run (default: all)")
    p.add_argument("--quantity", action="store_true", help="only metrics the name map knows (heap_used, rss, ...)")
    add_format(p)
    p.set_defaults(func=_metrics)

    d = sub.add_parser("diagnose", help="Clinic.js Doctor's diagnosis (none, event-loop, gc, io, data)",
                       description="Diagnose a run the way Clinic.js Doctor does: category, issues per signal "
                                   "(delay, cpu, memory, handles, loopUtilization) and the evidence.")
    d.add_argument("paths", nargs="+", metavar="PATH")
    d.add_argument("--run", help="which run, when several are loaded")
    d.add_argument("--format", choices=("table", "json"), default="table")
    d.set_defaults(func=_diagnose)


def _load(args):
    from ..io import load_metrics
    m = load_metrics(*args.paths, quiet=bool(getattr(args, "quiet", False)) or _quiet())
    print_notes(m)
    return m


def _quiet() -> bool:
    import os
    return os.environ.get("WORKBENCH_QUIET") == "1"


def _metrics(args) -> int:
    m = _load(args)
    s = m.summary()
    if args.run:
        s = s.filter(pl.col("run") == args.run)
    if args.quantity:
        s = s.filter(pl.col("quantity").is_not_null())
    if args.format == "table":
        s = s.with_columns(pl.col("first_ts", "last_ts").dt.strftime("%H:%M:%S%.3f"))
    emit_frame(s, args.format)
    return 0


def _clean(o):
    if isinstance(o, float):
        return None if math.isnan(o) or math.isinf(o) else o
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    return o


def _diagnose(args) -> int:
    from ..metrics.diagnose import diagnose
    m = _load(args)
    d = _clean(diagnose(m, run=args.run))
    if args.format == "json":
        emit_json(d)
        return 0
    out = sys.stdout
    out.write(f"run: {d['run']}   basis: {d['basis']}\n")
    out.write(f"category: {d['category']}\n")
    iv = d["interval"]
    out.write(f"analysed interval: {iv.get('unix_ms')} ({iv.get('how')})\n")
    for sig, issue in d["issues"].items():
        if isinstance(issue, dict):
            issue = ", ".join(f"{k}={v}" for k, v in issue.items())
        ev = d["evidence"].get(sig, {})
        brief = {k: v for k, v in ev.items() if k not in ("windows", "rule")} if isinstance(ev, dict) else ev
        out.write(f"  {sig:16s} {issue}\n      {json.dumps(brief, default=str)[:160]}\n")
    return 0
