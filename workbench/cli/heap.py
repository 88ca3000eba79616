"""CLI subcommands for heap snapshots: summary, stats, nodes (and, from the leak-hunting work,
diff, leaks, retainers, strings)."""
from __future__ import annotations

import os
import sys

from ..errors import UsageError
from ._common import add_format, emit_frame, emit_json, print_notes

SUMMARY_COLUMNS = ["class", "count", "distance", "self_size", "retained_size"]


def _load(path, args):
    from ..io import load_snapshot
    snap = load_snapshot(path, quiet=args.quiet)
    print_notes(snap)
    return snap


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
    register_issue3(sub)


# ---- comparison, leaks, retainers, strings (issue 3)
def cmd_diff(args) -> int:
    from ..heap.diff import COMPARISON_COLUMNS, compare
    before, after = _load(args.before, args), _load(args.after, args)
    df = compare(before, after).select(COMPARISON_COLUMNS)
    if args.top:
        df = df.head(args.top)
    emit_frame(df, args.format)
    return 0


def cmd_leaks(args) -> int:
    from ..heap.leaks import find_leaks
    if len(args.snapshots) < 3:
        raise UsageError(f"leaks needs three snapshots or more (baseline, target, ..., final), got {len(args.snapshots)}")
    snaps = [_load(p, args) for p in args.snapshots]
    rep = find_leaks(*snaps, min_count=args.min_count, serious_count=args.serious_count,
                     serious_bytes=args.serious_bytes, top=args.top, quiet=args.quiet, fold=not args.no_fold)
    if args.format == "json":
        emit_json(rep.to_dict())
    else:
        df = rep.suspects.select("class", "name", "count", "retained_size", "group_retained_size", "status", "kind",
                                 "serious", "holder", "path")
        if args.format == "csv":
            emit_frame(df, "csv")
        else:
            emit_frame(df.drop("path").with_row_index("rank", offset=1), "table")
            for i, (p, why) in enumerate(zip(df["path"].to_list(), rep.suspects["explanation"].to_list())):
                print(f"{i + 1}. {why}\n   {p}")
            c = rep.counts
            print(f"{c['candidates']:,} objects new in target and alive in final; {c['dropped_as_noise']:,} "
                  f"dropped as noise, {c['transient']:,} held only by transient roots, "
                  f"{c['held_by_compiled_code']:,} held by compiled code, "
                  f"{c['unreachable']:,} unreachable, {c['in_small_clusters']:,} in clusters below "
                  f"--min-count; {len(rep.serious)} serious suspect(s)", file=sys.stderr)
            for note in rep.notes:
                print(f"note: {note}", file=sys.stderr)
    if args.fail_on_leak and len(rep.serious):
        return 1
    return 0


def cmd_retainers(args) -> int:
    snap = _load(args.snapshot, args)
    if args.paths:
        df = snap.retainer_paths(args.node_id, k=args.paths, weak=args.weak, fold=not args.no_fold)
        df = df.select("path", "step", "edge", "edge_type", "node_id", "class", "name", "repeat", "distance",
                       "self_size", "retained_size")
    else:
        df = snap.retainers(args.node_id, weak=args.weak).drop("edge_index", "edge_name")
    emit_frame(df, args.format)
    return 0


def cmd_strings(args) -> int:
    snap = _load(args.snapshot, args)
    df = snap.duplicate_strings(top=args.top)
    if args.format == "table":
        df = df.with_columns(df["value"].str.slice(0, 60))
    emit_frame(df, args.format)
    return 0


def register_issue3(sub) -> None:
    p = sub.add_parser("diff", help="DevTools Comparison of two snapshots of one process")
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--top", type=int, default=None, help="only the first N rows (by size delta)")
    add_format(p)
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("leaks", help="find leaks with three snapshots or more (memlab's method, Node filters)")
    p.add_argument("snapshots", nargs="+", metavar="snapshot",
                   help="baseline, target, then later snapshots (the last is final; growth is checked in "
                   "every window after target)")
    p.add_argument("--fail-on-leak", action="store_true", help="exit 1 when a serious suspect is found (CI)")
    p.add_argument("--min-count", type=int, default=2, help="smallest cluster that counts as a leak unit")
    p.add_argument("--serious-count", type=int, default=10, help="objects for a suspect to be serious")
    p.add_argument("--serious-bytes", type=int, default=64 * 1024, help="retained bytes for a suspect to be serious")
    p.add_argument("--top", type=int, default=20, help="at most N suspects")
    p.add_argument("--no-fold", action="store_true", help="every step of the paths (repeated steps are "
                   "folded into one with a repeat count by default)")
    add_format(p)
    p.set_defaults(func=cmd_leaks)

    p = sub.add_parser("retainers", help="retainers of one object, or its shortest retainer paths")
    p.add_argument("snapshot")
    p.add_argument("node_id", type=int, help="the object's id (DevTools' @id)")
    p.add_argument("--paths", type=int, default=0, metavar="K", help="the K shortest paths from the GC roots")
    p.add_argument("--weak", action="store_true", help="follow and show weak edges too")
    p.add_argument("--no-fold", action="store_true", help="every step of a path (repeated steps are folded "
                   "into one with a repeat count by default)")
    add_format(p)
    p.set_defaults(func=cmd_retainers)

    p = sub.add_parser("strings", help="duplicate strings: count, wasted bytes, top holders")
    p.add_argument("snapshot")
    p.add_argument("--top", type=int, default=50)
    add_format(p)
    p.set_defaults(func=cmd_strings)
