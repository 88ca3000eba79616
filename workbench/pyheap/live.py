"""Retainers and retainer paths of live Python objects (guppy3), for PyHeaps taken in this process.

guppy3 (research note B1; guppy/heapy/Path.py): ``x.byrcs`` (objects partitioned by the kinds of
their referrers) and shortest paths ``x.sp`` (``ShortestPaths``; each ``Path`` alternates singleton
sets and relations; ``stra()`` spells it like ``%s.i0_modules['leaky'].__dict__['_records'][0]``
with ``%s`` = ``h.Root``). They need the objects alive, so they run on the current heap, restricted
to the objects of the given class that the model saw (optionally only those new since another heap).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..errors import UsageError
from ._guppy import is_marked

if TYPE_CHECKING:
    from .model import PyHeap


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
    if hp is not None and not is_marked(hp):
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


def _class_at(h: PyHeap, address: int) -> str:
    if not h.has_objects:
        raise UsageError(f"{h.source}: retainers need a live heap (take_heap), not a {h.format} dump")
    hit = np.nonzero(h.ids == np.uint64(address))[0]
    if not len(hit):
        raise UsageError(f"{h.source}: no recorded object at address {address}")
    return h.kinds[int(h.kind_of[hit[0]])]


def retainer_paths(h: PyHeap, target, *, n: int = 5, new_since: PyHeap | None = None,
                   session=None, object_id: int | None = None) -> pl.DataFrame:
    """The first ``n`` shortest paths (guppy ``sp``) from the root to the objects of class ``target``
    (a str) or to the one object at address ``target`` (an int; or ``object_id``), one row per step:
    path, step, class, name (= class, the column the V8 side fills with the node's name), edge
    (guppy's relation text, e.g. ``['_records']``, ``.__dict__``), self_size, text (the whole path as
    guppy prints it)."""
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        object_id, cls = int(target), _class_at(h, int(target))
    else:
        cls = target
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
    df = pl.DataFrame(rows, schema={"path": pl.Int64, "step": pl.Int64, "class": pl.Utf8, "edge": pl.Utf8,
                                    "self_size": pl.Int64, "text": pl.Utf8}, orient="row")
    return df.with_columns(name=pl.col("class")).select("path", "step", "class", "name", "edge", "self_size", "text")
