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

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from .._memory import release_freed_memory
from .strings import K

_POOL = None


def class_keys(snap, class_index: np.ndarray | None = None):
    """Internal class key id per node, and the public key and display name of each key id.

    Non-located nodes are keyed by class string index; 'object' nodes with a location by
    (script_id, line, column, class name). Returns (key_of_node, public_keys, names); the key
    array is uint8 or uint16 when the keys fit (a quarter or half of int32), else int32."""
    ci = snap.class_index if class_index is None else class_index
    st = snap.strings
    # class indices are bounded by the string count: a presence table beats sorting n values
    present = np.flatnonzero(K.mark_values(ci, len(st)))
    ci_names = st.get_many(present)
    dense_of = np.full(len(st), -1, dtype=np.int32)
    dense_of[present] = np.arange(len(present))
    public = ["," + nm for nm in ci_names]
    names = list(ci_names)
    cols, (fo, fs, fl, fc), keep = snap._location_columns()
    keep = np.zeros(0, dtype=np.int64) if keep is None else keep
    nf = len(snap.meta["node_fields"])
    rows = None
    if cols is not None:
        # the key uses the class *name*: canonicalise indices that spell the same name
        canon_of_name: dict[str, int] = {}
        canon = np.array([canon_of_name.setdefault(nm, len(canon_of_name)) for nm in ci_names], dtype=np.int32)
        rows, codes = K.located_class_keys(cols, keep, fo, fs, fl, fc, nf, snap._ntype, snap._ntype_index("object"),
                                           ci, dense_of, canon)
        canon_names = list(canon_of_name)
        for sv, lv, cv, kv in rows.tolist():
            nm = canon_names[kv]
            public.append(f"{sv},{lv},{cv},{nm}")
            names.append(nm)
    nk = len(public)
    dt = np.uint8 if nk < 2**8 else np.uint16 if nk < 2**16 else np.int32
    key = K.gather_keys(ci, dense_of.astype(dt), np.empty(ci.shape[0], dtype=dt))
    if rows is not None:
        K.apply_located_keys(key, cols, keep, fo, nf, codes, len(ci_names))
    return key, public, names


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(1, thread_name_prefix="workbench-summary")
    return _POOL


def aggregate(snap, include: np.ndarray | None = None, class_index: np.ndarray | None = None, *,
              beside=None) -> pl.DataFrame:
    """The Summary aggregates for the nodes in ``include`` (all by default), DevTools' filter.

    ``beside``, if given, is called first and returns a function to call once the class keys are
    made: the Summary starts the Statistics' kernel on the pool's thread there (the kernels
    release the GIL) and waits for it before the dominator tree's children are made, so that the
    two passes' work arrays are never held together with those children (the peak stays that of
    the children and the keys). The per-class counts then run on the pool's thread beside the
    children and the retained-size walk (the same figures as ``K.summary_aggregate``)."""
    after = beside() if beside is not None else None
    key, public, names = class_keys(snap, class_index)
    if after is not None:
        after()
    release_freed_memory()   # class_keys' (and the Statistics') work arrays, before the tree's children
    inc = np.zeros(0, dtype=np.bool_) if include is None else include
    # the per-class counts (one pass in node order, no work array) on the pool's thread while this
    # one makes the dominator tree's children and walks them for the retained sizes
    counts = _pool().submit(K.summary_counts, key, snap.self_sizes, snap.distances, len(public), inc)
    try:
        # the dominator tree's children (2 x 4 bytes per node): the cached ones, else made for
        # this walk and dropped (retainers and leaks make and keep their own when asked)
        first_dom, dom_children = snap.__dict__.get("_dominated") or K.dominated_csr(snap.dominator_ordinals,
                                                                                     snap.root)
        max_ret = K.summary_retained(first_dom, dom_children, snap.root, key, snap.self_sizes,
                                     snap.retained_sizes, len(public), inc)
    finally:
        count, self_sum, dist, first_seen = counts.result()
    del key, first_dom, dom_children, counts
    release_freed_memory()
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
    """class, class_key, count, distance, self_size, retained_size; by retained_size descending.

    The first full Summary also computes the Statistics (kept like the Summary; every first view
    and the reader's cache ask for both): its kernel runs on the pool's thread while this one
    makes the class keys."""
    snap.analyze()
    df = snap.__dict__.get("_summary_frame") if include is None else None
    if df is None:
        beside = None
        if include is None and "_statistics" not in snap.__dict__:
            def beside():
                finish = _statistics_start(snap, background=True)

                def keep():
                    snap.__dict__["_statistics"] = finish()
                return keep
        df = aggregate(snap, include, beside=beside).sort(["retained_size", "self_size", "class"],
                                                          descending=[True, True, False])
        if include is None:   # the view everyone opens first: kept (and by the reader's cache)
            snap.__dict__["_summary_frame"] = df
    return df.head(top) if top else df


def statistics(snap) -> dict:
    import copy
    if "_statistics" not in snap.__dict__:
        snap.__dict__["_statistics"] = _statistics(snap)
        release_freed_memory()
    return copy.deepcopy(snap.__dict__["_statistics"])


def _statistics(snap) -> dict:
    return _statistics_start(snap)()


def _statistics_start(snap, background: bool = False):
    """Prepare the Statistics on this thread and run its kernel (on the pool's thread when
    ``background``); returns the function that waits for it and builds the dict."""
    # first: the names (their 'Detached' renames add strings) and the sizes; every table below is
    # sized by the string count after them (the kernel indexes them with these names unchecked)
    names = snap.node_names
    sizes = snap.self_sizes
    st = snap.strings
    t = snap._ntype_index
    ntypes = len(snap.node_types) + 2
    js = np.ones(ntypes, dtype=np.bool_)   # DevTools' 'rest': types neither system, native, code nor string
    for name in ("hidden", "native", "code", "string", "concatenated string", "sliced string"):
        js[t(name)] = False
    array_name = np.zeros(len(st), dtype=np.bool_)
    array_name[st.find("Array")] = True
    elements = np.zeros(st.n_original, dtype=np.bool_)
    elements[st.find("elements")] = True
    typed = np.zeros(len(st), dtype=np.bool_)
    typed[st.find("system / JSArrayBufferData")] = True
    args = (snap._ntype, names, sizes, ntypes, typed, t("native"), snap.first_edge, snap._etype,
            snap._ename, snap._to, js, array_name, snap._etype_index("internal"), elements,
            np.zeros(snap.node_count, dtype=np.uint8))
    native_total = snap.extra_native_bytes
    total = snap.total_size
    type_of = {nm: t(nm) for nm in ("native", "code", "string", "concatenated string", "sliced string", "hidden")}
    job = _pool().submit(K.statistics_sums, *args) if background else None
    sums = None if background else K.statistics_sums(*args)
    del args

    def finish() -> dict:
        per_type, typed_total, js_arrays = sums if job is None else job.result()

        def of(*names):   # the nodes of any of these types (an absent type's index counted once)
            return sum(int(per_type[i]) for i in {type_of[nm] for nm in names})

        native = of("native") + native_total
        return {
            "total": total,
            "v8heap": {
                "total": total - native,
                "code": of("code"),
                "strings": of("string", "concatenated string", "sliced string"),
                "js_arrays": int(js_arrays),
                "system": of("hidden"),
            },
            "native": {"total": native, "typed_arrays": int(typed_total)},
        }
    return finish
