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


def union_tree(a: Profile, b: Profile, *, match_lines: bool = False, raw: bool = False):
    """The outer join of two merged call trees on key paths.

    Returns (keys frame, parent, key index, self_pct_before, self_pct_after) of the union tree
    (node 0 the root, parents first); with ``raw``, also each side's self values in the profiles'
    unit (ms or bytes)."""
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
    if raw:
        rb = np.bincount(u_of[:na], weights=ma.self_value, minlength=n)
        ra = np.bincount(u_of[na:], weights=mb.self_value[1:], minlength=n)
        ra[0] += mb.self_value[0]
        return keys, u_parent, u_frame, before, after, rb, ra
    return keys, u_parent, u_frame, before, after


def _union_layout(a: Profile, keys, parent, kframe, w, *, min_frac, max_depth, root=0):
    """The flame graph of the union tree weighted by ``w`` (percent of one side, or the larger of
    the two); returns it with, per rectangle, its union node (``pick``) and whether it has one
    (``valid``: false for ``(other)``)."""
    n = len(parent)
    frames = keys.rename({"name": "function"}).with_columns(
        pl.lit("").alias("script_id"), pl.col("line").cast(pl.Int32), pl.lit(0, dtype=pl.Int32).alias("column")
    ).select("function", "script_id", "url", "line", "column", "category")
    u = a.derive(path=None, source="diff", frames=frames, parent=parent, frame=kframe, node_id=np.arange(n),
                 hit_count=np.zeros(n, np.int64), self_value=w, sample_node=np.zeros(0, np.int64),
                 sample_ts_us=np.zeros(0), sample_weight=np.zeros(0), start_us=0.0, end_us=0.0, meta={})
    fg = flame_graph(u, min_frac=min_frac, max_depth=max_depth, root=root)
    mu = merged(u)  # identity up to renumbering; map merged ids back to union nodes
    back = np.full(mu.n, -1, np.int64)
    back[mu.of_node] = np.arange(n)
    ids = fg["id"].to_numpy()
    un = np.where(ids >= 0, back[np.maximum(ids, 0)], -1)
    return fg, un >= 0, np.maximum(un, 0)


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
    fg, valid, pick = _union_layout(a, keys, parent, kframe, w, min_frac=min_frac, max_depth=max_depth)

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


#: a frame whose colour delta is smaller than this (percentage points, or ms / bytes with
#: ``normalize=False``) is "same" and drawn white
SAME_EPS = 0.01
RECT_COLUMNS = ["id", "parent_id", "depth", "x0", "x1", "function", "url", "line", "category", "status", "delta",
                "before_self_pct", "after_self_pct", "delta_self_pct", "before_total_pct", "after_total_pct",
                "delta_total_pct"]


def gregg_rects(a: Profile, b: Profile, *, shape: str = "after", color_by: str = "self", normalize: bool = True,
                min_frac: float = 0.001, max_depth: int | None = None, root: int = 0,
                match_lines: bool = False) -> pl.DataFrame:
    """Rectangles of Brendan Gregg's differential flame graph from ``a`` (before) to ``b`` (after).

    The layout is one profile's own flame graph: ``shape="after"`` (flamegraph.pl on the after
    profile, what ``difffolded.pl before after | flamegraph.pl`` draws) or ``shape="before"`` (the
    ``--negate`` pairing, where frames that vanished or shrank stay visible). Widths are that
    profile's shares: the root spans 0–100 (percent of the shaped profile; a zoom, ``root`` > 0,
    spans the zoomed frame's share). Frames of the other profile only are not drawn.

    Colour: ``delta`` is the change of each frame (call path) from before to after, in its self
    share (``color_by="self"``, Gregg's colouring: where the time moved) or its total share
    (``color_by="total"``: whether the subtree as a whole got cheaper). With ``normalize`` (the
    default, ``difffolded.pl -n``) shares are percent of each profile's own total, so recordings of
    different lengths compare; ``normalize=False`` compares absolute values (ms, or bytes for heap
    profiles), right only when both runs did the same work (the same requests replayed), since a
    longer run has more of everything. ``status``: ``new`` (a call path absent from before: in the
    after shape), ``gone`` (absent from after: in the before shape), else ``grew``/``shrank``/``same``
    by the sign of ``delta`` (``same`` when |delta| < ``SAME_EPS``).

    Columns: id, parent_id, depth, x0, x1, function, url, line, category, status, delta,
    before/after/delta self and total percentages, and before/after self and total in the unit
    (``before_self_ms`` ... or ``..._size``).
    """
    if shape not in ("after", "before"):
        raise UsageError(f"shape must be 'after' or 'before', not {shape!r}")
    if color_by not in ("self", "total"):
        raise UsageError(f"color_by must be 'self' or 'total', not {color_by!r}")
    keys, parent, kframe, before, after, rb, ra = union_tree(a, b, match_lines=match_lines, raw=True)
    n = len(parent)
    order = np.arange(n, dtype=np.int64)
    tb, ta = K.subtree_totals(order, parent, before), K.subtree_totals(order, parent, after)
    trb, tra = K.subtree_totals(order, parent, rb), K.subtree_totals(order, parent, ra)
    w = after if shape == "after" else before
    fg, valid, pick = _union_layout(a, keys, parent, kframe, w, min_frac=min_frac, max_depth=max_depth, root=root)

    def col(arr):
        return np.where(valid, arr[pick], np.nan)

    unit = "ms" if a.self_col.endswith("_ms") else "size"
    fg = fg.rename({"name": "function"}).with_columns(
        pl.Series("before_self_pct", col(before)), pl.Series("after_self_pct", col(after)),
        pl.Series("before_total_pct", col(tb)), pl.Series("after_total_pct", col(ta)),
        pl.Series(f"before_self_{unit}", col(rb)), pl.Series(f"after_self_{unit}", col(ra)),
        pl.Series(f"before_total_{unit}", col(trb)), pl.Series(f"after_total_{unit}", col(tra)),
    ).with_columns(
        (pl.col("after_self_pct") - pl.col("before_self_pct")).alias("delta_self_pct"),
        (pl.col("after_total_pct") - pl.col("before_total_pct")).alias("delta_total_pct"),
    )
    if normalize:
        delta = pl.col(f"delta_{color_by}_pct")
    else:
        delta = pl.col(f"after_{color_by}_{unit}") - pl.col(f"before_{color_by}_{unit}")
    fg = fg.with_columns(delta.fill_nan(None).alias("delta")).with_columns(
        pl.when(pl.col("id") < 0).then(pl.lit("other"))
        .when(pl.col("before_total_pct") == 0).then(pl.lit("new"))
        .when(pl.col("after_total_pct") == 0).then(pl.lit("gone"))
        .when(pl.col("delta") >= SAME_EPS).then(pl.lit("grew"))
        .when(pl.col("delta") <= -SAME_EPS).then(pl.lit("shrank"))
        .otherwise(pl.lit("same")).alias("status"))
    raw_cols = [f"{side}_{kind}_{unit}" for side in ("before", "after") for kind in ("self", "total")]
    # frames of the other profile only have no width in this shape: they are not drawn
    return fg.filter(pl.col("x1") > pl.col("x0")).select(*RECT_COLUMNS, *raw_cols)


def change_table(a: Profile, b: Profile, *, top: int = 15, match_lines: bool = False) -> pl.DataFrame:
    """The largest changes per function, the numbers beside the picture: function, url, line,
    status (new, gone, grew, shrank, same: by the total share), self and total shares of both
    profiles and their deltas, largest |total delta| first, then every new and gone function."""
    ft = function_table(a, b, match_lines=match_lines).with_columns(
        pl.when(pl.col("status") == "added").then(pl.lit("new")).when(pl.col("status") == "removed")
        .then(pl.lit("gone")).when(pl.col("total_delta_pct") >= SAME_EPS).then(pl.lit("grew"))
        .when(pl.col("total_delta_pct") <= -SAME_EPS).then(pl.lit("shrank")).otherwise(pl.lit("same"))
        .alias("status"))
    both = ft.filter(~pl.col("status").is_in(["new", "gone"])).sort(
        [pl.col("total_delta_pct").abs(), "function"], descending=[True, False]).head(top)
    once = ft.filter(pl.col("status").is_in(["new", "gone"])).sort(
        ["status", pl.max_horizontal("total_pct_before", "total_pct_after"), "function"],
        descending=[False, True, False])
    return pl.concat([both, once]).select(
        "function", "url", "line", "status", "self_pct_before", "self_pct_after", "self_delta_pct",
        "total_pct_before", "total_pct_after", "total_delta_pct")


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
    side only), ``changes()`` (the largest changes), ``flame_rects()`` (Gregg's rectangles),
    ``flame()`` (Gregg's differential flame graph: one profile's shape, red grew, blue shrank) and
    ``flame_graph()`` (the union layout of both trees, for the widths "max")."""

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

    def flame_rects(self, **kw) -> pl.DataFrame:
        """Rectangles of Gregg's differential flame graph (``gregg_rects``: ``shape``,
        ``color_by``, ``normalize``, ``min_frac``, ``max_depth``, ``root``)."""
        return gregg_rects(self.before, self.after, match_lines=self.match_lines, **kw)

    def changes(self, top: int = 15) -> pl.DataFrame:
        """The largest changes per function, and the new and gone ones (``change_table``)."""
        return change_table(self.before, self.after, top=top, match_lines=self.match_lines)

    def names(self) -> tuple[str, str]:
        """File names of the two profiles (never the author's absolute paths)."""
        from pathlib import PurePath
        return tuple(PurePath(str(p.path)).name if p.path else tag
                     for p, tag in ((self.before, "before"), (self.after, "after")))

    def flame(self, *, shape: str = "after", color_by: str = "self", normalize: bool = True,
              min_frac: float = 0.002, max_depth: int | None = None, table: bool = True,
              title: str | None = None, chart_width: int = 1000, row_height: int = 18, width: str | None = None):
        """Gregg's differential flame graph as an altair chart, with the change table below it
        (``table=False`` for the graph alone). ``shape``, ``color_by``, ``normalize``: see
        ``gregg_rects``. (``width=`` is the old name of ``shape``.)"""
        from ..charts.flame import gregg_figure
        shape = width or shape
        rects = self.flame_rects(shape=shape, color_by=color_by, normalize=normalize, min_frac=min_frac,
                                 max_depth=max_depth)
        b, a = self.names()
        return gregg_figure(rects, self.changes() if table else None,
                            title=title or f"{b} → {a}: the {shape} profile's shape, coloured by the change in "
                            f"{color_by} {'share' if normalize else 'time'}", table_title=f"largest changes per "
                            f"function ({b} → {a})", shape=shape, color_by=color_by, normalize=normalize,
                            width=chart_width, row_height=row_height)

    def __repr__(self) -> str:
        return f"<ProfileDiff {self.functions.height} functions>\n{self.functions.head(15)}"

    def _repr_html_(self) -> str:
        return self.functions.head(25)._repr_html_()


def diff(before: Profile, after: Profile, *, match_lines: bool = False) -> ProfileDiff:
    """Compare two profiles (see ``ProfileDiff``)."""
    return ProfileDiff(before, after, match_lines=match_lines)
