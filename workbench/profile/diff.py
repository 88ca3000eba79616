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

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _kernels as K
from .calltree import merged
from .flame import flame_graph

if TYPE_CHECKING:
    from .model import Profile


def _keys(p: Profile, match_lines: bool) -> pl.DataFrame:
    f = p.frame_labels
    line = pl.col("line") if match_lines else pl.when(pl.col("name") == "(anonymous)").then(pl.col("line")).otherwise(0)
    return f.select("name", "url", line.alias("line"), "category")


def _check(a: Profile, b: Profile) -> None:
    if a.kind != b.kind:
        raise UsageError(f"cannot compare a {a.kind} profile with a {b.kind} profile")


def function_table(a: Profile, b: Profile, *, match_lines: bool = False, min_delta_pct: float = 0.0) -> pl.DataFrame:
    """Function-level changes from ``a`` (before) to ``b`` (after), largest |self delta| first.

    Columns: function, url, line, category, status (added/removed/grew/shrank/same), self_pct_before/after,
    self_delta_pct, total_pct_before/after, total_delta_pct, and the raw self/total values of each side
    (``self_ms_before`` ... or ``self_size_before`` ...).
    """
    _check(a, b)
    sc, tc = a.self_col, a.total_col

    def side(p: Profile, tag: str) -> pl.DataFrame:
        fn = p.hotspots()
        lines = pl.when(pl.col("function") == "(anonymous)").then(pl.col("line")).otherwise(0) if not match_lines \
            else pl.col("line")
        return fn.with_columns(lines.alias("line")).group_by("function", "url", "line").agg(
            pl.col("category").first().alias(f"category_{tag}"),
            pl.col("self_samples").sum().alias(f"self_samples_{tag}"),
            pl.col(sc).sum().alias(f"{sc}_{tag}"), pl.col(tc).sum().alias(f"{tc}_{tag}"),
            pl.col("self_pct").sum().alias(f"self_pct_{tag}"), pl.col("total_pct").sum().alias(f"total_pct_{tag}"))

    j = side(a, "before").join(side(b, "after"), on=["function", "url", "line"], how="full", coalesce=True)
    j = j.with_columns(pl.coalesce("category_before", "category_after").alias("category")) \
        .drop("category_before", "category_after")
    num = [c for c in j.columns if c not in ("function", "url", "line", "category")]
    j = j.with_columns(pl.col(c).fill_null(0) for c in num)
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
        "function", "url", "line", "category", "status", "self_pct_before", "self_pct_after", "self_delta_pct",
        "total_pct_before", "total_pct_after", "total_delta_pct", "self_samples_before", "self_samples_after",
        f"{sc}_before", f"{sc}_after", f"{tc}_before", f"{tc}_after",
    ).sort([pl.col("self_delta_pct").abs(), "function"], descending=[True, False])


def union_tree(a: Profile, b: Profile, *, match_lines: bool = False):
    """The outer join of two merged call trees on key paths.

    Returns (keys frame, parent, key index, self_pct_before, self_pct_after) of the union tree
    (node 0 the root, parents first)."""
    _check(a, b)
    ka, kb = _keys(a, match_lines), _keys(b, match_lines)
    keys = pl.concat([ka, kb]).unique(["name", "url", "line"], keep="first", maintain_order=True)
    kidx = keys.select("name", "url", "line").with_row_index("k")

    def key_of_frames(k: pl.DataFrame) -> np.ndarray:
        return k.select("name", "url", "line").with_row_index("_r").join(
            kidx, on=["name", "url", "line"], how="left", nulls_equal=True).sort("_r")["k"].to_numpy().astype(np.int64)

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
    ).select("function", "script_id", "url", "line", "column", "category")
    u = a.derive(path=None, source="diff", frames=frames, parent=parent, frame=kframe, node_id=np.arange(n),
                 hit_count=np.zeros(n, np.int64), self_value=w, sample_node=np.zeros(0, np.int64),
                 sample_ts_us=np.zeros(0), sample_weight=np.zeros(0), start_us=0.0, end_us=0.0, meta={})
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


def stack_table(a: Profile, b: Profile, *, match_lines: bool = False, min_delta_pct: float = 0.0) -> pl.DataFrame:
    """Stack-level changes: one row per call path (root excluded, frames joined by ``;``) of the union of
    the two sibling-merged trees. Columns: stack, depth, function, status (added/removed/grew/shrank/
    same), self_pct_before/after, self_delta_pct, total_pct_before/after, total_delta_pct; largest
    |total delta| first."""
    keys, parent, kframe, before, after = union_tree(a, b, match_lines=match_lines)
    n = len(parent)
    order = np.arange(n, dtype=np.int64)
    tb = K.subtree_totals(order, parent, before)
    ta = K.subtree_totals(order, parent, after)
    depth = K.depths(parent)
    lab = keys["name"].str.replace_all(";", ":").to_numpy().astype(object)[kframe]
    path = np.empty(n, dtype=object)
    path[0] = ""
    for d in range(1, int(depth.max()) + 1 if n > 1 else 1):  # one vectorised step per depth level
        at = np.nonzero(depth == d)[0]
        path[at] = lab[at] if d == 1 else path[parent[at]] + ";" + lab[at]
    sel = np.arange(1, n)
    df = pl.DataFrame({
        "stack": pl.Series(path[sel], dtype=pl.String), "depth": depth[sel],
        "function": pl.Series(lab[sel], dtype=pl.String),
        "self_pct_before": before[sel], "self_pct_after": after[sel], "self_delta_pct": after[sel] - before[sel],
        "total_pct_before": tb[sel], "total_pct_after": ta[sel], "total_delta_pct": ta[sel] - tb[sel],
    }).with_columns(
        pl.when(pl.col("total_pct_before") == 0).then(pl.lit("added"))
        .when(pl.col("total_pct_after") == 0).then(pl.lit("removed"))
        .when(pl.col("total_delta_pct") > 0).then(pl.lit("grew"))
        .when(pl.col("total_delta_pct") < 0).then(pl.lit("shrank"))
        .otherwise(pl.lit("same")).alias("status"))
    if min_delta_pct:
        df = df.filter(pl.col("total_delta_pct").abs() >= min_delta_pct)
    return df.select("stack", "depth", "function", "status", "self_pct_before", "self_pct_after", "self_delta_pct",
                     "total_pct_before", "total_pct_after", "total_delta_pct") \
        .sort([pl.col("total_delta_pct").abs(), "stack"], descending=[True, False])


class ProfileDiff:
    """``diff(before, after)``: two profiles compared, each normalised to percent of its own total.

    ``functions`` (per function), ``stacks`` (per call path), ``added``/``vanished`` (functions on one
    side only), ``flame_graph()`` (rectangles) and ``flame()`` (an altair differential flame graph:
    red growth, blue reduction, purple new frames, grey vanished ones)."""

    def __init__(self, before: Profile, after: Profile, *, match_lines: bool = False):
        _check(before, after)
        self.before, self.after, self.match_lines = before, after, match_lines
        self.functions = function_table(before, after, match_lines=match_lines)
        self._stacks = None

    @property
    def stacks(self) -> pl.DataFrame:
        if self._stacks is None:
            self._stacks = stack_table(self.before, self.after, match_lines=self.match_lines)
        return self._stacks

    @property
    def added(self) -> pl.DataFrame:
        """Functions only in ``after`` (new frames)."""
        return self.functions.filter(pl.col("status") == "added")

    @property
    def vanished(self) -> pl.DataFrame:
        """Functions only in ``before``."""
        return self.functions.filter(pl.col("status") == "removed")

    removed = vanished

    def flame_graph(self, **kw) -> pl.DataFrame:
        return diff_flame_graph(self.before, self.after, match_lines=self.match_lines, **kw)

    def flame(self, *, width: str = "max", min_frac: float = 0.002, max_depth: int | None = None,
              title: str | None = None, chart_width: int = 1000, row_height: int = 18):
        """The differential flame graph as an altair chart. ``width``: "max" (default: each frame as wide
        as the larger of its two shares, so shrunk and vanished frames stay as visible as grown and new
        ones), "after" (flamegraph.pl) or "before" (``--negate`` pairing)."""
        from ..charts.flame import diff_chart
        dg = self.flame_graph(width=width, min_frac=min_frac, max_depth=max_depth)
        return diff_chart(dg, title=title or f"{self.before.path or 'before'} → {self.after.path or 'after'}",
                          width=chart_width, row_height=row_height,
                          x_title={"max": "percent of profile (the larger of before and after)",
                                   "after": "percent of the after profile",
                                   "before": "percent of the before profile"}[width])

    def __repr__(self) -> str:
        return f"<ProfileDiff {self.functions.height} functions>\n{self.functions.head(15)}"

    def _repr_html_(self) -> str:
        return self.functions.head(25)._repr_html_()


def diff(before: Profile, after: Profile, *, match_lines: bool = False) -> ProfileDiff:
    """Compare two profiles (see ``ProfileDiff``)."""
    return ProfileDiff(before, after, match_lines=match_lines)
