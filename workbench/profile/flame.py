"""Flame graph and flame chart layouts: rectangles (x0, x1, depth) computed in Python, drawn by views.

* ``flame_graph`` (speedscope's "Left Heavy", flamegraph.pl's merged stacks): the sibling-merged call
  tree; each frame's width is its total; children are laid out from their parent's left edge,
  heaviest first (``sort="heavy"``) or by name (``sort="name"``, flamegraph.pl's order).
  Pruning (research note §5; flamegraph.pl ``--minwidth``): frames narrower than ``min_frac`` of the
  root are dropped and replaced, per parent, by one ``(other)`` rectangle of their summed width, so
  parent widths stay honest; frames deeper than ``max_depth`` are dropped (their time stays in the
  ancestors' widths). How many frames were merged into ``(other)`` is in the frame's ``pruned``
  column of the ``(other)`` rows.
* ``flame_chart`` (DevTools' Performance flame chart, speedscope's "Time Order"): x is time; a
  rectangle is a maximal run of consecutive samples whose stacks share the same node at that depth,
  closing at the time of the first sample that does not contain it, as DevTools'
  ``CPUProfileDataModel.forEachFrame`` does; the last sample lasts until the profile's end time.
  As DevTools does, ``(garbage collector)`` samples sit on top of the previous sample's stack, and a
  lone ``(program)`` sample between two stacks with the same bottom frame is replaced by the previous
  sample (``fixMissingSamples``: the V8 sampler failed to walk the stack).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _kernels as K
from .calltree import merged

if TYPE_CHECKING:
    from .model import Profile

OTHER = "(other)"


def flame_graph(p: Profile, *, min_frac: float = 0.001, max_depth: int | None = None,
                sort: str = "heavy", root: int = 0, max_rects: int | None = None) -> pl.DataFrame:
    """Rectangles of the flame graph.

    Columns: id (merged node, -1 for ``(other)``), parent_id, depth (``root`` = 0), name, url, line,
    column, category, x0, x1 (in the profile's unit: ms or bytes, ``root`` spans [0, its total]),
    self_*, total_*, self_pct, total_pct (of ``root``), pruned (frames folded into an ``(other)`` row).
    ``root`` re-roots the graph on a merged node (a zoom: only its subtree is laid out). ``max_rects``
    raises ``min_frac`` (doubling) until at most that many rectangles remain.
    """
    if sort not in ("heavy", "name"):
        raise UsageError(f"sort must be 'heavy' or 'name', not {sort!r}")
    m = merged(p)
    if not 0 <= root < m.n:
        raise UsageError(f"no call-tree node {root} (the tree has {m.n})", p.path)
    while True:
        fg = _layout(p, m, min_frac, max_depth, sort, root)
        if max_rects is None or fg.height <= max_rects or min_frac >= 1.0:
            return fg
        min_frac = max(min_frac * 2, 1e-6)


def _layout(p, m, min_frac, max_depth, sort, root):
    whole = m.total[root]
    ids = np.arange(m.n)
    if root:
        match = np.zeros(m.n, np.bool_)
        match[root] = True
        inside = K.inside_subtree(ids, m.parent, match, False)  # merged ids are parents-first
    else:
        inside = np.ones(m.n, bool)
    rel_depth = m.depth - m.depth[root]
    keep = inside & ((m.total >= min_frac * whole) if whole > 0 else True)
    keep[root] = True
    if max_depth is not None:
        keep &= rel_depth <= max_depth
    mp = np.where(ids == root, -1, m.parent)
    # a kept node needs a kept parent (totals shrink going down, but float ties are cheap to check)
    keep &= (mp < 0) | keep[np.maximum(mp, 0)]
    pruned_nodes = inside & ~keep & keep[np.maximum(mp, 0)] & (mp >= 0)
    if max_depth is not None:
        pruned_nodes &= rel_depth <= max_depth
    other_w = np.bincount(mp[pruned_nodes], weights=m.total[pruned_nodes], minlength=m.n)
    other_k = np.bincount(mp[pruned_nodes], minlength=m.n)
    other_parents = np.nonzero(other_w > 0)[0]

    kid = ids[keep]
    n_k, n_o = len(kid), len(other_parents)
    pos = np.full(m.n, -1, np.int64)
    pos[kid] = np.arange(n_k)
    parent = np.concatenate([np.where(mp[kid] >= 0, pos[np.maximum(mp[kid], 0)], -1), pos[other_parents]])
    total = np.concatenate([m.total[kid], other_w[other_parents]])
    selfv = np.concatenate([m.self_value[kid], np.zeros(n_o)])
    depth = np.concatenate([rel_depth[kid], rel_depth[other_parents] + 1])
    is_other = np.concatenate([np.zeros(n_k, bool), np.ones(n_o, bool)])
    labels = p.frame_labels
    names = np.concatenate([labels["name"].to_numpy()[m.frame[kid]], np.full(n_o, OTHER, dtype=object)])
    if sort == "heavy":
        key2 = -total
    else:
        key2 = pl.Series(names).rank("dense").to_numpy().astype(np.float64)
    order = np.lexsort((key2, is_other, parent, depth)).astype(np.int64)
    x0 = K.layout_x(order, parent, total)

    fr = np.concatenate([m.frame[kid], np.zeros(n_o, np.int64)])
    cols = labels.select("url", "line", "column", "category")[fr]
    oth = pl.Series(is_other)
    cols = cols.with_columns(
        pl.when(oth).then(pl.lit("")).otherwise(pl.col("url")).alias("url"),
        pl.when(oth).then(pl.lit(0)).otherwise(pl.col("line")).alias("line"),
        pl.when(oth).then(pl.lit(0)).otherwise(pl.col("column")).alias("column"),
        pl.when(oth).then(pl.lit(OTHER)).otherwise(pl.col("category")).alias("category"),
    )
    df = pl.DataFrame({
        "id": np.concatenate([kid, np.full(n_o, -1)]),
        "parent_id": np.concatenate([mp[kid], other_parents]),
        "depth": depth,
        "name": pl.Series(names, dtype=pl.String),
    })
    df = pl.concat([df, cols], how="horizontal").with_columns(
        pl.Series("x0", x0), pl.Series("x1", x0 + total),
        pl.Series(p.self_col, selfv), pl.Series(p.total_col, total),
        pl.Series("self_pct", selfv * 100.0 / whole if whole else selfv * 0),
        pl.Series("total_pct", total * 100.0 / whole if whole else total * 0),
        pl.Series("pruned", np.concatenate([np.zeros(n_k, np.int64), other_k[other_parents]])),
    )
    return df.sort(["depth", "x0"])


def ancestors(p: Profile, node: int) -> list[int]:
    """Merged node ids from the root down to ``node`` (breadcrumbs of a zoom)."""
    m = merged(p)
    out = []
    while node >= 0:
        out.append(int(node))
        node = int(m.parent[node])
    return out[::-1]


def search(p: Profile, text: str, root: int = 0) -> tuple[np.ndarray, float]:
    """Merged nodes under ``root`` whose function name or url contains ``text`` (case-insensitive),
    and their share of ``root``'s total, each sample counted once (outermost matches only)."""
    m = merged(p)
    lab = p.frame_labels
    hay = (lab["name"] + " " + lab["url"]).str.to_lowercase()
    fmatch = hay.str.contains(text.lower(), literal=True).to_numpy()
    match = fmatch[m.frame]
    ids = np.arange(m.n, dtype=np.int64)
    r = np.zeros(m.n, np.bool_)
    r[root] = True
    inside = K.inside_subtree(ids, m.parent, r, False)
    match &= inside
    under = K.inside_subtree(ids, m.parent, match, True)
    outer = match & ~under
    whole = m.total[root]
    return np.nonzero(match)[0], (float(m.total[outer].sum() / whole) if whole else 0.0)


def flame_chart(p: Profile, *, min_ms: float = 0.0) -> pl.DataFrame:
    """Time-ordered rectangles: name, url, line, category, depth (root's children = 0), start_ms, end_ms,
    duration_ms, self_ms (duration minus children's), node_id. ``min_ms`` drops shorter ones."""
    p.require_cpu("a flame chart")
    if p.n_samples == 0:
        raise UsageError("this profile has no samples to lay out in time", p.path)
    ts = p.sample_ts_us
    avg = (ts[-1] - ts[0]) / (len(ts) - 1) if len(ts) > 1 else 0.0
    t_end = ts[-1] + avg  # DevTools: one average interval past the last sample
    names = p.frame_labels["function"].to_numpy()[p.frame]
    top_level = p.parent == 0

    def special(name):
        hit = np.nonzero(top_level & (names == name))[0]
        return int(hit[0]) if len(hit) else -1

    program, gc, idle = special("(program)"), special("(garbage collector)"), special("(idle)")
    samples = p.sample_node.copy()
    K.fix_missing_samples(samples, p.parent, program, gc, idle)
    node, start, stop, lvl = K.time_intervals(samples, t_end, ts, p.parent, p.depth, int(p.depth.max()), gc)
    keep = node != 0
    node, start, stop, d = node[keep], start[keep], stop[keep], lvl[keep]
    dur = (stop - start) / 1000.0
    o = np.lexsort((start, d))
    node, start, stop, dur, d = node[o], start[o], stop[o], dur[o], d[o]
    df = pl.DataFrame({"node_index": node, "depth": d - 1, "start_us": start, "end_us": stop, "duration_ms": dur})
    child = df.filter(pl.col("depth") > 0).with_columns(pl.col("depth") - 1)
    # a child interval lies inside exactly one parent interval at depth-1: find it by start time
    par = df.select("depth", "start_us", "end_us").with_row_index("pi")
    child = child.sort("start_us").join_asof(par.sort("start_us"), on="start_us", by="depth", strategy="backward",
                                                       check_sortedness=False)
    kids = child.group_by("pi").agg(pl.col("duration_ms").sum().alias("kids_ms"))
    df = df.with_row_index("pi").join(kids, on="pi", how="left").with_columns(
        (pl.col("duration_ms") - pl.col("kids_ms").fill_null(0.0)).alias("self_ms"))
    if min_ms > 0:
        df = df.filter(pl.col("duration_ms") >= min_ms)
    labels = p.frame_labels.select("name", "url", "line", "category")[p.frame[df["node_index"].to_numpy()]]
    out = pl.concat([df, labels], how="horizontal").with_columns(
        ((pl.col("start_us") - p.start_us) / 1000.0).alias("start_ms"),
        ((pl.col("end_us") - p.start_us) / 1000.0).alias("end_ms"),
        pl.Series("node_id", p.node_id[df["node_index"].to_numpy()]),
    )
    out = out.select("name", "url", "line", "category", "depth", "start_ms", "end_ms", "duration_ms", "self_ms",
                     "node_id") \
        .sort(["start_ms", "depth"])
    return out
