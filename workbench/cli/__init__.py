"""The `workbench` command: one subcommand per analysis; errors become one line and exit status 2.

Each subject registers its subcommands from its own module (heap.py, profile.py, metrics.py,
capture.py, notebooks.py, redact.py, fleet.py) so that the subjects stay apart; this file only dispatches.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import WorkbenchError


def build_parser() -> argparse.ArgumentParser:
    from . import capture, fleet, heap, metrics, notebooks, profile, redact

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Post-mortem analysis of Node.js services: heap snapshots, profiles, metrics.",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (heap, profile, metrics, capture, notebooks, redact, fleet):
        module.register(sub)
    from . import logs as logs_traces   # logs, traces, timeline
    logs_traces.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quiet:
        os.environ["WORKBENCH_QUIET"] = "1"
    try:
        rc = args.func(args)
    except WorkbenchError as e:
        print(f"workbench: error: {e.one_line()}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"workbench: error: {e.filename}: no such file", file=sys.stderr)
        return 2
    except IsADirectoryError as e:
        print(f"workbench: error: {e.filename}: is a directory", file=sys.stderr)
        return 2
    except PermissionError as e:
        print(f"workbench: error: {e.filename}: permission denied", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
