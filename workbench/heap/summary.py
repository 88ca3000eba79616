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

from .strings import K


def _unique_rows(cols: list[np.ndarray]):
    """Distinct rows over four columns (first-appearance order, as a list of columns) and the
    row id of each input row. Packs the columns into one int64 when they fit (the common case)
    and factorises by hashing; else sorts rows."""
    if cols[0].size and min(int(c.min()) for c in cols) >= 0:
        bits = np.array([max(int(c.max()).bit_length(), 1) for c in cols], dtype=np.int64)
        if bits.sum() <= 62:
            codes, first = K.factorize(K.pack4(*cols, bits))
            return [c[first] for c in cols], codes
    rows = np.stack([c.astype(np.int64) for c in cols], axis=1)
    u, inv = np.unique(rows, axis=0, return_inverse=True)
    return [u[:, j] for j in range(u.shape[1])], inv.reshape(-1)


def class_keys(snap, class_index: np.ndarray | None = None):
    """Internal class key id per node, and the public key and display name of each key id.

    Non-located nodes are keyed by class string index; 'object' nodes with a location by
    (script_id, line, column, class name). Returns (key_of_node int64[n], public_keys, names)."""
    ci = snap.class_index if class_index is None else class_index
    st = snap.strings
    # class indices are bounded by the string count: a presence table beats sorting n values
    present = np.flatnonzero(np.bincount(ci, minlength=len(st)))
    ci_names = st.get_many(present)
    dense_of = np.full(len(st), -1, dtype=np.int32)
    dense_of[present] = np.arange(len(present))
    key = dense_of[ci]
    public = ["," + nm for nm in ci_names]
    names = list(ci_names)
    o, s, l, c = snap.location_arrays
    if o.size:
        is_obj = snap._ntype[o] == snap._ntype_index("object")
        o, s, l, c = o[is_obj], s[is_obj], l[is_obj], c[is_obj]
    if o.size:
        # the key uses the class *name*: canonicalise indices that spell the same name
        canon_of_name: dict[str, int] = {}
        canon = np.array([canon_of_name.setdefault(nm, len(canon_of_name)) for nm in ci_names], dtype=np.int32)
        cls = canon[key[o]]
        uniq, inv = _unique_rows([s, l, c, cls])
        base = len(public)
        canon_names = list(canon_of_name)
        for (sv, lv, cv, kv) in zip(*(u.tolist() for u in uniq)):
            nm = canon_names[kv]
            public.append(f"{sv},{lv},{cv},{nm}")
            names.append(nm)
        key = key.copy()
        key[o] = base + inv.reshape(-1)
    return key, public, names


def aggregate(snap, include: np.ndarray | None = None, class_index: np.ndarray | None = None) -> pl.DataFrame:
    """The Summary aggregates for the nodes in ``include`` (all by default), DevTools' filter."""
    key, public, names = class_keys(snap, class_index)
    self_sizes = snap.self_sizes
    inc = np.ones(snap.node_count, dtype=np.bool_) if include is None else include
    member = inc & (self_sizes != 0)
    first_dom, dom_children = snap._dominated
    max_ret = K.class_retained(first_dom, dom_children, snap.root, key, self_sizes, snap.retained_sizes,
                               len(public), inc)
    count, self_sum, dist, first_seen = K.group_stats(key, member, self_sizes, snap.distances, len(public))
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
    snap.analyze()
    df = snap.__dict__.get("_summary_frame") if include is None else None
    if df is None:
        df = aggregate(snap, include).sort(["retained_size", "self_size", "class"], descending=[True, True, False])
        if include is None:   # the view everyone opens first: kept (and by the reader's cache)
            snap.__dict__["_summary_frame"] = df
    return df.head(top) if top else df


def statistics(snap) -> dict:
    import copy
    if "_statistics" not in snap.__dict__:
        snap.__dict__["_statistics"] = _statistics(snap)
    return copy.deepcopy(snap.__dict__["_statistics"])


def _statistics(snap) -> dict:
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
    elements = np.zeros(st.n_original, dtype=np.bool_)
    elements[st.find("elements")] = True
    js_arrays = int(K.js_array_sizes(arrays, snap.first_edge, snap._etype, snap._ename, snap._to,
                                     snap.retainer_counts, size, snap._etype_index("internal"), elements))
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
