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

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _kernels as K

if TYPE_CHECKING:  # analyses receive models; they never import them at run time
    from .model import Profile


class Merged:
    """The sibling-merged tree of a profile (what the Call Tree and flame graphs show)."""

    def __init__(self, p: Profile):
        m_of, m_parent, m_frame, n = K.merge_siblings(p.order, p.parent, p.frame, max(p.frames.height, 1))
        self.of_node = m_of
        self.parent = m_parent
        self.frame = m_frame
        self.self_value = np.bincount(m_of, weights=p.self_value, minlength=n)
        self.hit_count = np.bincount(m_of, weights=p.hit_count, minlength=n).astype(np.int64)
        self.samples = np.bincount(m_of, weights=p.node_samples, minlength=n).astype(np.int64)
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
    f = p.frame_labels.select(pl.col("name").alias("function"), "url", "line", "column", "category")
    return f[frame_idx]


def _pct(values: np.ndarray, whole: float) -> np.ndarray:
    return values * (100.0 / whole) if whole else np.zeros_like(values)


def calltree(p: Profile, *, max_depth: int | None = None, min_pct: float = 0.0) -> pl.DataFrame:
    """The top-down call tree in depth-first order, heaviest child first.

    Columns: id, parent_id (-1 for the root), depth (root = 0), function, url, line, column, category,
    self_ms/self_size, total_ms/total_size, self_pct, total_pct, self_samples, total_samples.
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
        pl.Series("self_samples", m.samples[pre]),
        pl.Series("total_samples", K.subtree_totals(np.arange(m.n, dtype=np.int64), m.parent,
                                                    m.samples.astype(np.float64))[pre].astype(np.int64)),
    )


def hotspots(p: Profile, *, top: int | None = None, sort: str = "self") -> pl.DataFrame:
    """Bottom-up: one row per function (frame), root excluded, heaviest first.

    Columns: function, url, line, column, category, self_samples, total_samples, self_ms, total_ms
    (``self_size``/``total_size`` in bytes for allocation profiles), self_pct, total_pct.
    ``self_samples`` counts the samples whose top frame is the function (``samples`` of the file; the
    file's ``hitCount`` when it has no sample list); ``total_samples`` the samples with the function
    anywhere on the stack, counted once per sample under recursion (the outermost call's subtree).
    ``self_ms`` is DevTools' (hitCount × (endTime − startTime) / Σ hitCount). Sorted by ``sort``
    ("self" or "total"), descending; ``top`` keeps the first rows.
    """
    nf = p.frames.height
    total = p.total
    outer = ~p.recursive
    fself = np.bincount(p.frame, weights=p.self_value, minlength=nf)
    ftotal = np.bincount(p.frame[outer], weights=total[outer], minlength=nf)
    fs = np.bincount(p.frame, weights=p.node_samples, minlength=nf).astype(np.int64)
    ft = np.bincount(p.frame[outer], weights=p.total_samples[outer], minlength=nf).astype(np.int64)
    present = np.bincount(p.frame, minlength=nf) > 0
    present[p.frame[0]] = np.count_nonzero(p.frame == p.frame[0]) > 1  # the root is no function
    idx = np.nonzero(present)[0]
    whole = p.total_value
    df = pl.concat([_frame_cols(p, idx), pl.DataFrame({
        "self_samples": fs[idx], "total_samples": ft[idx],
        p.self_col: fself[idx], p.total_col: ftotal[idx],
        "self_pct": _pct(fself[idx], whole), "total_pct": _pct(ftotal[idx], whole),
    })], how="horizontal")
    col = {"self": p.self_col, "total": p.total_col}.get(sort)
    if col is None:
        raise UsageError(f"sort must be 'self' or 'total', not {sort!r}")
    df = df.sort([col, "self_samples", "function", "url", "line"], descending=[True, True, False, False, False])
    return df.head(top) if top else df


functions = hotspots  # the name the first version used


def match_frames(p: Profile, function: str) -> np.ndarray:
    """Frame indices named ``function`` (or whose ``name url:line`` label equals it)."""
    f = p.frame_labels
    label = pl.concat_str([pl.col("name"), pl.lit(" "), pl.col("url"), pl.lit(":"), pl.col("line").cast(pl.String)])
    hit = f.select((pl.col("name") == function) | (pl.col("function") == function) | (label == function)
                   ).to_series().to_numpy()
    if not hit.any():
        raise UsageError(f"no function named {function!r} in this profile", p.path)
    return hit


def _with_tree(p: Profile, parent, frame, node_id, hits, self_value, sample_node, keep_samples, meta) -> Profile:
    return p.derive(parent=parent, frame=frame, node_id=node_id, hit_count=hits, self_value=self_value,
                    sample_node=sample_node, sample_ts_us=p.sample_ts_us[keep_samples],
                    sample_weight=p.sample_weight[keep_samples], meta={**p.meta, **meta})


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
    return p.derive(parent=r_parent, frame=r_frame, node_id=np.arange(len(r_parent)),
                    hit_count=np.zeros(len(r_parent), np.int64), self_value=r_self, sample_node=empty,
                    sample_ts_us=np.zeros(0), sample_weight=np.zeros(0), meta={**p.meta, "callers_of": function})


class Sandwich:
    """speedscope's Sandwich view of one function: its own row, its direct callers and direct callees
    (tables), and the two trees behind them (``caller_tree``: the inverted callers graph, each outermost
    call contributing its total along its stack; ``callee_tree``: everything it calls, every outermost
    call hung under one root)."""

    def __init__(self, p: Profile, function: str):
        self.profile = p
        self.function = function
        self.caller_tree = callers(p, function)
        self.callee_tree = focus(p, function)
        hs = hotspots(p)
        match = match_frames(p, function)
        keys = p.frame_labels.with_row_index("_f").filter(pl.Series(match))
        self.row = hs.join(keys.select(pl.col("name").alias("function"), "url", "line", "column"),
                           on=["function", "url", "line", "column"], how="semi")
        self.callers = _level_one(self.caller_tree, p, "caller")
        self.callees = _level_one(self.callee_tree, p, "callee")

    def __repr__(self) -> str:
        return (f"<Sandwich {self.function!r}: {self.callers.height} callers, {self.callees.height} callees>\n"
                f"{self.row}\ncallers:\n{self.callers}\ncallees:\n{self.callees}")

    def flame(self, **kw):
        """Two altair flame graphs: callers (inverted, above) and callees (below)."""
        from ..charts.flame import sandwich_chart
        return sandwich_chart(self, **kw)


def _level_one(tree: Profile, p: Profile, what: str) -> pl.DataFrame:
    """The direct children of the root of a caller/callee tree: one row per caller or callee frame,
    with the time (or bytes) spent in ``function`` via that caller / in that callee under ``function``."""
    m = merged(tree)
    # level 1 is the function itself (one node per matching frame); level 2 its callers / callees
    kids = np.nonzero(m.depth == 2)[0]
    whole = p.total_value
    df = pl.concat([_frame_cols(tree, m.frame[kids]), pl.DataFrame({p.total_col: m.total[kids]})],
                   how="horizontal")
    df = df.group_by("function", "url", "line", "column", "category", maintain_order=True).agg(
        pl.col(p.total_col).sum()).with_columns((pl.col(p.total_col) * (100.0 / whole if whole else 0.0))
                                                .alias("total_pct"))
    return df.rename({"function": what}).sort(p.total_col, descending=True)


def sandwich(p: Profile, function: str) -> Sandwich:
    """Callers and callees of ``function`` (a name, or ``name url:line``)."""
    return Sandwich(p, function)


def keep_categories(p: Profile, categories) -> Profile:
    """Only frames whose ``category`` is in ``categories`` ("my code only": ``["app"]``); a hidden
    frame's time goes to its nearest shown caller (0x's tier filters and DevTools' "hide function"
    do the same), so totals and the profile's whole stay exact. The root always stays."""
    cats = [categories] if isinstance(categories, str) else list(categories)
    bad = [c for c in cats if c not in p.CATEGORIES]
    if bad:
        raise UsageError(f"unknown categor{'y' if len(bad) == 1 else 'ies'} {', '.join(bad)}; "
                         f"choose from {', '.join(p.CATEGORIES)}", p.path)
    shown_frame = p.frames["category"].is_in(cats).to_numpy()
    keep = shown_frame[p.frame]
    keep[0] = True
    up = K.nearest_kept(p.order, p.parent, keep)  # every node -> itself if kept, else nearest kept ancestor
    idx = np.nonzero(keep)[0]
    new_of = np.full(p.n_nodes, -1, np.int64)
    new_of[idx] = np.arange(len(idx))
    parent = np.full(len(idx), -1, np.int64)
    parent[1:] = new_of[up[np.maximum(p.parent[idx[1:]], 0)]]
    to = new_of[up]
    hits = np.bincount(to, weights=p.hit_count, minlength=len(idx)).astype(np.int64)
    self_value = np.bincount(to, weights=p.self_value, minlength=len(idx))
    keep_s = np.ones(p.n_samples, bool)
    return _with_tree(p, parent, p.frame[idx], p.node_id[idx], hits, self_value, to[p.sample_node], keep_s,
                      {"categories": cats, "hidden_nodes": int(p.n_nodes - len(idx))})


def merge(*profiles: Profile) -> Profile:
    """One profile from several of the same kind (several runs, workers or processes): the trees are
    joined under one root (identical stacks merge in ``calltree``/``hotspots``/flame graphs), samples are
    concatenated, each profile's samples shifted to start where the previous one ended."""
    ps = [q for q in profiles]
    if len(ps) == 1 and not hasattr(ps[0], "derive"):  # one iterable of profiles
        ps = list(ps[0])
    if not ps:
        raise UsageError("merge needs at least one profile")
    kinds = {q.kind for q in ps}
    if len(kinds) > 1:
        raise UsageError(f"cannot merge {' and '.join(sorted(kinds))} profiles")
    frames = pl.concat([q.frames for q in ps]).unique(maintain_order=True)
    fidx = frames.with_row_index("_f")
    parents, fr, nid, hits, selfv, sn, ts, w = [], [], [], [], [], [], [], []
    base, t_shift, node_base = 1, 0.0, 0
    root_frame = None
    for q in ps:
        f_of = q.frames.join(fidx, on=list(q.frames.columns), how="left", nulls_equal=True)["_f"].to_numpy()
        if root_frame is None:
            root_frame = f_of[q.frame[0]]
        # q's root maps to the merged root 0; its other nodes follow
        new = np.concatenate([[0], base + np.arange(q.n_nodes - 1)])
        parents.append(np.where(q.parent[1:] == 0, 0, new[np.maximum(q.parent[1:], 0)]))
        fr.append(f_of[q.frame[1:]])
        nid.append(node_base + q.node_id[1:])
        hits.append(q.hit_count[1:])
        selfv.append(q.self_value[1:])
        sn.append(new[q.sample_node])
        ts.append(q.sample_ts_us - q.start_us + t_shift)
        w.append(q.sample_weight)
        base += q.n_nodes - 1
        node_base += int(q.node_id.max()) + 1
        t_shift += (q.end_us - q.start_us) if q.kind == "cpu" else 0.0
    parent = np.concatenate([[-1]] + parents)
    frame = np.concatenate([[root_frame]] + fr)
    root_hits = sum(int(q.hit_count[0]) for q in ps)
    root_self = sum(float(q.self_value[0]) for q in ps)
    from .._notes import concat
    return ps[0].derive(path=None, source="merged", frames=frames, parent=parent, frame=frame,
                        node_id=np.concatenate([[0]] + nid), hit_count=np.concatenate([[root_hits]] + hits),
                        self_value=np.concatenate([[root_self]] + selfv), sample_node=np.concatenate(sn),
                        sample_ts_us=np.concatenate(ts), sample_weight=np.concatenate(w), start_us=0.0,
                        end_us=t_shift, meta={"merged": [q.path or q.source for q in ps]},
                        notes=concat(q.notes for q in ps))
