"""workbench: post-mortems of Node.js services in Jupyter.

Heap snapshots, CPU/allocation profiles and metric exports become polars dataframes, with
DevTools-exact numbers. This module is the public API (everything the README's tour uses): the
doors ``load`` (sniffs the format), ``load_snapshot``, ``load_profile``, ``load_metrics``,
``load_hpy``; the analyses that take several models (``compare``, ``find_leaks``,
``growing_collections``, ``growing_classes``, ``profile_diff``, ``merge_profiles``, ``diagnose``);
the widgets (``SnapshotComparison``, ``RetainerExplorer``, ``FlameGraph``, ``timeline_widget``) and
the metrics charts; ``attach`` for live capture. Everything else hangs off the models' methods
(``snap.summary()``, ``prof.flame()``, ``m.leak_trend()``). Names are resolved on first use so that
``import workbench`` stays cheap.
"""
from __future__ import annotations

from ._version import __version__
from .errors import CaptureError, FormatError, UsageError, WorkbenchError
from .io import load, load_hpy, load_metrics, load_profile, load_snapshot

# name -> (module, attribute), imported on first use
_LAZY = {
    "compare": ("workbench.heap.diff", "compare"),
    "growing_collections": ("workbench.heap.growth", "growing_collections"),
    "growing_classes": ("workbench.heap.growth", "growing_classes"),
    "profile_diff": ("workbench.profile.diff", "diff"),
    "merge_profiles": ("workbench.profile.calltree", "merge"),
    "diagnose": ("workbench.metrics.diagnose", "diagnose"),
    "attach": ("workbench.capture", "attach"),
    "SnapshotComparison": ("workbench.widgets.heap", "SnapshotComparison"),
    "RetainerExplorer": ("workbench.widgets.heap", "RetainerExplorer"),
    "FlameGraph": ("workbench.widgets.flame", "FlameGraph"),
    "timeline_widget": ("workbench.widgets.metrics", "timeline_widget"),
    "timeline": ("workbench.charts.metrics", "timeline"),
    "memory_chart": ("workbench.charts.metrics", "memory_chart"),
    "event_loop_chart": ("workbench.charts.metrics", "event_loop_chart"),
    "gc_chart": ("workbench.charts.metrics", "gc_chart"),
}

__all__ = ["__version__", "load", "load_snapshot", "load_profile", "load_metrics", "load_hpy", "find_leaks",
           *_LAZY, "WorkbenchError", "FormatError", "UsageError", "CaptureError"]


def find_leaks(baseline, target, final, **kw):
    """memlab's three-snapshot leak hunt (``workbench.heap.leaks.find_leaks``); the snapshots may be
    HeapSnapshots or paths (loaded quietly unless ``quiet=False``)."""
    from .heap.leaks import find_leaks as _find_leaks
    quiet = kw.get("quiet", True)
    snaps = [s if hasattr(s, "node_count") else load_snapshot(s, quiet=quiet) for s in (baseline, target, final)]
    return _find_leaks(*snaps, **kw)


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
