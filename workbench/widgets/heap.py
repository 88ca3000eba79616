"""Heap snapshot widgets for JupyterLab (plain ipywidgets): ``SnapshotComparison(before, after)``
and ``RetainerExplorer(snap, node_id)``.

Views only: the numbers come from the heap's own methods (``compare``, ``comparison_objects``,
``retainer_paths``, ``retainers``), which a V8 ``HeapSnapshot`` and a guppy3 ``PyHeap`` both offer, so
the widgets know neither kind of heap; the whole Comparison, the objects of a class and the
retainers of a node stay in Python and the browser only ever receives one page of rows
(``page_size``), so both stay responsive on snapshots of millions of nodes. Every interaction is also a Python method (``filter``,
``sort_by``, ``select_class``, ``select_object``, ``expand``, ``show_weak``) so notebooks and
tests can drive them.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from .._markup import html_text
from ..errors import UsageError

PAGE = 50
_MONO = "font-family: var(--jp-code-font-family, monospace); font-size: 12px"
# the row lists are <select> elements whose options are padded text: in the header's monospace
# font, or the columns do not line up under it (the browser's default is proportional)
_SELECT_CSS = ("<style>.wb-mono-rows select {font-family: var(--jp-code-font-family, monospace); "
               "font-size: 12px;}</style>")


def _fmt(v) -> str:
    return f"{v:,}" if isinstance(v, (int, np.integer)) else str(v)


class SnapshotComparison:
    """DevTools' Comparison view: a sortable, filterable class table (one page at a time);
    choosing a class lists its new objects (largest retained first); choosing an object shows
    its k shortest retainer paths in ``after``."""

    def __init__(self, before, after, *, page_size: int = PAGE, k: int = 3):
        import ipywidgets as w
        self.before, self.after = before, after
        self.page_size = page_size
        self.k = k
        self.table = after.compare(before)
        self.columns = [c for c in self.table.columns if c != "class_key"]   # class first, as DevTools
        self.query = ""
        self.sort_column, self.descending = "size_delta", True
        self.page = 0
        self.class_key: str | None = None
        self.object_page = 0
        self.node_id: int | None = None
        self.paths: pl.DataFrame | None = None
        self._objects = pl.DataFrame()

        self.filter_box = w.Text(placeholder="filter by class name", description="class",
                                 continuous_update=False)
        self.filter_box.observe(lambda ch: self.filter(ch["new"]), names="value")
        self.sort_dd = w.Dropdown(options=self.columns, value="size_delta", description="sort by")
        self.sort_dd.observe(lambda ch: self.sort_by(ch["new"], self.descending), names="value")
        self.order_tb = w.ToggleButton(value=True, description="descending")
        self.order_tb.observe(lambda ch: self.sort_by(self.sort_column, ch["new"]), names="value")
        self.prev_b = w.Button(description="◀", layout=w.Layout(width="40px"))
        self.next_b = w.Button(description="▶", layout=w.Layout(width="40px"))
        self.prev_b.on_click(lambda _b: self.goto_page(self.page - 1))
        self.next_b.on_click(lambda _b: self.goto_page(self.page + 1))
        self.page_label = w.HTML()
        self.header = w.HTML()
        self.class_list = w.Select(options=[], rows=min(page_size, 15), layout=w.Layout(width="100%"))
        self.class_list.observe(self._on_class, names="value")
        self.objects_label = w.HTML()
        self.obj_prev = w.Button(description="◀", layout=w.Layout(width="40px"))
        self.obj_next = w.Button(description="▶", layout=w.Layout(width="40px"))
        self.obj_prev.on_click(lambda _b: self._object_page(self.object_page - 1))
        self.obj_next.on_click(lambda _b: self._object_page(self.object_page + 1))
        self.object_list = w.Select(options=[], rows=10, layout=w.Layout(width="100%"))
        self.object_list.observe(self._on_object, names="value")
        for rows in (self.class_list, self.object_list):
            rows.add_class("wb-mono-rows")
        self.paths_html = w.HTML()
        self.widget = w.VBox([
            w.HTML(_SELECT_CSS),
            w.HBox([self.filter_box, self.sort_dd, self.order_tb, self.prev_b, self.next_b, self.page_label]),
            self.header, self.class_list,
            w.HBox([self.objects_label, self.obj_prev, self.obj_next]), self.object_list,
            self.paths_html])
        self._render_table()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    @property
    def python(self) -> bool:
        """Whether the two heaps are Python heaps (informational: the widget treats both alike)."""
        return getattr(self.after, "runtime", "v8") == "python"

    # ---- the class table -----------------------------------------------------------------
    @property
    def rows(self) -> pl.DataFrame:
        """The Comparison rows after the filter and sort (all pages)."""
        df = self.table
        if self.query:
            df = df.filter(pl.col("class").str.contains(self.query, literal=True)
                           | pl.col("class").str.to_lowercase().str.contains(self.query.lower(), literal=True))
        return df.sort([self.sort_column, "class_key"], descending=[self.descending, False])

    @property
    def page_rows(self) -> pl.DataFrame:
        """What the browser shows: one page of rows."""
        return self.rows.slice(self.page * self.page_size, self.page_size)

    def filter(self, text: str) -> None:
        self.query = (text or "").strip()
        self.page = 0
        self._render_table()

    def sort_by(self, column: str, descending: bool = True) -> None:
        if column not in self.columns:
            raise ValueError(f"sort column must be one of {self.columns}")
        self.sort_column, self.descending = column, bool(descending)
        self.page = 0
        self._render_table()

    def goto_page(self, page: int) -> None:
        n = max(1, -(-len(self.rows) // self.page_size))
        self.page = min(max(0, page), n - 1)
        self._render_table()

    def _render_table(self) -> None:
        rows = self.rows
        page = rows.slice(self.page * self.page_size, self.page_size)
        width = max([len(c) for c in page["class"].to_list()] + [20])
        width = min(width, 60)
        cols = self.columns[1:]
        self.header.value = (f"<pre style='{_MONO};margin:0'>{html_text('class'.ljust(width))} "
                             + " ".join(html_text(c.rjust(13)) for c in cols) + "</pre>")
        opts = []
        for r in page.iter_rows(named=True):
            label = r["class"][:width].ljust(width) + " " + " ".join(_fmt(r[c]).rjust(13) for c in cols)
            opts.append((label, r["class_key"]))
        self.class_list.unobserve(self._on_class, names="value")
        self.class_list.options = opts
        self.class_list.value = self.class_key if self.class_key in [o[1] for o in opts] else None
        self.class_list.observe(self._on_class, names="value")
        n = max(1, -(-len(rows) // self.page_size))
        self.page_label.value = f"page {self.page + 1} of {n} · {len(rows):,} classes"

    # ---- objects of a class --------------------------------------------------------------
    def _on_class(self, change) -> None:
        if change["new"] is not None:
            self.select_class(change["new"])

    def select_class(self, class_key: str) -> pl.DataFrame:
        """Choose a Comparison row (its class key, or a class name); lists its new objects."""
        if class_key not in self.table["class_key"].to_list():
            hits = self.table.filter(pl.col("class") == class_key)["class_key"].to_list()
            if not hits:
                raise KeyError(f"no class {class_key!r} in this comparison")
            class_key = hits[0]
        self.class_key = class_key
        # the heap's own order: largest retained first (largest self size for Python heaps), then id
        self._objects = self.after.comparison_objects(self.before, class_key, "new")
        self.object_page = 0
        self.node_id = None
        self.paths = None
        self.paths_html.value = ""
        return self._object_page(0)

    @property
    def object_rows(self) -> pl.DataFrame:
        """The page of new objects the browser shows."""
        return self._objects.slice(self.object_page * self.page_size, self.page_size)

    def _object_page(self, page: int) -> pl.DataFrame:
        n = max(1, -(-len(self._objects) // self.page_size))
        self.object_page = min(max(0, page), n - 1)
        rows = self.object_rows
        self.object_list.unobserve(self._on_object, names="value")
        self.object_list.options = [
            (f"@{r['node_id']}  {r['name'][:50]:<50} self {r['self_size']:>10,}"
             + (f"  retained {r['retained_size']:>12,}  distance {r['distance']}" if r["retained_size"] is not None else ""),
             int(r["node_id"])) for r in rows.iter_rows(named=True)]
        self.object_list.value = None
        self.object_list.observe(self._on_object, names="value")
        key = self.class_key or ""
        names = self.table.filter(pl.col("class_key") == key)["class"].to_list() if key else []
        shown = names[0] if names else key
        where = ""
        if key and not key.startswith(",") and key.count(",") >= 3:
            script, line, col = key.split(",", 3)[:3]  # DevTools' location class key
            where = (f" <span style='color:#777'>(constructor at script {html_text(script)}, line {html_text(line)}, "
                     f"column {html_text(col)})</span>")
        self.objects_label.value = (f"<b>{html_text(shown)}</b>{where}: {len(self._objects):,} new objects "
                                    f"· page {self.object_page + 1} of {n}")
        return rows

    # ---- retainer paths of an object -----------------------------------------------------
    def _on_object(self, change) -> None:
        if change["new"] is not None:
            self.select_object(change["new"])

    def select_object(self, node_id: int) -> pl.DataFrame:
        """Choose an object; shows its k shortest retainer paths (in ``after``)."""
        self.node_id = int(node_id)
        parts = []
        self.paths = self.after.retainer_paths(self.node_id, k=self.k)
        for p in self.paths.partition_by("path", maintain_order=True):
            steps = " → ".join(f"{html_text(r['edge'])} <b>{html_text(r['class'] if r['class'] != '(synthetic)' else r['name'])}</b>"
                               + (f" ×{r['repeat']:,}" if (r.get("repeat") or 1) > 1 else "")   # a folded run
                               for r in p.iter_rows(named=True))
            parts.append(f"<li style='{_MONO}'>{steps}</li>")
        self.paths_html.value = (f"<div><b>retainer paths of @{self.node_id}</b><ol>{''.join(parts)}</ol></div>"
                                 if parts else f"<div>@{self.node_id} is not reachable from the GC roots</div>")
        return self.paths


class _Shared:
    """Layouts and styles shared by every row of one explorer (each is a widget model of its own:
    a row with its own would send four more models to the browser)."""

    def __init__(self):
        import ipywidgets as w
        self.w = w
        self.button_style = w.ButtonStyle()
        try:   # not exported at the top of every ipywidgets 8 release
            from ipywidgets.widgets.widget_string import HTMLStyle
            self.html_style = HTMLStyle()
        except ImportError:
            self.html_style = None
        self.plain = w.Layout()
        self._toggle: dict[int, object] = {}
        self._more: dict[int, object] = {}

    def toggle(self, depth: int):
        if depth not in self._toggle:
            self._toggle[depth] = self.w.Layout(width="32px", margin=f"0 0 0 {16 * depth}px")
        return self._toggle[depth]

    def more(self, depth: int):
        if depth not in self._more:
            self._more[depth] = self.w.Layout(width="80px", margin=f"0 0 0 {16 * depth + 48}px")
        return self._more[depth]


class _Row:
    """One retainer row: a toggle and a label; the box of its children and its "more…" button
    are made when first needed (most rows are never expanded)."""

    def __init__(self, explorer, node_id: int, label: str, depth: int):
        w = explorer._shared.w
        sh = explorer._shared
        self.ex = explorer
        self.node_id = node_id
        self.depth = depth
        self.expanded = False
        self.loaded: list[_Row] = []
        self.total = None
        self.frame: pl.DataFrame | None = None
        self._children_box = None
        self._more = None
        self.toggle = w.Button(description="▸", layout=sh.toggle(depth), style=sh.button_style)
        self.toggle.on_click(lambda _b: self.ex.expand(self) if not self.expanded else self.ex.collapse(self))
        style = {"style": sh.html_style} if sh.html_style is not None else {}
        self.label = w.HTML(f"<span style='{_MONO}'>{label}</span>", layout=sh.plain, **style)
        self.head = w.HBox([self.toggle, self.label], layout=sh.plain)
        self.widget = w.VBox([self.head], layout=sh.plain)

    @property
    def children_box(self):
        if self._children_box is None:
            self._children_box = self.ex._shared.w.VBox([], layout=self.ex._shared.plain)
        return self._children_box

    @property
    def more(self):
        if self._more is None:
            sh = self.ex._shared
            self._more = sh.w.Button(description="more…", layout=sh.more(self.depth), style=sh.button_style)
            self._more.on_click(lambda _b: self.ex.load_more(self))
        return self._more


class RetainerExplorer:
    """An expandable tree of retainers of one object (DevTools' Retainers panel): each level is
    loaded when expanded, one page at a time; weak edges hidden unless ``show_weak(True)``.
    Rows show the edge, class, @id, distance, shallow and retained size."""

    def __init__(self, snap, node_id, *, page_size: int = PAGE, weak: bool = False):
        import ipywidgets as w
        self.snap = snap
        self.page_size = page_size
        self.weak = weak
        self.node_id = int(node_id)
        self._shared = _Shared()
        self.weak_cb = w.Checkbox(value=weak, description="show weak edges")
        self.weak_cb.observe(lambda ch: self.show_weak(ch["new"]), names="value")
        self.box = w.VBox([])
        self.widget = w.VBox([self.weak_cb, self.box])
        self._build()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    def _build(self) -> None:
        s = self.snap
        o = int(s.ordinals_of([self.node_id])[0])
        if o < 0:
            raise UsageError(f"{s.path}: no object with id @{self.node_id} in this snapshot")
        label = (f"<b>{html_text(s.class_names([o])[0])}</b> @{self.node_id} · distance {int(s.distances[o])} · "
                 f"shallow {int(s.self_sizes[o]):,} · retained {int(s.retained_sizes[o]):,}")
        self.root = _Row(self, self.node_id, label, 0)
        self.box.children = [self.root.widget]
        self.expand(self.root)

    def show_weak(self, on: bool = True) -> None:
        self.weak = bool(on)
        if self.weak_cb.value != self.weak:
            self.weak_cb.value = self.weak
        self._build()

    def expand(self, row: _Row | None = None) -> pl.DataFrame:
        """Load the first page of ``row``'s retainers (the root object's by default)."""
        row = row or self.root
        if row.frame is None:
            row.frame = self.snap.retainers(row.node_id, weak=self.weak)
        row.expanded = True
        row.toggle.description = "▾"
        if not row.loaded:
            self._append(row, 0)
        self._show(row)
        return row.frame.slice(0, len(row.loaded))

    def collapse(self, row: _Row) -> None:
        row.expanded = False
        row.toggle.description = "▸"
        row.children_box.children = []

    def load_more(self, row: _Row) -> None:
        self._append(row, len(row.loaded))
        self._show(row)

    def _append(self, row: _Row, start: int) -> None:
        page = row.frame.slice(start, self.page_size)
        for r in page.iter_rows(named=True):
            label = (f"{html_text(r['edge'])} in <b>{html_text(r['class'])}</b> @{r['node_id']}"
                     f" · distance {r['distance']} · shallow {r['self_size']:,} · retained {r['retained_size']:,}")
            row.loaded.append(_Row(self, int(r["node_id"]), label, row.depth + 1))

    def _show(self, row: _Row) -> None:
        kids = [c.widget for c in row.loaded]
        if len(row.loaded) < len(row.frame):
            kids.append(row.more)
        row.children_box.children = kids
        if len(row.widget.children) == 1:
            row.widget.children = [row.head, row.children_box]

    def rows_of(self, row: _Row | None = None) -> list[_Row]:
        """The loaded child rows of ``row`` (what the browser shows below it)."""
        return (row or self.root).loaded
