"""DevTools' Summary and Statistics views as frames and dicts.

Summary (HeapSnapshot.buildAggregates + calculateClassesRetainedSize, heap-snapshot-toolkit@1.1.3):
objects with a non-zero shallow size are grouped by class key: the class name, or for 'object'
nodes with a constructor location ``"script_id,line,column,ClassName"`` (so two classes named
``Foo`` from different files are two rows). Per class: count, distance (minimum), self_size (sum of
shallow sizes) and retained_size: the retained sizes of members not dominated by another counted
member of the same class. Where two internal keys give the same public key (e.g. a user object
named 'Function' beside the closures), DevTools keeps the one seen last; so do we.

Statistics (JSHeapSnapshot.calculateStatistics): total = the root's retained size (+ the
header's extra_native_bytes); native = native nodes' shallow sizes (+ extra_native_bytes), of
which typed_arrays = 'system / JSArrayBufferData'; code = code nodes; strings = string,
concatenated and sliced strings; js_arrays = objects named 'Array' plus their 'elements' backing
store when that has a single retainer; system = hidden nodes; v8heap total = total - native.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from . import _kernels as K


def class_keys(snap, class_index: np.ndarray | None = None):
    """Internal class key id per node, and the public key and display name of each key id.

    Returns (key_of_node int64[n], public_keys list[str], names list[str])."""
    ci = snap.class_index if class_index is None else class_index
    st = snap.strings
    n = snap.node_count
    key = ci.astype(np.int64).copy()
    uniq_ci, inv_ci = np.unique(ci, return_inverse=True)
    ci_names = st.get_many(uniq_ci)
    # public key and name per internal id: first the plain class-index keys
    pub = {int(c): "," + nm for c, nm in zip(uniq_ci.tolist(), ci_names)}
    disp = {int(c): nm for c, nm in zip(uniq_ci.tolist(), ci_names)}
    locs = snap.locations
    if locs:
        obj_t = snap._ntype_index("object")
        located = np.fromiter(locs.keys(), dtype=np.int64, count=len(locs))
        located = located[snap._ntype[located] == obj_t]
        if located.size:
            base = len(st) + 1
            loc_ids: dict[tuple, int] = {}
            inv_ci = inv_ci.reshape(-1)
            for o in located.tolist():
                nm = ci_names[inv_ci[o]]
                s, l, c = locs[o]
                k = (s, l, c, nm)
                kid = loc_ids.get(k)
                if kid is None:
                    kid = base + len(loc_ids)
                    loc_ids[k] = kid
                    pub[kid] = f"{s},{l},{c},{nm}"
                    disp[kid] = nm
                key[o] = kid
    ids = np.array(sorted(pub), dtype=np.int64)
    dense = np.searchsorted(ids, key)
    return dense, [pub[i] for i in ids.tolist()], [disp[i] for i in ids.tolist()]


def aggregate(snap, include: np.ndarray | None = None, class_index: np.ndarray | None = None) -> pl.DataFrame:
    """The Summary aggregates for the nodes in ``include`` (all by default), DevTools' filter."""
    key, public, names = class_keys(snap, class_index)
    self_sizes = snap.self_sizes
    inc = np.ones(snap.node_count, dtype=np.bool_) if include is None else include
    member = inc & (self_sizes != 0)
    first_dom, dom_children = snap._dominated
    max_ret = K.class_retained(first_dom, dom_children, snap.root, key, self_sizes, snap.retained_sizes,
                               len(public), inc)
    idx = np.flatnonzero(member)
    k = key[idx]
    nk = len(public)
    count = np.bincount(k, minlength=nk)
    self_sum = np.bincount(k, weights=self_sizes[idx], minlength=nk)
    dist = np.full(nk, np.iinfo(np.int32).max, dtype=np.int64)
    np.minimum.at(dist, k, snap.distances[idx].astype(np.int64))
    first_seen = np.full(nk, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_seen, k, idx)
    present = np.flatnonzero(count > 0)
    df = pl.DataFrame({
        "class": [names[i] for i in present.tolist()],
        "class_key": [public[i] for i in present.tolist()],
        "count": count[present].astype(np.int64),
        "distance": dist[present],
        "self_size": self_sum[present].astype(np.int64),
        "retained_size": max_ret[present].astype(np.int64),
        "_first": first_seen[present],
    })
    # Same public key from two internal keys: the one inserted last into DevTools' Map wins.
    df = df.sort("_first").unique("class_key", keep="last", maintain_order=True).drop("_first")
    return df


def summary(snap, *, top: int | None = None, include: np.ndarray | None = None) -> pl.DataFrame:
    """class, class_key, count, distance, self_size, retained_size; by retained_size descending."""
    df = aggregate(snap, include).sort(["retained_size", "self_size", "class"], descending=[True, True, False])
    return df.head(top) if top else df


def statistics(snap) -> dict:
    st = snap.strings
    ntype = snap._ntype
    size = snap.self_sizes
    names = snap.node_names
    t = snap._ntype_index
    hidden = ntype == t("hidden")
    native = ntype == t("native")
    code = ntype == t("code")
    strings = (ntype == t("string")) | (ntype == t("concatenated string")) | (ntype == t("sliced string"))
    rest = ~(hidden | native | code | strings)
    array_name = np.zeros(len(st), dtype=np.bool_)
    array_name[st.find("Array")] = True
    arrays = np.flatnonzero(rest & array_name[names])
    js_arrays = int(size[arrays].sum())
    if arrays.size:
        elements = st.find("elements")
        internal = snap._etype_index("internal")
        first_ret = snap.first_retainer
        for a in arrays.tolist():
            lo, hi = snap.first_edge[a], snap.first_edge[a + 1]
            et, en, to = snap._etype[lo:hi], snap._ename[lo:hi], snap._to[lo:hi]
            hit = np.flatnonzero((et == internal) & np.isin(en, elements))
            if hit.size:
                target = int(to[hit[0]])
                if first_ret[target + 1] - first_ret[target] == 1:
                    js_arrays += int(size[target])
    typed = np.zeros(len(st), dtype=np.bool_)
    typed[st.find("system / JSArrayBufferData")] = True
    native_total = int(size[native].sum()) + snap.extra_native_bytes
    total = snap.total_size
    return {
        "total": total,
        "v8heap": {
            "total": total - native_total,
            "code": int(size[code].sum()),
            "strings": int(size[strings].sum()),
            "js_arrays": js_arrays,
            "system": int(size[hidden].sum()),
        },
        "native": {"total": native_total, "typed_arrays": int(size[native & typed[names]].sum())},
    }
