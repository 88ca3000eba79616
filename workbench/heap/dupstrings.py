"""Duplicate strings: the same text stored in several string objects (DevTools' "Duplicated
strings" filter, memlab's ``string`` plugin), with the bytes they waste and who holds them.

Semantics (heap-snapshot-toolkit@1.1.3 ``createNamedFilter('duplicatedStrings')``): nodes of type
``string`` or ``concatenated string`` with equal names (V8 stores a string's text as its name,
so equal text means an equal name index) are duplicates; a "flattened" cons string (an
internal ``first``/``second`` edge to the empty string) is skipped. Per text: ``count``,
``self_size`` (the copies' shallow sizes), ``wasted_size`` = all copies but the largest, and
``top_holders``: the most common first strong retainer of the copies, as ``Class.edge``
(DevTools' retainer order; weak edges and the root skipped). One deliberate difference: V8
(node 20) names cons strings ``(concatenated string)`` rather than by their text, and DevTools
then reports all of them as copies of one string; we skip cons strings with that placeholder
name.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from . import _leak_kernels as LK
from .names import edge_ranges


def duplicate_strings(snap, *, top: int | None = 100, max_value_chars: int = 300, holders: int = 3) -> pl.DataFrame:
    """value, length, count, self_size, wasted_size, top_holders, example_id; by wasted_size."""
    t_str, t_cons = snap._ntype_index("string"), snap._ntype_index("concatenated string")
    names = snap.node_names
    is_str = snap._ntype == t_str
    is_cons = snap._ntype == t_cons
    cons = np.flatnonzero(is_cons)
    if cons.size:
        eidx = edge_ranges(snap.first_edge, cons)
        src = np.repeat(cons, (snap.first_edge[cons + 1] - snap.first_edge[cons]).astype(np.int64))
        fs = np.zeros(snap.strings.n_original, dtype=np.bool_)
        fs[snap.strings.find("first")] = True
        fs[snap.strings.find("second")] = True
        empty = np.zeros(len(snap.strings), dtype=np.bool_)
        empty[snap.strings.find("")] = True
        internal = snap._etype[eidx] == snap._etype_index("internal")
        ename = np.where(internal, snap._ename[eidx], 0)
        flat = internal & fs[ename] & empty[names[snap._to[eidx]]]
        is_cons[src[flat]] = False
        # V8 (node 20) names cons strings '(concatenated string)' instead of their text, so
        # DevTools' filter lumps all of them together as one "duplicate"; we leave them out.
        placeholder = np.zeros(len(snap.strings), dtype=np.bool_)
        placeholder[snap.strings.find("(concatenated string)")] = True
        is_cons &= ~placeholder[names]
    cand = np.flatnonzero(is_str | is_cons)
    nm = names[cand]
    uniq, inv, counts = np.unique(nm, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    dup = counts[inv] >= 2
    cand, inv = cand[dup], inv[dup]
    schema = {"value": pl.String, "length": pl.Int64, "count": pl.Int64, "self_size": pl.Int64,
              "wasted_size": pl.Int64, "top_holders": pl.String, "example_id": pl.Int64}
    if not cand.size:
        return pl.DataFrame(schema=schema)
    sizes = snap.self_sizes[cand].astype(np.int64)
    g = pl.DataFrame({"g": inv, "ord": cand, "size": sizes})
    agg = g.group_by("g").agg(count=pl.len(), self_size=pl.col("size").sum(), biggest=pl.col("size").max(),
                              example=pl.col("ord").first()) \
        .with_columns(wasted_size=pl.col("self_size") - pl.col("biggest")) \
        .sort(["wasted_size", "count", "g"], descending=[True, True, False])
    if top:
        agg = agg.head(top)
    keep = agg["g"].to_numpy()
    sel = np.isin(inv, keep)
    src, edge = LK.first_strong_retainer(snap.first_retainer, snap.retaining_nodes, snap.retaining_edges,
                                         snap._etype, snap._etype_index("weak"), snap.root, cand[sel])
    has = src >= 0
    hcls = np.full(src.shape[0], -1, dtype=np.int64)
    hcls[has] = snap.class_index[src[has]]
    et = np.where(has, snap._etype[np.where(has, edge, 0)], -1).astype(np.int64)
    en = np.where(has, snap._ename[np.where(has, edge, 0)], 0).astype(np.int64)
    numeric = (et == snap._etype_index("element")) | (et == snap._etype_index("hidden"))
    en = np.where(numeric, -1, en)
    h = pl.DataFrame({"g": inv[sel], "cls": hcls, "et": et, "en": en}) \
        .group_by(["g", "cls", "et", "en"]).agg(n=pl.len()).sort(["g", "n"], descending=[False, True])
    labels: dict[int, list[str]] = {}
    for gi, c, t, e, n in h.iter_rows():
        lst = labels.setdefault(gi, [])
        if len(lst) >= holders:
            continue
        if c < 0:
            lst.append(f"(no strong retainer) x{n}")
            continue
        tname = snap.edge_types[t]
        if tname in ("element", "hidden"):
            edge_txt = "[]" if tname == "element" else "{}"
        else:
            from .retainers import render_edge
            edge_txt = render_edge(tname, snap.strings[e])
        lst.append(f"{snap.strings[c]}{edge_txt} x{n}")
    values = snap.strings.get_many(uniq[keep])
    return pl.DataFrame({
        "value": [v[:max_value_chars] for v in values],
        "length": [len(v) for v in values],
        "count": agg["count"].cast(pl.Int64),
        "self_size": agg["self_size"].cast(pl.Int64),
        "wasted_size": agg["wasted_size"].cast(pl.Int64),
        "top_holders": [", ".join(labels.get(int(gi), [])) for gi in keep.tolist()],
        "example_id": snap.ids[agg["example"].to_numpy()].astype(np.int64),
    }, schema=schema)
