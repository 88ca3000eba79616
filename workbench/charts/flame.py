"""Altair charts of profiles: the flame graph (root at the bottom, coloured by 0x's categories), the
flame chart (time on x, DevTools' Performance view), the differential flame graph, the Sandwich view,
and SVG/HTML exports of them. Views only: the rectangles come from the profile's analyses (through
the model's methods: ``flame_graph``, ``flame_chart_rects``; a ``ProfileDiff``'s ``flame_graph``);
this module computes nothing but label fitting and colours, and imports no analysis."""
from __future__ import annotations

import io

import altair as alt
import polars as pl

OTHER = "(other)"   # the category of pruned rectangles (workbench.profile.flame)

#: colours of 0x's tiers (clinic flame's code areas), readable under black labels
CATEGORY_COLORS = {"app": "#f28e2b", "deps": "#edc948", "core": "#8cd17d", "v8": "#bab0ac", "gc": "#b07aa1",
                   "idle": "#a0cbe8", "program": "#d7d7d7", OTHER: "#efefef"}
#: differential graphs: a diverging scale for frames on both sides, and flat colours for the rest
ADDED_COLOR, REMOVED_COLOR = "#9467bd", "#7f7f7f"
MAX_RECTS = 3000


def _labels(df: pl.DataFrame, x0: str, x1: str, width: int, name: str = "name") -> pl.DataFrame:
    span = (df[x1].max() - df[x0].min()) or 1.0
    px = (pl.col(x1) - pl.col(x0)) * (width / span)
    n = ((px - 4) / 6.2).floor().cast(pl.Int64)  # ~6.2 px per character at 11 px
    return df.with_columns(
        pl.when(n >= 3).then(
            pl.when(pl.col(name).str.len_chars() <= n).then(pl.col(name))
            .otherwise(pl.col(name).str.slice(0, pl.max_horizontal(n - 1, 1)) + "…")
        ).otherwise(pl.lit("")).alias("label"))


def _rects(df: pl.DataFrame, x0: str, x1: str, color, tooltip: list, width: int, row: int, title: str,
           x_title: str, invert: bool = False):
    depth_max = int(df["depth"].max()) + 1
    data = _labels(df, x0, x1, width).with_columns(
        (pl.col("depth") + 1).alias("depth_top"), (pl.col("depth") + 0.5).alias("ymid")).to_pandas()
    base = alt.Chart(data)
    x = alt.X(f"{x0}:Q", title=x_title, axis=alt.Axis(grid=False),
              scale=alt.Scale(domain=[float(df[x0].min()), float(df[x1].max())], nice=False, zero=False))
    yscale = alt.Scale(domain=[depth_max, 0] if invert else [0, depth_max])
    y = alt.Y("depth:Q", axis=None, scale=yscale)
    rect = base.mark_rect(stroke="white", strokeWidth=0.6).encode(
        x=x, x2=f"{x1}:Q", y=y, y2="depth_top:Q", color=color, tooltip=tooltip)
    text = base.mark_text(align="left", baseline="middle", dx=3, fontSize=11, color="#1a1a1a",
                          font="DejaVu Sans, Helvetica, Arial, sans-serif").encode(
        x=x, y=alt.Y("ymid:Q", axis=None, scale=yscale), text="label:N", tooltip=tooltip)
    return (rect + text).properties(width=width, height=max(row * depth_max, 60), title=title)


def flame_graph_chart(fg: pl.DataFrame, *, title: str = "flame graph", width: int = 1000, row_height: int = 18):
    """Altair chart of ``flame_graph`` rectangles (root at the bottom), coloured by category."""
    value = "total_ms" if "total_ms" in fg.columns else "total_size"
    selfc = "self_ms" if value == "total_ms" else "self_size"
    present = [c for c in CATEGORY_COLORS if c in set(fg["category"].to_list())]
    color = alt.Color("category:N", scale=alt.Scale(domain=present, range=[CATEGORY_COLORS[c] for c in present]),
                      legend=alt.Legend(title="category", orient="top"))
    unit = "ms" if value == "total_ms" else "bytes"
    tip = [alt.Tooltip("name:N", title="function"), "url:N", "line:Q", "category:N",
           alt.Tooltip(f"{selfc}:Q", format=",.1f", title=f"self ({unit})"),
           alt.Tooltip("self_pct:Q", format=".2f", title="self %"),
           alt.Tooltip(f"{value}:Q", format=",.1f", title=f"total ({unit})"),
           alt.Tooltip("total_pct:Q", format=".2f", title="total %")]
    return _rects(fg, "x0", "x1", color, tip, width, row_height, title, "milliseconds" if unit == "ms" else "bytes")


def zoomable_flame_graph(fg: pl.DataFrame, *, title: str, width: int = 1000, row_height: int = 18,
                         highlight: bool = False):
    """The flame graph of ``fg`` with a click selection ``zoom`` on the rectangles' ``id`` (what the
    FlameGraph widget listens to); with ``highlight``, rectangles whose ``match`` column is false fade."""
    chart = flame_graph_chart(fg, title=title, width=width, row_height=row_height)
    sel = alt.selection_point(name="zoom", fields=["id"], on="click", clear=False, empty=False)
    rect, text = chart.layer
    on = "datum.match && " + ("true" if highlight else "false")
    opacity = alt.condition("datum.match", alt.value(1.0), alt.value(0.25)) if highlight else alt.value(1.0)
    rect = rect.add_params(sel).encode(opacity=opacity,
                                       strokeWidth=alt.condition(on, alt.value(2.0), alt.value(0.6)),
                                       stroke=alt.condition(on, alt.value("#000000"), alt.value("white")))
    # the layers share the parent's data: pass it on, or the re-built layer draws nothing
    return alt.layer(rect, text, data=chart.data).properties(width=chart.width, height=chart.height,
                                                              title=chart.title)


def flame_graph_of(p, *, min_frac: float = 0.002, max_depth: int | None = None, root: int = 0,
                   max_rects: int = MAX_RECTS, title: str | None = None, width: int = 1000, row_height: int = 18):
    """``profile.flame()``: the flame graph of ``p`` as an altair chart, pruned to at most
    ``max_rects`` rectangles (narrow frames merged per parent into ``(other)``)."""
    fg = p.flame_graph(min_frac=min_frac, max_depth=max_depth, root=root, max_rects=max_rects)
    return flame_graph_chart(fg, title=title or f"flame graph: {p.path or p.source}", width=width,
                             row_height=row_height)


def flame_chart_chart(fc: pl.DataFrame, *, title: str = "flame chart", width: int = 1000, row_height: int = 18):
    """Altair chart of ``flame_chart`` rectangles: time on x, call depth downwards (as DevTools)."""
    present = [c for c in CATEGORY_COLORS if c in set(fc["category"].to_list())]
    color = alt.Color("category:N", scale=alt.Scale(domain=present, range=[CATEGORY_COLORS[c] for c in present]),
                      legend=alt.Legend(title="category", orient="top"))
    tip = [alt.Tooltip("name:N", title="function"), "url:N", "line:Q",
           alt.Tooltip("start_ms:Q", format=",.2f"), alt.Tooltip("duration_ms:Q", format=",.2f"),
           alt.Tooltip("self_ms:Q", format=",.2f")]
    return _rects(fc, "start_ms", "end_ms", color, tip, width, row_height, title, "milliseconds since start",
                  invert=True)


def flame_chart_of(p, *, min_ms: float | None = None, max_rects: int = MAX_RECTS, title: str | None = None,
                   width: int = 1000, row_height: int = 18):
    """``profile.flame_chart()``: the time-ordered flame chart as an altair chart. Frames shorter than
    ``min_ms`` are dropped (by default the shortest ones, so that at most ``max_rects`` remain)."""
    fc = p.flame_chart_rects(min_ms=min_ms or 0.0)
    if min_ms is None and fc.height > max_rects:
        cut = float(fc["duration_ms"].sort(descending=True)[max_rects - 1])
        fc = fc.filter(pl.col("duration_ms") > cut)
    return flame_chart_chart(fc, title=title or f"flame chart: {p.path or p.source}", width=width,
                             row_height=row_height)


def diff_chart(dg: pl.DataFrame, *, title: str = "differential flame graph", width: int = 1000,
               row_height: int = 18, x_title: str = "percent of profile"):
    """Altair chart of ``diff_flame_graph`` rectangles. Frames on both sides: a diverging scale on the
    self delta (percentage points; red grew, blue shrank, white unchanged: flamegraph.pl's colours);
    frames only in *after*: purple (d3-flame-graph gives new frames their own colour); only in
    *before*: grey; ``(other)``: light grey."""
    both = dg.filter(pl.col("status") == "both")
    m = float(both["self_delta_pct"].abs().max() or 0.0) or 1.0
    df = dg.with_columns(pl.col("self_delta_pct").fill_nan(0.0).fill_null(0.0),
                         pl.when(pl.col("status") == "added").then(pl.lit("new in after"))
                         .when(pl.col("status") == "removed").then(pl.lit("gone in after"))
                         .when(pl.col("status") == "other").then(pl.lit(OTHER))
                         .otherwise(pl.lit(None)).alias("kind"))
    depth_max = int(df["depth"].max()) + 1
    dark = (pl.col("status") == "both") & (pl.col("self_delta_pct").abs() > 0.55 * m) \
        | pl.col("status").is_in(["added", "removed"])
    data = _labels(df, "x0", "x1", width).with_columns(
        (pl.col("depth") + 1).alias("depth_top"), (pl.col("depth") + 0.5).alias("ymid"),
        pl.when(dark).then(pl.lit("white")).otherwise(pl.lit("#1a1a1a")).alias("ink")).to_pandas()
    base = alt.Chart(data)
    x = alt.X("x0:Q", title=x_title, scale=alt.Scale(domain=[0, float(df["x1"].max())], nice=False),
              axis=alt.Axis(grid=False))
    y = alt.Y("depth:Q", axis=None, scale=alt.Scale(domain=[0, depth_max]))
    tip = [alt.Tooltip("name:N", title="function"), "url:N", "status:N",
           alt.Tooltip("total_pct_before:Q", format=".2f", title="total % before"),
           alt.Tooltip("total_pct_after:Q", format=".2f", title="total % after"),
           alt.Tooltip("self_delta_pct:Q", format="+.2f", title="Δ self (points)"),
           alt.Tooltip("total_delta_pct:Q", format="+.2f", title="Δ total (points)")]
    enc = dict(x=x, x2="x1:Q", y=y, y2="depth_top:Q", tooltip=tip)
    delta = base.transform_filter("datum.status == 'both'").mark_rect(stroke="white", strokeWidth=0.6).encode(
        color=alt.Color("self_delta_pct:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-m, m]),
                        legend=alt.Legend(title="Δ self (% points)", orient="top", gradientLength=220)), **enc)
    kinds = ["new in after", "gone in after", OTHER]
    flat = base.transform_filter("datum.status != 'both'").mark_rect(stroke="white", strokeWidth=0.6).encode(
        color=alt.Color("kind:N", scale=alt.Scale(domain=kinds, range=[ADDED_COLOR, REMOVED_COLOR,
                                                                      CATEGORY_COLORS[OTHER]]),
                        legend=alt.Legend(title="", orient="top")), **enc)
    text = base.mark_text(align="left", baseline="middle", dx=3, fontSize=11).encode(
        x=x, y=alt.Y("ymid:Q", axis=None, scale=alt.Scale(domain=[0, depth_max])), text="label:N", tooltip=tip,
        color=alt.Color("ink:N", scale=None))
    return (delta + flat + text).resolve_scale(color="independent").properties(
        width=width, height=max(row_height * depth_max, 60), title=title)


def sandwich_chart(sw, **kw):
    """A Sandwich (``prof.sandwich(f)``) as two flame graphs: callers (inverted, above), callees below."""
    return alt.vconcat(flame_graph_of(sw.caller_tree, title=f"callers of {sw.function}", **kw),
                       flame_graph_of(sw.callee_tree, title=f"callees of {sw.function}", **kw))


def to_svg(p, path=None, **kw):
    """The flame graph (``Profile.flame(**kw)``) as SVG text, or written to ``path`` (via vl-convert)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(flame_graph_of(p, **kw).to_json())
    if path is None:
        return svg
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(svg)
    return None


def to_html(p, path=None, **kw):
    """The flame graph as a standalone HTML page (Vega's JavaScript inlined: opens offline), with tooltips."""
    chart = flame_graph_of(p, **kw)
    if path is None:
        buf = io.StringIO()
        chart.save(buf, format="html", inline=True)
        return buf.getvalue()
    chart.save(str(path), format="html", inline=True)
    return None
