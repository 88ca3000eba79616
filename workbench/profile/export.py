"""Export a Profile as folded stacks (flamegraph.pl's input) and in speedscope's file format (``https://www.speedscope.app/file-format-schema.json``).

speedscope ``src/lib/file-format-spec.ts`` (research note §1.9): ``{$schema, shared: {frames: [{name,
file, line, col}]}, profiles: [SampledProfile{type: "sampled", name, unit, startValue, endValue,
samples: [[frame index, root first]], weights}]}``. A CPU profile with samples is written in time
order, one stack per sample weighted by the DevTools per-hit interval in milliseconds, so
speedscope's Time Order view works; profiles without samples (allocation, folded, callers) are
written as one weighted stack per call-tree node with self > 0 (bytes for allocation profiles).
"""
from __future__ import annotations

import json

import numpy as np
import polars as pl

from .calltree import merged

SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def _stacks(parent: np.ndarray, frame: np.ndarray, order: np.ndarray) -> list[list[int]]:
    # one list per node, built parents-first; export is not a hot path (one pass over nodes)
    st: list = [None] * len(parent)
    st[order[0]] = []
    for i in order[1:]:
        st[i] = st[parent[i]] + [int(frame[i])]
    return st


def to_speedscope(p, path=None):
    f = p.frame_labels
    frames = [{"name": n, **({"file": u} if u else {}), **({"line": int(ln)} if ln else {}),
               **({"col": int(c)} if c else {})}
              for n, u, ln, c in zip(f["name"], f["url"], f["line"], f["column"])]
    stacks = _stacks(p.parent, p.frame, p.order)
    if p.kind == "cpu" and p.n_samples:
        samples = [stacks[i] for i in p.sample_node.tolist()]
        weights = p.sample_weight.tolist()
        unit = "milliseconds"
        start, end = 0.0, float(np.sum(p.sample_weight))
    else:
        nodes = np.nonzero(p.self_value > 0)[0]
        nodes = nodes[nodes != p.order[0]]
        samples = [stacks[i] for i in nodes.tolist()]
        weights = p.self_value[nodes].tolist()
        unit = "milliseconds" if p.kind == "cpu" else "bytes"
        start, end = 0.0, float(np.sum(weights))
    doc = {"$schema": SCHEMA, "shared": {"frames": frames},
           "profiles": [{"type": "sampled", "name": p.path or p.source, "unit": unit, "startValue": start,
                         "endValue": end, "samples": samples, "weights": weights}],
           "name": p.path or p.source, "activeProfileIndex": 0, "exporter": "workbench"}
    if path is None:
        return doc
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    return None


def folded_lines(p, *, locations: bool = True, value: str = "hits") -> pl.DataFrame:
    """(stack, count) per merged node with self > 0; ``value``: "hits" (samples) or "self"."""
    m = merged(p)
    labels = p.frame_labels
    lab = labels["name"]
    if locations:
        lab = pl.select(pl.when(labels["url"] != "").then(
            pl.concat_str([labels["name"], pl.lit(" "), labels["url"], pl.lit(":"),
                           labels["line"].cast(pl.String), pl.lit(":"), labels["column"].cast(pl.String)])
        ).otherwise(labels["name"])).to_series()
    # ';' and newlines would break the format
    lab = lab.str.replace_all(";", ":").str.replace_all("\n", " ")
    node_lab = lab[m.frame].to_numpy().astype(object)
    path = np.empty(m.n, dtype=object)
    path[0] = ""
    depth = m.depth
    for d in range(1, int(depth.max()) + 1 if m.n > 1 else 1):  # one vectorised step per depth level
        at = np.nonzero(depth == d)[0]
        par = path[m.parent[at]]
        path[at] = np.where(par == "", node_lab[at], par + ";" + node_lab[at]) if d > 1 else node_lab[at]
    w = m.hit_count.astype(np.float64) if value == "hits" else m.self_value
    sel = np.nonzero(w > 0)[0]
    sel = sel[sel != 0]
    return pl.DataFrame({"stack": pl.Series(path[sel], dtype=pl.String), "count": w[sel]})


def write_folded(p, path=None, *, locations: bool = True, value: str = "hits") -> str | None:
    """Folded stacks of a Profile (root excluded; samples dropped on the root are not written and
    are counted in the return of ``folded_lines``'s complement). Returns the text when ``path`` is None."""
    df = folded_lines(p, locations=locations, value=value)
    cnt = df["count"]
    as_int = (cnt == cnt.round(0)).all()
    cs = cnt.cast(pl.Int64).cast(pl.String) if as_int else cnt.cast(pl.String)
    text = "".join(s + " " + c + "\n" for s, c in zip(df["stack"].to_list(), cs.to_list()))
    if path is None:
        return text
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return None
