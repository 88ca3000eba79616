"""The PyHeap model: a Python heap from guppy3 as per-kind totals, plus per-object arrays when it was
taken from the live process, with the same Summary and Comparison frame shapes as V8 heaps.

Kinds are guppy3's default partition, Clodo ("class / dict of class": ``leaky.Record``,
``dict of leaky.Record``, ``str``), as ``x.byclodo`` / ``x.stat`` show it; sizes are guppy's
individual sizes (``indisize``; ``self_size`` here, DevTools' Shallow Size). Kinds that render to
the same text (e.g. the many ctypes classes named ``CFunctionType``) are merged into one row.

- ``summary()``: class, class_key, count, distance, self_size, retained_size, sorted by self_size.
  ``class_key`` equals ``class`` (Python classes have no script location); ``distance`` and
  ``retained_size`` are null: guppy's dump has neither, and a per-kind dominated size (``domisize``)
  of a whole heap is too slow to compute by default.
- ``compare(before)``: DevTools' Comparison shape: class, class_key (= class), new_count, deleted_count, delta_count,
  alloc_size, freed_size, size_delta. With per-object data on both sides (two live heaps of one
  process) an object is identified by (address, kind): ``new`` = in this heap only, ``deleted`` =
  in ``before`` only, ``alloc_size``/``freed_size`` their sizes. ``size_delta`` is the change of
  the kind's total size (this - before), which also counts survivors that grew in place (a list
  that was appended to), so it can differ from ``alloc_size - freed_size``. CPython reuses freed
  addresses, so an object freed and replaced by a same-kind object at the same address counts as
  a survivor (both counts miss it; the deltas stay exact). When either side has totals only
  (``.hpy`` dumps), new/deleted/alloc/freed are null and the deltas come from the totals.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from .._notes import notes_frame
from ..errors import UsageError



class PyHeap:
    """A Python heap (guppy3). Make one with ``workbench.pyheap.take_heap()`` (live, per object)
    or ``workbench.load_hpy(path)`` (a guppy ``.hpy`` dump, per kind).

    It offers the V8 side's comparison vocabulary (``compare``, ``comparison_objects``,
    ``retainer_paths`` of one object), so the heap widgets work on both kinds of heap."""

    runtime = "python"   # HeapSnapshot: "v8"

    def __init__(self, *, kinds, counts, sizes, timemade: float, format: str, by: str, source: str,
                 ids=None, kind_of=None, obj_sizes=None, b_count=None, b_size=None, relative: bool = False):
        self.kinds: list[str] = list(kinds)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.timemade = float(timemade)
        self.format = format
        self.by = by
        self.source = source
        self.ids = ids
        self.kind_of = kind_of
        self.obj_sizes = obj_sizes
        self.b_count = b_count
        self.b_size = b_size
        self.relative = relative

    @property
    def has_objects(self) -> bool:
        return self.ids is not None

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    @property
    def size(self) -> int:
        return int(self.sizes.sum())

    def __repr__(self) -> str:
        what = "objects" if self.has_objects else f"{self.format} totals"
        rel = ", relative to a mark" if self.relative else ""
        return f"<PyHeap {self.source}: {self.count:,} objects, {self.size:,} bytes, {len(self.kinds)} kinds ({what}{rel})>"

    # ------------------------------------------------------------------ frames
    @property
    def nodes(self) -> pl.DataFrame:
        """One row per object (live heaps): id (address), class, self_size."""
        if not self.has_objects:
            raise UsageError(f"{self.source}: a {self.format} dump holds totals per kind, not objects")
        return pl.DataFrame({"id": self.ids, "class": pl.Series(self.kinds, dtype=pl.Utf8)[self.kind_of],
                             "self_size": self.obj_sizes})

    def summary(self, *, top: int | None = None) -> pl.DataFrame:
        """DevTools' Summary shape: class, class_key, count, distance, self_size, retained_size
        (distance and retained_size null), largest self_size first."""
        from .analyses import summary
        return summary(self, top=top)

    def compare(self, before: "PyHeap") -> pl.DataFrame:
        """DevTools' Comparison of this heap against ``before``: class, new_count, deleted_count,
        delta_count, alloc_size, freed_size, size_delta; largest |size_delta| first."""
        from .analyses import compare
        return compare(before, self)

    def to_hpy(self, path, mode: str = "w") -> None:
        """Write this heap's totals as a guppy3 SetFormat package (``h.load(path)`` reads it)."""
        from .analyses import write_hpy
        write_hpy(self, path, mode=mode)

    def retainers(self, cls: str, *, new_since: "PyHeap | None" = None, session=None) -> pl.DataFrame:
        """Who holds the live objects of class ``cls`` (guppy's ``byrcs``, referrer kinds): frame
        referrers, count, self_size. Live heaps only; the objects must still be alive."""
        from .live import retainers
        return retainers(self, cls, new_since=new_since, session=session)

    def retainer_paths(self, target, k: int | None = None, *, n: int = 5, new_since: "PyHeap | None" = None,
                       session=None, object_id: int | None = None) -> pl.DataFrame:
        """Shortest retainer paths from guppy's root (``x.sp``) to the objects of class ``target``
        (a str), or to the one object at address ``target`` (an int, as ``HeapSnapshot.retainer_paths``
        takes a node id; or ``object_id``); ``k`` (or ``n``) paths. One row per step: path, step,
        class, name (= class), edge, self_size, text."""
        from .live import retainer_paths
        return retainer_paths(self, target, n=n if k is None else k, new_since=new_since, session=session,
                              object_id=object_id)

    def new_objects(self, before: "PyHeap", cls: str) -> pl.DataFrame:
        """Objects of class ``cls`` in this heap and not in ``before`` (by address and kind):
        id, class, self_size, largest first. Live heaps only."""
        from .analyses import new_objects
        return new_objects(before, self, cls)

    def comparison_objects(self, before: "PyHeap", class_key: str | None = None, which: str = "new") -> pl.DataFrame:
        """The objects behind Comparison rows, in ``HeapSnapshot.comparison_objects``' columns
        (node_id = address; retained_size and distance null: guppy has neither)."""
        from .analyses import comparison_objects
        return comparison_objects(before, self, class_key, which)

    @property
    def notes(self) -> pl.DataFrame:
        """Lossy steps of the reader (``workbench._notes``): none for guppy heaps and dumps."""
        return notes_frame()
