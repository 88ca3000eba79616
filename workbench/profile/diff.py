"""Comparing two profiles: a function delta table and a differential flame graph.

Method (research note §4, "Recommended workbench method"):
* frames are matched by a key of (name, url), plus the line for anonymous functions (so small code
  edits still match while distinct anonymous closures stay apart); ``match_lines=True`` adds the line
  for every function;
* each side is normalised to percent of its own total (``difffolded.pl -n`` / pprof ``-normalize``),
  so profiles of different lengths compare; raw values are kept in ``*_before``/``*_after`` columns;
* the differential flame graph outer-joins the two sibling-merged call trees on the path of keys
  (Hatchet's ``unify`` then subtract, zero-filled); widths come from the *after* profile like
  flamegraph.pl (``width="after"``), from *before* (``difffolded folded2 folded1 | flamegraph.pl
  --negate``: vanished paths stay visible), or from the larger of the two (``"max"``: every frame of
  either side is visible). ``self_delta_pct`` is flamegraph.pl's leaf delta (colour), ``total_delta_pct``
  the inclusive delta (d3-flame-graph's ``computeDelta``); ``status`` marks frames present on one side
  only (d3-flame-graph colours those apart).
"""
from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _kernels as K
from .calltree import merged
from .flame import flame_graph
from .model import Profile, finish


def _keys(p: Profile, match_lines: bool) -> pl.DataFrame:
    f = p.frame_labels
    line = pl.col("line") if match_lines else pl.when(pl.col("name") == "(anonymous)").then(pl.col("line")).otherwise(0)
    return f.select("name", "url", line.alias("line"))


def _check(a: Profile, b: Profile) -> None:
    if a.kind != b.kind:
        raise UsageError(f"cannot compare a {a.kind} profile with a {b.kind} profile")


def diff(a: Profile, b: Profile, *, match_lines: bool = False, min_delta_pct: float = 0.0) -> pl.DataFrame:
    """Function-level changes from ``a`` (before) to ``b`` (after), largest |self delta| first.

    Columns: name, url, line, status (added/removed/grew/shrank/same), self_pct_before/after,
    self_delta_pct, total_pct_before/after, total_delta_pct, and the raw self/total values of each side
    (``self_ms_before`` ... or ``self_size_before`` ...).
    """
    _check(a, b)
    sc, tc = a.self_col, a.total_col

    def side(p: Profile, tag: str) -> pl.DataFrame:
        fn = p.functions()
        lines = pl.when(pl.col("name") == "(anonymous)").then(pl.col("line")).otherwise(0) if not match_lines \
            else pl.col("line")
        return fn.with_columns(lines.alias("line")).group_by("name", "url", "line").agg(
            pl.col(sc).sum().alias(f"{sc}_{tag}"), pl.col(tc).sum().alias(f"{tc}_{tag}"),
            pl.col("self_pct").sum().alias(f"self_pct_{tag}"), pl.col("total_pct").sum().alias(f"total_pct_{tag}"))

    j = side(a, "before").join(side(b, "after"), on=["name", "url", "line"], how="full", coalesce=True)
    num = [c for c in j.columns if c not in ("name", "url", "line")]
    j = j.with_columns(pl.col(c).fill_null(0.0) for c in num)
    j = j.with_columns(
        (pl.col("self_pct_after") - pl.col("self_pct_before")).alias("self_delta_pct"),
        (pl.col("total_pct_after") - pl.col("total_pct_before")).alias("total_delta_pct"),
    ).with_columns(
        pl.when(pl.col(f"{tc}_before") == 0).then(pl.lit("added"))
        .when(pl.col(f"{tc}_after") == 0).then(pl.lit("removed"))
        .when(pl.col("self_delta_pct") > 0).then(pl.lit("grew"))
        .when(pl.col("self_delta_pct") < 0).then(pl.lit("shrank"))
        .otherwise(pl.lit("same")).alias("status"))
    if min_delta_pct:
        j = j.filter(pl.col("self_delta_pct").abs() >= min_delta_pct)
    return j.select(
        "name", "url", "line", "status", "self_pct_before", "self_pct_after", "self_delta_pct",
        "total_pct_before", "total_pct_after", "total_delta_pct",
        f"{sc}_before", f"{sc}_after", f"{tc}_before", f"{tc}_after",
    ).sort([pl.col("self_delta_pct").abs(), "name"], descending=[True, False])


def union_tree(a: Profile, b: Profile, *, match_lines: bool = False):
    """The outer join of two merged call trees on key paths.

    Returns (keys frame, parent, key index, self_pct_before, self_pct_after) of the union tree
    (node 0 the root, parents first)."""
    _check(a, b)
    ka, kb = _keys(a, match_lines), _keys(b, match_lines)
    keys = pl.concat([ka, kb]).unique(maintain_order=True)
    kidx = keys.with_row_index("k")

    def key_of_frames(k: pl.DataFrame) -> np.ndarray:
        return k.with_row_index("_r").join(kidx, on=["name", "url", "line"], how="left", nulls_equal=True) \
            .sort("_r")["k"].to_numpy().astype(np.int64)

    ma, mb = merged(a), merged(b)
    fa, fb = key_of_frames(ka)[ma.frame], key_of_frames(kb)[mb.frame]
    # one raw forest: root 0, then a's non-root nodes, then b's non-root nodes
    na = ma.n
    parent = np.concatenate([[-1], np.where(ma.parent[1:] == 0, 0, ma.parent[1:]),
                             np.where(mb.parent[1:] == 0, 0, mb.parent[1:] + na - 1)])
    frame = np.concatenate([[fa[0]], fa[1:], fb[1:]])
    depth = np.concatenate([[0], ma.depth[1:], mb.depth[1:]])
    order = np.argsort(depth, kind="stable").astype(np.int64)
    u_of, u_parent, u_frame, n = K.merge_siblings(order, parent, frame, keys.height)
    wa = ma.self_value * (100.0 / ma.total[0] if ma.total[0] else 0.0)
    wb = mb.self_value * (100.0 / mb.total[0] if mb.total[0] else 0.0)
    before = np.bincount(u_of[:na], weights=wa, minlength=n)  # a's root is raw node 0
    after = np.zeros(n)
    after += np.bincount(u_of[na:], weights=wb[1:], minlength=n)
    after[0] += wb[0]
    return keys, u_parent, u_frame, before, after


def diff_flame_graph(a: Profile, b: Profile, *, width: str = "after", min_frac: float = 0.001,
                     max_depth: int | None = None, match_lines: bool = False) -> pl.DataFrame:
    """Rectangles of a differential flame graph from ``a`` (before) to ``b`` (after).

    Same columns as ``flame_graph`` (values in percent of each side's total) plus
    ``self_pct_before/after``, ``total_pct_before/after``, ``self_delta_pct``, ``total_delta_pct``,
    ``status`` (added/removed/both).
    """
    if width not in ("after", "before", "max"):
        raise UsageError(f"width must be 'after', 'before' or 'max', not {width!r}")
    keys, parent, kframe, before, after = union_tree(a, b, match_lines=match_lines)
    n = len(parent)
    order = np.arange(n, dtype=np.int64)
    tb = K.subtree_totals(order, parent, before)
    ta = K.subtree_totals(order, parent, after)
    w = {"after": after, "before": before, "max": np.maximum(before, after)}[width]
    frames = keys.rename({"name": "function"}).with_columns(
        pl.lit("").alias("script_id"), pl.col("line").cast(pl.Int32), pl.lit(0, dtype=pl.Int32).alias("column")
    ).select("function", "script_id", "url", "line", "column")
    u = finish(a.kind, None, "diff", frames, parent, kframe, np.arange(n), np.zeros(n, np.int64), w,
               np.zeros(0, np.int64), np.zeros(0), np.zeros(0), 0.0, 0.0, {})
    fg = flame_graph(u, min_frac=min_frac, max_depth=max_depth)
    mu = merged(u)  # identity up to renumbering; map merged ids back to union nodes
    back = np.full(mu.n, -1, np.int64)
    back[mu.of_node] = np.arange(n)
    ids = fg["id"].to_numpy()
    un = np.where(ids >= 0, back[np.maximum(ids, 0)], -1)
    valid = un >= 0
    pick = np.maximum(un, 0)

    def col(arr):
        return np.where(valid, arr[pick], np.nan)

    fg = fg.with_columns(
        pl.Series("self_pct_before", col(before)), pl.Series("self_pct_after", col(after)),
        pl.Series("total_pct_before", col(tb)), pl.Series("total_pct_after", col(ta)),
    ).with_columns(
        (pl.col("self_pct_after") - pl.col("self_pct_before")).alias("self_delta_pct"),
        (pl.col("total_pct_after") - pl.col("total_pct_before")).alias("total_delta_pct"),
        pl.when(pl.col("id") < 0).then(pl.lit("other"))
        .when(pl.col("total_pct_before") == 0).then(pl.lit("added"))
        .when(pl.col("total_pct_after") == 0).then(pl.lit("removed"))
        .otherwise(pl.lit("both")).alias("status"),
    )
    return fg.drop([c for c in fg.columns if c.endswith(("_ms", "_size")) or c in ("self_pct", "total_pct")])
