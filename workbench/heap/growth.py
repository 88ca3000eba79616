"""Growth across three or more snapshots of one process (memlab's ``unbound-collection`` and
``unbound-shape`` plugins, for Node).

- ``growing_collections(snaps)``: collections (matched by node id) alive in the last snapshot and
  seen in at least two consecutive snapshots up to it (before it existed a collection counts 0
  entries), whose entry count grows between every two consecutive snapshots and by at least
  ``min_growth`` overall. Collections are objects of
  class Map, Set, WeakMap, WeakSet, Array, and plain objects (node name ``Object``) used as
  maps. The entry count is the number of references the collection holds: for Map/Set the
  element / numerically named internal edges of its ``table`` (a Map entry with two heap
  values counts 2), for an Array the element edges of its ``elements`` store, for a plain object
  its properties (``__proto__`` excluded) and elements. Small integers are not heap objects and
  are not counted. Each row has the counts per snapshot, the retained sizes per snapshot and the
  retainer path in the last snapshot (``holder``).
- ``growing_classes(snaps)``: classes (Summary class keys present in every snapshot) whose
  Summary retained size grows between every two consecutive snapshots and by at least
  ``min_bytes`` overall.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _leak_kernels as LK

MAP_CLASSES = ("Map", "Set", "WeakMap", "WeakSet")


def _check(snaps):
    if len(snaps) < 3:
        raise UsageError("growth needs at least three snapshots of one process")
    from .diff import check_same_process
    for a, b in zip(snaps, snaps[1:]):
        check_same_process(a, b)
        if b.max_js_object_id < a.max_js_object_id:
            raise UsageError(f"{a.path}, {b.path}: snapshots must be given oldest first")


def collection_sizes(snap) -> pl.DataFrame:
    """node_id, class, kind, entries, retained_size of every collection in one snapshot."""
    st = snap.strings
    names = snap.node_names
    snap.class_index  # noqa: B018 -- adds class strings before the masks are sized
    obj = snap._ntype == snap._ntype_index("object")
    kind_of_name = np.full(len(st), -1, dtype=np.int64)
    for nm in MAP_CLASSES:
        kind_of_name[st.find(nm)] = 0
    kind_of_name[st.find("Array")] = 1
    kind_of_name[st.find("Object")] = 2
    kind = np.where(obj, kind_of_name[names], -1)
    nodes = np.flatnonzero(kind >= 0)
    kind = kind[nodes]
    nstr = st.n_original

    def mask(*vals):
        m = np.zeros(nstr, dtype=np.bool_)
        for v in vals:
            m[st.find(v)] = True
        return m
    internal = snap._etype == snap._etype_index("internal")
    used = np.unique(snap._ename[internal])
    digit = np.zeros(nstr, dtype=np.bool_)
    if used.size:
        digit[used] = st.starts_with_digit(used)
    proto = st.find("__proto__")
    entries = LK.collection_entries(snap.first_edge, snap._etype, snap._ename, snap._to, nodes, kind,
                                    mask("table"), mask("elements"), digit, snap._etype_index("internal"),
                                    snap._etype_index("element"), snap._etype_index("property"),
                                    int(proto[0]) if proto.size else -1)
    uniq, inv = np.unique(snap.class_index[nodes], return_inverse=True)
    cls = pl.Series(st.get_many(uniq), dtype=pl.String).gather(inv.reshape(-1)) if nodes.size else pl.Series([], dtype=pl.String)
    return pl.DataFrame({"node_id": snap.ids[nodes].astype(np.int64), "class": cls,
                         "kind": np.array(["map/set", "array", "object"])[kind] if nodes.size else [],
                         "entries": entries, "retained_size": snap.retained_sizes[nodes].astype(np.int64)},
                        schema_overrides={"kind": pl.String})


def growing_collections(snaps, *, min_growth: int = 10, top: int | None = 50, paths: bool = True) -> pl.DataFrame:
    """Collections whose entry count grows at every step across the snapshots (oldest first):
    node_id, class, kind, entries (list, per snapshot), growth, retained_size (list), holder."""
    _check(snaps)
    frames = [collection_sizes(s).select("node_id", "class", "kind", pl.col("entries").alias(f"e{i}"),
                                         pl.col("retained_size").alias(f"r{i}"))
              for i, s in enumerate(snaps)]
    n = len(snaps)
    df = frames[-1]
    for i in range(n - 1):
        df = df.join(frames[i].select("node_id", f"e{i}", f"r{i}"), on="node_id", how="left")
    seen = pl.sum_horizontal([pl.col(f"e{i}").is_not_null().cast(pl.Int64) for i in range(n)])
    # a collection created after the first snapshot had no entries before it existed; it must
    # have been seen in at least two snapshots, and never vanish once seen
    first_seen = pl.min_horizontal([pl.when(pl.col(f"e{i}").is_not_null()).then(pl.lit(i)) for i in range(n)])
    contiguous = seen == (n - first_seen)
    df = df.filter((seen >= 2) & contiguous).with_columns(
        [pl.col(f"e{i}").fill_null(0) for i in range(n)] + [pl.col(f"r{i}").fill_null(0) for i in range(n)])
    e = [pl.col(f"e{i}") for i in range(n)]
    mono = pl.all_horizontal([e[i + 1] > e[i] for i in range(n - 1)])
    df = df.filter(mono & ((e[-1] - e[0]) >= min_growth)).with_columns(
        entries=pl.concat_list(e), retained_size=pl.concat_list([pl.col(f"r{i}") for i in range(n)]),
        growth=e[-1] - e[0]).select("node_id", "class", "kind", "entries", "growth", "retained_size") \
        .sort(["growth", "node_id"], descending=[True, False])
    if top:
        df = df.head(top)
    if paths and len(df):
        from .retainers import bfs_path_edges, path_frame, path_tree, render_path
        last = snaps[-1]
        _, pe, pn, _, _ = path_tree(last, readable=True, user_first=True)
        holders = []
        for nid in df["node_id"].to_list():
            o = int(last.ordinals_of([nid])[0])
            holders.append(render_path(path_frame(last, bfs_path_edges(last, o, pe, pn), o)))
        df = df.with_columns(holder=pl.Series(holders, dtype=pl.String))
    elif paths:
        df = df.with_columns(holder=pl.lit(None, dtype=pl.String))
    return df


def growing_classes(snaps, *, min_bytes: int = 64 * 1024, top: int | None = 50) -> pl.DataFrame:
    """Classes whose Summary retained size grows monotonically: class, class_key, count (list),
    retained_size (list), growth (bytes)."""
    _check(snaps)
    df = None
    for i, s in enumerate(snaps):
        f = s.summary().select("class", "class_key", pl.col("count").alias(f"c{i}"),
                               pl.col("retained_size").alias(f"r{i}"))
        df = f if df is None else df.join(f.drop("class"), on="class_key", how="inner")
    n = len(snaps)
    r = [pl.col(f"r{i}") for i in range(n)]
    mono = pl.all_horizontal([r[i + 1] > r[i] for i in range(n - 1)])
    df = df.filter(mono & ((r[-1] - r[0]) >= min_bytes)).with_columns(
        count=pl.concat_list([pl.col(f"c{i}") for i in range(n)]), retained_size=pl.concat_list(r),
        growth=r[-1] - r[0]).select("class", "class_key", "count", "retained_size", "growth") \
        .sort(["growth", "class_key"], descending=[True, False])
    return df.head(top) if top else df
