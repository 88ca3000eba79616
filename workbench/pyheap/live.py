"""Taking guppy3 heaps of the current process, and retainers/paths of its live objects.

guppy3 (research note B1; guppy/heapy/Use.py, View.py, Part.py, Path.py):

- ``hpy().heap()`` is the set of objects reachable from guppy's root and visible (heapy hides its
  own objects), after ``gc.collect()``; after ``hpy().setref()`` it holds only objects allocated
  since that mark (``mark()`` here; ``take_heap(relative=...)`` tells the model which it is).
- We classify the set once with guppy's ``Size & Clodo`` classifier (C code), so each object gets
  guppy's individual size and its Clodo kind, rendered as guppy's Stat rows render it
  (``classifier.get_tabrendering``); addresses are ``id()``. The heap's IdentitySet is dropped before
  returning: a model that held it would keep every object alive and hide every leak.
- Retainers: ``x.byrcs`` (objects partitioned by the kinds of their referrers) and shortest paths
  ``x.sp`` (``ShortestPaths``; each ``Path`` alternates singleton sets and relations; ``stra()``
  spells it like ``%s.i0_modules['leaky'].__dict__['_records'][0]`` with ``%s`` = ``h.Root``).
  They need the objects alive, so they run on the current heap, restricted to the objects of the
  given class that the model saw (optionally only those new since another heap).
"""
from __future__ import annotations

import time
import weakref

import numpy as np
import polars as pl

from ..errors import UsageError
from .model import PyHeap

_SESSION = None
_MARKED: dict[int, object] = {}  # id(session) -> session: guppy sessions refuse new attributes
_HEAPS: "weakref.WeakSet[PyHeap]" = weakref.WeakSet()


def _is_marked(hp) -> bool:
    return _MARKED.get(id(hp)) is hp


def _own_ids() -> np.ndarray:
    """Addresses of workbench's own bookkeeping (earlier live PyHeaps: the model, its dict, lists,
    kind names and arrays), hidden like guppy hides its own objects."""
    own = []
    for h in list(_HEAPS):
        objs = [h, getattr(h, "__dict__", None), h.kinds, h.counts, h.sizes, h.ids, h.kind_of, h.obj_sizes]
        own.extend(id(o) for o in objs if o is not None)
        own.extend(map(id, h.kinds))
    return np.asarray(own, dtype=np.uint64)


def session():
    """The shared guppy3 session (``guppy.hpy()``) used when none is given."""
    global _SESSION
    if _SESSION is None:
        from guppy import hpy
        _SESSION = hpy()
    return _SESSION


def mark(hp=None) -> None:
    """guppy's ``setref()``: later ``take_heap(hp, relative=True)`` sees only newer objects."""
    hp = hp or session()
    hp.setref()
    _MARKED[id(hp)] = hp


def take_heap(hp=None, *, relative: bool | None = None, label: str | None = None) -> PyHeap:
    """A per-object PyHeap of the current process from guppy3's ``heap()``.

    ``relative=None`` follows the session: relative to its ``mark()`` if one was set. With
    ``relative=False`` on a marked session, a fresh unmarked session is used."""
    from guppy import hpy

    hp = hp or session()
    marked = _is_marked(hp)
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


# ---------------------------------------------------------------------------- retainers
def _live_set(h: PyHeap, cls: str, new_since: PyHeap | None, hp, only_id: int | None = None):
    """guppy IdentitySet of the still-alive objects of kind ``cls`` that ``h`` recorded (just the
    object at address ``only_id`` when given)."""
    if not h.has_objects:
        raise UsageError(f"{h.source}: retainers need a live heap (take_heap), not a {h.format} dump")
    if cls not in h.kinds:
        raise UsageError(f"{h.source}: no objects of class {cls!r}")
    k = h.kinds.index(cls)
    want = h.ids[h.kind_of == k]
    if new_since is not None:
        if not new_since.has_objects:
            raise UsageError("new_since needs a live heap")
        if cls in new_since.kinds:
            old = new_since.ids[new_since.kind_of == new_since.kinds.index(cls)]
            want = np.setdiff1d(want, old, assume_unique=False)
    if only_id is not None:
        if int(only_id) not in set(want.tolist()):
            raise UsageError(f"{h.source}: no recorded {cls!r} object at address {only_id}")
        want = np.array([int(only_id)])
    wanted = set(want.tolist())
    cur = hp.heap()
    clodo = hp.Clodo.classifier
    objs = []
    for kind, part in clodo.partition(cur.nodes):  # same-text kinds are separate: take all of them
        if clodo.get_tabrendering(kind, "") == cls:
            objs.extend(o for o in part.nodes if id(o) in wanted)
    del cur
    if not objs:
        raise UsageError(f"none of the {len(wanted)} recorded {cls!r} objects is alive any more")
    return hp.idset(objs)


def _retainer_session(hp):
    # Paths must start at the full heap's root, so use an unmarked session.
    from guppy import hpy
    if hp is not None and not _is_marked(hp):
        return hp
    return hpy()


def _kind_name(hp, s) -> str:
    clodo = hp.Clodo.classifier
    kind, _ = next(iter(clodo.partition(s.nodes)))
    return clodo.get_tabrendering(kind, "")


def retainers(h: PyHeap, cls: str, *, new_since: PyHeap | None = None, session=None) -> pl.DataFrame:
    """guppy ``byrcs`` of the objects: referrers (kinds of the referrers, guppy's rendering),
    count, self_size of the referred objects in that group; largest first."""
    hp = _retainer_session(session)
    s = _live_set(h, cls, new_since, hp)
    rows = [(r.name, r.count, r.size) for r in s.byrcs.stat.get_rows()]
    del s
    return pl.DataFrame(rows, schema={"referrers": pl.Utf8, "count": pl.Int64, "self_size": pl.Int64},
                        orient="row")


def retainer_paths(h: PyHeap, cls: str, *, n: int = 5, new_since: PyHeap | None = None,
                   session=None, object_id: int | None = None) -> pl.DataFrame:
    """The first ``n`` shortest paths (guppy ``sp``) from the root to the objects (or to the one
    object at address ``object_id``), one row per step: path, step, class, edge (guppy's relation
    text, e.g. ``['_records']``, ``.__dict__``), self_size, text (the whole path as guppy prints it)."""
    hp = _retainer_session(session)
    s = _live_set(h, cls, new_since, hp, object_id)
    rows = []
    for i, p in enumerate(s.sp.iter(stop=n)):
        text = p.stra().replace("%s", p.srcname, 1)
        edge = ""
        step = 0
        for el in p.path:
            if hasattr(el, "stra"):
                edge = el.stra("")
                continue
            name = _kind_name(hp, el)
            rows.append((i, step, name, edge, int(el.size), text))
            step += 1
            edge = ""
    del s
    return pl.DataFrame(rows, schema={"path": pl.Int64, "step": pl.Int64, "class": pl.Utf8, "edge": pl.Utf8,
                                      "self_size": pl.Int64, "text": pl.Utf8}, orient="row")
