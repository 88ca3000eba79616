"""The node and edge tables of a snapshot as polars frames, built from arrays (no per-row Python)."""
from __future__ import annotations

import numpy as np
import polars as pl


def _string_column(snap, idx: np.ndarray) -> pl.Series:
    table = pl.from_arrow(snap.strings.arrow())
    return table.gather(idx)


def nodes_frame(snap) -> pl.DataFrame:
    n = snap.node_count
    uniq, inv = np.unique(snap.class_index, return_inverse=True)
    classes = pl.Series(snap.strings.get_many(uniq), dtype=pl.String)
    state = snap._dom_state[0]
    zeros32 = np.zeros(n, dtype=np.uint32)
    return pl.DataFrame({
        "id": snap.ids,
        "type": pl.Series(np.asarray(snap.node_types, dtype=object)[snap._ntype]).cast(snap._type_enum()),
        "name": snap.display_names(),
        "class": classes.gather(inv.reshape(-1)),
        "self_size": snap.self_sizes.astype(np.int64),
        "retained_size": snap.retained_sizes.astype(np.int64),
        "distance": snap.distances,
        "dominator_id": snap.ids[snap.dominator_ordinals],
        "edge_count": snap.edge_counts.astype(np.uint32),
        "trace_node_id": snap._trace if snap._trace is not None else zeros32,
        "detachedness": (state if state is not None else np.zeros(n, np.uint8)).astype(np.uint8),
    })


def edges_frame(snap) -> pl.DataFrame:
    src = np.repeat(np.arange(snap.node_count, dtype=np.int64), snap.edge_counts)
    etypes = snap.edge_types
    numeric = np.array([t in ("element", "hidden") for t in etypes], dtype=bool)[snap._etype]
    names = _string_column(snap, np.where(numeric, 0, snap._ename).astype(np.int64))
    index_text = pl.Series(snap._ename.astype(np.int64)).cast(pl.String)
    name = pl.select(pl.when(pl.Series(numeric)).then(index_text).otherwise(names)).to_series()
    return pl.DataFrame({
        "from_id": snap.ids[src],
        "to_id": snap.ids[snap._to],
        "type": pl.Series(np.asarray(etypes, dtype=object)[snap._etype]).cast(pl.Enum(list(dict.fromkeys(etypes)))),
        "name": name,
    })
