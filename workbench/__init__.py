"""workbench: post-mortems of Node.js services in Jupyter.

Heap snapshots, CPU/allocation profiles and metric exports become polars dataframes, with
DevTools-exact numbers. The typed doors are ``load_snapshot``, ``load_profile`` and
``load_metrics``; ``load`` sniffs the format. Heavy modules are imported on first use so that
``import workbench`` stays cheap.
"""
from __future__ import annotations

from .errors import CaptureError, FormatError, UsageError, WorkbenchError

__version__ = "0.1.0"

__all__ = [
    "load", "load_snapshot", "load_profile", "load_metrics",
    "compare", "find_leaks", "growing_collections", "growing_classes", "diagnose", "attach",
    "WorkbenchError", "FormatError", "UsageError", "CaptureError",
]


def load(path, **kw):
    """Load any supported file, choosing the reader from the file's first bytes."""
    from .io import load as _load
    return _load(path, **kw)


def load_snapshot(path, *, quiet: bool = False):
    """Load a V8 ``.heapsnapshot`` / ``.heaptimeline`` (optionally gzipped) as a HeapSnapshot."""
    from .io.heapsnapshot import read_heapsnapshot
    return read_heapsnapshot(path, quiet=quiet)


def load_profile(path, **kw):
    """Load a CPU or allocation profile in any supported format as a Profile."""
    from .profile import load_profile as _lp
    return _lp(path, **kw)


def load_metrics(*paths, **kw):
    """Load metric exports (Prometheus, memoryUsage CSV/JSONL, GC logs, Doctor ...) as Metrics."""
    from .metrics import load_metrics as _lm
    return _lm(*paths, **kw)


def __getattr__(name):
    # Analyses that live in subject packages, resolved lazily.
    if name == "compare":
        from .heap.diff import compare
        return compare
    if name == "find_leaks":
        from .heap.leaks import find_leaks
        return find_leaks
    if name in ("growing_collections", "growing_classes"):
        from .heap import growth
        return getattr(growth, name)
    if name == "diagnose":
        from .metrics.diagnose import diagnose
        return diagnose
    if name == "attach":
        from .capture import attach
        return attach
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
