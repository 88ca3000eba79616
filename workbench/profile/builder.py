"""Building a Profile from what a reader parsed: unique frames and their categories, ids mapped
to node indices, the tree checked, sibling stacks merged (``merge_siblings``, for stack-list formats),
sample counts, and the model made. Every profile reader in ``workbench/io`` ends in ``finish``;
nothing here knows a file format.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from .._notes import notes_frame
from ..errors import FormatError
from . import _kernels as K
from ._kernels import merge_siblings, sample_counts
from .model import Profile

__all__ = ["FRAME_KEYS", "build_frames", "category_expr", "index_of_ids", "check_tree", "delta_weights", "finish",
           "merge_siblings", "sample_counts"]

FRAME_KEYS = ("function", "script_id", "url", "line", "column")


def build_frames(path, section: str, cols: dict) -> tuple[pl.DataFrame, np.ndarray]:
    """Unique frames from per-node columns; returns (frames, frame index of each node)."""
    df = pl.DataFrame({
        "function": pl.Series(cols["function"], dtype=pl.String),
        "script_id": pl.Series(cols["script_id"], dtype=pl.String),
        "url": pl.Series(cols["url"], dtype=pl.String),
        "line": pl.Series(cols["line"], dtype=pl.Int64),
        "column": pl.Series(cols["column"], dtype=pl.Int64),
    }).with_columns(pl.col(c).fill_null("") for c in ("function", "script_id", "url")) \
      .with_columns(pl.col(c).fill_null(0) for c in ("line", "column"))
    frames = df.unique(maintain_order=True)
    idx = df.with_row_index("_row").join(
        frames.with_row_index("_frame"), on=list(FRAME_KEYS), how="left", nulls_equal=True
    ).sort("_row")["_frame"].to_numpy().astype(np.int64)
    frames = frames.with_columns(pl.col("line").cast(pl.Int32), pl.col("column").cast(pl.Int32))
    if "category" in cols:  # the reader knows better (v8 log code types, clinic's own areas)
        cat = df.with_row_index("_row").select("_row", pl.Series("category", cols["category"], dtype=pl.String))
        first = pl.DataFrame({"_frame": idx, "category": cat["category"]}).unique("_frame", keep="first") \
            .sort("_frame")
        frames = frames.with_columns(first["category"].fill_null("app"))
    else:
        frames = frames.with_columns(category_expr())
    return frames, idx


def category_expr() -> pl.Expr:
    """0x's tiers from a frame's name and url: V8's pseudo frames by name; ``node:``/``internal/``
    urls (and bare core module file names of old Node versions) are Node core; ``node_modules`` is
    deps; frames without a url are V8 builtins/native code; everything else is the app."""
    fn, url = pl.col("function"), pl.col("url")
    return (pl.when(fn == "(garbage collector)").then(pl.lit("gc"))
            .when(fn == "(idle)").then(pl.lit("idle"))
            .when(fn.is_in(["(program)", "(root)"])).then(pl.lit("program"))
            .when(url.str.contains("node_modules")).then(pl.lit("deps"))
            .when(url.str.starts_with("node:") | url.str.starts_with("internal/")
                  | url.str.contains(r"^[a-z_]+\.js$")).then(pl.lit("core"))
            .when(url == "").then(pl.lit("v8"))
            .otherwise(pl.lit("app")).alias("category"))


def index_of_ids(path, section: str, ids: np.ndarray, refs: np.ndarray, what: str) -> np.ndarray:
    """Map referenced ids to node indices; unknown ids are a FormatError naming the first one."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    pos = np.searchsorted(sorted_ids, refs)
    pos = np.minimum(pos, max(len(sorted_ids) - 1, 0))
    ok = (sorted_ids[pos] == refs) if len(sorted_ids) else np.zeros(len(refs), bool)
    if not ok.all():
        bad = int(np.nonzero(~ok)[0][0])
        raise FormatError(path, f"{section}[{bad}]", None, f"{what} {int(refs[bad])} is not a node id")
    return order[pos].astype(np.int64)


def check_tree(path, section: str, parent: np.ndarray, node_id: np.ndarray) -> np.ndarray:
    """Validate that ``parent`` is a tree rooted at node 0; return depths."""
    n = parent.shape[0]
    if n == 0:
        raise FormatError(path, section, None, "no nodes")
    if parent[0] != -1:
        raise FormatError(path, f"{section}[0]", None, "the first node (the root) has a parent")
    if np.any(parent >= n) or np.any(parent < -1):
        raise FormatError(path, section, None, "parent index out of range")
    d = K.depths(parent)
    if np.any(d < 0):
        bad = int(np.nonzero(d < 0)[0][0])
        raise FormatError(path, f"{section}[{bad}]", None,
                          f"node {int(node_id[bad])} is not reachable from the root (cycle or second root)")
    return d


def delta_weights(sample_node: np.ndarray, ts_us: np.ndarray) -> np.ndarray:
    """speedscope's sample weights (µs), in the file's sample order: a run of samples on one node weighs
    the time from its first sample to the first sample of the next run, times that go backwards are
    clamped to the latest time seen at a run's start, and the last sample weighs nothing (speedscope
    ``importFromChromeCPUProfile``). The run's weight goes to its first sample, the others weigh 0."""
    n = len(sample_node)
    w = np.zeros(n, np.float64)
    if n < 2:
        return w
    change = np.ones(n, bool)
    change[1:] = sample_node[1:] != sample_node[:-1]
    idx = np.flatnonzero(change)
    v = np.maximum.accumulate(np.concatenate([ts_us[idx], ts_us[-1:]]).astype(np.float64))
    w[idx] = np.diff(v)
    return w


def finish(kind, path, source, frames, parent, frame, node_id, hit_count, self_value, sample_node,
           sample_ts_us, sample_weight, start_us, end_us, meta, notes=()) -> Profile:
    """The Profile; ``notes``: (section, count, what) of every lossy or corrective step."""
    src = None if path is None else str(path)
    return Profile.create(kind=kind, frames=frames, parent=parent, frame=frame, node_id=node_id,
                          hit_count=hit_count, self_value=self_value, sample_node=sample_node,
                          sample_ts_us=sample_ts_us, sample_weight=sample_weight, start_us=start_us,
                          end_us=end_us, source=source, path=path, meta=meta,
                          notes=notes_frame((src, sec, n, what) for sec, n, what in notes if n))
