"""Views of flame graphs: altair charts of the rectangles ``workbench.profile.flame`` computes, and a
small ipywidgets explorer (focus on a function, show its callers, prune) for JupyterLab.

Charts only render: x0/x1/depth come from the analyses. Colours follow clinic flame's code areas
(app, dependencies under node_modules, Node core, V8/native) or, for differential graphs, a diverging
red (grew) / blue (shrank) scale on the leaf delta as flamegraph.pl does.
"""
from __future__ import annotations

import altair as alt
import polars as pl

AREA_COLORS = {"app": "#e4572e", "deps": "#f3a712", "node": "#76b041", "v8": "#9aa5b1", "(other)": "#d9d9d9"}


def _area() -> pl.Expr:
    url, name = pl.col("url"), pl.col("name")
    return (pl.when(name == "(other)").then(pl.lit("(other)"))
            .when(url.str.contains("node_modules")).then(pl.lit("deps"))
            .when(url.str.starts_with("node:") | url.str.starts_with("internal/")).then(pl.lit("node"))
            .when(url == "").then(pl.lit("v8"))
            .otherwise(pl.lit("app")))


def _labels(df: pl.DataFrame, x0: str, x1: str, width: int) -> pl.DataFrame:
    span = (df[x1].max() - df[x0].min()) or 1.0
    px = (pl.col(x1) - pl.col(x0)) * (width / span)
    n = (px / 7.0).floor().cast(pl.Int64)
    return df.with_columns(
        pl.when(n >= 4).then(
            pl.when(pl.col("name").str.len_chars() <= n).then(pl.col("name"))
            .otherwise(pl.col("name").str.slice(0, pl.max_horizontal(n - 1, 1)) + "…")
        ).otherwise(pl.lit("")).alias("label"))


def _rects(df: pl.DataFrame, x0: str, x1: str, color: alt.Color, tooltip: list, width: int, row: int,
           title: str, x_title: str) -> alt.LayerChart:
    depth_max = int(df["depth"].max()) + 1
    data = _labels(df, x0, x1, width).with_columns((pl.col("depth") + 1).alias("depth_top")).to_pandas()
    base = alt.Chart(data)
    x = alt.X(f"{x0}:Q", title=x_title, scale=alt.Scale(domain=[float(df[x0].min()), float(df[x1].max())], nice=False))
    y = alt.Y("depth:Q", axis=None, scale=alt.Scale(domain=[0, depth_max]))
    rect = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=x, x2=f"{x1}:Q", y=y, y2="depth_top:Q", color=color, tooltip=tooltip)
    text = base.mark_text(align="left", baseline="middle", dx=3, fontSize=10, color="black").encode(
        x=x, y=alt.Y("ymid:Q", axis=None, scale=alt.Scale(domain=[0, depth_max])), text="label:N"
    ).transform_calculate(ymid="datum.depth + 0.5")
    return (rect + text).properties(width=width, height=max(row * depth_max, 60), title=title)


def flame_graph_chart(fg: pl.DataFrame, *, title: str = "flame graph", width: int = 900,
                      row_height: int = 16) -> alt.LayerChart:
    """Altair chart of ``flame_graph`` rectangles (root at the bottom), coloured by code area."""
    value = "total_ms" if "total_ms" in fg.columns else "total_size"
    df = fg.with_columns(_area().alias("area"))
    color = alt.Color("area:N", scale=alt.Scale(domain=list(AREA_COLORS), range=list(AREA_COLORS.values())),
                      legend=alt.Legend(title="code area", orient="top"))
    tip = ["name:N", "url:N", "line:Q", alt.Tooltip(f"{value}:Q", format=",.1f"),
           alt.Tooltip("total_pct:Q", format=".2f"), alt.Tooltip("self_pct:Q", format=".2f")]
    return _rects(df, "x0", "x1", color, tip, width, row_height, title,
                  "milliseconds" if value == "total_ms" else "bytes")


def diff_flame_graph_chart(dg: pl.DataFrame, *, title: str = "differential flame graph", width: int = 900,
                           row_height: int = 16) -> alt.LayerChart:
    """Altair chart of ``diff_flame_graph`` rectangles: red grew, blue shrank (leaf delta, in points of
    percent), white unchanged, as flamegraph.pl colours differential graphs."""
    m = float(dg.filter(pl.col("id") >= 0)["self_delta_pct"].abs().max() or 1.0) or 1.0
    df = dg.with_columns(pl.col("self_delta_pct").fill_nan(0.0).fill_null(0.0))
    color = alt.Color("self_delta_pct:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-m, m]),
                      legend=alt.Legend(title="Δ self (% points)", orient="top"))
    tip = ["name:N", "url:N", "status:N", alt.Tooltip("total_pct_before:Q", format=".2f"),
           alt.Tooltip("total_pct_after:Q", format=".2f"), alt.Tooltip("self_delta_pct:Q", format="+.2f"),
           alt.Tooltip("total_delta_pct:Q", format="+.2f")]
    return _rects(df, "x0", "x1", color, tip, width, row_height, title, "percent of profile")


def flame_chart_chart(fc: pl.DataFrame, *, title: str = "flame chart", width: int = 900,
                      row_height: int = 16) -> alt.LayerChart:
    """Altair chart of ``flame_chart`` rectangles: time on x, call depth downwards (as DevTools)."""
    df = fc.with_columns(_area().alias("area"), (-pl.col("depth")).alias("depth"))
    df = df.with_columns(pl.col("depth") - pl.col("depth").min())
    color = alt.Color("area:N", scale=alt.Scale(domain=list(AREA_COLORS), range=list(AREA_COLORS.values())),
                      legend=alt.Legend(title="code area", orient="top"))
    tip = ["name:N", "url:N", "line:Q", alt.Tooltip("start_ms:Q", format=",.2f"),
           alt.Tooltip("duration_ms:Q", format=",.2f"), alt.Tooltip("self_ms:Q", format=",.2f")]
    return _rects(df, "start_ms", "end_ms", color, tip, width, row_height, title, "milliseconds since start")


class FlameGraph:
    """An ipywidgets explorer: pick a function to focus on (callees) or to see its callers, prune by
    minimum width; the chart is re-rendered from Python (only pruned rectangles reach the browser)."""

    def __init__(self, profile, *, min_frac: float = 0.002, width: int = 900):
        import ipywidgets as w

        self.profile = profile
        self.width = width
        names = profile.functions(top=200)["name"].unique(maintain_order=True).to_list()
        self.mode = w.ToggleButtons(options=["whole", "focus", "callers"], value="whole", description="view")
        self.function = w.Combobox(options=names, placeholder="function name", description="function",
                                   ensure_option=False)
        self.min_frac = w.FloatLogSlider(value=min_frac, base=10, min=-5, max=-1, step=0.25, description="min width")
        self.status = w.HTML()
        self.out = w.Output()
        for c in (self.mode, self.function, self.min_frac):
            c.observe(lambda _change: self.render(), names="value")
        self.widget = w.VBox([w.HBox([self.mode, self.function]), self.min_frac, self.status, self.out])
        self.render()

    def current(self):
        fn = (self.function.value or "").strip()
        if self.mode.value == "focus" and fn:
            return self.profile.focus(fn)
        if self.mode.value == "callers" and fn:
            return self.profile.callers(fn)
        return self.profile

    def render(self) -> None:
        from IPython.display import display

        from ..errors import WorkbenchError

        try:
            p = self.current()
            fg = p.flame(min_frac=self.min_frac.value)
        except WorkbenchError as e:
            self.status.value = f"<span style='color:#b00'>{e.message}</span>"
            return
        self.status.value = f"{fg.height} rectangles"
        self.out.clear_output(wait=True)
        with self.out:
            display(flame_graph_chart(fg, width=self.width, title=f"{self.mode.value} {self.function.value or ''}"))

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
