"""workbench: post-mortems of Node.js services in Jupyter.

Heap snapshots, CPU/allocation profiles and metric exports become polars dataframes, with
DevTools-exact numbers. This module is the public API (everything the README's tour uses): the
doors ``load`` (sniffs the format), ``load_snapshot``, ``load_profile``, ``load_profiles``, ``load_metrics``,
``load_hpy``, ``load_logs``, ``load_traces``; the analyses that take several models (``compare``, ``find_leaks``,
``growing_collections``, ``growing_classes``, ``profile_diff``, ``merge_profiles``, ``diagnose``; the
incident's ``correlate``, ``incident_grid``, ``incident_changes``, ``incident_window``,
``join_logs_traces``, and its chart ``incident_timeline``);
``fleet`` (many instances' files on Dask workers, ``workbench.fleet``); the widgets (``SnapshotComparison``, ``RetainerExplorer``, ``FlameGraph``, ``timeline_widget``) and
the metrics charts; ``attach`` for live capture; ``html_text``, ``md_code`` and ``md_text`` to put
text from files into HTML or Markdown safely. Everything else hangs off the models' methods
(``snap.summary()``, ``prof.flame()``, ``m.leak_trend()``). Names are resolved on first use so that
``import workbench`` stays cheap.
"""
from __future__ import annotations

from ._markup import html_text, human_bytes, human_ms, md_code, md_text
from ._version import __version__
from .errors import CaptureError, FormatError, UsageError, WorkbenchError
from .io import load, load_hpy, load_logs, load_metrics, load_profile, load_profiles, load_snapshot, load_traces

# name -> the attribute's name in its module (the modules are imported on first use, in __getattr__)
_LAZY = {
    "compare": "compare", "growing_collections": "growing_collections", "growing_classes": "growing_classes",
    "profile_diff": "diff", "merge_profiles": "merge", "diagnose": "diagnose", "attach": "attach",
    "SnapshotComparison": "SnapshotComparison", "RetainerExplorer": "RetainerExplorer", "FlameGraph": "FlameGraph",
    "timeline_widget": "timeline_widget", "timeline": "timeline", "memory_chart": "memory_chart",
    "event_loop_chart": "event_loop_chart", "gc_chart": "gc_chart",
    "correlate": "correlate", "incident_grid": "grid", "incident_changes": "changes",
    "incident_window": "incident_window", "join_logs_traces": "join_logs_traces",
    "incident_timeline": "incident_timeline",
    "fleet": None,   # the subpackage itself (workbench.fleet: summarize a fleet on Dask)
}

__all__ = ["__version__", "html_text", "md_code", "md_text", "human_bytes", "human_ms", "load", "load_snapshot", "load_profile", "load_profiles", "load_metrics", "load_hpy", "load_logs", "load_traces", "find_leaks",
           *_LAZY, "WorkbenchError", "FormatError", "UsageError", "CaptureError"]


def find_leaks(*snapshots, **kw):
    """memlab's three-snapshot leak hunt (``workbench.heap.leaks.find_leaks``): baseline, target,
    final, or more snapshots with growth checked in every window after target. They may be
    HeapSnapshots or paths (loaded quietly unless ``quiet=False``)."""
    from .heap.leaks import find_leaks as _find_leaks
    quiet = kw.get("quiet", True)
    snaps = [s if hasattr(s, "node_count") else load_snapshot(s, quiet=quiet) for s in snapshots]
    return _find_leaks(*snaps, **kw)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    if name == "fleet":   # (``from . import fleet`` would ask this __getattr__ again)
        import importlib
        return importlib.import_module(f"{__name__}.fleet")
    if name == "compare":
        from .heap import diff as module
    elif name.startswith("growing_"):
        from .heap import growth as module
    elif name == "profile_diff":
        from .profile import diff as module
    elif name == "merge_profiles":
        from .profile import calltree as module
    elif name == "diagnose":
        from .metrics import diagnose as module
    elif name == "attach":
        from . import capture as module
    elif name in ("SnapshotComparison", "RetainerExplorer"):
        from .widgets import heap as module
    elif name == "FlameGraph":
        from .widgets import flame as module
    elif name == "timeline_widget":
        from .widgets import metrics as module
    elif name == "correlate":
        from .incident import correlate as module
    elif name in ("incident_grid", "incident_changes", "incident_window"):
        from .incident import timeline as module
    elif name == "join_logs_traces":
        from .incident import join as module
    elif name == "incident_timeline":
        from .charts import incident as module
    else:
        from .charts import metrics as module
    return getattr(module, _LAZY[name])


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
