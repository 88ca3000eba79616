"""CLI subcommand ``compile``: build the ahead-of-time kernel module (``workbench._aot``).

The harvest (the workload whose kernels are compiled) is the heap commands ``summary``, ``stats``
and ``diff`` run on small snapshots with the JIT: the snapshots given, else the bundled
``datasets/heap/healthy`` snapshots of a checkout, else the copy of one shipped in the package
(``workbench/harvest``); each is read as ``.gz``, decompressed, and decompressed through the
memory map (the reader's three paths). Kernel types depend on the arrays' dtypes, not on a file's
size, so a small snapshot gives a big one's signatures.
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..errors import UsageError
from ._common import add_format, emit_frame


def register(sub) -> None:
    p = sub.add_parser("compile", help="compile the heap kernels ahead of time (faster start of every later command)",
                       description="Compile every kernel the heap commands use into one extension module in "
                                   "the kernel folder ($WORKBENCH_KERNEL_DIR, else ~/.cache/workbench-kernels). "
                                   "Later commands and notebooks then skip loading kernels from numba's cache "
                                   "(0.4-0.6 s per process). The command also starts this build itself, in the "
                                   "background, after its first heap command.")
    p.add_argument("snapshot", nargs="*", help="small snapshots to run the heap commands on (default: the bundled ones)")
    p.add_argument("--force", action="store_true", help="build again even when a module for this version exists")
    p.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    add_format(p)
    p.set_defaults(func=cmd_compile)


def _bundled() -> list[str]:
    """A checkout's healthy snapshots, else the copy shipped in the package (workbench/harvest)."""
    d = Path(__file__).resolve().parents[2] / "datasets" / "heap" / "healthy"
    names = ["baseline.heapsnapshot.gz", "final.heapsnapshot.gz"]
    found = [str(d / n) for n in names if (d / n).is_file()]
    shipped = Path(__file__).resolve().parents[1] / "harvest" / "baseline.heapsnapshot.gz"
    return found or ([str(shipped)] if shipped.is_file() else [])


def harvest_files(given: list[str]) -> list[str]:
    files = list(given) or _bundled()
    if not files:
        raise UsageError("no snapshot to compile the kernels with: give one (any small .heapsnapshot)")
    for f in files:
        if not os.path.isfile(f):
            raise FileNotFoundError(2, "no such file", f)
    return files


@contextlib.contextmanager
def _env(name: str, value: str):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def _harvest(files: list[str], tmp: str):
    def run():
        from .heap import cmd_diff, cmd_stats, cmd_summary
        plain = []
        for f in files:
            if f.endswith(".gz"):
                out = os.path.join(tmp, Path(f).name[:-3])
                with gzip.open(f, "rb") as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                plain.append(out)
        opts = dict(quiet=True, top=None, format="table")
        with contextlib.redirect_stdout(io.StringIO()):
            for f in files + plain:
                cmd_summary(argparse.Namespace(snapshot=f, **opts))
                cmd_stats(argparse.Namespace(snapshot=f, **opts))
            # the decompressed copies once more through the memory map, as big files are read
            # (read-only windows: other argument types)
            with _env("WORKBENCH_MAP_MIN_BYTES", "0"):
                for f in plain:
                    cmd_summary(argparse.Namespace(snapshot=f, **opts))
            both = (files + plain)[:2]
            if len(both) == 2:
                cmd_diff(argparse.Namespace(before=both[0], after=both[1], **opts))
    return run


def cmd_compile(args) -> int:
    from .. import _aot
    if not args.force and _aot._paths()[1].exists():
        print(f"up to date: {_aot._paths()[1]}")
        return 0
    os.environ["WORKBENCH_CACHE"] = "0"     # the harvest parses; nothing to keep
    os.environ["WORKBENCH_AOT"] = "0"       # ... with the JIT, whose overloads it then compiles
    tmp = tempfile.mkdtemp(prefix="workbench-compile-")
    try:
        files = harvest_files(args.snapshot)
        try:
            info = _aot.build(_harvest(files, tmp))
        except Exception as e:
            if args.background:
                with contextlib.suppress(OSError):
                    with open(_aot._marker(), "a") as m:
                        m.write(f"failed: {type(e).__name__}: {e}\n")
                return 1
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.format != "table":
        import polars as pl
        emit_frame(pl.DataFrame([info]), args.format)
    else:
        print(f"compiled {info['kernels']} kernel signatures into {info['path']} "
              f"(harvest {info['harvest_s']:.1f} s, compile {info['compile_s']:.1f} s)")
    return 0
