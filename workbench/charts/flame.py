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


#: frames new in the after shape / gone in the before shape get this outline (their fill is the
#: extreme red / blue of the scale: all of their share appeared or vanished)
NEW_STROKE, GONE_STROKE = "#6a00a8", "#08306b"


def _gregg_layers(rects: pl.DataFrame, *, shape: str, color_by: str, normalize: bool, width: int, row_height: int,
                  zoom: bool = False, highlight: bool = False):
    unit = "ms" if any(c.endswith("_ms") for c in rects.columns) else "size"
    m = float(rects.filter(pl.col("status") != "other")["delta"].abs().max() or 0.0) or 1.0
    df = rects.with_columns(pl.col("delta").fill_null(0.0).fill_nan(0.0),
                            (pl.col("delta").abs() > 0.55 * m).alias("_dark"))
    if "match" not in df.columns:
        df = df.with_columns(pl.lit(True).alias("match"))
    depth_max = int(df["depth"].max()) + 1 if df.height else 1
    lo, hi = (float(df["x0"].min()), float(df["x1"].max())) if df.height else (0.0, 100.0)
    data = _labels(df, "x0", "x1", width, name="function").with_columns(
        (pl.col("depth") + 1).alias("depth_top"), (pl.col("depth") + 0.5).alias("ymid"),
        pl.when(pl.col("_dark")).then(pl.lit("white")).otherwise(pl.lit("#1a1a1a")).alias("ink"),
        pl.when(pl.col("status") == "new").then(pl.lit(NEW_STROKE)).when(pl.col("status") == "gone")
        .then(pl.lit(GONE_STROKE)).otherwise(pl.lit("white")).alias("edge")).drop("_dark").to_pandas()
    base = alt.Chart(data)
    zoomed = bool(df.height) and float(df.filter(pl.col("depth") == 0)["x1"].max() or 100.0) < 99.999
    x = alt.X("x0:Q", title=f"percent of the {shape} profile" + (" (zoomed)" if zoomed else ""),
              scale=alt.Scale(domain=[lo, hi], nice=False, zero=False), axis=alt.Axis(grid=False))
    yscale = alt.Scale(domain=[0, depth_max])
    y = alt.Y("depth:Q", axis=None, scale=yscale)
    what = f"Δ {color_by} " + ("(% points)" if normalize else f"({'ms' if unit == 'ms' else 'bytes'})")
    tip = [alt.Tooltip("function:N"), "url:N", "line:Q", "status:N",
           alt.Tooltip("before_self_pct:Q", format=".2f", title="self % before"),
           alt.Tooltip("after_self_pct:Q", format=".2f", title="self % after"),
           alt.Tooltip("before_total_pct:Q", format=".2f", title="total % before"),
           alt.Tooltip("after_total_pct:Q", format=".2f", title="total % after"),
           alt.Tooltip(f"before_self_{unit}:Q", format=",.1f", title=f"self {unit} before"),
           alt.Tooltip(f"after_self_{unit}:Q", format=",.1f", title=f"self {unit} after"),
           alt.Tooltip(f"before_total_{unit}:Q", format=",.1f", title=f"total {unit} before"),
           alt.Tooltip(f"after_total_{unit}:Q", format=",.1f", title=f"total {unit} after"),
           alt.Tooltip("delta:Q", format="+.2f", title=what)]
    color = alt.condition("datum.status == 'other'", alt.value(CATEGORY_COLORS[OTHER]),
                          alt.Color("delta:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-m, m]),
                                    legend=alt.Legend(title=what + ": red grew, blue shrank", orient="top",
                                                      gradientLength=260, titleLimit=600)))
    enc = dict(x=x, x2="x1:Q", y=y, y2="depth_top:Q", tooltip=tip, color=color,
               stroke=alt.Stroke("edge:N", scale=None),
               strokeWidth=alt.condition("datum.status == 'new' || datum.status == 'gone'", alt.value(2.0),
                                         alt.value(0.6)))
    if highlight:
        enc["opacity"] = alt.condition("datum.match", alt.value(1.0), alt.value(0.25))
    rect = base.mark_rect().encode(**enc)
    if zoom:
        rect = rect.add_params(alt.selection_point(name="zoom", fields=["id"], on="click", clear=False, empty=False))
    text = base.mark_text(align="left", baseline="middle", dx=3, fontSize=11).encode(
        x=x, y=alt.Y("ymid:Q", axis=None, scale=yscale), text="label:N", tooltip=tip,
        color=alt.Color("ink:N", scale=None))
    return rect, text, data, max(row_height * depth_max, 60)


def gregg_chart(rects: pl.DataFrame, *, title: str = "differential flame graph", shape: str = "after",
                color_by: str = "self", normalize: bool = True, width: int = 1000, row_height: int = 18,
                zoom: bool = False, highlight: bool = False):
    """Brendan Gregg's differential flame graph of ``ProfileDiff.flame_rects`` rectangles: one
    profile's shape (0–100 % of it), each frame filled by its change on a diverging scale (red grew,
    blue shrank, white unchanged; saturation scaled to the largest change), frames new in the after
    shape outlined in purple and frames gone in the before shape in dark blue; ``(other)`` grey.
    Tooltips carry both profiles' self and total (percent and ms/bytes). With ``zoom`` a click
    selection ``zoom`` on the rectangles' id (the FlameGraph widget's diff mode)."""
    rect, text, data, height = _gregg_layers(rects, shape=shape, color_by=color_by, normalize=normalize, width=width,
                                             row_height=row_height, zoom=zoom, highlight=highlight)
    marks = ("outlined purple: new in the after profile" if shape == "after"
             else "outlined dark blue: gone from the after profile")
    return alt.layer(rect, text, data=data).properties(
        width=width, height=height, title=alt.TitleParams(title, subtitle=[f"{marks}; grey: narrow frames merged "
                                                                         "into (other)"]))


def gregg_figure(rects: pl.DataFrame, changes: pl.DataFrame | None, *, title: str, table_title: str, **kw):
    """Gregg's graph with the change table below it (``changes=None``: the graph alone)."""
    chart = gregg_chart(rects, title=title, **kw)
    if changes is None:
        return chart
    return alt.vconcat(chart, change_table_chart(changes, title=table_title, width=kw.get("width", 1000)))


def change_table_chart(changes: pl.DataFrame, *, title: str = "largest changes per function", width: int = 1000,
                       max_rows: int = 25):
    """``ProfileDiff.changes()`` as a table drawn by vega (so it is in the PNG/SVG beside the
    graph): function, status, self and total shares of both profiles and their deltas."""
    df = changes.head(max_rows).with_columns(
        pl.col("function").str.slice(0, 48).alias("function"),
        pl.format("{}%", pl.col("self_pct_before").round(2)).alias("self before"),
        pl.format("{}%", pl.col("self_pct_after").round(2)).alias("self after"),
        pl.format("{}", pl.col("self_delta_pct").round(2)).alias("Δ self"),
        pl.format("{}%", pl.col("total_pct_before").round(2)).alias("total before"),
        pl.format("{}%", pl.col("total_pct_after").round(2)).alias("total after"),
        pl.format("{}", pl.col("total_delta_pct").round(2)).alias("Δ total"),
    ).with_row_index("row")
    cols = ["function", "status", "self before", "self after", "Δ self", "total before", "total after", "Δ total"]
    xs = [0, 330, 400, 480, 560, 640, 730, 820]
    body = df.select((pl.col("row") + 1).alias("row"), "status",
                     *[pl.col(c).cast(pl.String).alias(c) for c in cols if c != "status"],
                     pl.col("status").alias("status_text"))
    header = pl.DataFrame({"row": [0], "status": ["header"], **{c: [c] for c in cols if c != "status"},
                           "status_text": ["status"]}).cast({"row": body["row"].dtype})
    table = pl.concat([header, body])
    order = list(range(table.height))
    color = alt.Color("status:N", scale=alt.Scale(domain=["header", "grew", "shrank", "same", "new", "gone"],
                                                   range=["#000000", "#b2182b", "#2166ac", "#444444", NEW_STROKE,
                                                          GONE_STROKE]), legend=None)
    parts = []
    for c, x0 in zip(cols, xs):
        src = "status_text" if c == "status" else c
        d = table.select("row", "status", pl.col(src).alias("v")).with_columns(pl.lit(x0).alias("x")).to_pandas()
        for head in (True, False):
            parts.append(alt.Chart(d).transform_filter(f"datum.status {'==' if head else '!='} 'header'").mark_text(
                align="left", fontSize=11, fontWeight="bold" if head else "normal").encode(
                x=alt.X("x:Q", axis=None, scale=alt.Scale(domain=[0, width])),
                y=alt.Y("row:O", axis=None, sort=order), text="v:N", color=color))
    return alt.layer(*parts).properties(width=width, height=16 * (df.height + 1) + 8, title=title)


def zoomable_sandwich(callers_fg: pl.DataFrame, callees_fg: pl.DataFrame, *, function: str, width: int = 1000,
                      row_height: int = 18):
    """The Sandwich of one function as two clickable flame graphs: its callers (inverted: the
    function at the top, the outermost callers below it... drawn top-down) above, its callees below;
    a click selection ``callers`` / ``callees`` on each (what the FlameGraph widget listens to, to
    re-centre the sandwich on the clicked function)."""
    def one(fg, name, title, invert):
        chart = flame_graph_chart(fg.with_columns(pl.lit(True).alias("match")), title=title, width=width,
                                  row_height=row_height)
        rect, text = chart.layer
        if invert:   # callers: the function on top, its callers growing downwards
            depth_max = int(fg["depth"].max()) + 1
            sc = alt.Scale(domain=[depth_max, 0])
            rect = rect.encode(y=alt.Y("depth:Q", axis=None, scale=sc))
            text = text.encode(y=alt.Y("ymid:Q", axis=None, scale=sc))
        sel = alt.selection_point(name=name, fields=["id"], on="click", clear=False, empty=False)
        return alt.layer(rect.add_params(sel), text, data=chart.data).properties(
            width=chart.width, height=chart.height, title=chart.title)

    return alt.vconcat(one(callers_fg, "callers", f"callers of {function}", True),
                       one(callees_fg, "callees", f"callees of {function}", False)).resolve_scale(color="independent")


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
