"""CLI subcommand ``redact``: heap snapshots with their data replaced, safe to share."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("redact", help="write a snapshot with string contents replaced (sizes and graph kept)",
                       description="Replace the contents of strings, regexps and numbers by keyed-hash tokens; "
                                   "keep classes, property names, sizes and the graph. Give the snapshots of one "
                                   "process together (one key) so that they can still be compared.")
    p.add_argument("snapshot", nargs="+")
    p.add_argument("-o", "--output", required=True,
                   help="the redacted snapshot (.heapsnapshot or .gz); a folder when several are given")
    p.add_argument("--edge-names", action="store_true", help="also replace property names (dictionary keys)")
    p.add_argument("--key", help="hex key for the content tokens, to keep tokens equal across several files")
    p.set_defaults(func=_redact)


def _quiet() -> bool:
    return bool(os.environ.get("WORKBENCH_QUIET"))


def _redact(args) -> int:
    try:
        key = bytes.fromhex(args.key) if args.key else secrets.token_bytes(32)
    except ValueError:
        raise UsageError(f"--key must be hexadecimal, got {args.key!r}") from None
    out = Path(args.output)
    if len(args.snapshot) > 1 and out.exists() and not out.is_dir():
        raise UsageError("with several snapshots, -o must be a folder", out)
    for src in args.snapshot:
        dest = out / Path(src).name if len(args.snapshot) > 1 else out
        _redact_one(src, dest, key, args.edge_names)
    return 0


def _redact_one(src, dest, key, edge_names) -> None:
    from ..redact import redact
    r = redact(src, dest, key=key, edge_names=edge_names, quiet=_quiet())
    print(f"wrote {r['output']}: {r['redacted_nodes']:,} of {r['nodes']:,} nodes had their contents replaced "
          f"({r['distinct_contents']:,} distinct), {r['redacted_edges']:,} edge names replaced, "
          f"{r['emptied_strings']:,} unused strings emptied"
          + (f"; dropped unknown sections: {', '.join(r['dropped_sections'])}" if r["dropped_sections"] else ""))
