"""The metrics timeline widget for JupyterLab: the timeline chart (``workbench.charts.metrics``) with a
brush; every brush change re-runs the diagnosis, GC pauses and event-loop table of the brushed window
in Python (``m.window(...)``) and shows them below the chart."""
from __future__ import annotations

from ..charts.metrics import timeline


def timeline_widget(m, run=None):
    """JupyterLab widget: the timeline, and below it the diagnosis, GC pauses and event-loop table of
    the brushed window (re-computed in Python on every brush change)."""
    import altair as alt
    import ipywidgets as W
    from IPython.display import display
    chart = alt.JupyterChart(timeline(m, run))
    out = W.Output()

    def show(win):
        out.clear_output()
        with out:
            mm = m.window(*win) if win else m
            d = mm.diagnose(run=run)
            print(f"category: {d['category']}  issues: {d['issues']}")
            display(mm.gc_pauses(run=run).to_pandas())
            display(mm.event_loop(run=run).to_pandas())

    def on_brush(change):
        v = change.new.value if hasattr(change.new, "value") else None
        if v and "ts" in v:
            show(tuple(v["ts"]))

    chart.selections.observe(on_brush, ["brush"])
    show(None)
    return W.VBox([chart, out])
