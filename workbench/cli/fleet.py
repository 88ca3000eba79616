"""CLI subcommands for fleets (``workbench fleet ...``): summarize many instances' files on Dask into a
fleet dataset, then ask it fleet questions (classes, outliers, hotspots, flame, trends, files)."""
from __future__ import annotations

import sys

from ..errors import UsageError
from ._common import add_format, emit_frame


def cmd_summarize(args) -> int:
    from ..fleet import summarize
    if args.scheduler and args.workers:
        raise UsageError("--scheduler and --workers exclude each other: a running scheduler has its own workers")
    r = summarize(args.inputs, out=args.output, client=args.scheduler, workers=args.workers,
                  memory_limit=args.memory_limit, instance=args.instance, node_version=args.node_version,
                  quiet=args.quiet, redo_errors=args.redo_errors,
                  write_on="client" if args.write_on_client else "worker")
    for w in r.warnings:
        print(f"workbench: note: {w}", file=sys.stderr)
    for p in r.unmatched:
        print(f"workbench: note: {p}: --instance {args.instance!r} does not match; instance = its folder",
              file=sys.stderr)
    for p, why in r.same_content:
        print(f"workbench: note: {p}: skipped, {why}", file=sys.stderr)
    for p, err in r.errors:
        print(f"workbench: note: {p}: not read: {err}", file=sys.stderr)
    where = r.cluster.get("scheduler", "no cluster needed")
    if where == "local":
        where = (f"local cluster of {r.cluster['workers']} workers, "
                 f"{r.cluster['memory_limit'] / 2**30:.1f} GiB each")
    print(f"{r.files} files: {r.new} summarised ({len(r.errors)} could not be read), {r.unchanged} unchanged, "
          f"{len(r.same_content)} same content as another; {r.seconds:.1f} s on {where}; dataset {r.out}",
          file=sys.stderr)
    return 0


def cmd_classes(args) -> int:
    from ..fleet import top_classes
    emit_frame(top_classes(args.dataset, by=args.by, top=args.top or None), args.format)
    return 0


def cmd_outliers(args) -> int:
    from ..fleet import outlier_instances, outliers
    if args.by_instance:
        emit_frame(outlier_instances(args.dataset, by=args.by, threshold=args.threshold), args.format)
        return 0
    emit_frame(outliers(args.dataset, by=args.by, threshold=args.threshold, cls=args.cls, top=args.top or None),
               args.format)
    return 0


def cmd_hotspots(args) -> int:
    from ..fleet import hotspots
    emit_frame(hotspots(args.dataset, group_by=args.group_by, top=args.top or None, kind=args.kind), args.format)
    return 0


def cmd_trends(args) -> int:
    from ..fleet import rising_floor
    emit_frame(rising_floor(args.dataset, all=args.all), args.format)
    return 0


def cmd_files(args) -> int:
    from ..fleet import open_dataset
    f = open_dataset(args.dataset).files
    if args.errors:
        f = f.filter(f["error"].is_not_null())
    emit_frame(f.select("path", "kind", "format", "instance", "taken_at", "bytes", "nodes", "seconds", "error"),
               args.format)
    return 0


def _diff_arg(text: str):
    field, eq, values = text.partition("=")
    vals = [v.strip() for v in values.split(",")]
    if not eq or not field.strip() or len(vals) != 2 or not all(vals):
        raise UsageError(f"--diff wants FIELD=A,B (e.g. version=v1,v2), not {text!r}")
    return field.strip(), vals[0], vals[1]


def cmd_flame(args) -> int:
    from ..fleet import flame, flame_diff
    out = args.output
    low = out.lower()
    if not low.endswith((".html", ".svg", ".png", ".json", ".folded", ".csv")):
        raise UsageError(f"unknown output type for {out!r}: use .html .svg .png .json (chart), .folded or .csv")
    where = dict(w.split("=", 1) for w in args.where or [])
    if args.diff:
        field, a, b = _diff_arg(args.diff)
        d = flame_diff(args.dataset, field, a, b)
        if low.endswith(".csv"):
            d.functions.write_csv(out)
        elif low.endswith(".folded"):
            raise UsageError("a differential flame graph has no folded form: write .html, .svg, .png or .csv")
        else:
            d.flame(title=f"fleet: {field}={a} → {field}={b}").save(out, **({"format": "html", "inline": True}
                                                                         if low.endswith(".html") else {}))
        emit_frame(d.functions.head(args.top), args.format)
    else:
        p = flame(args.dataset, where=where or None)
        if low.endswith(".folded"):
            p.to_folded(out)
        elif low.endswith(".csv"):
            p.flame_graph().write_csv(out)
        else:
            chart = p.flame(title=f"fleet flame graph ({p.meta.get('profiles')} profiles)")
            chart.save(out, **({"format": "html", "inline": True} if low.endswith(".html") else {}))
    print(out, file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser("fleet", help="many instances' snapshots, profiles and metrics on Dask: summarize, then "
                       "classes, outliers, hotspots, flame, trends, files",
                       description="workbench fleet summarize GLOB... -o DATASET, then fleet questions over DATASET.")
    fs = p.add_subparsers(dest="fleet_command", metavar="SUBCOMMAND")
    fs.required = True

    s = fs.add_parser("summarize", help="read every file on Dask workers into a fleet dataset (parquet)",
                      description="One Dask task per file; files already in DATASET are skipped (same path, size "
                      "and mtime, or same sha256), so a rerun adds only new files. A file that cannot be read is a "
                      "row of `fleet files --errors`, the rest finish.")
    s.add_argument("inputs", nargs="+", metavar="GLOB", help="files, folders or globs ('**' recursive; quote them)")
    s.add_argument("-o", "--output", required=True, metavar="DATASET", help="the dataset folder (created)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--scheduler", metavar="ADDRESS", help="a running `dask scheduler` (tcp://host:8786); its "
                   "workers need workbench installed and DATASET on a filesystem they share (or --write-on-client)")
    g.add_argument("--workers", type=int, help="workers of the local cluster (default: from memory and cores)")
    s.add_argument("--memory-limit", metavar="BYTES", help="per local worker, e.g. 4GiB (default: from the largest "
                   "file)")
    s.add_argument("--instance", metavar="PATTERN", help="instance from the path, e.g. '{host}/{pid}' (fields in "
                   "braces, * any text within a folder name), or label:NAME for metric rows; default: the folder")
    s.add_argument("--node-version", help="the Node version of every file (else the pattern's {node_version})")
    s.add_argument("--redo-errors", action="store_true", help="read again the files that failed before")
    s.add_argument("--write-on-client", action="store_true", help="workers send their tables to this process, "
                   "which writes them (for remote workers without shared storage)")
    s.set_defaults(func=cmd_summarize)

    s = fs.add_parser("classes", help="top classes across the fleet (latest snapshot per instance)")
    s.add_argument("dataset")
    s.add_argument("--by", choices=("retained_size", "self_size", "count"), default="retained_size")
    s.add_argument("--top", type=int, default=25, help="rows (0: all)")
    add_format(s)
    s.set_defaults(func=cmd_classes)

    s = fs.add_parser("outliers", help="outlier instances per class (robust z-score over instances)",
                      description="z = 0.6745 (x - median) / MAD over the instances' values of a class (MAD 0: "
                      "1.253314 x mean absolute deviation); outliers are above the median with z > --threshold.")
    s.add_argument("dataset")
    s.add_argument("--by", choices=("self_size", "retained_size", "count"), default="self_size")
    s.add_argument("--threshold", type=float, default=3.5)
    s.add_argument("--class", dest="cls", metavar="CLASS", help="every instance of one class, by z")
    s.add_argument("--by-instance", action="store_true", help="one row per instance: its outlying classes and "
                   "their summed excess over the fleet's medians, the furthest instance first")
    s.add_argument("--top", type=int, default=25, help="rows (0: all)")
    add_format(s)
    s.set_defaults(func=cmd_outliers)

    s = fs.add_parser("hotspots", help="functions over every CPU profile of the fleet")
    s.add_argument("dataset")
    s.add_argument("--group-by", metavar="FIELD", help="one ranking per value of a files column (instance, "
                   "node_version, ...) or an --instance field (version, host, ...)")
    s.add_argument("--kind", choices=("cpu", "alloc"), default="cpu")
    s.add_argument("--top", type=int, default=25, help="rows (per group; 0: all)")
    add_format(s)
    s.set_defaults(func=cmd_hotspots)

    s = fs.add_parser("flame", help="fleet flame graph (folded stacks summed), or the differential one of two groups")
    s.add_argument("dataset")
    s.add_argument("-o", "--output", required=True, help="OUT.html|.svg|.png|.json (chart), .folded, .csv")
    s.add_argument("--diff", metavar="FIELD=A,B", help="from group FIELD=A to FIELD=B (e.g. version=v1,v2)")
    s.add_argument("--where", action="append", metavar="FIELD=VALUE", help="only these files (repeatable)")
    s.add_argument("--top", type=int, default=15, help="with --diff: rows of the change table printed")
    add_format(s)
    s.set_defaults(func=cmd_flame)

    s = fs.add_parser("trends", help="instances with a rising post-GC floor (leak trend per instance)")
    s.add_argument("dataset")
    s.add_argument("--all", action="store_true", help="every instance with its verdict")
    add_format(s)
    s.set_defaults(func=cmd_trends)

    s = fs.add_parser("files", help="the files of a fleet dataset, with their errors")
    s.add_argument("dataset")
    s.add_argument("--errors", action="store_true", help="only the files that could not be read")
    add_format(s)
    s.set_defaults(func=cmd_files)
