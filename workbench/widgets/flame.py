"""``FlameGraph(profile)``: an interactive flame graph for JupyterLab; ``FlameGraph(before, after)``:
Gregg's differential flame graph with the same controls.

The chart is an ``altair.JupyterChart`` (an anywidget: it works in JupyterLab, Notebook 7, VS Code);
everything else is ipywidgets. All layout happens in Python (``workbench.profile.flame``), the chart is
drawn by ``workbench.charts.flame.zoomable_flame_graph``: a click on a
frame sends its id back through the chart's ``zoom`` selection, Python re-roots the graph on it and
replaces the chart; the browser only ever receives the pruned rectangles (at most ``max_rects``).
Breadcrumbs show the path from the root to the zoomed frame (click one to go back up) and Reset returns
to the root; Search highlights the frames whose function or url contains the text and reports their
share of the zoomed frame (each sample counted once); hovering a frame shows its self and total.

Views (the toggle above the chart): ``flame`` (click zooms), ``sandwich`` (speedscope's: the callers of
the selected function above it, inverted, and its callees below; a click on a frame re-centres the
sandwich on that function; ``sandwich(name)`` from Python; with two profiles, of the first) and, with
two profiles, ``diff``
(``ProfileDiff.flame_rects``: the after or before profile's shape, coloured by the change; click zooms,
search and reset work the same). The chart's height follows the visible depth.
"""
from __future__ import annotations

import time

import polars as pl

from .._markup import html_text
from ..charts.flame import MAX_RECTS, zoomable_flame_graph
from ..profile.calltree import merged
from ..profile.flame import ancestors, flame_graph, search


class FlameGraph:
    """Interactive flame graph of a Profile (or the differential one of two): click to zoom,
    breadcrumbs, reset, search, tooltips, and the sandwich view."""

    def __init__(self, profile, after=None, *, min_frac: float = 0.001, max_rects: int = MAX_RECTS, width: int = 1000,
                 row_height: int = 18, shape: str = "after", color_by: str = "self", normalize: bool = True):
        import altair as alt
        import ipywidgets as w

        from ..profile.diff import diff as profile_diff

        self.diff = profile_diff(profile, after) if after is not None else None
        self.shape, self.color_by, self.normalize = shape, color_by, normalize
        self.view = "diff" if self.diff is not None else "flame"
        self.function = None   # the sandwich's function
        self._sw = None
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
        self._watch()
        views = ["diff", "flame", "sandwich"] if self.diff is not None else ["flame", "sandwich"]
        self.view_toggle = w.ToggleButtons(options=views, value=self.view, style={"button_width": "78px"},
                                           layout=w.Layout(width="auto", flex="0 0 auto"), tooltips=[
            "Gregg's differential flame graph" if v == "diff" else "click to zoom" if v == "flame"
            else "callers above, callees below the selected function" for v in views])
        self.view_toggle.observe(lambda ch: self.set_view(ch["new"]), names="value")
        self.crumbs = w.HBox([])
        self.reset_button = w.Button(description="Reset", icon="home", layout=w.Layout(width="90px"))
        self.reset_button.on_click(lambda _b: self.zoom(0))
        self.search_box = w.Text(placeholder="search function or file", description="search",
                                 continuous_update=False)
        self.search_box.observe(lambda ch: self.search(ch["new"]), names="value")
        self.status = w.HTML()
        self.widget = w.VBox([w.HBox([self.view_toggle, self.reset_button, self.search_box, self.status]),
                              self.crumbs, self.jchart])
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

    def set_view(self, view: str) -> None:
        """``flame``, ``sandwich`` (of the selected function: the zoomed frame's, else the heaviest
        self-time function) or ``diff`` (two profiles only)."""
        allowed = ("diff", "flame", "sandwich") if self.diff is not None else ("flame", "sandwich")
        if view not in allowed:
            raise ValueError(f"view must be one of {allowed}, not {view!r}")
        came_from, self.view = self.view, view
        if view == "sandwich" and self.function is None:
            self.function = self._function_of(self.root) if self.root and came_from == "flame" else \
                str(self.profile.hotspots().filter(~pl.col("function").str.starts_with("("))["function"][0])
        if came_from != view:
            self.root = 0   # zooms are per view (the diff's frames are not the profile's)
        if self.view_toggle.value != view:
            self.view_toggle.value = view
        self._render()

    def sandwich(self, function: str) -> None:
        """Show the sandwich of ``function`` (a name, or ``name url:line``)."""
        self.function = function
        self.set_view("sandwich")

    def _function_of(self, node: int) -> str:
        m = merged(self.profile)
        f = self.profile.frame_labels.row(int(m.frame[node]), named=True)
        return f"{f['name']} {f['url']}:{f['line']}" if f["url"] else f["name"]

    # ---- rendering ----------------------------------------------------------------------------
    def _chart(self):
        t0 = time.perf_counter()
        if self.view == "sandwich":
            out = self._sandwich_chart()
        elif self.view == "diff":
            out = self._diff_chart()
        else:
            fg = flame_graph(self.profile, min_frac=self.min_frac, root=self.root, max_rects=self.max_rects)
            fg, share = self._matched(fg, "name")
            self.rects, self.share = fg, share
            out = zoomable_flame_graph(fg, title=self._title(), width=self.width, row_height=self.row_height,
                                       highlight=bool(self.query))
        self.last_compute_s = time.perf_counter() - t0
        return out

    def _matched(self, fg, name_col):
        share = None
        if self.query and self.view == "flame":
            ids, share = search(self.profile, self.query, self.root)
            fg = fg.with_columns(pl.col("id").is_in(ids.tolist()).alias("match"))
        elif self.query:
            q = self.query.lower()
            fg = fg.with_columns((pl.col(name_col).str.to_lowercase().str.contains(q, literal=True)
                                  | pl.col("url").str.to_lowercase().str.contains(q, literal=True)).alias("match"))
        else:
            fg = fg.with_columns(pl.lit(True).alias("match"))
        return fg, share

    def _diff_chart(self):
        from ..charts.flame import gregg_chart
        rects = self.diff.flame_rects(shape=self.shape, color_by=self.color_by, normalize=self.normalize,
                                      min_frac=self.min_frac, root=self.root)
        rects, _ = self._matched(rects, "function")
        self.rects, self.share = rects, None
        b, a = self.diff.names()
        return gregg_chart(rects, title=f"{b} → {a} ({self.shape} shape, Δ {self.color_by})", shape=self.shape,
                           color_by=self.color_by, normalize=self.normalize, width=self.width,
                           row_height=self.row_height, zoom=True, highlight=bool(self.query))

    def _sandwich_chart(self):
        from ..charts.flame import zoomable_sandwich
        sw = self.profile.sandwich(self.function)
        self._sw = sw
        up = flame_graph(sw.caller_tree, min_frac=self.min_frac, max_rects=self.max_rects // 2)
        down = flame_graph(sw.callee_tree, min_frac=self.min_frac, max_rects=self.max_rects // 2)
        self.rects, self.share = pl.concat([up.with_columns(pl.lit("callers").alias("side")),
                                            down.with_columns(pl.lit("callees").alias("side"))],
                                           how="diagonal_relaxed"), None
        return zoomable_sandwich(up, down, function=self.function.split(" ")[0], width=self.width,
                                 row_height=self.row_height)

    def _title(self) -> str:
        from pathlib import PurePath
        p = self.profile
        name = PurePath(str(p.path)).name if p.path else p.source   # a file name, not the author's path
        return name if self.root == 0 else f"{name}: zoomed"

    def _render(self):
        t0 = time.perf_counter()
        self.jchart.chart = self._chart()
        self._watch()   # JupyterChart makes a new selections object for every chart
        self._update_crumbs()
        self.last_render_s = time.perf_counter() - t0
        return self.share

    def _update_crumbs(self) -> None:
        import ipywidgets as w

        if self.view != "flame":
            self.crumbs.children = []
            n = self.rects.height if self.rects is not None else 0
            what = f"sandwich of <b>{html_text(self.function or '')}</b>; " if self.view == "sandwich" else ""
            self.status.value = f"{what}{n} rectangles"
            return
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

    def _watch(self) -> None:
        sel = self.jchart.selections
        names = set(sel.trait_names())
        if "zoom" in names:
            sel.observe(self._on_select, ["zoom"])
        for name in ("callers", "callees"):
            if name in names:
                sel.observe(self._on_sandwich_select, [name])

    def _on_sandwich_select(self, change) -> None:
        sel = change["new"]
        values = getattr(sel, "value", None) or []
        if not values or self._sw is None:
            return
        node = values[0].get("id")
        if node is None or node < 0:
            return
        tree = self._sw.caller_tree if change["name"] == "callers" else self._sw.callee_tree
        m = merged(tree)
        f = tree.frame_labels.row(int(m.frame[int(node)]), named=True)
        if f["name"] in ("(root)", ""):
            return
        self.sandwich(f"{f['name']} {f['url']}:{f['line']}" if f["url"] else f["name"])

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
