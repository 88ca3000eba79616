"""Altair charts of a Metrics model: memory with GC markers and the leak trend line, event-loop delay,
GC pauses, and ``timeline()`` — every loaded quantity on one shared time axis with a brush to pick
the incident window (``workbench.widgets.metrics.timeline_widget`` turns the brush into
``m.window(...)`` and re-runs the analyses). Charts only render what the model and the analyses return
(``m.series``, ``leak.trend_line``, ``correlate.latency_p99``); series are thinned to <= ``max_points``
per panel (mean per time bin, max for delays and pauses) to stay under Vega-Lite's row limits."""
from __future__ import annotations

import altair as alt
import pandas as pd
import polars as pl

from ..metrics.correlate import latency_p99
from ..metrics.leak import MB, trend_line

PANELS = [  # quantity, title, unit scale, aggregation when thinning
    ("heap_used", "heap used (MB)", 1 / MB, "mean"),
    ("rss", "RSS (MB)", 1 / MB, "mean"),
    ("event_loop_delay", "event-loop delay (ms)", 1.0, "max"),
    ("event_loop_delay_max", "event-loop delay, window max (ms)", 1.0, "max"),
    ("event_loop_utilization", "event-loop utilisation", 1.0, "mean"),
    ("cpu", "CPU (cores)", 1.0, "mean"),
    ("handles", "active handles", 1.0, "mean"),
]


def _thin(s: pl.DataFrame, max_points: int, how: str) -> pl.DataFrame:
    if len(s) <= max_points:
        return s
    span = (s["ts"].max() - s["ts"].min()).total_seconds()
    every = f"{max(int(span / max_points * 1e6), 1000)}us"
    agg = pl.col("value").max() if how == "max" else pl.col("value").mean()
    return s.sort("ts").group_by_dynamic("ts", every=every, group_by=["run", "source"]).agg(agg)


def _best(m, q, run):
    s = m.series(q, run=run)
    if s.is_empty():
        return s
    if q == "event_loop_utilization" and s["metric"].n_unique() > 1:
        # Doctor's loopUtilization is cumulative since process start; prefer per-window ELU
        s = s.filter(pl.col("metric") != "loopUtilization")
    best = s.group_by("source").len().sort("len", descending=True)["source"][0]
    return s.filter(pl.col("source") == best)


def _to_pd(df: pl.DataFrame):
    return df.with_columns(pl.col("ts").dt.replace_time_zone(None)).to_pandas()


def memory_chart(m, run=None, width=700, height=220, max_points=1500) -> alt.Chart:
    """Heap used (and RSS) over time, full-GC markers, and the leak-trend baseline with its fit."""
    run = run or m.runs[0]
    layers = []
    for q, name in (("heap_used", "heap used"), ("rss", "RSS")):
        s = _best(m, q, run)
        if not s.is_empty():
            s = _thin(s, max_points, "mean").with_columns(mb=pl.col("value") / MB, series=pl.lit(name))
            layers.append(_to_pd(s.select("ts", "mb", "series")))
    data = pd.concat(layers) if layers else pd.DataFrame({"ts": [], "mb": [], "series": []})
    base = alt.Chart(data).mark_line(strokeWidth=1).encode(
        x=alt.X("ts:T", title="time (UTC)"), y=alt.Y("mb:Q", title="MB"),
        color=alt.Color("series:N", title=None))
    charts = [base]
    gc = m.gc_events.filter((pl.col("run") == run) & (pl.col("kind") == "major"))
    if len(gc):
        src = gc.group_by("source").len().sort("len", descending=True)["source"][0]
        g = _to_pd(gc.filter(pl.col("source") == src).select("ts", "type", "pause_ms"))
        charts.append(alt.Chart(g).mark_rule(color="#999", strokeDash=[2, 2]).encode(
            x="ts:T", tooltip=["type", alt.Tooltip("pause_ms:Q", format=".1f")]))
    try:
        lt, fit = trend_line(m, run)
        if fit is not None:
            title = (f"baseline: {lt['verdict']}, {lt['slope_mb_per_hour']:.0f} MB/h "
                     f"[{lt['slope_ci_low']:.0f}, {lt['slope_ci_high']:.0f}]")
            fp = _to_pd(fit)
            charts.append(alt.Chart(fp).mark_point(color="black", size=25, filled=True).encode(x="ts:T", y="mb:Q"))
            charts.append(alt.Chart(fp).mark_line(color="crimson", strokeWidth=2).encode(x="ts:T", y="fit:Q"))
        else:
            title = f"baseline: {lt['verdict']}"
    except Exception:  # noqa: BLE001 - a chart without trend is still a chart
        title = "memory"
    return alt.layer(*charts).properties(width=width, height=height, title=f"{run}: memory — {title}")


def event_loop_chart(m, run=None, threshold_ms=100.0, width=700, height=160, max_points=1500) -> alt.Chart:
    run = run or m.runs[0]
    s = _best(m, "event_loop_delay", run)
    q = "event_loop_delay"
    if s.is_empty():
        s, q = _best(m, "event_loop_delay_max", run), "event_loop_delay_max"
    s = _thin(s, max_points, "max")
    line = alt.Chart(_to_pd(s.select("ts", "value"))).mark_line(strokeWidth=1).encode(
        x=alt.X("ts:T", title="time (UTC)"), y=alt.Y("value:Q", title="delay (ms)"))
    rule = alt.Chart(alt.Data(values=[{"t": threshold_ms}])).mark_rule(color="crimson", strokeDash=[4, 3]).encode(y="t:Q")
    return alt.layer(line, rule).properties(width=width, height=height, title=f"{run}: {q.replace('_', ' ')}")


def gc_chart(m, run=None, width=700, height=160) -> alt.Chart:
    run = run or m.runs[0]
    ev = m.gc_events.filter((pl.col("run") == run) & pl.col("pause_ms").is_not_null())
    src = ev.group_by("source").len().sort("len", descending=True)["source"][0] if len(ev) else None
    ev = ev.filter(pl.col("source") == src).select("ts", "type", "kind", "pause_ms") if src else ev
    return alt.Chart(_to_pd(ev)).mark_tick(thickness=1).encode(
        x=alt.X("ts:T", title="time (UTC)"), y=alt.Y("pause_ms:Q", title="GC pause (ms)"),
        color=alt.Color("kind:N"), tooltip=["type", alt.Tooltip("pause_ms:Q", format=".2f")]
    ).properties(width=width, height=height, title=f"{run}: GC pauses")


def timeline(m, run=None, width=700, panel_height=90, max_points=800) -> alt.VConcatChart:
    """All loaded series of one run on a shared time axis. Drag on any panel to select a window
    (brush ``brush``): the other panels zoom to it; ``widgets.metrics.timeline_widget`` feeds it to the analyses."""
    run = run or m.runs[0]
    brush = alt.selection_interval(encodings=["x"], name="brush")
    panels = []
    for q, title, scale, how in PANELS:
        s = _best(m, q, run)
        if s.is_empty() or (q == "event_loop_delay_max" and not _best(m, "event_loop_delay", run).is_empty()):
            continue
        s = _thin(s, max_points, how).with_columns(v=pl.col("value") * scale)
        panels.append((title, _to_pd(s.select("ts", "v")), "line"))
    gc = m.gc_events.filter((pl.col("run") == run) & pl.col("pause_ms").is_not_null())
    if len(gc):
        src = gc.group_by("source").len().sort("len", descending=True)["source"][0]
        g = gc.filter(pl.col("source") == src).select("ts", v=pl.col("pause_ms"), kind=pl.col("kind"))
        panels.append(("GC pause (ms)", _to_pd(g), "tick"))
    try:
        lat = latency_p99(m, run, "1s")
        if lat is not None:
            panels.append(("request latency p99 (ms)", _to_pd(lat.rename({"value": "v"})), "line"))
    except Exception:  # noqa: BLE001
        pass
    charts = []
    for i, (title, data, kind) in enumerate(panels):
        x = alt.X("ts:T", title="time (UTC)" if i == len(panels) - 1 else None,
                  scale=alt.Scale(domain={"param": "brush"}) if i else alt.Undefined,
                  axis=alt.Axis(labels=i == len(panels) - 1, format="%H:%M:%S"))
        mark = alt.Chart(data).mark_tick(thickness=1) if kind == "tick" else alt.Chart(data).mark_line(strokeWidth=1, clip=True)
        enc = dict(x=x, y=alt.Y("v:Q", title=None, scale=alt.Scale(zero=True, padding=6)))
        if kind == "tick":
            enc["color"] = alt.Color("kind:N", legend=alt.Legend(orient="right", title=None))
        c = mark.encode(**enc).properties(width=width, height=panel_height, title=alt.Title(title, anchor="start", fontSize=11))
        if i == 0:
            c = c.add_params(brush)
        charts.append(c)
    header = f"{run} — drag on the top panel to pick the incident window"
    return alt.vconcat(*charts, spacing=6).properties(title=header).resolve_scale(color="independent")
