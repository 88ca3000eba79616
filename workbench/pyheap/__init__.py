"""Python heaps through guppy3, with the V8 side's Summary and Comparison frame shapes.

``take_heap()`` (live, one row per object, optionally relative to a ``mark()``), ``load_hpy(path)``
/ ``read_hpy(path)`` (guppy ``.hpy`` dumps: totals per kind), ``PyHeap.summary()``,
``PyHeap.compare(before)``, ``find_leaks(baseline, target, final)``, and for live objects
``PyHeap.retainers(cls)`` (guppy ``byrcs``) and ``PyHeap.retainer_paths(cls)`` (guppy ``sp``).
Semantics and sources: ``model.py``, ``hpy.py``, ``live.py``, ``analyses.py``.
"""
from __future__ import annotations

from .analyses import compare, find_leaks, summary, write_hpy
from .hpy import load_hpy, read_hpy
from .live import from_idset, mark, retainer_paths, retainers, session, take_heap
from .model import PyHeap

__all__ = ["PyHeap", "take_heap", "from_idset", "mark", "session", "load_hpy", "read_hpy", "summary", "compare",
           "find_leaks", "retainers", "retainer_paths", "write_hpy"]
