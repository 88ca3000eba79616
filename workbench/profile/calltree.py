"""Call tree (top-down), functions (bottom-up / Sandwich table), time windows, focus and callers.

Semantics, from DevTools ``panels/profiler/TopDownProfileDataGrid.ts``,
``BottomUpProfileDataGrid.ts`` and ``ProfileDataGrid.ts`` (chrome-devtools-frontend 1.0.1705227):

* **Call tree**: siblings with the same frame (DevTools' ``callUID``) are merged into one row
  (``childrenByCallUID``); self/total are sums over the merged nodes; percentages are of the root's
  total (the whole profile).
* **Functions** (the top level of DevTools' Bottom-Up view, speedscope's Sandwich table): one row per
  frame, root excluded; ``self`` = sum of self over all nodes of the frame; ``total`` = sum of totals
  over the frame's *outermost* nodes only, so a recursive function is counted once per stack (what
  speedscope's Sandwich and pprof's ``cum`` do). DevTools' own Bottom-Up grid intends the same
  (``totalAccountedFor``) but its check compares UIDs from a per-level WeakMap, so in practice it
  adds recursive totals again; our goldens check non-recursive rows against DevTools' node totals and
  recursive rows against a count of stacks straight from the samples.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _kernels as K
from .model import Profile, finish


class Merged:
    """The sibling-merged tree of a profile (what the Call Tree and flame graphs show)."""

    def __init__(self, p: Profile):
        m_of, m_parent, m_frame, n = K.merge_siblings(p.order, p.parent, p.frame, max(p.frames.height, 1))
        self.of_node = m_of
        self.parent = m_parent
        self.frame = m_frame
        self.self_value = np.bincount(m_of, weights=p.self_value, minlength=n)
        self.hit_count = np.bincount(m_of, weights=p.hit_count, minlength=n).astype(np.int64)
        order = np.arange(n, dtype=np.int64)  # merged ids are assigned parents-first
        self.total = K.subtree_totals(order, m_parent, self.self_value)
        self.depth = K.depths(m_parent)
        self.n = n


def merged(p: Profile) -> Merged:
    m = p.__dict__.get("_merged")
    if m is None:
        m = Merged(p)
        p.__dict__["_merged"] = m
    return m


def _frame_cols(p: Profile, frame_idx: np.ndarray) -> pl.DataFrame:
    f = p.frame_labels.select("name", "url", "line", "column")
    return f[frame_idx]


def _pct(values: np.ndarray, whole: float) -> np.ndarray:
    return values * (100.0 / whole) if whole else np.zeros_like(values)


def calltree(p: Profile, *, max_depth: int | None = None, min_pct: float = 0.0) -> pl.DataFrame:
    """The top-down call tree in depth-first order, heaviest child first.

    Columns: id, parent_id (-1 for the root), depth (root = 0), name, url, line, column,
    self_ms/self_size, total_ms/total_size, self_pct, total_pct, hit_count.
    ``max_depth`` and ``min_pct`` (of the whole profile) prune rows; pruned rows are dropped whole
    (their time stays in their parent's total).
    """
    m = merged(p)
    # CSR of children, heaviest first
    kids = np.arange(1, m.n)
    o = np.lexsort((kids, -m.total[kids], m.parent[kids]))
    kids = kids[o]
    ptr = np.zeros(m.n + 1, np.int64)
    np.cumsum(np.bincount(m.parent[kids], minlength=m.n), out=ptr[1:])
    pre = K.preorder(0, ptr, kids.astype(np.int64))
    whole = m.total[0]
    keep = np.ones(len(pre), bool)
    if max_depth is not None:
        keep &= m.depth[pre] <= max_depth
    if min_pct:
        keep &= _pct(m.total[pre], whole) >= min_pct
    pre = pre[keep]
    df = pl.DataFrame({"id": pre, "parent_id": m.parent[pre], "depth": m.depth[pre]})
    df = pl.concat([df, _frame_cols(p, m.frame[pre])], how="horizontal")
    return df.with_columns(
        pl.Series(p.self_col, m.self_value[pre]), pl.Series(p.total_col, m.total[pre]),
        pl.Series("self_pct", _pct(m.self_value[pre], whole)), pl.Series("total_pct", _pct(m.total[pre], whole)),
        pl.Series("hit_count", m.hit_count[pre]),
    )


def functions(p: Profile, *, top: int | None = None, sort: str = "self") -> pl.DataFrame:
    """One row per function (frame): self and total (recursion counted once), as a Sandwich table.

    Columns: name, url, line, column, self_ms/self_size, total_ms/total_size, self_pct, total_pct,
    hit_count. Sorted by ``sort`` ("self" or "total"), descending; ``top`` keeps the first rows.
    """
    nf = p.frames.height
    total = p.total
    outer = ~p.recursive
    fself = np.bincount(p.frame, weights=p.self_value, minlength=nf)
    ftotal = np.bincount(p.frame[outer], weights=total[outer], minlength=nf)
    fhits = np.bincount(p.frame, weights=p.hit_count, minlength=nf).astype(np.int64)
    present = np.bincount(p.frame, minlength=nf) > 0
    present[p.frame[0]] = np.count_nonzero(p.frame == p.frame[0]) > 1  # the root is no function
    idx = np.nonzero(present)[0]
    whole = p.total_value
    df = pl.concat([_frame_cols(p, idx), pl.DataFrame({
        p.self_col: fself[idx], p.total_col: ftotal[idx],
        "self_pct": _pct(fself[idx], whole), "total_pct": _pct(ftotal[idx], whole), "hit_count": fhits[idx],
    })], how="horizontal")
    col = {"self": p.self_col, "total": p.total_col}.get(sort)
    if col is None:
        raise UsageError(f"sort must be 'self' or 'total', not {sort!r}")
    df = df.sort([col, "name"], descending=[True, False])
    return df.head(top) if top else df


def match_frames(p: Profile, function: str) -> np.ndarray:
    """Frame indices named ``function`` (or whose ``name url:line`` label equals it)."""
    f = p.frame_labels
    label = pl.concat_str([pl.col("name"), pl.lit(" "), pl.col("url"), pl.lit(":"), pl.col("line").cast(pl.String)])
    hit = f.select((pl.col("name") == function) | (label == function)).to_series().to_numpy()
    if not hit.any():
        raise UsageError(f"no function named {function!r} in this profile", p.path)
    return hit


def _with_tree(p: Profile, parent, frame, node_id, hits, self_value, sample_node, keep_samples, meta) -> Profile:
    return finish(p.kind, p.path, p.source, p.frames, parent, frame, node_id, hits, self_value, sample_node,
                  p.sample_ts_us[keep_samples], p.sample_weight[keep_samples], p.start_us, p.end_us,
                  {**p.meta, **meta})


def window(p: Profile, start_ms: float, end_ms: float) -> Profile:
    """The same tree restricted to samples in [start_ms, end_ms) since profile start (CPU), or to
    ordinals in [start, end] (allocation profiles, as DevTools' ordinal range selection).

    Self values are recomputed from the kept samples: hits × the profile's interval (CPU) or the sum
    of sample sizes (alloc).
    """
    if p.kind == "cpu":
        rel = (p.sample_ts_us - p.start_us) / 1000.0
        keep = (rel >= start_ms) & (rel < end_ms)
    else:
        keep = (p.sample_ts_us >= start_ms) & (p.sample_ts_us <= end_ms)
    if end_ms <= start_ms:
        raise UsageError(f"empty window [{start_ms}, {end_ms})", p.path)
    sn = p.sample_node[keep]
    hits = np.bincount(sn, minlength=p.n_nodes).astype(np.int64)
    self_value = np.bincount(sn, weights=p.sample_weight[keep], minlength=p.n_nodes)
    out = _with_tree(p, p.parent, p.frame, p.node_id, hits, self_value, sn, keep,
                     {"window": (start_ms, end_ms), "window_samples": int(keep.sum())})
    if p.kind == "cpu":
        object.__setattr__(out, "start_us", p.start_us + start_ms * 1000.0)
        object.__setattr__(out, "end_us", min(p.end_us, p.start_us + end_ms * 1000.0))
    return out


def focus(p: Profile, function: str) -> Profile:
    """The callees of ``function``: every outermost call of it becomes a child of a new root
    (DevTools' "Focus on function", speedscope's callee flame graph)."""
    match = match_frames(p, function)[p.frame]
    below = K.inside_subtree(p.order, p.parent, match, False)
    strict = K.inside_subtree(p.order, p.parent, match, True)
    keep = below.copy()
    keep[0] = True
    idx = np.nonzero(keep)[0]
    new_of = np.full(p.n_nodes, -1, np.int64)
    new_of[idx] = np.arange(len(idx))
    outermost = match & ~strict
    parent = np.where(outermost[idx], 0, new_of[np.maximum(p.parent[idx], 0)])
    parent[0] = -1
    ks = keep[p.sample_node] & (p.sample_node != 0)
    hits = p.hit_count[idx].copy()
    self_value = p.self_value[idx].copy()
    hits[0] = 0
    self_value[0] = 0.0
    return _with_tree(p, parent, p.frame[idx], p.node_id[idx], hits, self_value, new_of[p.sample_node[ks]], ks,
                      {"focus": function})


def callers(p: Profile, function: str) -> Profile:
    """The callers of ``function`` as an inverted tree (speedscope's inverted caller flame graph):
    each outermost node of the function contributes its total along the path to the root, reversed.
    The result has no samples."""
    match = match_frames(p, function)[p.frame]
    starts = np.nonzero(match & ~p.recursive)[0].astype(np.int64)
    r_parent, r_frame, r_self = K.caller_chains(starts, p.parent, p.frame, p.total[starts])
    r_frame[0] = p.frame[0]
    empty = np.zeros(0, np.int64)
    return finish(p.kind, p.path, p.source, p.frames, r_parent, r_frame, np.arange(len(r_parent)),
                  np.zeros(len(r_parent), np.int64), r_self, empty, np.zeros(0), np.zeros(0), p.start_us, p.end_us,
                  {**p.meta, "callers_of": function})
