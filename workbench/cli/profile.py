"""CLI subcommands for the profile subject: functions, calltree, flame, profile-diff."""
from __future__ import annotations

import sys

from ..errors import UsageError
from ._common import add_format, emit_frame

CHART_EXT = (".png", ".svg", ".html", ".json")


def _load(args):
    from ..profile import load_profile

    kw = {}
    if getattr(args, "trace_profile", None):
        kw["profile"] = args.trace_profile
    p = load_profile(args.profile, quiet=True, **kw)
    _notes(p)
    if getattr(args, "window", None):
        try:
            a, b = (float(x) for x in args.window.split(":"))
        except ValueError:
            raise UsageError(f"--window wants START:END in ms (ordinals for heap profiles), not {args.window!r}") \
                from None
        p = p.window(a, b)
    if getattr(args, "focus", None):
        p = p.focus(args.focus)
    if getattr(args, "callers", None):
        p = p.callers(args.callers)
    return p


def _notes(p) -> None:
    """Lossy or corrective steps of the readers, one line each on stderr."""
    m = p.meta
    notes = []
    if m.get("samples_with_unknown_node"):
        notes.append(f"{m['samples_with_unknown_node']} samples name nodes absent from the tree "
                     f"({m['bytes_in_samples_with_unknown_node']:.0f} bytes); self sizes come from selfSize")
    if m.get("reordered_samples"):
        notes.append(f"{m['reordered_samples']} samples had negative time deltas and were re-sorted by time")
    if len(m.get("trace_profiles", {})) > 1:
        others = ", ".join(f"{k} ({v} samples)" for k, v in m["trace_profiles"].items() if k != m["trace_profile"])
        notes.append(f"trace has several profiles; read {m['trace_profile']}; others: {others} (--trace-profile)")
    for n in notes:
        print(f"workbench: note: {p.path}: {n}", file=sys.stderr)


def _common(sp, window=True):
    sp.add_argument("profile", help=".cpuprofile, .heapprofile, Chrome trace JSON or folded stacks (optionally .gz)")
    sp.add_argument("--trace-profile", metavar="PID:ID", help="which profile of a trace with several")
    if window:
        sp.add_argument("--window", metavar="START:END", help="only samples in [START, END) ms since start "
                        "(ordinals for heap profiles)")
    sp.add_argument("--focus", metavar="FUNCTION", help="only the callees of FUNCTION (its outermost calls)")
    sp.add_argument("--callers", metavar="FUNCTION", help="the callers of FUNCTION as an inverted tree")


def cmd_functions(args):
    p = _load(args)
    emit_frame(p.functions(top=args.top, sort=args.sort), args.format)


def cmd_calltree(args):
    p = _load(args)
    df = p.calltree(max_depth=args.max_depth, min_pct=args.min_pct)
    if args.format == "table":
        from polars import col, lit
        df = df.with_columns((lit("  ").repeat_by(col("depth")).list.join("") + col("name")).alias("name"))
        df = df.drop("id", "parent_id", "column")
    emit_frame(df, args.format)


MAX_RECTS = 5000  # altair's default row limit: more would not render in a notebook either


def _fit(df, col: str, what: str, path):
    """Keep the MAX_RECTS widest rectangles, saying so on stderr (a lossy step, reported)."""
    if df.height <= MAX_RECTS:
        return df
    cut = float(df[col].sort(descending=True)[MAX_RECTS - 1])
    kept = df.filter(df[col] > cut) if (df[col] > cut).sum() else df.head(0)
    print(f"workbench: note: {path}: {df.height} {what}; drew the {kept.height} wider than {cut:.3g} "
          f"(raise --min-frac/--min-ms or use --window to choose)", file=sys.stderr)
    return kept


def _save_chart(chart, out: str) -> None:
    chart.save(out)


def cmd_flame(args):
    p = _load(args)
    out = args.output
    low = out.lower()
    if low.endswith((".folded", ".collapsed", ".txt")):
        p.to_folded(out)
    elif low.endswith(".speedscope.json"):
        p.to_speedscope(out)
    elif args.time:
        from ..widgets.flame import flame_chart_chart
        fc = p.flame_chart(min_ms=args.min_ms)
        if low.endswith((".csv", ".parquet")):
            fc.write_csv(out) if low.endswith(".csv") else fc.write_parquet(out)
        else:
            fc = _fit(fc, "duration_ms", "flame-chart frames", args.profile)
            _save_chart(flame_chart_chart(fc, title=f"flame chart: {args.profile}", width=args.width), out)
    else:
        fg = p.flame(min_frac=args.min_frac, max_depth=args.max_depth)
        if low.endswith(".csv"):
            fg.write_csv(out)
        elif low.endswith(".parquet"):
            fg.write_parquet(out)
        elif low.endswith(CHART_EXT):
            from ..widgets.flame import flame_graph_chart
            fg = _fit(fg, "total_pct", "flame-graph frames", args.profile)
            _save_chart(flame_graph_chart(fg, title=f"flame graph: {args.profile}", width=args.width), out)
        else:
            raise UsageError(f"unknown output type for {out!r}: use .png .svg .html .json (chart), .csv .parquet "
                             "(rectangles), .folded, or .speedscope.json")
    print(out)


def cmd_diff(args):
    from ..profile import diff, diff_flame_graph, load_profile

    kw = {"profile": args.trace_profile} if args.trace_profile else {}
    a = load_profile(args.before, quiet=True, **kw)
    b = load_profile(args.after, quiet=True, **kw)
    _notes(a)
    _notes(b)
    if args.output:
        from ..widgets.flame import diff_flame_graph_chart
        dg = diff_flame_graph(a, b, width=args.width_from, min_frac=args.min_frac, match_lines=args.match_lines)
        if args.output.lower().endswith(".csv"):
            dg.write_csv(args.output)
        else:
            diff_flame_graph_chart(dg, title=f"{args.before} → {args.after}").save(args.output)
        print(args.output, file=sys.stderr)
    df = diff(a, b, match_lines=args.match_lines, min_delta_pct=args.min_delta)
    emit_frame(df.head(args.top) if args.top else df, args.format)


def register(sub) -> None:
    """Add this subject's subcommands to the `workbench` parser."""
    sp = sub.add_parser("functions", help="functions by self/total time or bytes (bottom-up, Sandwich table)")
    _common(sp)
    sp.add_argument("--top", type=int, default=25, help="rows to print (0: all)")
    sp.add_argument("--sort", choices=("self", "total"), default="self")
    add_format(sp)
    sp.set_defaults(func=cmd_functions)

    sp = sub.add_parser("calltree", help="the top-down call tree of a profile")
    _common(sp)
    sp.add_argument("--max-depth", type=int, default=None)
    sp.add_argument("--min-pct", type=float, default=1.0, help="hide rows under this %% of the profile")
    add_format(sp)
    sp.set_defaults(func=cmd_calltree)

    sp = sub.add_parser("flame", help="write a flame graph / flame chart (png, svg, html), its rectangles "
                        "(csv, parquet), folded stacks or a speedscope file")
    _common(sp)
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--time", action="store_true", help="flame chart (x = time) instead of flame graph")
    sp.add_argument("--min-frac", type=float, default=0.002, help="prune frames narrower than this share")
    sp.add_argument("--min-ms", type=float, default=0.5, help="flame chart: drop frames shorter than this")
    sp.add_argument("--max-depth", type=int, default=None)
    sp.add_argument("--width", type=int, default=1000, help="chart width in pixels")
    sp.set_defaults(func=cmd_flame)

    sp = sub.add_parser("profile-diff", help="what changed between two profiles (functions; -o for a "
                        "differential flame graph)")
    sp.add_argument("before")
    sp.add_argument("after")
    sp.add_argument("--trace-profile", metavar="PID:ID")
    sp.add_argument("--top", type=int, default=25)
    sp.add_argument("--min-delta", type=float, default=0.0, help="hide functions whose self share moved less "
                    "(percentage points)")
    sp.add_argument("--match-lines", action="store_true", help="match functions by line too")
    sp.add_argument("-o", "--output", help="differential flame graph (.png .svg .html) or its rectangles (.csv)")
    sp.add_argument("--width-from", choices=("after", "before", "max"), default="after")
    sp.add_argument("--min-frac", type=float, default=0.002)
    add_format(sp)
    sp.set_defaults(func=cmd_diff)
