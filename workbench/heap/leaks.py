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
   TimersList or an array that grew once); objects of the remaining clusters are leak units. A
   closure's cluster is also keyed by its function's source position (two callbacks with one trace
   are two leaks). V8's promise reactions (``system / PromiseReaction``) are kept as units: they
   carry a promise-chain leak. A unit held (DevTools' dominator tree of ``final``) by a unit of
   another group belongs to that group (its ``retains``); a unit held by a unit of its own group (the
   next link of a singly linked list, where each link dominates the rest) stays a member. So a
   suspect's ``count`` is every member, its ``retained_size`` the sum over its top members only
   (every byte once), and ``group_retained_size`` what releasing the whole group would free: the
   shallow sizes of every node reachable from the root over DevTools' essential edges now and not
   once the group's members are removed. It is larger than ``retained_size`` when members are held
   only jointly (an object two members share, a doubly linked list).
5. Each member's *holder* is the nearest object above it on its BFS path that existed at baseline
   and is not a link of a chain (its class differs from its parent's and its child's on the path):
   the old links of a timer list, of a list-based LRU or of a reaction chain are passed over, so
   every member of one list names the same holder whichever end the path came from. With more than
   three snapshots (baseline, target, later ones, final) the time after ``target`` is cut into
   windows at each later snapshot; ``gained`` counts, per window, the objects allocated in it (id
   between the two snapshots' newest JS object ids), alive in ``final``, with a member's class and
   holder. A suspect is ``growing`` when it gained in the last window, else a ``plateau`` (a table
   filled once, a lazy init, a warm-up, growth that stopped) and never serious. ``notes`` says when
   the snapshots cannot tell: a large plateau judged from one window (three snapshots), growth that
   stopped, growth in bursts.
6. Objects that only transient V8 roots keep alive (``_transient_only``: the current stack
   frame's handles, ``(Stack roots)`` and ``(Handle scope)``, and the ``(Strong roots)`` entries
   ``weak_refs_keep_during_job`` (WeakRef targets made or dereferenced in the current task) and
   ``current_microtask``) go when the task that wrote the snapshot ends: they are counted as
   ``transient`` and are no suspect.
7. A suspect is ``serious`` when it is growing, has at least ``serious_count`` objects and retains
   at least ``serious_bytes``; ``find_leaks(...).serious`` and the CLI's ``--fail-on-leak`` use that.
Each suspect also gets a ``kind`` and a one-line ``explanation`` in Node's terms, read off its path,
its members and the heap (``explain``): ``timer`` (durations from the TimersList keys of all members,
callbacks from their ``_onTimeout``, with counts), ``promise`` (the promise waited on, the ``.then``
callbacks), ``listener`` (emitter class, event name, listener count in every snapshot), ``stream``
(the stream object and the side, writable or readable, whose buffer grows), ``map``/``set`` (the
collection and its entry count in every snapshot), ``list`` (a linked list and the object that
holds it), ``closure`` (the context variable), ``array``, ``object-map`` (a plain object used as a
map) or ``unknown``; and its ``allocation_site``: script id, 1-based line and column, the script's
URL and the function (for a closure its own, for an object its constructor; for a carrier without a
position, such as a reaction or a stream's write request, the first located object it carries).
Each suspect carries one representative path (of its members hanging from the most common holder,
the one with the shortest trace) whose steps name the variables and properties, and the ``holder``
text from the second named object above the holder down to the member. Paths are folded
(``retainers.fold_path``): a run of the same step (a linked list of timers, ``._idleNext Timeout``
thousands of times) is one step with ``repeat``, in the frames, the JSON, the holder and the text;
``fold=False`` keeps every step.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from .._progress import progress
from ..errors import UsageError
from . import _leak_kernels as LK
from .retainers import bfs_path_edges, fold_path, path_tree, render_path, step_label  # noqa: F401 -- re-exported

TRIVIAL_TYPES = ("hidden", "array", "string", "concatenated string", "sliced string", "number", "code",
                 "object shape", "synthetic", "symbol", "bigint")
BULK_TYPES = ("array", "string", "concatenated string", "sliced string", "number")
SIMILARITY = 0.8
MAX_HOPS = 5000
MAP_LIKE_PROPERTIES = 16
# V8 internal objects that carry a Node leak and are kept as leak units (a promise's reactions)
CARRIERS = ("system / PromiseReaction",)
# entries of (Strong roots) that hold objects for the current task only
TRANSIENT_EDGES = ("weak_refs_keep_during_job", "current_microtask")


@dataclass
class LeakReport:
    """The result of ``find_leaks``: ranked suspects (a frame), their paths, and counts."""
    suspects: pl.DataFrame
    paths: list[pl.DataFrame]
    counts: dict
    serious_count: int
    serious_bytes: int
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

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
                "retains": row["retains"], "gained": row["gained"],
                "path": [{"node_id": r["node_id"], "class": r["class"], "name": r["name"], "edge": r["edge"],
                          "edge_type": r["edge_type"], "repeat": r["repeat"], "block": r["block"]}
                         for r in path.iter_rows(named=True)],
            })
        return {"suspects": out, "counts": self.counts, "files": self.files, "notes": self.notes,
                "thresholds": {"serious_count": self.serious_count, "serious_bytes": self.serious_bytes}}

    def __repr__(self) -> str:
        lines = [f"<LeakReport: {len(self.suspects)} suspects, {len(self.serious)} serious; "
                 f"{self.counts['candidates']:,} objects new in target and alive in final>"]
        for i, (row, path) in enumerate(zip(self.suspects.head(5).iter_rows(named=True), self.paths)):
            lines.append(f"{i + 1}. {row['class']} ({row['name']}) x{row['count']:,}, retained "
                         f"{row['retained_size']:,} B{' [serious]' if row['serious'] else ''}")
            lines.append("   " + render_path(path))
        return "\n".join(lines)


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
    # a property of an object with more than MAP_LIKE_PROPERTIES named properties is a key of an
    # object used as a map (obj[id] = value): its name is data, not code, and is dropped too
    prop_t = snap._etype_index("property")
    prop = snap._etype == prop_t
    cs = np.concatenate([np.zeros(1, np.int32), np.cumsum(prop, dtype=np.int32)])
    fe = snap.first_edge.astype(np.int64)
    owner = np.searchsorted(fe, e, side="right") - 1
    nprops = cs[fe[owner + 1]] - cs[fe[owner]]
    numeric |= (et == prop_t) & (nprops > MAP_LIKE_PROPERTIES)
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


def _transient_only(snap) -> np.ndarray:
    """Nodes that only transient V8 roots keep alive: reachable from the root over DevTools'
    essential edges, and not once the roots that last one task are cut: the current stack frame's
    handles (``(Stack roots)``, ``(Handle scope)``) and the entries of ``(Strong roots)`` named
    ``weak_refs_keep_during_job`` (targets of WeakRefs made in the current task) and
    ``current_microtask``. Such objects go when the task that took the snapshot ends."""
    st = snap.strings
    names = snap.node_names
    blocked = np.zeros(snap.node_count, dtype=np.bool_)
    synthetic = snap._ntype == snap._ntype_index("synthetic")
    for nm in ("(Stack roots)", "(Handle scope)"):
        blocked |= synthetic & np.isin(names, st.find(nm))
    named = (snap._etype == snap._etype_index("internal")) | (snap._etype == snap._etype_index("property"))
    for nm in TRANSIENT_EDGES:
        idx = st.find(nm)
        if idx.size:
            blocked[snap._to[np.flatnonzero(named & np.isin(snap._ename, idx))]] = True
    if not blocked.any():
        return np.zeros(snap.node_count, dtype=np.bool_)
    ess = snap.essential_edges
    before = LK.reachable_avoiding(snap.first_edge, snap._to, ess, snap.root, np.zeros(snap.node_count, np.bool_))
    after = LK.reachable_avoiding(snap.first_edge, snap._to, ess, snap.root, blocked)
    return before & ~after


def find_leaks(*snapshots, min_count: int = 2, serious_count: int = 10,
               serious_bytes: int = 64 * 1024, top: int = 20, quiet: bool = True, fold: bool = True) -> LeakReport:
    """memlab's three-snapshot leak hunt for Node (see the module doc). Arguments are
    HeapSnapshots, all from one process, taken in this order: baseline, target, then one or more
    later snapshots, the last of which is ``final`` (``workbench.find_leaks`` also takes paths)."""
    from .diff import check_same_process
    if len(snapshots) < 3:
        raise UsageError(f"find_leaks needs at least three snapshots (baseline, target, final), got {len(snapshots)}")
    base, tgt, fin = snapshots[0], snapshots[1], snapshots[-1]
    for s in snapshots[:-1]:
        check_same_process(s, fin)
    newest = [int(s.max_js_object_id) for s in snapshots]
    if any(a > b for a, b in zip(newest, newest[1:])):
        raise UsageError(", ".join(str(s.path) for s in snapshots) + ": the snapshots are not in baseline, "
                         "target, ..., final order (their newest object ids decrease)")
    bar = progress(7, "leaks", quiet=quiet)
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
    sys_hits = [i for i, s in zip(uniq_names.tolist(), snap.strings.get_many(uniq_names))
                if s.startswith("system / ") and s not in CARRIERS]
    system_name[sys_hits] = True
    carrier_name = np.zeros(len(snap.strings), dtype=np.bool_)
    for c in CARRIERS:
        carrier_name[snap.strings.find(c)] = True
    trivial = (trivial_t[ntype] & ~carrier_name[snap.node_names]) | system_name[snap.node_names]
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
    transient = _transient_only(snap)
    transient_count = int((meaningful & transient).sum())
    meaningful &= ~transient
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
    # a closure's group is also keyed by its function's source position (its allocation site):
    # two callbacks with one retainer trace are two leaks
    site = _site_keys(snap, cand)
    _, hf_code = np.unique(hf, return_inverse=True)
    site_vals, site_code = np.unique(site, return_inverse=True)
    uniq, cluster = np.unique(hf_code.reshape(-1).astype(np.int64) * max(site_vals.size, 1) + site_code.reshape(-1),
                              return_inverse=True)
    cluster = cluster.reshape(-1)
    nclusters = uniq.size
    # representative per cluster for the similarity merge: its member with the shortest path
    order = np.lexsort((hops, cluster))
    rep_pos = order[np.r_[0, np.flatnonzero(np.diff(cluster[order])) + 1]] if cand.size else order
    merge = _merge_similar(snap, cand[rep_pos], hc[rep_pos] * 1_000_003 + site[rep_pos], nsteps[rep_pos],
                           node_label, parent_node, node_class)
    cluster = merge[cluster]
    sizes = np.bincount(cluster, minlength=nclusters) if cand.size else np.zeros(0, np.int64)
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
    # members of a group: its units that no unit of another group holds (a unit below a unit of
    # its own group, the next link of a singly linked list, stays a member); every byte is counted
    # once: a group's retained size sums its top units only
    units = np.flatnonzero(unit)
    member = np.zeros(snap.node_count, dtype=np.bool_)
    member[units[cluster_of[units] == cluster_of[top_of[units]]]] = True
    tops = np.flatnonzero(top_mask)
    retained = snap.retained_sizes
    is_new = ~np.isin(ids, base.ids)
    # objects allocated after target and alive in final, per window between the later snapshots
    odd = (ids & 1) == 1
    late = np.flatnonzero(meaningful_type & ~transient & (ids.astype(np.int64) > newest[1]) & odd)
    late_window = np.searchsorted(np.array(newest[1:-1], dtype=np.int64), ids[late].astype(np.int64), side="left") - 1
    late_window = np.clip(late_window, 0, max(len(snapshots) - 3, 0))
    late_key = node_class[late] * (snap.node_count + 1) + (LK.stable_holders(late, parent_node, is_new, node_class,
                                                                             snap.root) + 1)
    bar.update(1)
    rows = []
    if tops.size:
        ucl, inv = np.unique(cluster_of[tops], return_inverse=True)
        ret_sum = np.bincount(inv, weights=retained[tops])
        rank = np.argsort(-ret_sum, kind="stable")[:top]
        hops_of = np.full(snap.node_count, 1 << 30, dtype=np.int64)
        hops_of[cand] = hops
        members_all = np.flatnonzero(member)
        mcl = cluster_of[members_all]
        mhold = LK.stable_holders(members_all, parent_node, is_new, node_class, snap.root)
        mkey = node_class[members_all] * (snap.node_count + 1) + (mhold + 1)
        below = np.flatnonzero(meaningful & ~member & (top_of >= 0))
        below_cluster = cluster_of[top_of[below]]
        for r in rank.tolist():
            sel = mcl == ucl[r]
            members, keys = members_all[sel], mkey[sel]
            # the representative: of the members hanging from the most common holder, the one
            # with the shortest trace (then the largest retained size)
            kv, kc = np.unique(keys, return_counts=True)
            main = members[keys == kv[np.argmax(kc)]]
            rep = main[np.lexsort((-retained[main], hops_of[main]))[0]]
            nm_idx, nm_cnt = np.unique(snap.node_names[members], return_counts=True)
            name = snap.strings[nm_idx[np.argmax(nm_cnt)]]
            inside = below[below_cluster == ucl[r]]
            retains = []
            if inside.size:
                cl_idx, cl_cnt = np.unique(node_class[inside], return_counts=True)
                for j in np.argsort(-cl_cnt, kind="stable")[:6].tolist():
                    retains.append({"class": snap.strings[cl_idx[j]], "count": int(cl_cnt[j])})
            hit = np.isin(late_key, kv)
            gained = np.bincount(late_window[hit], minlength=max(len(snapshots) - 2, 1)).astype(int).tolist()
            rows.append((rep, members, {
                "_cluster": int(ucl[r]),
                "class": snap.strings[node_class[rep]], "name": name[:120], "count": int(members.size),
                "retained_size": int(ret_sum[r]), "self_size": int(snap.self_sizes[members].sum()),
                "retains": retains, "representative_id": int(snap.ids[rep]), "gained": gained,
            }))
    from .retainers import path_frame
    if rows:
        sizes = group_retained_sizes(snap, [member & (cluster_of == row.pop("_cluster")) for _, _, row in rows])
        for (_, _, row), size in zip(rows, sizes):
            row["group_retained_size"] = size
    bar.update(1)
    paths, out_rows = [], []
    ctx = _ExplainContext(snap, snapshots, parent_node, parent_edge, node_class)
    for rep, members, row in rows:
        edges = bfs_path_edges(snap, rep, parent_edge, parent_node)
        pf = path_frame(snap, edges, rep).with_columns(leaked=pl.Series(leaked[[int(snap._to[e]) for e in edges]],
                                                                        dtype=pl.Boolean))
        pf = fold_path(pf) if fold else pf.with_columns(repeat=pl.lit(1, pl.Int64), block=pl.lit(1, pl.Int64))
        paths.append(pf)
        row["growing"] = row["gained"][-1] > 0
        row["status"] = "growing" if row["growing"] else "plateau"
        row["holder"] = _holder(snap, pf, trivial)
        row["path"] = render_path(pf)
        row["kind"], row["explanation"] = explain(snap, pf, rep, row, members=members, ctx=ctx)
        row["allocation_site"] = _allocation_site(snap, rep)
        row["serious"] = row["growing"] and row["count"] >= serious_count and row["retained_size"] >= serious_bytes
        out_rows.append(row)
    bar.update(1)
    bar.close()
    schema = {"class": pl.String, "name": pl.String, "count": pl.Int64, "retained_size": pl.Int64,
              "group_retained_size": pl.Int64, "self_size": pl.Int64, "serious": pl.Boolean, "status": pl.String,
              "growing": pl.Boolean, "gained": pl.List(pl.Int64), "kind": pl.String, "explanation": pl.String,
              "allocation_site": pl.Struct({"script_id": pl.Int64, "line": pl.Int64, "column": pl.Int64,
                                            "url": pl.String, "function": pl.String}),
              "holder": pl.String, "path": pl.String,
              "representative_id": pl.Int64,
              "retains": pl.List(pl.Struct({"class": pl.String, "count": pl.Int64}))}
    suspects = pl.DataFrame(out_rows, schema=schema) if out_rows else pl.DataFrame(schema=schema)
    counts = {
        "candidates": int(leaked.sum()),
        "dropped_as_noise": int((leaked & ~meaningful).sum()) - transient_count,
        "kept": int(meaningful.sum()),
        "transient": transient_count,
        "unreachable": unreachable_count,
        "trace_too_long": too_deep,
        "held_by_compiled_code": via_code,
        "in_small_clusters": int(len(cand) - unit_pos.sum()) if cand.size else 0,
        "leak_units": int(unit.sum()),
        "top_units": int(tops.size),
        "bulk_mode": bool(bulk_mode),
        "windows": len(snapshots) - 2,
    }
    notes = _verdict_notes(suspects, len(snapshots), serious_count, serious_bytes)
    return LeakReport(suspects, paths, counts, serious_count, serious_bytes,
                      [str(s.path) for s in snapshots], notes)


def _verdict_notes(suspects: pl.DataFrame, n: int, serious_count: int, serious_bytes: int) -> list[str]:
    """What the snapshots cannot tell: a plateau verdict from one window, growth that stopped."""
    out = []
    big = suspects.filter((pl.col("count") >= serious_count) & (pl.col("retained_size") >= serious_bytes))
    plateau = big.filter(~pl.col("growing"))
    if n == 3 and len(plateau):
        out.append(f"{len(plateau)} large suspect(s) judged a plateau from one window (target -> final): a leak "
                   "that grows in bursts looks the same; take a fourth snapshot later and pass all four to be sure")
    if n > 3:
        stopped = plateau.filter(pl.col("gained").list.sum() > 0)
        if len(stopped):
            out.append(f"{len(stopped)} suspect(s) grew after target but not in the last window: growth stopped "
                       "(a warm-up or a burst), not serious")
        patchy = big.filter(pl.col("growing") & (pl.col("gained").list.eval(pl.element() == 0).list.any()))
        if len(patchy):
            out.append(f"{len(patchy)} growing suspect(s) gained nothing in some earlier window: growth in bursts")
    return out


def _site_keys(snap, nodes: np.ndarray) -> np.ndarray:
    """Per node, a key of its source position when it is a closure with a location (else 0)."""
    key = np.zeros(nodes.shape[0], dtype=np.int64)
    o, sc, ln, col = _sorted_locations(snap)
    if not o.size or not nodes.size:
        return key
    pos = np.searchsorted(o, nodes)
    pos = np.clip(pos, 0, o.size - 1)
    hit = (o[pos] == nodes) & (snap._ntype[nodes] == snap._ntype_index("closure"))
    key[hit] = (sc[pos[hit]] * 1_000_003 + ln[pos[hit]]) * 10_007 + col[pos[hit]] + 1
    return key


def _out_edge(snap, v: int, name: str) -> int:
    """The node that ``v``'s named edge (property or internal) leads to, or -1."""
    for e in range(int(snap.first_edge[v]), int(snap.first_edge[v + 1])):
        if snap.edge_types[snap._etype[e]] in ("property", "internal") and snap.strings[int(snap._ename[e])] == name:
            return int(snap._to[e])
    return -1


_SORTED_LOCATIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _sorted_locations(snap):
    """The snapshot's locations ordered by node ordinal (V8 does not write them in node order), for
    searchsorted lookups; sorted once per snapshot, however many suspects ask."""
    hit = _SORTED_LOCATIONS.get(snap)
    if hit is None:
        o, sc, ln, col = snap.location_arrays
        if o.size > 1 and not bool(np.all(o[1:] > o[:-1])):
            k = np.argsort(o, kind="stable")
            o, sc, ln, col = o[k], sc[k], ln[k], col[k]
        hit = _SORTED_LOCATIONS[snap] = (o, sc, ln, col)
    return hit


def _script_url(snap, script_id: int) -> str | None:
    """The URL of a script id: a closure located in that script names it through its shared
    function info's script."""
    o, sc, _, _ = _sorted_locations(snap)
    closure = snap._ntype_index("closure")
    for v in o[sc == script_id][:50].tolist():
        if snap._ntype[v] != closure:
            continue
        sfi = _out_edge(snap, v, "shared")
        for edge_name in ("script_or_debug_info", "script"):
            s = _out_edge(snap, sfi, edge_name) if sfi >= 0 else -1
            if s >= 0:
                url = snap.strings[int(snap.node_names[s])]
                if url:
                    return url
    return None


def _allocation_site(snap, v: int):
    """Where the representative was made: for a closure, its function's source position; for an
    object, its constructor's (V8 records that location); with the script's URL when the snapshot
    names it (1-based line and column, as editors count)."""
    o, sc, ln, col = _sorted_locations(snap)
    if not o.size:
        return None

    def located(u: int) -> int:
        i = int(np.searchsorted(o, u))
        return i if i < o.size and o[i] == u else -1

    i = located(v)
    if i < 0:
        # a carrier without a source position (a promise reaction, a stream's write request):
        # the site of what it carries, its first located user object or function within two steps
        frontier, seen = [v], {v}
        weak = snap._etype_index("weak")
        for _ in range(2):
            nxt = []
            for u in frontier:
                for e in range(int(snap.first_edge[u]), int(snap.first_edge[u + 1])):
                    w = int(snap._to[e])
                    if snap._etype[e] == weak or w in seen:
                        continue
                    seen.add(w)
                    t = snap.node_types[snap._ntype[w]]
                    if t in ("closure", "object") and not snap.strings[int(snap.node_names[w])].startswith("system /") \
                            and located(w) >= 0 and i < 0:
                        i, v = located(w), w
                    nxt.append(w)
            if i >= 0:
                break
            frontier = nxt
        if i < 0:
            return None
    name = snap.strings[int(snap.node_names[v])]
    fn = name if snap.node_types[snap._ntype[v]] == "closure" else snap.strings[int(snap.class_index[v])]
    return {"script_id": int(sc[i]), "line": int(ln[i]) + 1, "column": int(col[i]) + 1,
            "url": _script_url(snap, int(sc[i])), "function": fn or "(anonymous)"}


class _ExplainContext:
    """What ``explain`` reads beyond the path: the BFS tree, and entry counts of a collection in
    every snapshot (computed once per snapshot, when first asked)."""

    def __init__(self, snap, snapshots, parent_node, parent_edge, node_class):
        self.snap, self.snapshots = snap, snapshots
        self.parent_node, self.parent_edge, self.node_class = parent_node, parent_edge, node_class
        self._sizes: dict[int, dict] = {}

    def entry_counts(self, node_id: int) -> list:
        from .growth import collection_sizes
        out = []
        for i, s in enumerate(self.snapshots):
            if i not in self._sizes:
                df = collection_sizes(s)
                self._sizes[i] = dict(zip(df["node_id"].to_list(), df["entries"].to_list()))
            out.append(self._sizes[i].get(int(node_id)))
        return out

    def edge_label(self, v: int) -> str:
        """The name of the BFS tree edge into ``v``: a property name or an index."""
        snap = self.snap
        e = int(self.parent_edge[v])
        if e < 0:
            return "?"
        t = snap.edge_types[snap._etype[e]]
        return str(int(snap._ename[e])) if t in ("element", "hidden") else snap.strings[int(snap._ename[e])]

    def targets_of(self, members: np.ndarray, edge_names=None, node_type=None) -> dict:
        """Tally of the names of the nodes that members point to by the named edges (or to nodes
        of ``node_type``)."""
        snap = self.snap
        mask = np.zeros(snap.node_count, dtype=np.bool_)
        mask[members] = True
        lo, hi = snap.first_edge[members].astype(np.int64), snap.first_edge[members + 1].astype(np.int64)
        if not members.size or int((hi - lo).sum()) == 0:
            return {}
        e = np.concatenate([np.arange(a, b) for a, b in zip(lo.tolist(), hi.tolist())]) if members.size < 50_000 \
            else np.flatnonzero(np.repeat(mask, np.diff(snap.first_edge)))
        ok = np.ones(e.size, dtype=np.bool_)
        if edge_names is not None:
            named = (snap._etype[e] == snap._etype_index("property")) | (snap._etype[e] == snap._etype_index("internal"))
            idx = np.concatenate([snap.strings.find(n) for n in edge_names])
            ok &= named & np.isin(snap._ename[e], idx)
        if node_type is not None:
            ok &= snap._ntype[snap._to[e]] == snap._ntype_index(node_type)
        tgt = snap._to[e[ok]].astype(np.int64)
        # anonymous functions are told apart by where they were written
        key = _site_keys(snap, tgt)
        named = np.array([bool(x) for x in snap.strings.get_many(snap.node_names[tgt])], dtype=np.bool_) \
            if tgt.size < 200_000 else np.ones(tgt.size, dtype=np.bool_)
        key = np.where(named, -1 - snap.node_names[tgt].astype(np.int64), key)
        keys, first, counts = np.unique(key, return_index=True, return_counts=True)
        out = {}
        for k, f, c in zip(keys.tolist(), first.tolist(), counts.tolist()):
            label = snap.strings[int(snap.node_names[tgt[f]])]
            if not label:
                site = _allocation_site(snap, int(tgt[f]))
                label = "(anonymous" + (f" at {(site['url'] or '?').rsplit('/', 1)[-1]}:{site['line']}" if site else "") + ")"
            out[label] = out.get(label, 0) + c
        return out


def _tally(t: dict, unit: str = "", top: int = 4) -> str:
    items = sorted(t.items(), key=lambda kv: (-kv[1], (0, int(kv[0])) if kv[0].isdigit() else (1, kv[0])))
    if len(items) == 1:
        return f"{items[0][0]}{unit}"
    parts = [f"{k}{unit} ×{c:,}" for k, c in items[:top]]
    if len(items) > top:
        parts.append(f"{len(items) - top} more")
    return ", ".join(parts)


def _growth_words(row: dict) -> str:
    g = row.get("gained") or [0]
    if g[-1] > 0:
        return f"still growing: {g[-1]:,} more joined in the last window"
    if sum(g) > 0:
        return "stopped growing (nothing joined in the last window)"
    return "not growing in the last window (nothing joined after the target snapshot)"


def _entries_words(ctx, node_id: int, what: str = "entries") -> str:
    if ctx is None:
        return ""
    counts = ctx.entry_counts(node_id)
    if all(c is None for c in counts):
        return ""
    shown = " → ".join("–" if c is None else f"{c:,}" for c in counts)
    return f"; {what} {shown} across the snapshots"


def explain(snap, path: pl.DataFrame, rep: int, row: dict, *, members=None, ctx=None) -> tuple[str, str]:
    """(kind, explanation) of a suspect in Node's terms, from its representative path, its members
    and the heap (see the module doc)."""
    rows = path.to_dicts()
    before = rows[:-1][-3:]   # the holder: the last few steps above the member (the root side is runtime)
    classes = [r["class"] for r in before]
    edges = [r["edge"] for r in before]
    all_classes = [r["class"] for r in rows[:-1]]
    n, cls = row["count"], row["class"]
    grew = _growth_words(row)
    members = np.array([rep], dtype=np.int64) if members is None else np.asarray(members, dtype=np.int64)
    if cls in ("Timeout", "Immediate") or "TimersList" in classes:
        durations, callbacks = {}, {}
        tl = snap.strings.find("TimersList")
        if ctx is not None and tl.size:
            lists = LK.nearest_ancestor_of_class(members, ctx.parent_node, ctx.node_class, int(tl[0]), snap.root)
            lv, lc = np.unique(lists[lists >= 0], return_counts=True)
            for v, c in zip(lv.tolist(), lc.tolist()):
                k = ctx.edge_label(v).strip("[]")
                durations[k] = durations.get(k, 0) + c
            callbacks = ctx.targets_of(members, ["_onTimeout"])
        elif "TimersList" in classes:
            i = max(i for i, c in enumerate(classes) if c == "TimersList")
            durations = {edges[i].strip("[]"): n}
        if not callbacks:
            cb = _out_edge(snap, rep, "_onTimeout")
            callbacks = {snap.strings[int(snap.node_names[cb])] or "(anonymous)": n} if cb >= 0 else {"?": n}
        d = ("duration " if len(durations) <= 1 else "durations ") + (_tally(durations, " ms") if durations else "?")
        c = ("callback " if len(callbacks) == 1 else "callbacks ") + _tally(callbacks)
        return "timer", (f"{n:,} timers never cleared (setTimeout/setInterval without clearTimeout/clearInterval): "
                         f"{d}, {c}; {grew}")
    if cls == "system / PromiseReaction" or "Promise" in all_classes[-4:]:
        pi = max(i for i, r in enumerate(rows[:-1]) if r["class"] == "Promise") if "Promise" in all_classes else -1
        promise = (rows[pi]["edge"] + " Promise") if pi >= 0 else "a promise"
        handlers = ctx.targets_of(members, node_type="closure") if ctx is not None else {}
        then = f" (.then callbacks {_tally(handlers)})" if handlers else ""
        return "promise", (f"{n:,} continuations{then} wait on {promise}, which never settles (a resolve or "
                           f"reject that is never called); {grew}")
    if "._events" in edges:
        i = edges.index("._events")
        emitter = classes[i - 1] if i else "?"
        event = edges[i + 1].lstrip(".") if i + 1 < len(edges) else "?"
        via = edges[i - 1] if i else ""
        arr = before[i + 1]["node_id"] if i + 1 < len(before) and classes[i + 1] == "Array" else None
        more = _entries_words(ctx, arr, "listeners") if arr is not None else ""
        return "listener", (f"{n:,} listeners of {event!r} on {emitter} ({via}) never removed (on/addListener "
                            f"without off/removeListener){more}; {grew}")
    stream_at = [i for i, r in enumerate(rows[:-1]) if r["edge"] in ("._writableState", "._readableState")]
    if stream_at:
        i = stream_at[-1]
        side = "writable" if rows[i]["edge"] == "._writableState" else "readable"
        owner = rows[i - 1] if i else {"edge": "", "class": "stream"}
        return "stream", (f"the {owner['class']} {owner['edge']} buffers {n:,} chunks on its {side} side "
                          f"({rows[i]['edge']}): its consumer is paused or slower than the producer, and write()'s "
                          f"false return (backpressure) is ignored; {grew}")
    if len(before) >= 2 and edges[-1] == "{table}" and classes[-2] in ("Map", "Set", "WeakMap", "WeakSet"):
        coll = classes[-2]
        # a Map's table holds a key and a value per entry (each a reference when it is a heap object)
        more = _entries_words(ctx, before[-2]["node_id"],
                              "table references (keys and values)" if coll in ("Map", "WeakMap") else "entries")
        return coll.lower().removeprefix("weak"), (f"{coll} {edges[-2]} keeps {n:,} entries without eviction"
                                                   f"{more}; {grew}")
    chain = [i for i, r in enumerate(rows[:-1]) if r["class"] == cls and not r["leaked"]] or \
        [i for i, r in enumerate(rows[:-1]) if r["class"] == cls]
    if chain and any(int(r.get("repeat", 1) or 1) > 1 for r in rows[chain[0]:-1]) and chain[0] > 0:
        h = rows[chain[0] - 1]
        link = rows[chain[0]]["edge"]
        return "list", (f"a linked list held by {h['edge']} {h['class']} ({link} {cls} → …) keeps {n:,} {cls} nodes "
                        f"and never drops its tail (no eviction); {grew}")
    if before and classes[-1] == "system / Context" and rows[-1]["edge_type"] == "context":
        return "closure", (f"a closure's context keeps {n:,} objects in the variable {rows[-1]['edge'].lstrip('->')!r}; "
                           f"{grew}")
    if any(c in ("BufferList", "ReadableState", "WritableState") for c in classes):
        return "stream", f"a stream's buffer holds {n:,} chunks (a paused or slow consumer); {grew}"
    if before and classes[-1] == "Array" and rows[-1]["edge_type"] in ("element", "internal"):
        more = _entries_words(ctx, before[-1]["node_id"])
        return "array", f"the array {edges[-1]} {classes[-1]} keeps {n:,} objects{more}; {grew}"
    if before and classes[-1] == "Object" and rows[-1]["edge_type"] == "property":
        counts = ctx.entry_counts(before[-1]["node_id"]) if ctx is not None else [None]
        if counts[-1] is not None and counts[-1] >= min(n, 10):
            more = _entries_words(ctx, before[-1]["node_id"], "keys")
            return "object-map", (f"the object {edges[-1]} used as a map (obj[key] = value) keeps {n:,} entries and "
                                  f"never deletes a key{more}; {grew}")
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
    """What holds the suspect, in the words of the code. The holder is the nearest object above
    the member that is neither leaked, nor a V8 internal, nor a link of the member's own chain
    (``TimersList`` above a run of ``Timeout``s, the cache object above a list of nodes); the text
    runs from the second named object above it down to the object before the member
    (``->cache ThumbnailCache .table Map``, ``->configBus EventEmitter ._events Object
    .configChanged Array``, ``->timerListMap Object [30000] TimersList ._idlePrev Timeout ×11``)."""
    rows = pf.to_dicts()
    if len(rows) < 2:
        return ""
    cls = rows[-1]["class"]
    ords = snap.ordinals_of([r["node_id"] for r in rows])

    def internal(i: int) -> bool:
        c = rows[i]["class"]
        return bool(trivial[ords[i]]) or c.startswith("system /") or c in ("(system)", "(synthetic)")

    j = len(rows) - 1
    while j > 0 and (rows[j - 1]["leaked"] or rows[j - 1]["class"] == cls or internal(j - 1)):
        j -= 1
    h = j - 1
    if h < 0:
        return ""
    named = [i for i in range(h) if not internal(i)]
    start = named[-2] if len(named) >= 2 else (named[-1] if named else h)
    parts = []
    for i in range(start, len(rows) - 1):
        if internal(i) and rows[i]["class"] != cls:
            continue
        rep = int(rows[i].get("repeat", 1) or 1)
        parts.append(step_label(rows[i]) + (f" ×{rep:,}" if rep > 1 else ""))
    return " ".join(parts)
