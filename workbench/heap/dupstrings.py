"""Duplicate strings: the same text stored in several string objects (DevTools' "Duplicated
strings" filter, memlab's ``string`` plugin), with the bytes they waste and who holds them.

Semantics (heap-snapshot-toolkit@1.1.3 ``createNamedFilter('duplicatedStrings')``): nodes of type
``string`` or ``concatenated string`` with equal displayed values are duplicates; a "flattened"
cons string (an internal ``first``/``second`` edge to the empty string) is skipped. The value of
a cons (concatenated) string is its flattened text as DevTools displays it (``consStringName``:
the leaves of its ``first``/``second`` tree, up to DevTools' 1,024-character bound; see
``strings.cons_values``), not V8's placeholder name ``(concatenated string)``, so 1,000 copies of
``'x'.repeat(100)`` are one group of 1,000 with the 100-character value.

Three deliberate differences from DevTools' filter. Copies must also have the same length (two
long strings that agree in their first 1,024 characters are different strings; DevTools, which
compares the shown names, lumps them). And two about pieces: a string whose only (non-weak)
retainers are cons strings' ``first``/``second`` edges is part of a longer string, not a value
of its own, and is left out (DevTools would also list the 1,000 ``xxxx`` and ``xxxxxxxx`` pieces
of the example above); and a cons string's ``self_size`` is its retained size (its cell and the
pieces only it holds), since its shallow size is only the cons cell.

Per value: ``length`` (JavaScript String.length of the whole string, which may be longer than the
shown value), ``count``, ``self_size``, ``wasted_size`` = all copies but the largest, and
``top_holders``: the most common first strong retainer of the copies, as ``Class.edge``
(DevTools' retainer order; weak edges and the root skipped).
"""
from __future__ import annotations

import numpy as np
import polars as pl

from . import _kernels as K
from . import _leak_kernels as LK
from .names import edge_ranges
from .strings import StringTable

SCHEMA = {"value": pl.String, "length": pl.Int64, "count": pl.Int64, "self_size": pl.Int64,
          "wasted_size": pl.Int64, "top_holders": pl.String, "example_id": pl.Int64}


def _flat_cons(snap, cons: np.ndarray) -> np.ndarray:
    """DevTools' isFlatConsString for each of ``cons``: an internal first/second edge to ''."""
    if not cons.size:
        return np.zeros(0, dtype=np.bool_)
    eidx = edge_ranges(snap.first_edge, cons)
    src = np.repeat(np.arange(cons.size), (snap.first_edge[cons + 1] - snap.first_edge[cons]).astype(np.int64))
    fs = np.zeros(snap.strings.n_original, dtype=np.bool_)
    fs[snap.strings.find("first")] = True
    fs[snap.strings.find("second")] = True
    empty = np.zeros(len(snap.strings), dtype=np.bool_)
    empty[snap.strings.find("")] = True
    internal = snap._etype[eidx] == snap._etype_index("internal")
    ename = np.where(internal, snap._ename[eidx], 0)
    flat = internal & fs[ename] & empty[snap._name[snap._to[eidx]]]
    out = np.zeros(cons.size, dtype=np.bool_)
    out[src[flat]] = True
    return out


def duplicate_strings(snap, *, top: int | None = 100, max_value_chars: int = 300, holders: int = 3) -> pl.DataFrame:
    """value, length, count, self_size, wasted_size, top_holders, example_id; by wasted_size."""
    t_str, t_cons = snap._ntype_index("string"), snap._ntype_index("concatenated string")
    st = snap.strings
    cv = snap.cons_values
    n_orig = st.n_original
    is_first = np.zeros(n_orig, dtype=np.bool_)
    is_first[st.find("first")] = True
    is_second = np.zeros(n_orig, dtype=np.bool_)
    is_second[st.find("second")] = True
    piece, other = K.string_piece_refs(snap.first_edge, snap._to, snap._etype, snap._ntype, snap._ename, t_cons,
                                       snap._etype_index("internal"), snap._etype_index("weak"),
                                       is_first, is_second, snap.node_count)
    only_piece = (piece > 0) & (other == 0)
    flat_str = np.flatnonzero((snap._ntype == t_str) & ~only_piece)
    keep_cons = ~_flat_cons(snap, cv.ordinals) & ~only_piece[cv.ordinals]
    cons_j = np.flatnonzero(keep_cons)
    cons = cv.ordinals[cons_j]
    if not (flat_str.size + cons.size):
        return pl.DataFrame(schema=SCHEMA)
    # one binary key per candidate: the raw JSON bytes of its value (V8 escapes each character the
    # same way, so equal text is equal bytes, and a cons value's bytes are its leaves' bytes)
    names = snap._name[flat_str].astype(np.int64)
    b1, o1 = K.gather_bytes(st.raw, st.starts, st.lens, names)
    b2, o2 = K.gather_bytes(cv.table.raw, cv.table.starts, cv.table.lens, cons_j.astype(np.int64))
    data = np.concatenate([b1, b2])
    offs = np.concatenate([o1, o2[1:] + o1[-1]])
    import pyarrow as pa
    keys = pl.from_arrow(pa.LargeBinaryArray.from_buffers(pa.large_binary(), offs.size - 1,
                                                          [None, pa.py_buffer(offs), pa.py_buffer(data)]))
    len16 = K.utf16_lengths(st.raw, st.starts, st.lens, st.esc, names)
    cand = np.concatenate([flat_str, cons])
    sizes = np.concatenate([snap.self_sizes[flat_str].astype(np.int64),
                            snap.retained_sizes[cons].astype(np.int64)])
    esc = np.concatenate([st.esc[names], cv.table.esc[cons_j]])
    df = pl.DataFrame({"k": keys, "ord": cand, "size": sizes, "len": np.concatenate([len16, cv.length[cons_j]]),
                       "esc": esc, "row": np.arange(cand.size)})
    # keyed by value and full length: cons strings whose shown 1,024 characters agree but whose
    # lengths differ (a string built by '+=' and its longer successors) are different strings
    agg = df.group_by("k", "len").agg(count=pl.len(), self_size=pl.col("size").sum(), biggest=pl.col("size").max(),
                                      example=pl.col("ord").min(), row=pl.col("row").min(),
                                      esc=pl.col("esc").any()).rename({"len": "length"}) \
        .filter(pl.col("count") >= 2) \
        .with_columns(wasted_size=pl.col("self_size") - pl.col("biggest")) \
        .sort(["wasted_size", "count", "example"], descending=[True, True, False])
    if not len(agg):
        return pl.DataFrame(schema=SCHEMA)
    if top:
        agg = agg.head(top)
    agg = agg.with_row_index("g")
    member = df.select("k", "len", "ord").join(agg.select("k", pl.col("length").alias("len"), "g"),
                                              on=["k", "len"], how="inner")
    inv = member["g"].to_numpy().astype(np.int64)
    ords = member["ord"].to_numpy().astype(np.int64)
    src, edge = LK.first_strong_retainer(snap.first_retainer, snap.retaining_nodes, snap.retaining_edges,
                                         snap._etype, snap._etype_index("weak"), snap.root, ords)
    has = src >= 0
    hcls = np.full(src.shape[0], -1, dtype=np.int64)
    hcls[has] = snap.class_index[src[has]]
    et = np.where(has, snap._etype[np.where(has, edge, 0)], -1).astype(np.int64)
    en = np.where(has, snap._ename[np.where(has, edge, 0)], 0).astype(np.int64)
    numeric = (et == snap._etype_index("element")) | (et == snap._etype_index("hidden"))
    en = np.where(numeric, -1, en)
    h = pl.DataFrame({"g": inv, "cls": hcls, "et": et, "en": en}) \
        .group_by(["g", "cls", "et", "en"]).agg(n=pl.len()).sort(["g", "n", "cls", "et", "en"],
                                                                 descending=[False, True, False, False, False])
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
    # decode only the shown values: their raw bytes as a small string table
    rows = agg["row"].to_numpy().astype(np.int64)
    vb, vo = K.gather_bytes(data, offs[:-1], np.diff(offs), rows)
    vt = StringTable(vb, vo[:-1].copy(), np.diff(vo), agg["esc"].to_numpy().astype(np.bool_))
    values = vt.get_many(np.arange(len(agg)))
    return pl.DataFrame({
        "value": [v[:max_value_chars] for v in values],
        "length": agg["length"].cast(pl.Int64),
        "count": agg["count"].cast(pl.Int64),
        "self_size": agg["self_size"].cast(pl.Int64),
        "wasted_size": agg["wasted_size"].cast(pl.Int64),
        "top_holders": [", ".join(labels.get(int(gi), [])) for gi in agg["g"].to_list()],
        "example_id": snap.ids[agg["example"].to_numpy()].astype(np.int64),
    }, schema=SCHEMA)
