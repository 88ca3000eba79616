"""Retainers of an object: direct retainers (DevTools' Retainers panel), the k shortest retainer
paths from the GC roots, and the object's chain of dominators / its children in the dominator tree.

Semantics and sources (heap-snapshot-toolkit@1.1.3, i.e. DevTools' HeapSnapshot.ts):
- Direct retainers follow ``JSHeapSnapshot.retainingEdgesFilter``: an edge is shown unless it is
  ``invisible``, comes from the snapshot root, or is ``weak`` (``weak=True`` shows weak edges).
  Rows are in DevTools' retainer order (``buildRetainers``), sorted by the retainer's distance.
- Edge text is ``JSHeapSnapshotEdge.toString``: context ``->name``, element ``[i]``, weak
  ``[[name]]``, property ``.name`` (``["a b"]`` when the name has a space), shortcut like
  property (``[i]`` for numeric names), internal/hidden/invisible ``{name}``.
- Retainer paths are simple paths from the snapshot root to the object over non-weak edges (weak
  edges too with ``weak=True``), shortest first; a path's first step is the root's edge to a GC
  root group such as ``(GC roots)`` or a user root such as ``global``. ``ignore_nodes`` /
  ``ignore_edges`` remove retainers the way DevTools' "Ignore this retainer" does: no path goes
  through them. Path search is a best-first search backwards from the object whose heuristic is
  the exact BFS distance from the root under the same filters (so it is exact, and stops after
  ``max_states`` partial paths; the frame's ``truncated`` attribute says if that happened).
- ``dominators`` is the immediate-dominator chain up to the root (DevTools' dominator tree, the
  model's ``dominator_ordinals``); ``dominated`` lists the children in that tree with their
  retained sizes (DevTools' ``buildDominatedNodes``).
"""
from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _leak_kernels as LK

MAX_STATES = 2_000_000


# ---------------------------------------------------------------------------------- edges
def _edge_name(snap, e: int):
    t = snap.edge_types[int(snap._etype[e])]
    raw = int(snap._ename[e])
    if t in ("element", "hidden"):
        return t, raw
    name = snap.strings[raw]
    if t == "shortcut":
        try:
            return t, int(name)
        except ValueError:
            return t, name
    return t, name


def render_edge(edge_type: str, name) -> str:
    """DevTools' JSHeapSnapshotEdge.toString."""
    if edge_type == "context":
        return "->" + str(name)
    if edge_type == "element":
        return f"[{name}]"
    if edge_type == "weak":
        return f"[[{name}]]"
    if edge_type == "property" or (edge_type == "shortcut" and isinstance(name, str)):
        return "." + name if " " not in name else f'["{name}"]'
    if edge_type == "shortcut":
        return f"[{name}]"
    if edge_type in ("internal", "hidden", "invisible"):
        return "{" + str(name) + "}"
    return f"?{name}?"


def edge_label(snap, e: int) -> tuple[str, str, str]:
    """(rendered label, edge type, name as text) of edge index ``e``."""
    t, name = _edge_name(snap, e)
    return render_edge(t, name), t, str(name)


# ---------------------------------------------------------------------------------- helpers
def ordinal_of(snap, node_id) -> int:
    try:
        nid = int(node_id)
    except (TypeError, ValueError):
        raise UsageError(f"{snap.path}: node id {node_id!r} is not an integer") from None
    o = int(snap.ordinals_of([nid])[0])
    if o < 0:
        raise UsageError(f"{snap.path}: no object with id @{nid} in this snapshot")
    return o


def _node_rows(snap, ords: np.ndarray) -> dict:
    ords = np.asarray(ords, dtype=np.int64)
    names = snap.strings.get_many(snap.node_names[ords]) if ords.size else []
    return {
        "node_id": snap.ids[ords].astype(np.int64),
        "class": snap.class_names(ords) if ords.size else [],
        "name": [n[:200] for n in names],
        "distance": snap.distances[ords].astype(np.int64),
        "self_size": snap.self_sizes[ords].astype(np.int64),
        "retained_size": snap.retained_sizes[ords].astype(np.int64),
    }


def edge_mask(snap, *, weak: bool = False, ignore_edges=(), readable: bool = False) -> np.ndarray:
    """Per edge: may a retainer path use it? Never ``invisible`` edges; ``weak`` edges only when
    asked. ``readable`` also drops edges memlab's isMeaningfulEdge drops (internal ``code`` and
    ``sloppy_function_map``, hidden edges into ``system / NativeContext``) so leak traces
    read like code. ``ignore_edges``: (from_id, to_id) pairs, or edge indices."""
    et = snap._etype
    ok = et != snap._etype_index("invisible")
    if not weak:
        ok &= et != snap._etype_index("weak")
    if readable:
        internal, hidden = snap._etype_index("internal"), snap._etype_index("hidden")
        code = np.zeros(snap.strings.n_original, dtype=np.bool_)
        code[snap.strings.find("code")] = True
        sloppy = np.zeros(snap.strings.n_original, dtype=np.bool_)
        sloppy[snap.strings.find("sloppy_function_map")] = True
        named = (et != snap._etype_index("element")) & (et != hidden)
        ename = np.where(named, snap._ename, 0)
        ok &= ~((et == internal) & (code[ename] | sloppy[ename]))
        ncx = snap._string_mask("system / NativeContext")
        ok &= ~((et == hidden) & ncx[snap.node_names[snap._to]])
    for item in ignore_edges:
        if isinstance(item, (tuple, list)):
            a, b = ordinal_of(snap, item[0]), ordinal_of(snap, item[1])
            lo, hi = int(snap.first_edge[a]), int(snap.first_edge[a + 1])
            sel = np.flatnonzero(snap._to[lo:hi] == b) + lo
            ok[sel] = False
        else:
            e = int(item)
            if not 0 <= e < snap.edge_count:
                raise UsageError(f"{snap.path}: edge index {e} out of range")
            ok[e] = False
    return ok


def _node_mask(snap, ignore_nodes=()) -> np.ndarray:
    ok = np.ones(snap.node_count, dtype=np.bool_)
    for nid in ignore_nodes:
        ok[ordinal_of(snap, nid)] = False
    return ok


def path_tree(snap, *, weak: bool = False, ignore_nodes=(), ignore_edges=(), readable: bool = False,
              user_first: bool = False):
    """(dist, parent_edge, parent_node, edge_ok, node_ok): BFS from the root (hop counts; with
    ``user_first`` the user roots such as ``global`` are explored before the system roots, as
    DevTools' distances do). The default configurations are cached on the snapshot."""
    cacheable = not ignore_nodes and not ignore_edges
    key = ("path_tree", weak, readable, user_first)
    cache = snap.__dict__.setdefault("_issue3_cache", {})
    if cacheable and key in cache:
        return cache[key]
    edge_ok = edge_mask(snap, weak=weak, ignore_edges=ignore_edges, readable=readable)
    node_ok = _node_mask(snap, ignore_nodes)
    dist, pe, pn = LK.bfs_tree(snap.first_edge, snap._to, edge_ok, node_ok, snap.root,
                               snap._user_root_mask, user_first)
    out = (dist, pe, pn, edge_ok, node_ok)
    if cacheable:
        cache[key] = out
    return out


def path_frame(snap, edges, target: int) -> pl.DataFrame:
    """One row per step of a path given as edge indices root side first: the edge (rendered),
    its type, and the node it leads to."""
    edges = [int(e) for e in edges]
    ords = np.array([int(snap._to[e]) for e in edges], dtype=np.int64)
    labels = [edge_label(snap, e) for e in edges]
    rows = _node_rows(snap, ords)
    return pl.DataFrame({
        "step": np.arange(len(edges), dtype=np.int64),
        "edge": [lab[0] for lab in labels],
        "edge_type": [lab[1] for lab in labels],
        "edge_name": [lab[2] for lab in labels],
        **rows,
    }, schema_overrides={"class": pl.String, "name": pl.String, "edge": pl.String,
                         "edge_type": pl.String, "edge_name": pl.String})


MAX_CYCLE = 4   # the longest block of steps that folding looks for (a -> b -> a -> b ...)


def fold_runs(keys: list, max_cycle: int = MAX_CYCLE) -> list[tuple[int, int, int]]:
    """Runs of a repeated block in a sequence: ``(start, length, repeats)`` covering ``keys`` in
    order. At each position the block of 1..``max_cycle`` keys that repeats back to back over the
    most keys wins (ties: the shortest block); a block that does not repeat is ``(i, 1, 1)``.
    Linear in practice: each position tries ``max_cycle`` block lengths and a run is skipped whole."""
    out = []
    i, n = 0, len(keys)
    while i < n:
        best_len, best_rep = 1, 1
        for length in range(1, max_cycle + 1):
            if i + 2 * length > n:
                break
            block = keys[i:i + length]
            rep = 1
            while i + (rep + 1) * length <= n and keys[i + rep * length:i + (rep + 1) * length] == block:
                rep += 1
            if rep >= 2 and rep * length > best_rep * best_len:
                best_len, best_rep = length, rep
        out.append((i, best_len, best_rep))
        i += best_len * best_rep
    return out


def fold_path(path: pl.DataFrame) -> pl.DataFrame:
    """A path (``path_frame`` rows, one path) with repeated steps folded: a run of steps with the same
    edge and class (a linked list: ``._idleNext Timeout`` 4,000 times), or a block of a few steps
    repeated (``.next Node .value Entry`` ...), is kept once with ``repeat`` = how many times it
    occurs back to back and ``block`` = how many rows the repeated block has (1 for a plain run).
    Element and other index edges compare by type only (``[12]`` and ``[13]`` are one step). The
    last step (the object itself) is never folded. ``step`` keeps each row's raw position."""
    n = path.height
    if n == 0:
        return path.with_columns(repeat=pl.lit(1, pl.Int64), block=pl.lit(1, pl.Int64))
    et, ed, cl = path["edge_type"].to_list(), path["edge"].to_list(), path["class"].to_list()
    keys = [(t, "[]" if t in ("element", "hidden") else e, c) for t, e, c in zip(et, ed, cl)][:-1]
    keep, repeat, block = [], [], []
    for start, length, rep in fold_runs(keys):
        keep.extend(range(start, start + length))
        repeat.extend([rep] * length)
        block.extend([length] * length)
    keep.append(n - 1)
    repeat.append(1)
    block.append(1)
    return path[keep].with_columns(repeat=pl.Series(repeat, dtype=pl.Int64), block=pl.Series(block, dtype=pl.Int64))


def bfs_path_edges(snap, ordinal: int, parent_edge: np.ndarray, parent_node: np.ndarray) -> list[int]:
    """The BFS tree path to ``ordinal`` as edge indices, root side first ([] if unreachable)."""
    out = []
    v = int(ordinal)
    while v != snap.root:
        e = int(parent_edge[v])
        if e < 0:
            return []
        out.append(e)
        v = int(parent_node[v])
    return out[::-1]


# ---------------------------------------------------------------------------------- API
def retainers(snap, node_id, *, weak: bool = False) -> pl.DataFrame:
    """Direct retainers of an object: edge (DevTools text), edge_type, edge_name, and the
    retaining object's node_id, class, name, distance, self_size, retained_size."""
    v = ordinal_of(snap, node_id)
    a, b = int(snap.first_retainer[v]), int(snap.first_retainer[v + 1])
    src = snap.retaining_nodes[a:b].astype(np.int64)
    eidx = snap.retaining_edges[a:b].astype(np.int64)
    et = snap._etype[eidx]
    keep = (src != snap.root) & (et != snap._etype_index("invisible"))
    if not weak:
        keep &= et != snap._etype_index("weak")
    src, eidx = src[keep], eidx[keep]
    labels = [edge_label(snap, e) for e in eidx.tolist()]
    df = pl.DataFrame({
        "edge": [lab[0] for lab in labels],
        "edge_type": [lab[1] for lab in labels],
        "edge_name": [lab[2] for lab in labels],
        **_node_rows(snap, src),
        "edge_index": eidx,
    }, schema_overrides={"class": pl.String, "name": pl.String, "edge": pl.String,
                         "edge_type": pl.String, "edge_name": pl.String})
    # DevTools sorts the retainers by distance; unreachable (-5) last.
    return df.with_columns(_o=pl.when(pl.col("distance") < 0).then(pl.lit(2**62)).otherwise(pl.col("distance"))) \
        .sort("_o", maintain_order=True).drop("_o")


def retainer_paths(snap, node_id, k: int = 3, *, weak: bool = False, ignore_nodes=(), ignore_edges=(),
                   max_states: int = MAX_STATES, fold: bool = True) -> pl.DataFrame:
    """The k shortest distinct retainer paths from the GC roots to an object, shortest first.

    Long format: one row per step, ``path`` numbers the paths (0 = shortest), ``step`` counts
    from the root side; columns edge, edge_type, edge_name, node_id, class, name, distance,
    self_size, retained_size, repeat, block. Repeated steps are folded (``fold_path``: ``repeat``
    > 1 on the kept rows) unless ``fold=False``, which gives every step (``repeat`` 1). Empty when
    the object is unreachable under the filters."""
    if k < 1:
        raise UsageError("k must be at least 1")
    v = ordinal_of(snap, node_id)
    dist, _, _, edge_ok, node_ok = path_tree(snap, weak=weak, ignore_nodes=ignore_nodes,
                                             ignore_edges=ignore_edges)
    paths, lengths, used, truncated = LK.k_shortest_retainer_paths(
        snap.first_retainer, snap.retaining_nodes, snap.retaining_edges, edge_ok, node_ok, dist,
        snap.root, v, int(k), int(max_states))
    frames = []
    for j in range(len(lengths)):
        f = path_frame(snap, paths[j, :lengths[j]].tolist(), v)
        f = fold_path(f) if fold else f.with_columns(repeat=pl.lit(1, pl.Int64), block=pl.lit(1, pl.Int64))
        frames.append(f.with_columns(path=pl.lit(j, dtype=pl.Int64)).select(["path", *f.columns]))
    if frames:
        df = pl.concat(frames)
    else:
        df = fold_path(path_frame(snap, [], v)).with_columns(path=pl.lit(0, dtype=pl.Int64))
        df = df.select(["path", *[c for c in df.columns if c != "path"]])
    if truncated:
        import warnings
        warnings.warn(f"retainer path search for @{node_id} stopped after {used:,} partial paths; "
                      f"{len(lengths)} of {k} paths found", stacklevel=2)
    return df


def dominators(snap, node_id) -> pl.DataFrame:
    """The object and its chain of immediate dominators up to the root (depth 0 = the object)."""
    v = ordinal_of(snap, node_id)
    chain = [v]
    idom = snap.dominator_ordinals
    seen = {v}
    while chain[-1] != snap.root:
        d = int(idom[chain[-1]])
        if d in seen:
            break
        seen.add(d)
        chain.append(d)
    return pl.DataFrame({"depth": np.arange(len(chain), dtype=np.int64), **_node_rows(snap, np.array(chain))},
                        schema_overrides={"class": pl.String, "name": pl.String})


def dominated(snap, node_id, *, top: int | None = None) -> pl.DataFrame:
    """Children of an object in the dominator tree, by retained size (largest first)."""
    v = ordinal_of(snap, node_id)
    first, children = snap._dominated
    ch = children[int(first[v]):int(first[v + 1])].astype(np.int64)
    order = np.argsort(-snap.retained_sizes[ch], kind="stable")
    ch = ch[order]
    if top is not None:
        ch = ch[:top]
    return pl.DataFrame(_node_rows(snap, ch), schema_overrides={"class": pl.String, "name": pl.String})


def step_label(r: dict) -> str:
    """One step of a path in words: the edge and the object's class (its name for functions and
    V8's synthetic and system objects)."""
    label = r["class"]
    if r["class"] in ("(synthetic)", "Function", "(system)") or r["class"].startswith("system /"):
        label = r["name"] or r["class"]
    return f"{r['edge']} {label}"


def render_path(path: pl.DataFrame, sep: str = " -> ") -> str:
    """``(GC roots) -> ... -> system / Context ->cache ThumbnailCache .table Map ...``; a folded run
    reads ``._idleNext Timeout ×3,997``, a repeated block ``(.next Node -> .value Entry) ×500``."""
    rows = path.to_dicts()
    parts, i = [], 0
    while i < len(rows):
        r = rows[i]
        rep, block = int(r.get("repeat", 1) or 1), int(r.get("block", 1) or 1)
        if rep > 1 and block > 1:
            parts.append("(" + sep.join(step_label(x) for x in rows[i:i + block]) + f") ×{rep:,}")
            i += block
            continue
        parts.append(step_label(r) + (f" ×{rep:,}" if rep > 1 else ""))
        i += 1
    return sep.join(parts)
