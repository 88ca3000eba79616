"""``FlameGraph(profile)``: an interactive flame graph for JupyterLab.

The chart is an ``altair.JupyterChart`` (an anywidget: it works in JupyterLab, Notebook 7, VS Code);
everything else is ipywidgets. All layout happens in Python (``workbench.profile.flame``), the chart is
drawn by ``workbench.charts.flame.zoomable_flame_graph``: a click on a
frame sends its id back through the chart's ``zoom`` selection, Python re-roots the graph on it and
replaces the chart; the browser only ever receives the pruned rectangles (at most ``max_rects``).
Breadcrumbs show the path from the root to the zoomed frame (click one to go back up) and Reset returns
to the root; Search highlights the frames whose function or url contains the text and reports their
share of the zoomed frame (each sample counted once); hovering a frame shows its self and total.
"""
from __future__ import annotations

import time

import polars as pl

from .._markup import html_text
from ..charts.flame import MAX_RECTS, zoomable_flame_graph
from ..profile.calltree import merged
from ..profile.flame import ancestors, flame_graph, search


class FlameGraph:
    """Interactive flame graph of a Profile: click to zoom, breadcrumbs, reset, search, tooltips."""

    def __init__(self, profile, *, min_frac: float = 0.001, max_rects: int = MAX_RECTS, width: int = 1000,
                 row_height: int = 18):
        import altair as alt
        import ipywidgets as w

        self.profile = profile
        self.min_frac = min_frac
        self.max_rects = max_rects
        self.width = width
        self.row_height = row_height
        self.root = 0
        self.query = ""
        self.last_render_s = 0.0
        self.rects = None
        self.jchart = alt.JupyterChart(self._chart())
        self.jchart.selections.observe(self._on_select, ["zoom"])
        self.crumbs = w.HBox([])
        self.reset_button = w.Button(description="Reset", icon="home", layout=w.Layout(width="90px"))
        self.reset_button.on_click(lambda _b: self.zoom(0))
        self.search_box = w.Text(placeholder="search function or file", description="search",
                                 continuous_update=False)
        self.search_box.observe(lambda ch: self.search(ch["new"]), names="value")
        self.status = w.HTML()
        self.widget = w.VBox([w.HBox([self.reset_button, self.search_box, self.status]), self.crumbs, self.jchart])
        self._update_crumbs()

    # ---- state changes (also callable from Python) ------------------------------------------
    def zoom(self, node: int) -> None:
        """Re-root the flame graph on merged call-tree node ``node`` (0 = the whole profile)."""
        self.root = int(node)
        self._render()

    def search(self, text: str) -> float:
        """Highlight frames matching ``text``; returns their share of the zoomed frame (0..1)."""
        self.query = (text or "").strip()
        return self._render()

    def reset(self) -> None:
        self.query = ""
        self.search_box.value = ""
        self.zoom(0)

    # ---- rendering ----------------------------------------------------------------------------
    def _chart(self):
        t0 = time.perf_counter()
        fg = flame_graph(self.profile, min_frac=self.min_frac, root=self.root, max_rects=self.max_rects)
        share = None
        if self.query:
            ids, share = search(self.profile, self.query, self.root)
            fg = fg.with_columns(pl.col("id").is_in(ids.tolist()).alias("match"))
        else:
            fg = fg.with_columns(pl.lit(True).alias("match"))
        self.rects = fg
        self.share = share
        out = zoomable_flame_graph(fg, title=self._title(), width=self.width, row_height=self.row_height,
                                   highlight=bool(self.query))
        self.last_compute_s = time.perf_counter() - t0
        return out

    def _title(self) -> str:
        p = self.profile
        name = p.path or p.source
        return name if self.root == 0 else f"{name}: zoomed"

    def _render(self):
        t0 = time.perf_counter()
        self.jchart.chart = self._chart()
        self._update_crumbs()
        self.last_render_s = time.perf_counter() - t0
        return self.share

    def _update_crumbs(self) -> None:
        import ipywidgets as w

        m = merged(self.profile)
        names = self.profile.frame_labels["name"]
        buttons = []
        for node in ancestors(self.profile, self.root):
            b = w.Button(description=str(names[int(m.frame[node])])[:40], layout=w.Layout(width="auto"),
                         button_style="info" if node == self.root else "")
            b.on_click(lambda _b, n=node: self.zoom(n))
            buttons.append(b)
        self.crumbs.children = buttons
        n = self.rects.height if self.rects is not None else 0
        msg = f"{n} rectangles"
        if self.query:
            msg += f"; <b>{html_text(self.query)}</b>: {100 * (self.share or 0):.1f}% of this view"
        self.status.value = msg

    def _on_select(self, change) -> None:
        sel = change["new"]
        values = getattr(sel, "value", None) or []
        if not values:
            return
        node = values[0].get("id")
        if node is None or node < 0:  # "(other)" is not a call-tree node
            return
        self.zoom(int(node))

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
