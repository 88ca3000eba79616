"""Leak hunting for Node services: memlab's three-snapshot method with Node-aware filters,
retainer-trace clustering and a readable path per suspect.

What ``find_leaks(baseline, target, final)`` does (sources: memlab ``HeapAnalyzer.diffSnapshots``,
``LeakFilterRuleList``, ``TraceFinder.annotateShortestPaths``, ``trace-cluster``; research note §3):
1. Candidates are the objects of ``final`` whose id is in ``target`` and not in ``baseline``
   (``(STP \\ SBP) ∩ SFP`` by node id): allocated during the target phase and still alive.
2. Noise is dropped (memlab's FilterTrivialNode, extended for Node): numbers, strings,
   ``hidden``/``array``/``code``/``object shape``/``synthetic``/``symbol``/``bigint`` nodes and
   V8-internal objects named ``system / ...``. When those dropped objects, counted where no kept
   leaked object dominates them, retain more than the kept ones (a leak of plain strings or
   numbers), strings, numbers and arrays are kept after all. The counts dropped are reported.
3. Each remaining object gets its retainer trace: the shortest path from the root in a BFS that
   starts with the user roots (``global``; DevTools' distance order) and uses memlab's meaningful
   edges (no weak edges, no internal ``code`` / ``sloppy_function_map`` edges, no hidden edges into
   ``system / NativeContext``). A trace is normalised to (edge label, class) steps, element and
   numeric indices dropped and consecutive repeats collapsed (50 hops along a Timeout linked list
   are one step). Equal normalised traces form a cluster; clusters with the same class sequence
   whose edge labels agree on at least 80% of the steps are merged (memlab's
   ``SIMILAR_TRACE_THRESHOLD = 0.8``, with a simpler per-step similarity). Objects whose trace
   passes through compiled code (literal boilerplates held by allocation sites and feedback
   vectors) and objects deeper than 5000 hops are counted and left out.
4. Clusters with fewer than ``min_count`` objects are holders, not leak units (a Map table, a
   TimersList or an array that grew once); objects of the remaining clusters are leak units.
   A unit dominated (DevTools' dominator tree of ``final``) by another unit belongs to it, so
   every byte is counted once: a suspect is a cluster restricted to its top units, its
   ``retained_size`` the sum of their retained sizes, and ``retains`` names the leaked classes
   below them. Suspects are ranked by retained size. ``group_retained_size`` is what releasing the
   whole group would free: the shallow sizes of every node that is reachable from the root over
   DevTools' essential edges now and is not once the group's objects are removed (the group's
   dominated set taken together). It is larger than ``retained_size`` when members are held only
   jointly (an object two members share, a list whose every member holds the next).
5. A suspect is ``growing`` when its holder still gains members in the last window: an object
   allocated after ``target`` (id above target's newest JS object id) and alive in ``final`` has
   the suspect's retainer trace. One that stopped (a table filled once, a lazy init, a warm-up) is a
   ``plateau`` (``status``) and never serious: the three-snapshot method alone cannot tell a leak
   from a warm-up, the last window can.
6. A suspect is ``serious`` when it is growing, has at least ``serious_count`` objects and retains
   at least ``serious_bytes``; ``find_leaks(...).serious`` and the CLI's ``--fail-on-leak`` use that.
Each suspect also gets a ``kind`` and a one-line ``explanation`` in Node's terms, read off its path
and the heap (``explain``): ``timer`` (duration from the TimersList key, callback from
``_onTimeout``), ``listener`` (emitter class, event name, listener count), ``map``/``set`` (the
collection that keeps the entries), ``closure`` (the context variable), ``array``, ``promise``,
``stream`` or ``unknown``; and its ``allocation_site`` (the representative's script id, line and
column, 1-based, where the snapshot records one).
Each suspect carries one representative path (its top unit with the shortest trace) whose steps
name the variables and properties, and the ``holder``: the nearest non-leaked, non-internal
object on that path. Paths are folded (``retainers.fold_path``): a run of the same step (a linked
list of timers, ``._idleNext Timeout`` thousands of times) is one step with ``repeat``, in the
frames, the JSON, the holder and the text; ``fold=False`` keeps every step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from .._progress import progress
from ..errors import UsageError
from . import _leak_kernels as LK
from .retainers import bfs_path_edges, fold_path, path_tree

TRIVIAL_TYPES = ("hidden", "array", "string", "concatenated string", "sliced string", "number", "code",
                 "object shape", "synthetic", "symbol", "bigint")
BULK_TYPES = ("array", "string", "concatenated string", "sliced string", "number")
SIMILARITY = 0.8
MAX_HOPS = 5000


@dataclass
class LeakReport:
    """The result of ``find_leaks``: ranked suspects (a frame), their paths, and counts."""
    suspects: pl.DataFrame
    paths: list[pl.DataFrame]
    counts: dict
    serious_count: int
    serious_bytes: int
    files: list[str] = field(default_factory=list)

    @property
    def serious(self) -> pl.DataFrame:
        return self.suspects.filter(pl.col("serious"))

    def path(self, rank: int = 0) -> pl.DataFrame:
        return self.paths[rank]

    def to_dict(self) -> dict:
        out = []
        for row, path in zip(self.suspects.iter_rows(named=True), self.paths):
            out.append({
                "class": row["class"], "name": row["name"], "count": row["count"],
                "retained_size": row["retained_size"], "group_retained_size": row["group_retained_size"],
                "self_size": row["self_size"],
                "serious": row["serious"], "status": row["status"], "kind": row["kind"],
                "explanation": row["explanation"], "allocation_site": row["allocation_site"], "holder": row["holder"],
                "retains": row["retains"],
                "path": [{"node_id": r["node_id"], "class": r["class"], "name": r["name"], "edge": r["edge"],
                          "edge_type": r["edge_type"], "repeat": r["repeat"], "block": r["block"]}
                         for r in path.iter_rows(named=True)],
            })
        return {"suspects": out, "counts": self.counts, "files": self.files,
                "thresholds": {"serious_count": self.serious_count, "serious_bytes": self.serious_bytes}}

    def __repr__(self) -> str:
        lines = [f"<LeakReport: {len(self.suspects)} suspects, {len(self.serious)} serious; "
                 f"{self.counts['candidates']:,} objects new in target and alive in final>"]
        for i, (row, path) in enumerate(zip(self.suspects.head(5).iter_rows(named=True), self.paths)):
            lines.append(f"{i + 1}. {row['class']} ({row['name']}) x{row['count']:,}, retained "
                         f"{row['retained_size']:,} B{' [serious]' if row['serious'] else ''}")
            lines.append("   " + render_path(path))
        return "\n".join(lines)


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


def _node_labels(snap, parent_edge: np.ndarray) -> np.ndarray:
    """Per node, the normalised label of its BFS parent edge: the edge type alone for element,
    hidden and numerically named internal edges (indices), else (name, type)."""
    pe = parent_edge
    valid = pe >= 0
    e = np.where(valid, pe, 0)
    et = snap._etype[e].astype(np.int64)
    en = snap._ename[e].astype(np.int64)
    ntypes = len(snap.edge_types) + 2
    numeric_type = (et == snap._etype_index("element")) | (et == snap._etype_index("hidden"))
    internal = et == snap._etype_index("internal")
    names_used = np.unique(en[internal & valid])
    digit = np.zeros(snap.strings.n_original, dtype=np.bool_)
    if names_used.size:
        digit[names_used] = snap.strings.starts_with_digit(names_used)
    numeric = numeric_type | (internal & digit[np.where(numeric_type, 0, en)])
    lab = np.where(numeric, et, (en + 1) * ntypes + et)
    return np.where(valid, lab, -1)


def _merge_similar(snap, reps, hc, nsteps, node_label, parent_node, node_class):
    """Union clusters with the same class sequence whose labels agree on >= SIMILARITY of the
    steps. Returns a cluster -> merged cluster map."""
    nc = len(reps)
    target = np.arange(nc)
    groups: dict[tuple, list[int]] = {}
    for c in range(nc):
        groups.setdefault((int(hc[c]), int(nsteps[c])), []).append(c)
    for members in groups.values():
        if len(members) < 2 or len(members) > 200:
            continue
        seqs = {c: _collapsed_labels(snap, int(reps[c]), node_label, parent_node, node_class) for c in members}
        for i, a in enumerate(members):
            for b in members[:i]:
                sa, sb = seqs[a], seqs[b]
                if len(sa) == len(sb) and sa and \
                        sum(x == y for x, y in zip(sa, sb)) >= SIMILARITY * len(sa):
                    target[a] = target[b] if target[b] != b else b
                    break
    # resolve chains
    for c in range(nc):
        t = c
        while target[t] != t:
            t = target[t]
        target[c] = t
    return target


def _collapsed_labels(snap, v, node_label, parent_node, node_class):
    steps = []
    while v != snap.root and v >= 0:
        steps.append((int(node_label[v]), int(node_class[v])))
        v = int(parent_node[v])
    out = []
    for s in reversed(steps):
        if not out or out[-1] != s:
            out.append(s)
    return [lab for lab, _ in out]


def find_leaks(baseline, target, final, *, min_count: int = 2, serious_count: int = 10,
               serious_bytes: int = 64 * 1024, top: int = 20, quiet: bool = True, fold: bool = True) -> LeakReport:
    """memlab's three-snapshot leak hunt for Node (see the module doc). Arguments are
    HeapSnapshots, all from one process, taken in this order (``workbench.find_leaks`` also takes
    paths)."""
    from .diff import check_same_process
    base, tgt, fin = baseline, target, final
    check_same_process(base, fin)
    check_same_process(tgt, fin)
    if not (base.max_js_object_id <= tgt.max_js_object_id <= fin.max_js_object_id):
        raise UsageError(f"{base.path}, {tgt.path}, {fin.path}: the snapshots are not in baseline, target, "
                         "final order (their newest object ids decrease)")
    bar = progress(6, "leaks", quiet=quiet)
    snap = fin
    ids = snap.ids
    leaked = np.isin(ids, tgt.ids) & ~np.isin(ids, base.ids)
    ntype = snap._ntype
    trivial_t = np.zeros(len(snap.node_types) + 1, dtype=np.bool_)
    bulk_t = np.zeros(len(snap.node_types) + 1, dtype=np.bool_)
    for t in TRIVIAL_TYPES:
        trivial_t[snap._ntype_index(t)] = True
    for t in BULK_TYPES:
        bulk_t[snap._ntype_index(t)] = True
    snap.class_index  # noqa: B018 -- class and 'Detached' names add strings; size tables after
    system_name = np.zeros(len(snap.strings), dtype=np.bool_)
    uniq_names = np.unique(snap.node_names[leaked])
    sys_hits = [i for i, s in zip(uniq_names.tolist(), snap.strings.get_many(uniq_names)) if s.startswith("system / ")]
    system_name[sys_hits] = True
    trivial = trivial_t[ntype] | system_name[snap.node_names]
    meaningful = leaked & ~trivial
    meaningful_type = ~trivial
    first_dom, dom_children = snap._dominated
    bar.update(1)
    # step 2's exception: trivial leaked objects that no kept leaked object dominates, and that
    # retain more than the kept ones, are the leak (e.g. strings pushed into an old array)
    anc_m = LK.nearest_marked_ancestor(first_dom, dom_children, snap.root, meaningful)
    idom = snap.dominator_ordinals
    free_trivial = leaked & trivial & bulk_t[ntype] & (anc_m < 0) & ~leaked[idom]
    kept_top = meaningful & (anc_m < 0)
    bulk_mode = snap.retained_sizes[free_trivial].sum() > snap.retained_sizes[kept_top].sum()
    if bulk_mode:
        meaningful = leaked & (~trivial | bulk_t[ntype])
        meaningful_type = ~trivial | bulk_t[ntype]
    bar.update(1)
    dist, parent_edge, parent_node, _, _ = path_tree(snap, readable=True, user_first=True)
    node_label = _node_labels(snap, parent_edge)
    node_class = snap.class_index.astype(np.int64)
    cand = np.flatnonzero(meaningful)
    is_code = ntype == snap._ntype_index("code")
    hf, hc, nsteps, hops = LK.trace_signatures(cand, parent_node, node_label, node_class, is_code, snap.root,
                                               MAX_HOPS)
    reachable = hops >= 0
    unreachable_count = int((hops == -1).sum())
    too_deep = int((hops == -2).sum())
    via_code = int((hops == -3).sum())
    cand, hf, hc, nsteps, hops = cand[reachable], hf[reachable], hc[reachable], nsteps[reachable], hops[reachable]
    bar.update(1)
    uniq, first, cluster = np.unique(hf, return_index=True, return_inverse=True)
    cluster = cluster.reshape(-1)
    # representative per cluster for the similarity merge: its member with the shortest path
    order = np.lexsort((hops, cluster))
    rep_pos = order[np.r_[0, np.flatnonzero(np.diff(cluster[order])) + 1]] if cand.size else order
    merge = _merge_similar(snap, cand[rep_pos], hc[rep_pos], nsteps[rep_pos], node_label, parent_node, node_class)
    cluster = merge[cluster]
    # which groups still grow (step 5): objects allocated after target, alive in final, of the
    # group's class and hanging from the same holder (the nearest object that existed at baseline)
    is_new = ~np.isin(ids, base.ids)
    late = np.flatnonzero(meaningful_type & (ids.astype(np.int64) > int(tgt.max_js_object_id)) & ((ids & 1) == 1))
    late_key = set()
    if late.size:
        late_holder = LK.first_old_ancestor(late, parent_node, is_new, snap.root)
        late_key = set(zip(node_class[late].tolist(), late_holder.tolist()))
    sizes = np.bincount(cluster, minlength=len(uniq)) if cand.size else np.zeros(0, np.int64)
    unit_pos = sizes[cluster] >= min_count if cand.size else np.zeros(0, np.bool_)
    unit = np.zeros(snap.node_count, dtype=np.bool_)
    unit[cand[unit_pos]] = True
    bar.update(1)
    anc_u = LK.nearest_marked_ancestor(first_dom, dom_children, snap.root, unit)
    top_mask = unit & (anc_u < 0)
    # the top unit above every leaked meaningful node (pointer jumping over anc_u)
    top_of = np.where(top_mask, np.arange(snap.node_count), anc_u)
    for _ in range(64):
        nxt = np.where(top_of >= 0, top_of, 0)
        up = np.where((top_of >= 0) & ~top_mask[nxt], anc_u[nxt], top_of)
        if np.array_equal(up, top_of):
            break
        top_of = up
    cluster_of = np.full(snap.node_count, -1, dtype=np.int64)
    cluster_of[cand] = cluster
    tops = np.flatnonzero(top_mask)
    tcl = cluster_of[tops]
    retained = snap.retained_sizes
    bar.update(1)
    rows = []
    if tops.size:
        ucl, inv = np.unique(tcl, return_inverse=True)
        ret_sum = np.bincount(inv, weights=retained[tops])
        self_sum = np.bincount(inv, weights=snap.self_sizes[tops])
        cnt = np.bincount(inv)
        rank = np.argsort(-ret_sum, kind="stable")[:top]
        hops_of = np.full(snap.node_count, 1 << 30, dtype=np.int64)
        hops_of[cand] = hops
        below = np.flatnonzero(meaningful & ~top_mask & (top_of >= 0))
        below_cluster = cluster_of[top_of[below]]
        for r in rank.tolist():
            members = tops[inv == r]
            rep = members[np.lexsort((-retained[members], hops_of[members]))[0]]
            names = snap.strings.get_many(np.unique(snap.node_names[members])[:1])
            nm_idx, nm_cnt = np.unique(snap.node_names[members], return_counts=True)
            name = snap.strings[nm_idx[np.argmax(nm_cnt)]] if nm_idx.size else names[0]
            inside = below[below_cluster == ucl[r]]
            retains = []
            if inside.size:
                cl_idx, cl_cnt = np.unique(node_class[inside], return_counts=True)
                for j in np.argsort(-cl_cnt, kind="stable")[:6].tolist():
                    retains.append({"class": snap.strings[cl_idx[j]], "count": int(cl_cnt[j])})
            holder_of = LK.first_old_ancestor(np.array([rep], dtype=np.int64), parent_node, is_new, snap.root)[0]
            rows.append((rep, {
                "growing": (int(node_class[rep]), int(holder_of)) in late_key, "_cluster": int(ucl[r]),
                "class": snap.strings[node_class[rep]], "name": name[:120], "count": int(cnt[r]),
                "retained_size": int(ret_sum[r]), "self_size": int(self_sum[r]),
                "retains": retains, "representative_id": int(snap.ids[rep]),
            }))
    from .retainers import path_frame
    if rows:
        sizes = group_retained_sizes(snap, [unit & (cluster_of == row.pop("_cluster")) for _, row in rows])
        for (_, row), size in zip(rows, sizes):
            row["group_retained_size"] = size
    paths, out_rows = [], []
    for rep, row in rows:
        edges = bfs_path_edges(snap, rep, parent_edge, parent_node)
        pf = path_frame(snap, edges, rep).with_columns(leaked=pl.Series(leaked[[int(snap._to[e]) for e in edges]],
                                                                        dtype=pl.Boolean))
        pf = fold_path(pf) if fold else pf.with_columns(repeat=pl.lit(1, pl.Int64), block=pl.lit(1, pl.Int64))
        paths.append(pf)
        row["holder"] = _holder(snap, pf, trivial)
        row["path"] = render_path(pf)
        row["status"] = "growing" if row["growing"] else "plateau"
        row["kind"], row["explanation"] = explain(snap, pf, rep, row)
        row["allocation_site"] = _allocation_site(snap, rep)
        row["serious"] = row["growing"] and row["count"] >= serious_count and row["retained_size"] >= serious_bytes
        out_rows.append(row)
    bar.update(1)
    bar.close()
    schema = {"class": pl.String, "name": pl.String, "count": pl.Int64, "retained_size": pl.Int64,
              "group_retained_size": pl.Int64, "self_size": pl.Int64, "serious": pl.Boolean, "status": pl.String,
              "growing": pl.Boolean, "kind": pl.String, "explanation": pl.String,
              "allocation_site": pl.Struct({"script_id": pl.Int64, "line": pl.Int64, "column": pl.Int64}),
              "holder": pl.String, "path": pl.String,
              "representative_id": pl.Int64,
              "retains": pl.List(pl.Struct({"class": pl.String, "count": pl.Int64}))}
    suspects = pl.DataFrame(out_rows, schema=schema) if out_rows else pl.DataFrame(schema=schema)
    counts = {
        "candidates": int(leaked.sum()),
        "dropped_as_noise": int((leaked & ~meaningful).sum()),
        "kept": int(meaningful.sum()),
        "unreachable": unreachable_count,
        "trace_too_long": too_deep,
        "held_by_compiled_code": via_code,
        "in_small_clusters": int(len(cand) - unit_pos.sum()) if cand.size else 0,
        "leak_units": int(unit.sum()),
        "top_units": int(tops.size),
        "bulk_mode": bool(bulk_mode),
    }
    return LeakReport(suspects, paths, counts, serious_count, serious_bytes,
                      [str(s.path) for s in (base, tgt, fin)])


def _out_edge(snap, v: int, name: str) -> int:
    """The node that ``v``'s named edge (property or internal) leads to, or -1."""
    for e in range(int(snap.first_edge[v]), int(snap.first_edge[v + 1])):
        if snap.edge_types[snap._etype[e]] in ("property", "internal") and snap.strings[int(snap._ename[e])] == name:
            return int(snap._to[e])
    return -1


def _allocation_site(snap, v: int):
    loc = snap.locations.get(int(v))
    return None if loc is None else {"script_id": int(loc[0]), "line": int(loc[1]) + 1, "column": int(loc[2]) + 1}


def explain(snap, path: pl.DataFrame, rep: int, row: dict) -> tuple[str, str]:
    """(kind, explanation) of a suspect in Node's terms, from its representative path and the heap."""
    rows = path.to_dicts()
    before = rows[:-1][-3:]   # the holder: the last few steps above the member (the root side is runtime)
    classes = [r["class"] for r in before]
    edges = [r["edge"] for r in before]
    n, cls = row["count"], row["class"]
    grew = "still growing after the target snapshot" if row.get("growing") else "not growing in the last window"
    if cls in ("Timeout", "Immediate") or "TimersList" in classes:
        i = max(i for i, c in enumerate(classes) if c == "TimersList") if "TimersList" in classes else -1
        duration = edges[i].strip("[]") if i >= 0 and edges[i].startswith("[") else "?"
        cb = _out_edge(snap, rep, "_onTimeout")
        callback = snap.strings[int(snap.node_names[cb])] if cb >= 0 else "?"
        return "timer", (f"{n:,} timers never cleared (setTimeout/setInterval without clearTimeout/clearInterval): "
                         f"duration {duration} ms, callback {callback or '(anonymous)'}; {grew}")
    if "._events" in edges:
        i = edges.index("._events")
        emitter = classes[i - 1] if i else "?"
        event = edges[i + 1].lstrip(".") if i + 1 < len(edges) else "?"
        via = edges[i - 1] if i else ""
        return "listener", (f"{n:,} listeners of {event!r} on {emitter} ({via}) never removed (on/addListener "
                            f"without off/removeListener); {grew}")
    if len(before) >= 2 and edges[-1] == "{table}" and classes[-2] in ("Map", "Set", "WeakMap", "WeakSet"):
        coll = classes[-2]
        return coll.lower().removeprefix("weak"), f"{coll} {edges[-2]} keeps {n:,} entries without eviction; {grew}"
    if before and classes[-1] == "system / Context" and rows[-1]["edge_type"] == "context":
        return "closure", (f"a closure's context keeps {n:,} objects in the variable {rows[-1]['edge'].lstrip('->')!r}; "
                           f"{grew}")
    if "Promise" in classes:
        return "promise", f"a promise chain that never settles holds {n:,} objects; {grew}"
    if any(c in ("BufferList", "ReadableState", "WritableState") for c in classes):
        return "stream", f"a stream's buffer holds {n:,} chunks (a paused or slow consumer); {grew}"
    if before and classes[-1] == "Array" and rows[-1]["edge_type"] in ("element", "internal"):
        return "array", f"the array {edges[-1]} {classes[-1]} keeps {n:,} objects; {grew}"
    return "unknown", f"{n:,} objects held by {row.get('holder') or '?'}; {grew}"


def group_retained_sizes(snap, groups) -> list[int]:
    """For each group (a node mask or ordinals), the bytes that releasing all of it would free: the
    shallow sizes of the nodes reachable from the root over DevTools' essential edges that are no
    longer reachable once the group's nodes are removed (the group's own nodes included)."""
    ess = snap.essential_edges
    before = LK.reachable_avoiding(snap.first_edge, snap._to, ess, snap.root, np.zeros(snap.node_count, np.bool_))
    out = []
    for g in groups:
        g = np.asarray(g)
        if g.dtype != np.bool_:
            mask = np.zeros(snap.node_count, dtype=np.bool_)
            mask[g.astype(np.int64)] = True
            g = mask
        after = LK.reachable_avoiding(snap.first_edge, snap._to, ess, snap.root, g)
        out.append(int(snap.self_sizes[before & ~after].sum()))
    snap.__dict__.pop("essential_edges", None)   # the dominator pass frees it too: no lasting memory
    return out


def _holder(snap, pf: pl.DataFrame, trivial: np.ndarray) -> str:
    """What holds the suspect, in the words of the code: from the second nearest named,
    non-leaked object on the path down to the object before the suspect, skipping V8 internals
    (``->cache ThumbnailCache .table Map``, ``->configBus EventEmitter ._events Object
    .configChanged Array``)."""
    rows = pf.to_dicts()
    if len(rows) < 2:
        return ""
    ords = snap.ordinals_of([r["node_id"] for r in rows])
    named = [i for i in range(len(rows) - 1) if not rows[i]["leaked"] and not trivial[ords[i]]]
    if not named:
        return ""
    start = named[-2] if len(named) >= 2 else named[-1]
    parts = []
    for i in range(start, len(rows) - 1):
        if trivial[ords[i]]:
            continue
        r = rows[i]
        label = r["name"] if r["class"] == "Function" and r["name"] else r["class"]
        rep = int(r.get("repeat", 1) or 1)
        parts.append(f"{r['edge']} {label}" + (f" ×{rep:,}" if rep > 1 else ""))
    return " ".join(parts)
