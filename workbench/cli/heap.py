"""CLI subcommands for heap snapshots: summary, stats, nodes (and, from the leak-hunting work,
diff, leaks, retainers, strings)."""
from __future__ import annotations

import os
import sys

from ..errors import UsageError
from ._common import add_format, emit_frame, emit_json

SUMMARY_COLUMNS = ["class", "count", "distance", "self_size", "retained_size"]


def _load(path, args):
    from ..io.heapsnapshot import read_heapsnapshot
    return read_heapsnapshot(path, quiet=args.quiet)


def cmd_summary(args) -> int:
    snap = _load(args.snapshot, args)
    df = snap.summary(top=args.top).select(SUMMARY_COLUMNS)
    emit_frame(df, args.format)
    return 0


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def cmd_stats(args) -> int:
    snap = _load(args.snapshot, args)
    stats = snap.statistics()
    if args.format == "json":
        emit_json(stats)
    else:
        import polars as pl
        flat = _flatten(stats)
        emit_frame(pl.DataFrame({"statistic": list(flat), "bytes": list(flat.values())}), args.format)
    return 0


def cmd_nodes(args) -> int:
    out = args.output
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".parquet", ".csv"):
        raise UsageError(f"{out}: the output must end in .parquet or .csv")
    snap = _load(args.snapshot, args)
    df = snap.nodes
    if ext == ".parquet":
        df.write_parquet(out)
    else:
        df.with_columns(df["type"].cast(str)).write_csv(out)
    print(f"wrote {len(df):,} nodes to {out}", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser("summary", help="DevTools Summary of a heap snapshot (by retained size)")
    p.add_argument("snapshot", help=".heapsnapshot / .heaptimeline, optionally .gz")
    p.add_argument("--top", type=int, default=None, help="only the N largest classes")
    add_format(p)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("stats", help="DevTools Statistics of a heap snapshot")
    p.add_argument("snapshot")
    add_format(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("nodes", help="write the full node table (parquet or csv)")
    p.add_argument("snapshot")
    p.add_argument("-o", "--output", required=True, help="OUT.parquet or OUT.csv")
    p.set_defaults(func=cmd_nodes)
