"""Taking guppy3 heaps of the current process as PyHeap models (the Python side's reader).

guppy3 (research note B1; guppy/heapy/Use.py, View.py, Part.py):

- ``hpy().heap()`` is the set of objects reachable from guppy's root and visible (heapy hides its
  own objects), after ``gc.collect()``; after ``hpy().setref()`` it holds only objects allocated
  since that mark (``mark()``; ``take_heap(relative=...)`` tells the model which it is).
- We classify the set once with guppy's ``Size & Clodo`` classifier (C code), so each object gets
  guppy's individual size and its Clodo kind, rendered as guppy's Stat rows render it
  (``classifier.get_tabrendering``); addresses are ``id()``. The heap's IdentitySet is dropped before
  returning: a model that held it would keep every object alive and hide every leak.
"""
from __future__ import annotations

import time
import weakref

import numpy as np

from ..errors import UsageError
from ._guppy import is_marked, session
from .model import PyHeap

_HEAPS: "weakref.WeakSet[PyHeap]" = weakref.WeakSet()


def _own_ids() -> np.ndarray:
    """Addresses of workbench's own bookkeeping (earlier live PyHeaps: the model, its dict, lists,
    kind names and arrays), hidden like guppy hides its own objects."""
    own = []
    for h in list(_HEAPS):
        objs = [h, getattr(h, "__dict__", None), h.kinds, h.counts, h.sizes, h.ids, h.kind_of, h.obj_sizes]
        own.extend(id(o) for o in objs if o is not None)
        own.extend(map(id, h.kinds))
    return np.asarray(own, dtype=np.uint64)


def take_heap(hp=None, *, relative: bool | None = None, label: str | None = None) -> PyHeap:
    """A per-object PyHeap of the current process from guppy3's ``heap()``.

    ``relative=None`` follows the session: relative to its ``mark()`` if one was set. With
    ``relative=False`` on a marked session, a fresh unmarked session is used."""
    from guppy import hpy

    hp = hp or session()
    marked = is_marked(hp)
    if relative is None:
        relative = marked
    if relative and not marked:
        raise UsageError("relative=True needs a mark(): call workbench.pyheap.mark() first")
    src = hp if relative == marked else hpy()
    return from_idset(src.heap(), src, relative=bool(relative), label=label)


def from_idset(x, hp=None, *, relative: bool = False, label: str | None = None) -> PyHeap:
    """A per-object PyHeap from a guppy IdentitySet you already hold (e.g. ``hp.heap()``, or
    ``hp.heap() & hp.Type(dict)``). Workbench's own earlier PyHeaps are left out."""
    src = hp or session()
    when = time.time()
    clodo = src.Clodo.classifier
    names: dict[str, int] = {}
    ids, kinds, sizes = [], [], []
    for kind, part in (src.Size & src.Clodo).classifier.partition(x.nodes):
        size_kind, clodo_kind = kind.arg
        k = names.setdefault(clodo.get_tabrendering(clodo_kind, ""), len(names))
        a = np.fromiter(map(id, part.nodes), dtype=np.uint64)
        ids.append(a)
        kinds.append(np.full(len(a), k, dtype=np.int32))
        sizes.append(np.full(len(a), int(size_kind.arg), dtype=np.int64))
    del x
    ids_a = np.concatenate(ids) if ids else np.zeros(0, np.uint64)
    kind_a = np.concatenate(kinds) if kinds else np.zeros(0, np.int32)
    size_a = np.concatenate(sizes) if sizes else np.zeros(0, np.int64)
    own = _own_ids()
    if own.size:
        keep = ~np.isin(ids_a, own)
        ids_a, kind_a, size_a = ids_a[keep], kind_a[keep], size_a[keep]
    counts = np.bincount(kind_a, minlength=len(names)).astype(np.int64)
    totals = np.bincount(kind_a, weights=size_a, minlength=len(names)).astype(np.int64)
    h = PyHeap(kinds=list(names), counts=counts, sizes=totals, timemade=when, format="live",
                  by="Kind (class / dict of class)", source=label or f"live heap {time.strftime('%H:%M:%S')}",
                  ids=ids_a, kind_of=kind_a, obj_sizes=size_a, relative=bool(relative))
    _HEAPS.add(h)
    return h
