"""CLI subcommand ``redact``: heap snapshots with their data replaced, safe to share."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("redact", help="write snapshots with their data replaced (sizes, graph and code names kept)",
                       description="Replace the contents of strings, regexps and numbers, the property names "
                                   "that identify data (dictionary keys, ids, e-mail addresses, URLs, numbers) and "
                                   "the indices of integer-keyed dictionaries by keyed-hash tokens; keep classes, "
                                   "the program's property names, sizes and the graph. Give the snapshots of one "
                                   "process together (one key, one decision per name) so that they still compare.")
    p.add_argument("snapshot", nargs="+")
    p.add_argument("-o", "--output", required=True,
                   help="the redacted snapshot (.heapsnapshot or .gz); a folder when several are given")
    names = p.add_mutually_exclusive_group()
    names.add_argument("--keep-edge-names", dest="edge_names", action="store_const", const="keep", default="auto",
                       help="keep every property name and element index (dictionary keys survive)")
    names.add_argument("--edge-names", dest="edge_names", action="store_const", const="all",
                       help="replace every property name, the program's too")
    p.add_argument("--key", help="hex key for the content tokens, to keep tokens equal across several files")
    p.set_defaults(func=_redact)


def _quiet() -> bool:
    return bool(os.environ.get("WORKBENCH_QUIET"))


def _redact(args) -> int:
    from ..redact import redact_many
    try:
        key = bytes.fromhex(args.key) if args.key else secrets.token_bytes(32)
    except ValueError:
        raise UsageError(f"--key must be hexadecimal, got {args.key!r}") from None
    out = Path(args.output)
    if len(args.snapshot) > 1 and out.exists() and not out.is_dir():
        raise UsageError("with several snapshots, -o must be a folder", out)
    dests = [out / Path(src).name if len(args.snapshot) > 1 else out for src in args.snapshot]
    for r in redact_many(args.snapshot, dests, key=key, edge_names=args.edge_names, quiet=_quiet()):
        _print(r)
    return 0


def _print(r: dict) -> None:
    rep = r["replaced"]
    parts = ", ".join(f"{n:,} {cat}" for cat, n in rep.items() if n)
    print(f"wrote {r['output']}: {r['redacted_nodes']:,} of {r['nodes']:,} nodes had their contents replaced "
          f"({r['distinct_contents']:,} distinct), {r['redacted_edges']:,} of {r['edges']:,} edge names replaced "
          f"({r['names_replaced']:,} distinct property names replaced, {r['names_kept']:,} kept), "
          f"{r['emptied_strings']:,} unused strings emptied"
          + (f"; dropped unknown sections: {', '.join(r['dropped_sections'])}" if r["dropped_sections"] else ""))
    print(f"  replaced: {parts or 'nothing'}")
