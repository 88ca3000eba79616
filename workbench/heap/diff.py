"""DevTools' Comparison view between two snapshots of one process, the objects behind its rows,
and the "Objects allocated between snapshots" filter.

Comparison semantics are those of heap-snapshot-toolkit@1.1.3 ``diff(start, end)`` (DevTools'
``aggregatesForDiff`` + ``calculateSnapshotDiff`` + ``calculateDiffForClass``):
- each snapshot's objects with a non-zero shallow size are grouped by DevTools class key (the
  Summary's keys: ``,ClassName`` or ``script,line,column,ClassName``). The toolkit computes the
  start snapshot's aggregates with the start snapshot's *own* interface definitions (it passes
  ``startSnapshot.interfaceDefinitions()`` to ``startSnapshot.aggregatesForDiff``), so each side
  keeps its own plain-object names; we do the same (the research note's "the current snapshot's
  definitions are applied to the base" is what the DevTools UI does, not the toolkit).
- when two internal keys give the same public key, the one inserted last wins (as in the Summary).
- within a class key, objects are matched by node id: ids only in ``before`` are Deleted (Freed
  Size = their shallow sizes), ids only in ``after`` are New (Alloc. Size); a class appears when
  it has a new or a deleted object. ``delta_count = new - deleted``, ``size_delta = alloc - freed``.
- node ids are only comparable within one V8 heap-profiler session (one process). Two snapshots
  from different processes share small ids by chance but not the objects behind them; when the
  objects with shared ids mostly differ in type or name we raise ``UsageError`` instead of
  printing a meaningless diff.

"Allocated between" (DevTools' ``createNodeIdFilter``): objects of a snapshot whose id is in
``(start.max_js_object_id, end.max_js_object_id]``; as a frame and as a Summary.
"""
from __future__ import annotations

import weakref

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _kernels as K
from .summary import aggregate, class_keys

COMPARISON_COLUMNS = ["class", "new_count", "deleted_count", "delta_count", "alloc_size", "freed_size",
                      "size_delta"]
SAME_PROCESS_MIN_MATCH = 0.9
_SAMPLE = 20000


# ---------------------------------------------------------------------------------- members
def diff_members(snap):
    """(ordinals, public_key_per_member, names_by_public_key): the objects DevTools puts in the
    Comparison for one snapshot, i.e. the Summary members of the winning internal class keys."""
    cache = snap.__dict__.setdefault("_issue3_cache", {})
    if "diff_members" in cache:
        return cache["diff_members"]
    key, public, names = class_keys(snap)
    sizes = snap.self_sizes
    member = sizes != 0
    count, _, _, first = K.group_stats(key, member, sizes, snap.distances, len(public))
    winner: dict[str, int] = {}
    for k in np.flatnonzero(count > 0).tolist():
        p = public[k]
        if p not in winner or first[k] > first[winner[p]]:
            winner[p] = k
    keep_key = np.zeros(len(public), dtype=np.bool_)
    keep_key[list(winner.values())] = True
    ords = np.flatnonzero(member & keep_key[key])
    out = (ords, key[ords], public, names)
    cache["diff_members"] = out
    return out


def _id_join(before, after):
    """Per node of ``after``, the node of ``before`` with the same id (-1 if none); None when an
    id repeats within a snapshot (V8 never writes that; hand-made files may)."""
    match, dup = K.join_ids(after.ids, after._id_order, before.ids, before._id_order)
    return None if dup else match


def check_same_process(before, after, match=None) -> None:
    """Raise UsageError unless the two snapshots come from one process (see module doc)."""
    if match is not None:
        # the pairs of common ids in id order, as np.intersect1d gives them (a sort of both id
        # arrays together took seconds on snapshots of millions of nodes)
        ib = after._id_order[match[after._id_order] >= 0]
        ia = match[ib]
        odd = (after.ids[ib] & 1) == 1
    else:
        common, ia, ib = np.intersect1d(before.ids, after.ids, assume_unique=False, return_indices=True)
        odd = (common & 1) == 1
    ia, ib = ia[odd], ib[odd]
    where = f"{before.path} vs {after.path}"
    if ia.size == 0:
        raise UsageError(f"{where}: the snapshots share no object ids, so they were not taken from "
                         "the same process; a comparison needs two snapshots of one process")
    if ia.size > _SAMPLE:
        pick = np.linspace(0, ia.size - 1, _SAMPLE).astype(np.int64)
        ia, ib = ia[pick], ib[pick]
    ta = np.asarray(before.node_types, dtype=object)[before._ntype[ia]]
    tb = np.asarray(after.node_types, dtype=object)[after._ntype[ib]]
    na = before.strings.get_many(before._name[ia])
    nb = after.strings.get_many(after._name[ib])
    same = (ta == tb) & np.fromiter((x == y for x, y in zip(na, nb)), dtype=np.bool_, count=len(na))
    share = float(same.mean())
    if share < SAME_PROCESS_MIN_MATCH:
        raise UsageError(
            f"{where}: these snapshots are not from the same process: only {share:.0%} of the objects "
            "with a shared id have the same type and name (V8 object ids are only comparable within "
            "one process); a comparison needs two snapshots of one process")


class _Pair:
    """The id join of two snapshots' Comparison members, computed once per pair."""

    def __init__(self, before, after):
        match = _id_join(before, after)
        check_same_process(before, after, match)
        ob, kb, pub_b, names_b = diff_members(before)
        oa, ka, pub_a, names_a = diff_members(after)
        gid: dict[str, int] = {}
        gname: list[str] = []
        # names: the 'after' side's name wins when a class exists on both sides (DevTools)
        for pub, names in ((pub_a, names_a), (pub_b, names_b)):
            for p, nm in zip(pub, names):
                if p not in gid:
                    gid[p] = len(gname)
                    gname.append(nm)
        map_b = np.array([gid[p] for p in pub_b], dtype=np.int64)
        map_a = np.array([gid[p] for p in pub_a], dtype=np.int64)
        gb, ga = map_b[kb], map_a[ka]
        if match is not None:
            # an object is new unless 'before' has a member with its id in the same class (ids
            # are unique within a snapshot, so the id join finds the only candidate)
            g_of_b = np.full(before.node_count, -1, dtype=np.int64)
            g_of_b[ob] = gb
            g_of_a = np.full(after.node_count, -1, dtype=np.int64)
            g_of_a[oa] = ga
            rev = np.full(before.node_count, -1, dtype=np.int64)
            hit = np.flatnonzero(match >= 0)
            rev[match[hit]] = hit
            mb, ma = match[oa], rev[ob]
            new = (mb < 0) | (g_of_b[np.maximum(mb, 0)] != ga)
            deleted = (ma < 0) | (g_of_a[np.maximum(ma, 0)] != gb)
        else:
            pb = (gb << 33) | before.ids[ob].astype(np.int64)
            pa = (ga << 33) | after.ids[oa].astype(np.int64)
            new = ~np.isin(pa, pb)
            deleted = ~np.isin(pb, pa)
        self.before, self.after = weakref.ref(before), weakref.ref(after)
        self.keys = list(gid)
        self.names = gname
        self.new_ords, self.new_keys = oa[new], ga[new]
        self.del_ords, self.del_keys = ob[deleted], gb[deleted]

    def table(self) -> pl.DataFrame:
        before, after = self.before(), self.after()
        nk = len(self.keys)
        new_count = np.bincount(self.new_keys, minlength=nk)
        del_count = np.bincount(self.del_keys, minlength=nk)
        alloc = np.zeros(nk, dtype=np.int64)
        np.add.at(alloc, self.new_keys, after.self_sizes[self.new_ords])
        freed = np.zeros(nk, dtype=np.int64)
        np.add.at(freed, self.del_keys, before.self_sizes[self.del_ords])
        rows = np.flatnonzero((new_count > 0) | (del_count > 0))
        df = pl.DataFrame({
            "class": [self.names[i] for i in rows.tolist()],
            "class_key": [self.keys[i] for i in rows.tolist()],
            "new_count": new_count[rows].astype(np.int64),
            "deleted_count": del_count[rows].astype(np.int64),
            "delta_count": (new_count[rows] - del_count[rows]).astype(np.int64),
            "alloc_size": alloc[rows],
            "freed_size": freed[rows],
            "size_delta": alloc[rows] - freed[rows],
        }, schema_overrides={"class": pl.String, "class_key": pl.String})
        return df.sort(["size_delta", "delta_count", "class_key"], descending=[True, True, False])

    def objects(self, class_key: str | None = None, which: str = "new") -> pl.DataFrame:
        if which not in ("new", "deleted", "both"):
            raise UsageError(f"which must be 'new', 'deleted' or 'both', not {which!r}")
        parts = []
        for side in (("new", "deleted") if which == "both" else (which,)):
            snap = self.after() if side == "new" else self.before()
            ords, keys = (self.new_ords, self.new_keys) if side == "new" else (self.del_ords, self.del_keys)
            if class_key is not None:
                try:
                    g = self.keys.index(class_key)
                except ValueError:
                    g = -1
                sel = keys == g
                if g < 0:
                    # a class name instead of a key: every key with that name
                    gs = [i for i, nm in enumerate(self.names) if nm == class_key]
                    sel = np.isin(keys, gs)
                ords, keys = ords[sel], keys[sel]
            parts.append(object_frame(snap, ords).with_columns(
                status=pl.lit(side), class_key=pl.Series([self.keys[i] for i in keys.tolist()], dtype=pl.String)))
        df = pl.concat(parts) if parts else object_frame(self.after(), np.empty(0, np.int64))
        return df.sort(["retained_size", "node_id"], descending=[True, False])


def object_frame(snap, ords: np.ndarray) -> pl.DataFrame:
    """id, class, name, self_size, retained_size, distance of the given ordinals."""
    ords = np.asarray(ords, dtype=np.int64)
    ci = snap.class_index[ords]
    uniq, inv = np.unique(ci, return_inverse=True)
    cls = pl.Series(snap.strings.get_many(uniq), dtype=pl.String)
    nm_idx = snap.node_names[ords]
    nuniq, ninv = np.unique(nm_idx, return_inverse=True)
    names = pl.Series([s[:200] for s in snap.strings.get_many(nuniq)], dtype=pl.String)
    return pl.DataFrame({
        "node_id": snap.ids[ords].astype(np.int64),
        "class": cls.gather(inv.reshape(-1)) if ords.size else pl.Series([], dtype=pl.String),
        "name": names.gather(ninv.reshape(-1)) if ords.size else pl.Series([], dtype=pl.String),
        "self_size": snap.self_sizes[ords].astype(np.int64),
        "retained_size": snap.retained_sizes[ords].astype(np.int64),
        "distance": snap.distances[ords].astype(np.int64),
    })


def _pair(before, after) -> _Pair:
    cache = after.__dict__.setdefault("_issue3_pairs", weakref.WeakKeyDictionary())
    p = cache.get(before)
    if p is None:
        p = _Pair(before, after)
        cache[before] = p
    return p


# ---------------------------------------------------------------------------------- API
def compare(before, after) -> pl.DataFrame:
    """DevTools' Comparison of ``after`` against ``before``: class, class_key, new_count,
    deleted_count, delta_count, alloc_size, freed_size, size_delta (bytes are shallow sizes);
    by size_delta descending."""
    return _pair(before, after).table()


def comparison_objects(before, after, class_key: str | None = None, which: str = "new") -> pl.DataFrame:
    """The objects behind Comparison rows: ``which`` = 'new' (objects of ``after``), 'deleted'
    (objects of ``before``) or 'both'; ``class_key`` a class key or class name (all rows when
    None). Columns node_id, class, name, self_size, retained_size, distance (in the snapshot
    the object lives in), status, class_key; by retained size."""
    return _pair(before, after).objects(class_key, which)


def allocated_between_mask(snap, start, end=None) -> np.ndarray:
    """Objects of ``snap`` with start.max_js_object_id < id <= end.max_js_object_id (``end``
    defaults to ``snap``); start/end may be snapshots or ids."""
    lo = start if isinstance(start, (int, np.integer)) else start.max_js_object_id
    end = snap if end is None else end
    hi = end if isinstance(end, (int, np.integer)) else end.max_js_object_id
    ids = snap.ids.astype(np.int64)
    return (ids > int(lo)) & (ids <= int(hi))


def allocated_between(snap, start, end=None) -> pl.DataFrame:
    """The objects of ``snap`` allocated between snapshots ``start`` and ``end`` (DevTools'
    id-range filter), one row per object, by retained size."""
    mask = allocated_between_mask(snap, start, end)
    return object_frame(snap, np.flatnonzero(mask)).sort(["retained_size", "node_id"], descending=[True, False])


def allocated_between_summary(snap, start, end=None) -> pl.DataFrame:
    """The Summary (class, class_key, count, distance, self_size, retained_size) restricted to
    objects allocated between ``start`` and ``end``, as DevTools shows it with that filter."""
    mask = allocated_between_mask(snap, start, end)
    return aggregate(snap, include=mask).sort(["retained_size", "self_size", "class"],
                                              descending=[True, True, False])
