"""CLI subcommands for logs and traces: ``logs`` (records per level, the records at or above a level,
or the error templates), ``traces`` (per route: requests, errors, p50/p90/p99; or the slowest traces
with their critical span) and ``timeline`` (the incident timeline of a dataset folder as HTML)."""
from __future__ import annotations

import os

import polars as pl

from ..errors import FormatError, UsageError
from ._common import add_format, emit_frame, print_notes

LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")


def _quiet() -> bool:
    return os.environ.get("WORKBENCH_QUIET") == "1"


def register(sub) -> None:
    p = sub.add_parser("logs", help="JSON-lines logs (pino, bunyan, winston) and Node warnings: counts per level, "
                       "records, error templates",
                       description="Load log files (or folders of them). Without options: one row per level "
                                   "(records). --level: the records at that level or more severe. --templates: "
                                   "errors grouped by message template (drain3).")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--level", choices=LEVELS, help="print the records at this level or more severe")
    p.add_argument("--templates", action="store_true", help="errors grouped by message template")
    p.add_argument("--limit", type=int, default=50, help="at most this many records in a table (default 50; "
                   "json and csv print all)")
    add_format(p)
    p.set_defaults(func=_logs)

    t = sub.add_parser("traces", help="OTLP/JSON, Jaeger or Zipkin traces: per route count, errors, p50/p90/p99",
                       description="Load trace exports (or folders of them) and print one row per route "
                                   "(server spans: requests, errors, error_rate, p50/p90/p99 in ms), or with "
                                   "--slowest N the N slowest requests and where their critical path went.")
    t.add_argument("paths", nargs="+", metavar="PATH")
    t.add_argument("--by", choices=("route", "name", "service"), default="route",
                   help="group requests by http.route (default; the span name where there is none), span name or service")
    t.add_argument("--slowest", type=int, metavar="N", help="the N slowest requests instead")
    add_format(t)
    t.set_defaults(func=_traces)

    tl = sub.add_parser("timeline", help="the incident timeline (latency, errors, heap floor, GC, event loop, logs) "
                        "as one HTML chart",
                        description="Load the metrics, traces and logs of PATHs (files or dataset folders) and "
                                    "write one brushable chart with every signal on one time axis.")
    tl.add_argument("paths", nargs="+", metavar="PATH")
    tl.add_argument("-o", "--output", required=True, help="OUT.html (or .json, .svg, .png)")
    tl.add_argument("--every", default="5s", help="bucket size (default 5s)")
    tl.add_argument("--run", help="which metrics run, when several are loaded")
    tl.add_argument("--snapshot", action="append", default=[], metavar="LABEL=TIME",
                    help="mark a heap snapshot taken at TIME (ISO 8601); may repeat")
    tl.set_defaults(func=_timeline)


def _logs(args) -> int:
    from ..io import load_logs
    logs = load_logs(*args.paths, quiet=_quiet())
    print_notes(logs)
    if args.templates:
        t = logs.templates()
        if args.format == "table":
            t = t.with_columns(pl.col("first_ts", "last_ts").dt.strftime("%H:%M:%S%.3f"),
                               levels=pl.col("levels").list.join(","))
        emit_frame(t, args.format)
        return 0
    if args.level is None:
        emit_frame(logs.levels(), args.format)
        return 0
    r = logs.at_least(args.level).table.select("source", "line", "ts", "level", "msg", "err_type", "err_message",
                                               "status", "duration_ms", "trace_id", "route")
    if args.format == "table":
        r = r.head(args.limit).with_columns(pl.col("ts").dt.strftime("%H:%M:%S%.3f"))
    emit_frame(r, args.format)
    return 0


def _traces(args) -> int:
    from ..io import load_traces
    t = load_traces(*args.paths, quiet=_quiet())
    print_notes(t)
    if args.slowest is not None:
        if args.slowest < 1:
            raise UsageError("--slowest wants a positive count")
        out = t.slowest(n=args.slowest)
        if args.format == "table":
            out = out.with_columns(pl.col("start").dt.strftime("%H:%M:%S%.3f"))
    else:
        out = t.by_route(by=args.by)
    if out.is_empty():
        raise UsageError("no server spans (requests) in these traces", args.paths[0])
    emit_frame(out, args.format)
    return 0


def _try(load, path):
    try:
        return load(path, quiet=True)
    except FormatError:
        return None


def _timeline(args) -> int:
    from ..io import load_logs, load_metrics, load_traces

    out = args.output
    if not out.lower().endswith((".html", ".json", ".svg", ".png")):
        raise UsageError(f"unknown output type for {out!r}: use .html, .json, .svg or .png")
    metrics, traces, logs = [], [], []
    for p in args.paths:
        found = [x for x in ((metrics, _try(load_metrics, p)), (traces, _try(load_traces, p)), (logs, _try(load_logs, p)))
                 if x[1] is not None]
        if not found:
            raise FormatError(p, "header", 0, "no metrics, traces or logs workbench can read here")
        for bucket, model in found:
            bucket.append(model)
    if len(metrics) > 1 or len(traces) > 1 or len(logs) > 1:
        # one model per subject: load them together
        metrics = [load_metrics(*args.paths, quiet=True)] if metrics else []
        traces = [load_traces(*[p for p in args.paths if _try(load_traces, p) is not None], quiet=True)] if traces else []
        logs = [load_logs(*[p for p in args.paths if _try(load_logs, p) is not None], quiet=True)] if logs else []
    # a dataset folder holds traces, logs and snapshots next to the metrics: the metrics door's
    # "skipped: not a metric export" notes about them say nothing here
    print_notes(*traces, *logs)
    for m in metrics:
        kept = m.notes.filter(~pl.col("what").str.starts_with("skipped"))
        if len(kept):
            print_notes(type("M", (), {"notes": kept})())
    snaps = []
    for s in args.snapshot:
        label, sep, when = s.partition("=")
        if not sep:
            raise UsageError(f"--snapshot wants LABEL=TIME, not {s!r}")
        import datetime as dt
        try:
            ts = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--snapshot {label}: {when!r} is no ISO 8601 time") from None
        snaps.append((label, ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)))
    from ..charts.incident import incident_timeline
    chart = incident_timeline(metrics[0] if metrics else None, traces[0] if traces else None,
                              logs[0] if logs else None, snapshots=snaps, run=args.run, every=args.every)
    chart.save(out, **({"format": "html", "inline": True} if out.lower().endswith(".html") else {}))
    return 0
