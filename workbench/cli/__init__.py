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
    from . import capture, compile, fleet, heap, metrics, notebooks, profile, redact

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Post-mortem analysis of Node.js services: heap snapshots, profiles, metrics.",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (heap, profile, metrics, capture, notebooks, redact, fleet, compile):
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


_IDLE_POOLS = ("workbench-parse", "workbench-summary", "workbench-pass")


def run() -> None:
    """The console script: :func:`main`, then a quick exit. Cache entries are written after the
    answer, by a child forked at exit (``cache.defer_writes_to_exit``). Once the output is flushed
    and the exit handlers have run (the fork happens there), the interpreter's
    teardown only frees memory the kernel frees anyway: on a 7M-node snapshot it took ~0.1 s of
    the command's wall time. It is skipped unless a non-daemon thread is still running, which a
    normal exit would wait for."""
    _quiet_blas_probe()
    _small_pages()
    from ..io import cache
    cache.defer_writes_to_exit()
    rc = main()
    _compile_later()
    import threading
    # The reader's and the Summary's thread pools ("workbench-*" workers) are idle here: every
    # task they get is waited for by the call that submitted it. Any other live non-daemon
    # thread (a user's, a notebook server's) is waited for by a normal exit.
    if any(t.is_alive() and not t.daemon and not t.name.startswith(_IDLE_POOLS)
           for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(rc)
    import atexit
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                rc = rc or 1
        os._exit(rc)


def _compile_later() -> None:
    """After a heap command whose kernels came from numba's cache: build the ahead-of-time module
    for the next commands, in a detached low-priority process (``workbench._aot``), once."""
    from .. import _aot
    if not _aot.wanted():   # (off in ``workbench compile`` itself: it runs with WORKBENCH_AOT=0)
        return
    from .compile import _bundled
    files = _bundled()
    if files:
        _aot.build_in_background(files)


class _NoBlasProbe:
    """numba looks for BLAS (``import scipy.linalg.cython_blas``, 0.18 s and ~30 MiB when scipy is
    installed) the first time any kernel loads, for the linear algebra no workbench kernel uses.
    In the command's own process, and only for that probe, the import is refused."""

    def find_spec(self, name, path=None, target=None):
        if name == "scipy.linalg":
            f = sys._getframe(1)
            while f is not None:
                if f.f_code.co_name == "ensure_blas" and "numba" in f.f_code.co_filename:
                    raise ImportError("workbench: numba's BLAS probe skipped (no kernel uses linear algebra)")
                f = f.f_back
        return None


def _small_pages() -> None:
    """numpy asks for transparent huge pages for each array of 4 MiB and more; with the kernel's
    ``defrag=madvise`` a fault on one may stall in memory compaction. The heap reader already
    keeps its arrays on small pages; in the command's process the passes' arrays are too.
    Measured on the 7.1M-node snapshot, each first open right after DevTools' own run (2 GB
    freed): 1.54-1.70 s with huge pages, 1.37-1.38 s without; a second open straight after, when
    compaction is cheap, 1.26-1.30 s and 1.36-1.49 s. The command takes the steady figure; a
    notebook keeps numpy's default."""
    from .._memory import set_numpy_huge_pages
    set_numpy_huge_pages(False)


def _quiet_blas_probe() -> None:
    if "scipy.linalg" not in sys.modules and "numba" not in sys.modules:
        sys.meta_path.insert(0, _NoBlasProbe())


if __name__ == "__main__":  # pragma: no cover
    run()
