"""Python heaps through guppy3, with the V8 side's Summary and Comparison frame shapes.

``take_heap()`` (live, one row per object, optionally relative to a ``mark()``; ``builder.py``),
``PyHeap.summary()``, ``PyHeap.compare(before)``, ``find_leaks(baseline, target, final)``
(``analyses.py``), and for live objects ``PyHeap.retainers(cls)`` (guppy ``byrcs``) and
``PyHeap.retainer_paths(cls or address)`` (guppy ``sp``; ``live.py``). guppy ``.hpy`` dumps load with
``workbench.load_hpy(path)`` (the reader is ``workbench/io/hpy.py``). Semantics: ``model.py``.
"""
from __future__ import annotations

from ._guppy import mark, session
from .analyses import compare, find_leaks, summary, write_hpy
from .builder import from_idset, take_heap
from .live import retainer_paths, retainers
from .model import PyHeap

__all__ = ["PyHeap", "take_heap", "from_idset", "mark", "session", "summary", "compare",
           "find_leaks", "retainers", "retainer_paths", "write_hpy"]
