"""The incident timeline: request latency (p50, p99 and its change points), request and error rates,
heap used and its post-GC floor, GC pause time, event-loop delay and log errors on one time axis,
with the heap snapshots marked. Drag on the top panel (brush ``brush``): the other panels zoom to
the window, and the brush's value (``{"ts": [lo_ms, hi_ms]}``, from ``alt.JupyterChart(...)
.selections.brush.value``) goes as it is to ``Metrics.window``, ``Traces.window`` and
``Logs.window`` to narrow every analysis to it. Draws what ``workbench.incident.timeline`` computes."""
from __future__ import annotations

import altair as alt
import polars as pl

from ..incident.timeline import changes, grid

PANELS = [  # (columns, title, mark)
    (("latency_p50_ms", "latency_p99_ms"), "request latency (ms)", "line"),
    (("requests_per_s",), "requests per second", "line"),
    (("error_rate",), "error rate", "line"),
    (("heap_used_mb", "heap_floor_mb"), "heap used and post-GC floor (MB)", "line"),
    (("gc_pause_ms",), "GC pause per bucket (ms)", "bar"),
    (("event_loop_delay_ms",), "event-loop delay, max (ms)", "line"),
    (("log_errors",), "error log records per bucket", "bar"),
]


def _pd(df: pl.DataFrame):
    return df.with_columns(pl.col(c).dt.replace_time_zone(None) for c in df.columns
                           if isinstance(df.schema[c], pl.Datetime)).to_pandas()


def _snapshot_frame(snapshots) -> pl.DataFrame:
    if not snapshots:
        return pl.DataFrame(schema={"ts": pl.Datetime("us", "UTC"), "label": pl.Utf8})
    items = snapshots.items() if isinstance(snapshots, dict) else snapshots
    rows = [(label, ts) for label, ts in items]
    return pl.DataFrame({"label": [r[0] for r in rows], "ts": [r[1] for r in rows]}).with_columns(
        pl.col("ts").cast(pl.Datetime("us", "UTC")))


def incident_timeline(metrics=None, traces=None, logs=None, snapshots=None, run=None, every: str = "5s",
                      min_requests: int = 5, width: int = 720, panel_height: int = 80,
                      change_signals=("latency_p99_ms",)) -> alt.VConcatChart:
    """One brushable chart of the incident (see the module doc). ``snapshots``: {label: time} or
    [(label, time)] of the heap snapshots; ``change_signals``: whose change points are drawn (red rules)."""
    g = grid(metrics, traces, logs, run=run, every=every, min_requests=min_requests)
    cps = changes(g, signals=[s for s in change_signals if s in g.columns]) if any(
        s in g.columns for s in change_signals) else None
    snaps = _snapshot_frame(snapshots)
    brush = alt.selection_interval(encodings=["x"], name="brush")
    panels = [(cols, title, mark) for cols, title, mark in PANELS if any(c in g.columns for c in cols)]
    charts = []
    for i, (cols, title, mark) in enumerate(panels):
        have = [c for c in cols if c in g.columns]
        long = g.select("ts", *have).unpivot(index="ts", variable_name="series", value_name="v").drop_nulls("v")
        last = i == len(panels) - 1
        x = alt.X("ts:T", title="time (UTC)" if last else None,
                  scale=alt.Scale(domain={"param": "brush"}) if i else alt.Undefined,
                  axis=alt.Axis(labels=last, format="%H:%M:%S"))
        base = alt.Chart(_pd(long))
        m = base.mark_bar(opacity=0.8) if mark == "bar" else base.mark_line(strokeWidth=1.2, clip=True)
        enc = dict(x=x, y=alt.Y("v:Q", title=None), tooltip=["series:N", alt.Tooltip("ts:T", format="%H:%M:%S"),
                                                            alt.Tooltip("v:Q", format=".2f")])
        if len(have) > 1:
            enc["color"] = alt.Color("series:N", legend=alt.Legend(orient="right", title=None))
        layers = [m.encode(**enc)]
        if len(snaps):
            layers.append(alt.Chart(_pd(snaps)).mark_rule(color="#555", strokeDash=[3, 3]).encode(
                x=alt.X("ts:T", scale=alt.Scale(domain={"param": "brush"}) if i else alt.Undefined),
                tooltip=["label:N", alt.Tooltip("ts:T", format="%H:%M:%S")]))
        if cps is not None and len(cps) and i == 0:
            layers.append(alt.Chart(_pd(cps)).mark_rule(color="crimson", strokeWidth=2).encode(
                x="ts:T", tooltip=["signal:N", alt.Tooltip("ts:T", format="%H:%M:%S"),
                                   alt.Tooltip("before:Q", format=".1f"), alt.Tooltip("after:Q", format=".1f")]))
        c = alt.layer(*layers).properties(width=width, height=panel_height,
                                           title=alt.Title(title, anchor="start", fontSize=11))
        if i == 0:
            c = c.add_params(brush)
        charts.append(c)
    head = "incident timeline — drag on the top panel to pick a window (dashed: heap snapshots; red: p99 change points)"
    return alt.vconcat(*charts, spacing=6).properties(title=head).resolve_scale(color="independent")
