"""The Profile model: one immutable call tree (parent array over frames) plus its samples.

Both CPU profiles (``kind="cpu"``, values in milliseconds) and sampling allocation profiles
(``kind="alloc"``, values in bytes) use it; analyses name their value columns after the unit
(``self_ms``/``total_ms`` or ``self_size``/``total_size``).

Semantics (DevTools ``front_end/models/cpu_profile/CPUProfileDataModel.ts`` and
``ProfileTreeModel.ts``, chrome-devtools-frontend 1.0.1705227):

* one sample convention: a node's hit count is its number of entries in the file's ``samples``, and
  the file's ``hitCount`` only when it has no sample list (the readers note where the two disagree), so
  hotspots, call tree, flame graph, folded and speedscope exports all count the same samples;
* a CPU node's self time is ``hits * (endTime - startTime) / sum(hits)`` milliseconds (DevTools'
  convention, the default), or with ``weights="deltas"`` the sum of its samples' weights, each sample
  weighing the time to the next one (speedscope's; ``workbench.io.cpuprofile``); ``meta["weights"]``
  says which;
* total = self + totals of the children; the root's total is the whole profile;
* an allocation node's self size is its ``selfSize`` (``HeapProfileView.ts``
  ``SamplingHeapProfileModel``); restricting to an ordinal range recomputes it from ``samples``.

Frames are identified as DevTools' ``callUID`` is (function name, script id, line, column), with the
url added so that folded stacks (no script ids) work too. ``line``/``column`` are 1-based as DevTools
and speedscope display them (the files store 0-based numbers); 0 means unknown.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np
import polars as pl

from .._notes import notes_frame
from ..errors import UsageError
from . import _kernels as K

#: 0x's tiers (``lib/ticks-to-tree.js``, clinic flame's code areas): where a frame's code lives.
CATEGORIES = ("app", "deps", "core", "v8", "gc", "idle", "program")


@dataclass(frozen=True, eq=False)
class Profile:
    """A call tree over unique frames, with per-node self values and (optionally) samples.

    Arrays (all numpy, validated by the constructor helpers):
      ``parent``  int64 index of each node's parent, -1 for node 0 (the root)
      ``frame``   int64 index into ``frames``
      ``node_id`` int64 id of the node in the source file
      ``hit_count`` int64 samples on top of the node (CPU) / samples attributed (alloc)
      ``self_value`` float64 self time in ms (CPU) or self size in bytes (alloc)
      ``sample_node`` int64 node index of each sample, in time order
      ``sample_ts_us`` float64 time of each sample in µs (CPU), or its ordinal (alloc)
      ``sample_weight`` float64 ms (CPU: the DevTools per-hit interval) or bytes (alloc)

    ``meta`` holds facts about the recording (interval, which trace profile, ...); ``notes`` the
    lossy or corrective steps of the reader (``workbench._notes``). Readers build profiles through
    ``workbench.profile.builder``; analyses derive new ones with ``derive``.
    """

    CATEGORIES: ClassVar[tuple] = CATEGORIES

    kind: str
    frames: pl.DataFrame
    parent: np.ndarray
    frame: np.ndarray
    node_id: np.ndarray
    hit_count: np.ndarray
    self_value: np.ndarray
    sample_node: np.ndarray
    sample_ts_us: np.ndarray
    sample_weight: np.ndarray
    start_us: float = 0.0
    end_us: float = 0.0
    source: str = ""
    path: str | None = None
    meta: dict = field(default_factory=dict)
    notes: pl.DataFrame = field(default_factory=notes_frame)

    @classmethod
    def create(cls, *, kind, frames, parent, frame, node_id, hit_count, self_value, sample_node, sample_ts_us,
               sample_weight, start_us=0.0, end_us=0.0, source="", path=None, meta=None, notes=None) -> "Profile":
        """A profile from already validated arrays, in the model's dtypes."""
        # samples keep compact dtypes (int32 node indices, a broadcast weight): they are the big arrays
        sn = np.asarray(sample_node)
        sn = sn if sn.dtype in (np.int32, np.int64) else sn.astype(np.int64)
        sw = np.asarray(sample_weight)
        sw = sw if sw.dtype == np.float64 else sw.astype(np.float64)
        return cls(kind=kind, frames=frames, parent=np.asarray(parent).astype(np.int64),
                   frame=np.asarray(frame).astype(np.int64), node_id=np.asarray(node_id).astype(np.int64),
                   hit_count=np.asarray(hit_count).astype(np.int64),
                   self_value=np.asarray(self_value).astype(np.float64), sample_node=sn,
                   sample_ts_us=np.asarray(sample_ts_us, dtype=np.float64), sample_weight=sw,
                   start_us=float(start_us), end_us=float(end_us), source=source,
                   path=None if path is None else str(path), meta=dict(meta or {}),
                   notes=notes_frame() if notes is None else notes)

    def derive(self, **changes) -> "Profile":
        """A new profile: this one's fields with ``changes`` (arrays, ``meta``...), notes kept."""
        kw = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        kw.update(changes)
        return type(self).create(**kw)

    def require_cpu(self, what: str) -> None:
        if self.kind != "cpu":
            raise UsageError(f"{what} needs a CPU profile with timestamps, not an allocation profile", self.path)

    # ---- units and names -------------------------------------------------------------------
    @property
    def unit(self) -> str:
        return "ms" if self.kind == "cpu" else "bytes"

    @property
    def self_col(self) -> str:
        return "self_ms" if self.kind == "cpu" else "self_size"

    @property
    def total_col(self) -> str:
        return "total_ms" if self.kind == "cpu" else "total_size"

    @property
    def n_nodes(self) -> int:
        return int(self.parent.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.sample_node.shape[0])

    @property
    def duration_ms(self) -> float:
        return (self.end_us - self.start_us) / 1000.0

    def __repr__(self) -> str:
        what = f"{self.duration_ms:.1f} ms" if self.kind == "cpu" else f"{self.total_value:.0f} bytes"
        return (f"<Profile {self.kind} {self.source} nodes={self.n_nodes} frames={self.frames.height} "
                f"samples={self.n_samples} {what}>")

    # ---- derived arrays, computed once ---------------------------------------------------
    @cached_property
    def depth(self) -> np.ndarray:
        return K.depths(self.parent)

    @cached_property
    def order(self) -> np.ndarray:
        """Node indices parents-first (by depth, stable)."""
        return np.argsort(self.depth, kind="stable").astype(np.int64)

    @cached_property
    def total_value(self) -> float:
        return float(self.self_value.sum())

    @cached_property
    def total(self) -> np.ndarray:
        return K.subtree_totals(self.order, self.parent, self.self_value)

    @cached_property
    def children_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """(ptr, idx): children of node i are idx[ptr[i]:ptr[i+1]], in file order."""
        n = self.n_nodes
        kids = np.nonzero(self.parent >= 0)[0]
        by_parent = kids[np.argsort(self.parent[kids], kind="stable")]
        counts = np.bincount(self.parent[kids], minlength=n)
        ptr = np.zeros(n + 1, np.int64)
        np.cumsum(counts, out=ptr[1:])
        return ptr, by_parent.astype(np.int64)

    @cached_property
    def recursive(self) -> np.ndarray:
        """True for nodes whose frame also occurs among their ancestors."""
        ptr, idx = self.children_csr
        return K.recursion_marks(self.order, self.parent, self.frame, self.frames.height, ptr, idx)

    # ---- tables ----------------------------------------------------------------------------
    @cached_property
    def frame_labels(self) -> pl.DataFrame:
        """frames plus ``name`` (``(anonymous)`` for empty names, as DevTools shows them)."""
        return self.frames.with_columns(
            pl.when(pl.col("function") == "").then(pl.lit("(anonymous)"))
            .otherwise(pl.col("function")).alias("name")
        )

    @property
    def nodes(self) -> pl.DataFrame:
        """One row per node of the file's tree: ids, parent, depth, frame columns, self/total."""
        f = self.frame_labels
        df = pl.DataFrame({
            "node_id": self.node_id,
            "parent_id": np.where(self.parent >= 0, self.node_id[np.maximum(self.parent, 0)], -1),
            "depth": self.depth,
            "frame_index": self.frame,
            "hit_count": self.hit_count,
            self.self_col: self.self_value,
            self.total_col: self.total,
        })
        return df.join(f.with_row_index("frame_index").with_columns(pl.col("frame_index").cast(pl.Int64)),
                       on="frame_index", how="left").select(
            "node_id", "parent_id", "depth", "name", "url", "line", "column", "script_id",
            "hit_count", self.self_col, self.total_col)

    @property
    def samples(self) -> pl.DataFrame:
        """One row per sample: ``ts_ms`` since profile start (CPU) or ``ordinal`` (alloc), node, weight."""
        if self.kind == "cpu":
            ts = pl.Series("ts_ms", (self.sample_ts_us - self.start_us) / 1000.0)
            w = "weight_ms"
        else:
            ts = pl.Series("ordinal", self.sample_ts_us.astype(np.int64))
            w = "size"
        return pl.DataFrame([ts, pl.Series("node_id", self.node_id[self.sample_node]),
                             pl.Series(w, self.sample_weight)])

    @cached_property
    def node_samples(self) -> np.ndarray:
        """Samples on top of each node: counted from the sample list when the file has one, else the
        file's hit counts (folded stacks, callers trees)."""
        if self.n_samples:
            return K.sample_counts(self.sample_node, self.n_nodes)
        return self.hit_count

    @cached_property
    def total_samples(self) -> np.ndarray:
        return K.subtree_totals(self.order, self.parent, self.node_samples.astype(np.float64)).astype(np.int64)

    # ---- analyses (delegating) -------------------------------------------------------------
    def hotspots(self, **kw) -> pl.DataFrame:
        """Bottom-up table, one row per function (see ``workbench.profile.calltree.hotspots``)."""
        from .calltree import hotspots
        return hotspots(self, **kw)

    functions = bottom_up = hotspots

    def calltree(self, **kw) -> pl.DataFrame:
        """Top-down call tree with percentages (see ``workbench.profile.calltree.calltree``)."""
        from .calltree import calltree
        return calltree(self, **kw)

    def sandwich(self, function: str):
        """Callers and callees of one function (``Sandwich``: tables ``callers``/``callees``, trees)."""
        from .calltree import sandwich
        return sandwich(self, function)

    def filter(self, *, categories=None, start_ms: float | None = None, end_ms: float | None = None) -> "Profile":
        """Keep only ``categories`` (e.g. ``["app"]``: my code only) and/or the samples in
        [start_ms, end_ms)."""
        p = self
        if start_ms is not None or end_ms is not None:
            p = p.window(start_ms or 0.0, end_ms if end_ms is not None else float("inf"))
        if categories is not None:
            from .calltree import keep_categories
            p = keep_categories(p, categories)
        return p

    def window(self, start_ms: float, end_ms: float) -> "Profile":
        from .calltree import window
        return window(self, start_ms, end_ms)

    def focus(self, function: str) -> "Profile":
        from .calltree import focus
        return focus(self, function)

    def callers(self, function: str) -> "Profile":
        from .calltree import callers
        return callers(self, function)

    def flame_graph(self, **kw) -> pl.DataFrame:
        """Flame graph rectangles (x0, x1, depth ...; see ``workbench.profile.flame.flame_graph``)."""
        from .flame import flame_graph
        return flame_graph(self, **kw)

    def flame_chart_rects(self, **kw) -> pl.DataFrame:
        """Time-ordered rectangles (see ``workbench.profile.flame.flame_chart``)."""
        from .flame import flame_chart
        return flame_chart(self, **kw)

    def flame(self, **kw):
        """The flame graph as an altair chart (root at the bottom, coloured by category)."""
        from ..charts.flame import flame_graph_of
        return flame_graph_of(self, **kw)

    def flame_chart(self, **kw):
        """The flame chart (x = time, DevTools' Performance view) as an altair chart."""
        from ..charts.flame import flame_chart_of
        return flame_chart_of(self, **kw)

    def to_folded(self, path=None, **kw):
        """Folded stacks (``a;b;c 12``), as text or written to ``path``."""
        from .export import write_folded
        return write_folded(self, path, **kw)

    def to_speedscope(self, path=None):
        from .export import to_speedscope
        return to_speedscope(self, path)

    def to_svg(self, path=None, **kw):
        """The flame graph as SVG text, or written to ``path``."""
        from ..charts.flame import to_svg
        return to_svg(self, path, **kw)

    def to_html(self, path=None, **kw):
        """The flame graph as a standalone HTML page (opens offline), or written to ``path``."""
        from ..charts.flame import to_html
        return to_html(self, path, **kw)
