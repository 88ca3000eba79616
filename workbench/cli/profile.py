"""CLI subcommands for the profile subject: hotspots (alias functions), calltree, flame, profile-diff.

Line and column numbers are printed as the source file's own convention, 1-based as editors show them
(V8 stores 0-based positions in .cpuprofile/.heapprofile/trace files; workbench adds 1; ``node --prof``
logs are already 1-based); 0 means unknown (native code, V8 builtins)."""
from __future__ import annotations

import sys

from ..errors import UsageError
from ._common import add_format, emit_frame, print_notes

CHART_EXT = (".png", ".svg", ".html", ".json")


def _load_kw(args) -> dict:
    kw = {}
    if getattr(args, "thread", None):
        kw["thread"] = args.thread
    elif getattr(args, "trace_profile", None):
        kw["profile"] = args.trace_profile
    if getattr(args, "weights", None):
        kw["weights"] = args.weights
    return kw


def _load(args):
    from ..io import load_profile

    p = load_profile(args.profile, quiet=True, **_load_kw(args))
    print_notes(p)
    if getattr(args, "category", None):
        p = p.filter(categories=[c.strip() for c in args.category.split(",") if c.strip()])
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


LINES = "line/column are 1-based as editors show them (0 = unknown)."
PROFILE_HELP = (".cpuprofile, .heapprofile, Chrome trace JSON, node --prof isolate log (needs node) or its "
                "--prof-process --preprocess JSON, folded stacks, Clinic.js Flame folder (files may be .gz)")


def _thread_args(sp):
    sp.add_argument("--thread", metavar="THREAD", help="which profile of a trace with several: its tid, thread "
                    "name or PID:ID (default: the main thread's)")
    sp.add_argument("--trace-profile", metavar="PID:ID", help="the same as --thread PID:ID")
    sp.add_argument("--weights", choices=("devtools", "deltas"), default=None,
                    help="time per sample: devtools (default; the mean interval) or deltas (speedscope's: the "
                    "time to the next sample)")


def _common(sp, window=True):
    sp.add_argument("profile", help=PROFILE_HELP)
    sp.add_argument("--category", metavar="CATS", help="only frames of these categories, comma-separated "
                    "(app,deps,core,v8,gc,idle,program; 'app' = my code only): hidden frames' time goes to "
                    "their caller")
    _thread_args(sp)
    if window:
        sp.add_argument("--window", metavar="START:END", help="only samples in [START, END) ms since start "
                        "(ordinals for heap profiles)")
    sp.add_argument("--focus", metavar="FUNCTION", help="only the callees of FUNCTION (its outermost calls)")
    sp.add_argument("--callers", metavar="FUNCTION", help="the callers of FUNCTION as an inverted tree")


HOTSPOT_KEYS = ["function", "url", "line", "column", "category", "self_samples", "total_samples", "self_ms",
                "total_ms"]


def cmd_hotspots(args):
    p = _load(args)
    df = p.hotspots(top=args.top or None, sort=args.sort)
    if args.format == "json" and p.kind == "cpu":
        df = df.select(HOTSPOT_KEYS)
    elif args.format == "json":
        df = df.select([k for k in HOTSPOT_KEYS if not k.endswith("_ms")] + ["self_size", "total_size"])
    emit_frame(df, args.format)


def cmd_calltree(args):
    p = _load(args)
    df = p.calltree(max_depth=args.max_depth, min_pct=args.min_pct)
    if args.format == "table":
        from polars import col, lit
        df = df.with_columns((lit("  ").repeat_by(col("depth")).list.join("") + col("function")).alias("function"))
        df = df.drop("id", "parent_id", "column")
    emit_frame(df, args.format)


def cmd_flame(args):
    p = _load(args)
    out = args.output
    low = out.lower()
    kw = dict(min_frac=args.min_frac, max_depth=args.max_depth)
    if low.endswith((".folded", ".collapsed", ".txt")):
        p.to_folded(out)
    elif low.endswith(".speedscope.json"):
        p.to_speedscope(out)
    elif low.endswith((".csv", ".parquet")):
        df = p.flame_chart_rects(min_ms=args.min_ms) if args.time else p.flame_graph(**kw)
        df.write_csv(out) if low.endswith(".csv") else df.write_parquet(out)
    elif low.endswith((".html", ".svg", ".png", ".json")):
        title = f"{'flame chart' if args.time else 'flame graph'}: {args.profile}"
        chart = p.flame_chart(min_ms=args.min_ms, title=title, width=args.width) if args.time else \
            p.flame(title=title, width=args.width, **kw)
        if low.endswith(".html"):
            chart.save(out, format="html", inline=True)  # standalone: opens without network
        else:
            chart.save(out)
    else:
        raise UsageError(f"unknown output type for {out!r}: use .html .svg .png (chart), .folded, "
                         ".speedscope.json, or .csv .parquet (rectangles)")
    print(out)


def cmd_diff(args):
    from ..io import load_profile
    from ..profile.diff import diff

    kw = _load_kw(args)
    a = load_profile(args.before, quiet=True, **kw)
    b = load_profile(args.after, quiet=True, **kw)
    print_notes(a, b)
    d = diff(a, b, match_lines=args.match_lines)
    if args.output:
        low = args.output.lower()
        kw = dict(shape=args.shape, color_by=args.color_by, normalize=not args.absolute, min_frac=args.min_frac)
        if args.width_from:   # the old union layout (widths: the larger share of the two, after's or before's)
            if low.endswith(".csv"):
                d.flame_graph(width=args.width_from, min_frac=args.min_frac).write_csv(args.output)
            else:
                from ..charts.flame import diff_chart
                b, a = d.names()
                diff_chart(d.flame_graph(width=args.width_from, min_frac=args.min_frac), title=f"{b} → {a}").save(
                    args.output)
        elif low.endswith(".csv"):
            d.flame_rects(**kw).drop("id", "parent_id").write_csv(args.output)
        elif low.endswith((".html", ".svg", ".png", ".json")):
            chart = d.flame(**kw, table=not args.no_table)
            if low.endswith(".html"):
                chart.save(args.output, format="html", inline=True)
            else:
                chart.save(args.output)
        else:
            raise UsageError(f"unknown output type for {args.output!r}: use .html .svg .png (chart) or .csv (rectangles)")
        print(args.output, file=sys.stderr)
    df = d.stacks if args.by == "stack" else d.functions
    if args.min_delta:
        col = "total_delta_pct" if args.by == "stack" else "self_delta_pct"
        df = df.filter(df[col].abs() >= args.min_delta)
    emit_frame(df.head(args.top) if args.top else df, args.format)


def register(sub) -> None:
    """Add this subject's subcommands to the `workbench` parser."""
    for name in ("hotspots", "functions"):
        sp = sub.add_parser(name, help="functions by self/total samples and time (bytes for heap profiles): the "
                            "bottom-up view" + ("" if name == "hotspots" else " (alias of hotspots)"),
                            description="One row per function, heaviest first. JSON: a list of objects with "
                            "keys " + ", ".join(HOTSPOT_KEYS) + " (self_size/total_size in bytes for .heapprofile). "
                            + LINES)
        _common(sp)
        sp.add_argument("--top", type=int, default=25, help="rows to print (0: all)")
        sp.add_argument("--sort", choices=("self", "total"), default="self")
        add_format(sp)
        sp.set_defaults(func=cmd_hotspots)

    sp = sub.add_parser("calltree", help="the top-down call tree of a profile", description=LINES)
    _common(sp)
    sp.add_argument("--max-depth", type=int, default=None)
    sp.add_argument("--min-pct", type=float, default=1.0, help="hide rows under this %% of the profile")
    add_format(sp)
    sp.set_defaults(func=cmd_calltree)

    sp = sub.add_parser("flame", help="write a flame graph / flame chart (html, svg, png), folded stacks, a "
                        "speedscope file or the rectangles (csv, parquet)",
                        description="workbench flame PROFILE -o OUT.html|OUT.svg|OUT.png|OUT.folded|"
                        "OUT.speedscope.json|OUT.csv. Narrow frames are merged per parent into '(other)' so the "
                        "chart stays within 3000 rectangles.")
    _common(sp)
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--time", action="store_true", help="flame chart (x = time) instead of flame graph")
    sp.add_argument("--min-frac", type=float, default=0.002, help="prune frames narrower than this share")
    sp.add_argument("--min-ms", type=float, default=None, help="flame chart: drop frames shorter than this "
                    "(default: keep the 3000 longest)")
    sp.add_argument("--max-depth", type=int, default=None)
    sp.add_argument("--width", type=int, default=1000, help="chart width in pixels")
    sp.set_defaults(func=cmd_flame)

    sp = sub.add_parser("profile-diff", help="what changed between two profiles, each normalised to %% of "
                        "its total (per function or --by stack; -o for a differential flame graph)")
    sp.add_argument("before")
    sp.add_argument("after")
    _thread_args(sp)
    sp.add_argument("--top", type=int, default=25)
    sp.add_argument("--min-delta", type=float, default=0.0, help="hide functions whose self share moved less "
                    "(percentage points)")
    sp.add_argument("--match-lines", action="store_true", help="match functions by line too")
    sp.add_argument("--by", choices=("function", "stack"), default="function")
    sp.add_argument("-o", "--output", help="Gregg's differential flame graph with the change table (.html .svg "
                    ".png: one profile's shape, red grew, blue shrank, new frames outlined) or its rectangles "
                    "(.csv: depth, x0, x1, function, url, line, status, delta, before/after/delta self and total %%)")
    sp.add_argument("--shape", choices=("after", "before"), default="after",
                    help="whose shape to draw: after (default), or before to see what vanished or shrank")
    sp.add_argument("--color-by", choices=("self", "total"), default="self",
                    help="colour by the change in self share (Gregg's, default) or total share (a subtree as a whole)")
    sp.add_argument("--absolute", action="store_true", help="compare absolute time instead of shares (only when "
                    "both runs did the same work)")
    sp.add_argument("--no-table", action="store_true", help="the graph without the change table")
    sp.add_argument("--width-from", choices=("after", "before", "max"), default=None,
                    help="the older union layout instead: widths from after's, before's or the larger share")
    sp.add_argument("--min-frac", type=float, default=0.002)
    add_format(sp)
    sp.set_defaults(func=cmd_diff)
