"""numba kernels for the heap snapshot passes, ported from Chrome DevTools' HeapSnapshot.ts as
bundled by heap-snapshot-toolkit@1.1.3 (the reference version). Where DevTools' result depends on
visiting order (the distance BFS with its stateful WeakMap filter, the Lengauer-Tarjan DFS and
buckets), the order is reproduced exactly. All inputs are validated by the reader first: every
ordinal is < node count, every string index < string count.
"""
from __future__ import annotations

import numpy as np
from .._jit import njit

NO_DISTANCE = -5
BASE_SYSTEM_DISTANCE = 100000000


@njit(cache=True, nogil=True)
def find_equal(raw, starts, lens, needle):
    m = needle.shape[0]
    out = []
    for s in range(starts.shape[0]):
        if lens[s] != m:
            continue
        b = starts[s]
        ok = True
        for k in range(m):
            if raw[b + k] != needle[k]:
                ok = False
                break
        if ok:
            out.append(s)
    return out


@njit(cache=True, nogil=True)
def first_byte_is_digit(raw, starts, lens, idx):
    out = np.zeros(idx.shape[0], dtype=np.bool_)
    for j in range(idx.shape[0]):
        s = idx[j]
        if lens[s] > 0:
            c = raw[starts[s]]
            out[j] = 48 <= c <= 57
    return out


@njit(cache=True, nogil=True)
def build_retainers(first_edge, to_ord, n, ret_node, ret_edge):
    """Reverse CSR in DevTools' order: within a node's slice, retainers appear in decreasing
    edge order (buildRetainers fills each slice from its end). Fills ret_node/ret_edge (sized
    to the edge count, in the caller's compact dtype) and returns first_ret."""
    e = to_ord.shape[0]
    first_ret = np.zeros(n + 1, dtype=np.int64)
    for i in range(e):
        first_ret[to_ord[i] + 1] += 1
    for i in range(n):
        first_ret[i + 1] += first_ret[i]
    fill = first_ret[1:].copy()  # next free slot counted down from the end
    for src in range(n):
        for ei in range(first_edge[src], first_edge[src + 1]):
            t = to_ord[ei]
            fill[t] -= 1
            ret_node[fill[t]] = src
            ret_edge[fill[t]] = ei
    return first_ret


@njit(cache=True, nogil=True)
def essential_retainers(first_edge, to_ord, essential, n, first_ret):
    """Reverse CSR of the essential edges only, in DevTools' retainer order (decreasing edge
    index within each node's slice): all the dominator pass ever reads of the retainers.
    ``first_ret`` (n + 1, int32 or int64 as the edge count needs) arrives holding the essential
    retainer count of node i at i + 1 (counted by essential_edges) and leaves as offsets."""
    for i in range(n):
        first_ret[i + 1] += first_ret[i]
    fill = first_ret[1:].copy()
    ret_node = np.empty(first_ret[n], dtype=np.uint32)
    for src in range(n):
        for ei in range(first_edge[src], first_edge[src + 1]):
            if essential[ei]:
                t = to_ord[ei]
                fill[t] -= 1
                ret_node[fill[t]] = src
    return first_ret, ret_node


@njit(cache=True, nogil=True)
def edge_names_of_type(etype, ename, edge_type, nstr):
    """Which strings name edges of type ``edge_type`` (one pass; no mask or index copies)."""
    out = np.zeros(nstr, dtype=np.bool_)
    for ei in range(etype.shape[0]):
        if etype[ei] == edge_type:
            out[ename[ei]] = True
    return out


@njit(cache=True, nogil=True)
def retainer_counts(to_ord, n):
    """Number of retainers (all edge types) per node."""
    out = np.zeros(n, dtype=np.int32)
    for i in range(to_ord.shape[0]):
        out[to_ord[i]] += 1
    return out


@njit(cache=True, nogil=True, inline="always")
def _spread_dom_state(p, new_state, stack, sp, first_edge, to_ord, etype, ntype, state, visited, rename,
                      native_type, hidden_type, invisible_type, weak_type):
    """DevTools' propagateState(p, newState): give ``new_state`` to p's unvisited native children
    over non-hidden, non-invisible, non-weak edges, push them; JS children are only marked
    visited. Returns the new stack size."""
    for ei in range(first_edge[p], first_edge[p + 1]):
        t = etype[ei]
        if t == hidden_type or t == invisible_type or t == weak_type:
            continue
        c = to_ord[ei]
        if visited[c]:
            continue
        if ntype[c] != native_type:
            visited[c] = 1
            continue
        state[c] = new_state
        if new_state == 2:
            rename[c] = True
        stack[sp] = c
        sp += 1
        visited[c] = 1
    return sp


@njit(cache=True, nogil=True)
def propagate_dom_state(first_edge, to_ord, etype, ntype, detached, native_type,
                        hidden_type, invisible_type, weak_type):
    """DevTools propagateDOMState: attached spreads over native children, then detached spreads
    to children not already attached; never through JS (non-native) nodes. Returns the new
    detachedness array and a mask of nodes to rename 'Detached <name>'."""
    n = ntype.shape[0]
    state = detached.copy()
    visited = np.zeros(n, dtype=np.uint8)
    rename = np.zeros(n, dtype=np.bool_)
    attached_stack = np.empty(n, dtype=np.int64)
    detached_stack = np.empty(n, dtype=np.int64)
    na = 0
    nd = 0
    for i in range(n):
        s = state[i]
        if s == 0 or visited[i]:
            continue
        if ntype[i] != native_type:
            visited[i] = 1
            continue
        if s == 1:
            attached_stack[na] = i
            na += 1
        elif s == 2:
            rename[i] = True
            detached_stack[nd] = i
            nd += 1
        visited[i] = 1
    while na > 0:
        na -= 1
        na = _spread_dom_state(attached_stack[na], 1, attached_stack, na, first_edge, to_ord, etype, ntype,
                               state, visited, rename, native_type, hidden_type, invisible_type, weak_type)
    while nd > 0:
        nd -= 1
        p = detached_stack[nd]
        if state[p] == 1:
            continue
        nd = _spread_dom_state(p, 2, detached_stack, nd, first_edge, to_ord, etype, ntype,
                               state, visited, rename, native_type, hidden_type, invisible_type, weak_type)
    return state, rename


@njit(cache=True, nogil=True)
def mark_page_owned(first_edge, to_ord, etype, root, is_dom_trees_root, shortcut_type,
                    element_type, weak_type):
    """DevTools markPageOwnedNodes: from the root's shortcut children and its element children
    that are '(Document DOM trees)', everything reachable without weak edges."""
    n = first_edge.shape[0] - 1
    flag = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n + (first_edge[root + 1] - first_edge[root]), dtype=np.int64)
    sp = 0
    for ei in range(first_edge[root], first_edge[root + 1]):
        t = etype[ei]
        c = to_ord[ei]
        if t == element_type:
            if not is_dom_trees_root[c]:
                continue
        elif t != shortcut_type:
            continue
        stack[sp] = c
        sp += 1
        flag[c] = True
    while sp > 0:
        sp -= 1
        v = stack[sp]
        for ei in range(first_edge[v], first_edge[v + 1]):
            c = to_ord[ei]
            if flag[c]:
                continue
            if etype[ei] == weak_type:
                continue
            stack[sp] = c
            sp += 1
            flag[c] = True
    return flag


@njit(cache=True, nogil=True)
def essential_edges(first_edge, to_ord, etype, ename, node_id, root, page_owned,
                    internal_type, weak_type, shortcut_type, str_weakmap_table, ess_count, out):
    """DevTools computeIsEssentialEdge for every edge (page-owned flags as userObjectsMapAndFlag).
    Also counts essential retainers per node into ess_count[1:] (for essential_retainers)."""
    n = first_edge.shape[0] - 1
    for v in range(n):
        for ei in range(first_edge[v], first_edge[v + 1]):
            t = etype[ei]
            if t == internal_type:
                tid = str_weakmap_table[ename[ei]]
                if tid >= 0 and tid == node_id[v]:
                    continue
            if t == weak_type:
                continue
            c = to_ord[ei]
            if c == v:
                continue
            if v != root:
                if t == shortcut_type:
                    continue
                if page_owned[c] and not page_owned[v]:
                    continue
            out[ei] = True
            ess_count[c + 1] += 1
    return out


@njit(cache=True, nogil=True)
def copy_array(a):
    """A copy on numba's small pages."""
    return a.copy()


@njit(cache=True, nogil=True)
def widen_int64(a):
    """An int64 copy on numba's small pages."""
    out = np.empty(a.shape[0], dtype=np.int64)
    for i in range(a.shape[0]):
        out[i] = a[i]
    return out


@njit(cache=True, nogil=True)
def shallow_sizes(first_edge, to_ord, etype, unowned, transfer_blocked, weak_type, out):
    """DevTools JSHeapSnapshot.calculateShallowSizes: hidden/array nodes (and native
    'system / ExternalStringData') reachable from exactly one owner give their size to it.
    ``out`` arrives holding V8's sizes (wide enough for any sum of them) and leaves re-attributed."""
    n = out.shape[0]
    UNVISITED = -1
    MULTIPLE = -2
    # numba's arrays: small pages (numpy's huge-page faults stalled in compaction, 0.15-0.35 s),
    # and only the used part of the work stack is paged in
    owners = np.empty(n, dtype=np.int32)
    work = np.empty(2 * n + 1, dtype=np.int32)
    wp = 0
    for i in range(n):
        if unowned[i]:
            owners[i] = UNVISITED
        else:
            owners[i] = i
            work[wp] = i
            wp += 1
    while wp > 0:
        wp -= 1
        v = work[wp]
        owner = owners[v]
        for ei in range(first_edge[v], first_edge[v + 1]):
            if etype[ei] == weak_type:
                continue
            t = to_ord[ei]
            o = owners[t]
            if o == UNVISITED:
                owners[t] = owner
                work[wp] = t
                wp += 1
            elif o == t or o == owner or o == MULTIPLE:
                pass
            else:
                owners[t] = MULTIPLE
                work[wp] = t
                wp += 1
    for i in range(n):
        o = owners[i]
        if o < 0 or o == i:
            continue
        if transfer_blocked[o]:
            continue
        out[o] += out[i]
        out[i] = 0
    return out


@njit(cache=True, nogil=True)
def distances(first_edge, to_ord, etype, ename, root, user_root_mask, weak_type, element_type,
              hidden_type_edge, internal_type, is_hidden_node, is_array_node, name_idx,
              sloppy_str, native_ctx_str, map_desc_name, str_parseint, str_ephemeron, n_ephemeron, dist, queue_len):
    """DevTools JSHeapSnapshot.calculateDistances: BFS from user roots (distance 1), then from
    the root (base system distance) for the rest; weak edges never followed; the filter skips
    NativeContext's sloppy_function_map, descriptor slots of '(map descriptors)' arrays, and the
    first edge of each WeakMap ephemeron pair (stateful, so the visiting order is DevTools')."""
    # dist (int32, n, filled with NO_DISTANCE) from the caller; the queue (n + root edges + 1) is
    # numba's: small pages, freed on return
    queue = np.empty(queue_len, dtype=np.int32)
    pending = np.zeros(n_ephemeron + 1, dtype=np.bool_)
    ql = 0
    for ei in range(first_edge[root], first_edge[root + 1]):
        c = to_ord[ei]
        if user_root_mask[c]:
            dist[c] = 1
            queue[ql] = c
            ql += 1
    has_user_roots = ql > 0
    for phase in range(2):
        if phase == 1:
            dist[root] = BASE_SYSTEM_DISTANCE if has_user_roots else 0
            queue[0] = root
            ql = 1
        qi = 0
        while qi < ql:
            v = queue[qi]
            qi += 1
            d = dist[v] + 1
            for ei in range(first_edge[v], first_edge[v + 1]):
                t = etype[ei]
                if t == weak_type:
                    continue
                c = to_ord[ei]
                if dist[c] != NO_DISTANCE:
                    continue
                # --- the filter, in DevTools' order ---
                string_named = t != element_type and t != hidden_type_edge
                nm = ename[ei]
                if is_hidden_node[v] and string_named and sloppy_str[nm] and native_ctx_str[name_idx[v]]:
                    continue
                if is_array_node[v] and map_desc_name[name_idx[v]]:
                    if string_named:
                        idx = str_parseint[nm]
                        if idx == -(1 << 62):  # NaN: NaN < 2 false, NaN % 3 !== 1 true
                            pass
                        elif not (idx < 2 or (idx % 3) != 1):
                            continue
                    else:
                        idx = nm
                        if not (idx < 2 or (idx % 3) != 1):
                            continue
                elif t == internal_type:
                    k = str_ephemeron[nm]
                    if k >= 0:
                        if pending[k]:
                            pending[k] = False
                        else:
                            pending[k] = True
                            continue
                dist[c] = d
                queue[ql] = c
                ql += 1
    return dist


@njit(cache=True, nogil=True)
def _dfs(start, parent, semi, vertex, label, cnt, first_edge, to_ord, essential, stack_v, stack_e):
    """DevTools' iterative dfs from ``start`` (whose parent is already set): number nodes in
    preorder over essential edges, in edge order. An explicit stack of (vertex, next edge)
    replaces DevTools' per-node nextEdgeIndex array; the visiting order is the same, and only
    the stack's used depth is ever touched."""
    sp = 0
    stack_v[0] = start
    stack_e[0] = first_edge[start - 1]
    if semi[start] == 0:
        cnt += 1
        semi[start] = cnt
        vertex[cnt] = start
        label[start] = start
    while sp >= 0:
        v = stack_v[sp]
        vo = v - 1
        ei = stack_e[sp]
        end = first_edge[vo + 1]
        pushed = False
        while ei < end:
            if essential[ei]:
                w = to_ord[ei] + 1
                if semi[w] == 0:
                    parent[w] = v
                    cnt += 1
                    semi[w] = cnt
                    vertex[cnt] = w
                    label[w] = w
                    stack_e[sp] = ei + 1
                    sp += 1
                    stack_v[sp] = w
                    stack_e[sp] = first_edge[w - 1]
                    pushed = True
                    break
            ei += 1
        if not pushed:
            sp -= 1
    return cnt


@njit(cache=True, nogil=True, inline="always")
def _evaluate(v, ancestor, label, semi, comp):
    """DevTools' evaluate(v) with its iterative compress(v) (simple eval/link of the paper)."""
    if ancestor[v] == 0:
        return v
    sp = 0
    x = v
    while ancestor[ancestor[x]] != 0:
        sp += 1
        comp[sp] = x
        x = ancestor[x]
    while sp > 0:
        y = comp[sp]
        sp -= 1
        if semi[label[ancestor[y]]] < semi[label[y]]:
            label[y] = label[ancestor[y]]
        ancestor[y] = ancestor[ancestor[y]]
    return label[v]


@njit(cache=True, nogil=True)
def dominator_dfs(first_edge, to_ord, ess_count, essential, root):
    """Step one of DevTools' Lengauer-Tarjan (calculateDominatorsAndRetainedSizes): the iterative
    DFS over essential edges in edge order from the root, then from nodes whose retainers are all
    non-essential (``ess_count[v + 1] == 0``: the essential retainer counts), then the remaining
    nodes attached to the root one by one. Returns parent, semi, vertex, label (1-based vertex
    numbers, int32) and the count of numbered, weak-only and clique nodes. Split from step two
    so that the essential-edge flags can be freed before it."""
    n = first_edge.shape[0] - 1
    L = n + 1
    # int32 vertex numbers (the caller guarantees n < 2**31): half the memory of int64
    parent = np.zeros(L, dtype=np.int32)
    vertex = np.zeros(L, dtype=np.int32)
    label = np.zeros(L, dtype=np.int32)
    semi = np.zeros(L, dtype=np.int32)
    stack_v = np.empty(L, dtype=np.int32)
    stack_e = np.empty(L, dtype=np.int64)
    r = root + 1
    cnt = _dfs(r, parent, semi, vertex, label, 0, first_edge, to_ord, essential, stack_v, stack_e)
    unreachable_weak = 0
    unreachable_clique = 0
    if cnt < n:
        for v0 in range(1, n + 1):
            if semi[v0] != 0:
                continue
            if ess_count[v0] != 0:  # ess_count[vo + 1] with vo = v0 - 1: has an essential retainer
                continue
            unreachable_weak += 1
            parent[v0] = r
            cnt = _dfs(v0, parent, semi, vertex, label, cnt, first_edge, to_ord, essential, stack_v, stack_e)
    if cnt < n:
        for v0 in range(1, n + 1):
            if semi[v0] == 0:
                unreachable_clique += 1
                parent[v0] = r
                cnt += 1
                semi[v0] = cnt
                vertex[cnt] = v0
                label[v0] = v0
    return parent, semi, vertex, label, cnt, unreachable_weak, unreachable_clique


@njit(cache=True, nogil=True)
def dominators(first_ret, ret_node, root, parent, semi, vertex, label, cnt, self_size):
    """Step two of DevTools' Lengauer-Tarjan: semidominators over the essential retainers
    (``first_ret/ret_node``, in DevTools' retainer order), buckets processed in insertion order
    (FIFO, like the JS Set), simple eval/link with iterative path compression, then the final
    pass; the root dominates itself. Returns the immediate dominator ordinal per node and the
    retained sizes (self sizes accumulated in reverse DFS order, float64 like DevTools'
    Float64Array). Work arrays are numba's (small pages keep the sparsely used bucket heads out of
    memory, where numpy's huge pages pinned 2 MiB at a time: +60 MiB on 7M nodes)."""
    n = parent.shape[0] - 1
    L = n + 1
    ancestor = np.zeros(L, dtype=np.int32)
    bhead = np.zeros(L, dtype=np.int32)
    btail = np.zeros(L, dtype=np.int32)
    bnext = np.zeros(L, dtype=np.int32)
    comp = np.empty(L, dtype=np.int32)
    r = root + 1
    dom = np.zeros(L, dtype=np.int32)
    for i in range(cnt, 1, -1):
        w = vertex[i]
        wo = w - 1
        orphan = True
        for ri in range(first_ret[wo], first_ret[wo + 1]):
            orphan = False
            u = _evaluate(np.int32(ret_node[ri] + 1), ancestor, label, semi, comp)
            if semi[u] < semi[w]:
                semi[w] = semi[u]
        if orphan:
            semi[w] = semi[r]
        b = vertex[semi[w]]
        # bucket[b].add(w): w is processed once, so it is never already present
        bnext[w] = 0
        if bhead[b] == 0:
            bhead[b] = w
        else:
            bnext[btail[b]] = w
        btail[b] = w
        ancestor[w] = parent[w]  # link(parent[w], w)
        pw = parent[w]
        x = bhead[pw]
        while x != 0:
            vv = x
            u = _evaluate(vv, ancestor, label, semi, comp)
            dom[vv] = u if semi[u] < semi[vv] else pw
            x = bnext[x]
        bhead[pw] = 0
        btail[pw] = 0
    # release what the rest does not read before the float64 sizes are allocated (numba frees an
    # array when its last reference goes): lowers the pass's peak by the size of `ret`
    empty = np.zeros(0, dtype=np.int32)
    ancestor = empty
    bhead = empty
    btail = empty
    bnext = empty
    comp = empty
    dom[0] = r
    dom[r] = r
    for i in range(2, cnt + 1):
        w = vertex[i]
        if dom[w] != vertex[semi[w]]:
            dom[w] = dom[dom[w]]
    ret = self_size.astype(np.float64)
    for i in range(cnt, 1, -1):
        w = vertex[i]
        ret[dom[w] - 1] += ret[w - 1]
    # vertex numbers -> ordinals, in place (ascending: dom[o + 1] is read before it is written)
    for o in range(n):
        dom[o] = dom[o + 1] - 1
    return dom[:n], ret


# ---- the dominator pass for snapshots without clique nodes: Semi-NCA in preorder space -----------
# With every node numbered by a DFS (no clique nodes), the graph DevTools' Lengauer-Tarjan works on
# is a flowgraph: the essential edges plus an edge from the root to each weak-only root (DevTools
# gives those the root as DFS parent and semi[root] as semidominator). Immediate dominators of a
# flowgraph are unique, so any exact algorithm gives DevTools' idom; Semi-NCA (Georgiadis) needs
# fewer arrays than LT with buckets. Nodes are numbered 1..n in DevTools' DFS preorder and every
# work array is indexed by that number; an essential edge v -> w with pre(v) < pre(w) (tree or
# forward edge) only ever contributes pre(v) to semi(w), so just the minimum of those is kept, and
# only the other retainers (pre(v) > pre(w)) are stored. Retained sizes are summed in the same
# order as DevTools' (reverse preorder), so they are equal to the last bit.


@njit(cache=True, nogil=True)
def _pre_dfs(start, cnt, pre, parent, low, later, first_edge, to_ord, essential, stack_v, stack_e):
    """DevTools' iterative dfs from ordinal ``start`` (already numbered): number the nodes it
    reaches over essential edges, in edge order, 1-based (``pre`` by ordinal), and record each
    one's DFS parent as a preorder number (``parent`` and ``low`` by preorder number). Every
    essential edge out of a numbered node is seen once: one into a node numbered before its source
    is counted in ``later[pre(target)]``; one into a node numbered after it (a forward edge) lowers
    ``low[pre(target)]`` to pre(source). Returns the count."""
    sp = 0
    stack_v[0] = start
    stack_e[0] = first_edge[start]
    while sp >= 0:
        v = stack_v[sp]
        pv = pre[v]
        ei = np.int64(stack_e[sp])
        end = np.int64(first_edge[v + 1])
        pushed = False
        while ei < end:
            if essential[ei]:
                w = to_ord[ei]
                pw = pre[w]
                if pw == 0:
                    cnt += 1
                    pre[w] = cnt
                    parent[cnt] = pv
                    low[cnt] = pv
                    stack_e[sp] = ei + 1
                    sp += 1
                    stack_v[sp] = w
                    stack_e[sp] = first_edge[w]
                    pushed = True
                    break
                if pw < pv:
                    later[pw] += 1
                elif pv < low[pw]:
                    low[pw] = pv
            ei += 1
        if not pushed:
            sp -= 1
    return cnt


@njit(cache=True, nogil=True)
def dom_preorder(first_edge, to_ord, ess_count, essential, root):
    """Step one, DevTools' DFS (the same order as ``dominator_dfs``): from the root, then from
    each node without essential retainers (``ess_count[o + 1] == 0``) not yet reached, whose
    parent is the root. Returns pre (int32 by ordinal, 1-based preorder number, 0 = not reached),
    parent and low (int32 by preorder number, n + 1; low: the smallest number among the DFS
    parent and the essential retainers numbered before the node), the count numbered, the
    weak-only roots and the clique nodes (reached by neither: then use ``dominator_dfs`` and
    ``dominators``). ``ess_count`` (n + 2) leaves holding at p the number of essential retainers
    numbered after p (for ``dom_later_retainers``); recount it (``essential_counts``) for those."""
    n = first_edge.shape[0] - 1
    # the weak-only candidates, a bit per node, before ess_count is reused
    orphan = np.zeros((n + 7) // 8, dtype=np.uint8)
    for v in range(n):
        if ess_count[v + 1] == 0:
            orphan[v >> 3] |= np.uint8(1) << np.uint8(v & 7)
    for p in range(ess_count.shape[0]):
        ess_count[p] = 0
    pre = np.zeros(n, dtype=np.int32)
    parent = np.zeros(n + 1, dtype=np.int32)
    low = np.zeros(n + 1, dtype=np.int32)
    stack_v = np.empty(n + 1, dtype=np.int32)        # numba's: only the used depth is paged in
    stack_e = np.empty(n + 1, dtype=first_edge.dtype)
    pre[root] = 1
    cnt = _pre_dfs(root, 1, pre, parent, low, ess_count, first_edge, to_ord, essential, stack_v, stack_e)
    weak = 0
    if cnt < n:
        for v in range(n):
            if pre[v] != 0 or not (orphan[v >> 3] >> np.uint8(v & 7)) & np.uint8(1):
                continue
            weak += 1
            cnt += 1
            pre[v] = cnt
            parent[cnt] = 1
            low[cnt] = 1
            cnt = _pre_dfs(v, cnt, pre, parent, low, ess_count, first_edge, to_ord, essential, stack_v, stack_e)
    return pre, parent, low, cnt, weak, n - cnt


@njit(cache=True, nogil=True)
def essential_counts(to_ord, essential, out):
    """out[t + 1] = the number of essential edges into t (out zeroed first)."""
    for p in range(out.shape[0]):
        out[p] = 0
    for ei in range(to_ord.shape[0]):
        if essential[ei]:
            out[to_ord[ei] + 1] += 1


@njit(cache=True, nogil=True)
def dom_later_retainers(first_edge, to_ord, essential, pre, first_ret):
    """Step two: per preorder number w, the essential retainers numbered after w, as a reverse CSR
    in preorder space: ``ret_node[first_ret[w]:first_ret[w + 1]]``. ``first_ret`` (n + 2) arrives
    holding their counts (``dom_preorder``) and leaves holding the offsets. Returns ret_node."""
    n = pre.shape[0]
    for p in range(1, n + 1):
        first_ret[p] += first_ret[p - 1]
    total = first_ret[n]
    first_ret[n + 1] = total
    ret_node = np.empty(total, dtype=np.int32)
    # fill each slice from its end: first_ret[p] counts down from end(p) to start(p) = end(p - 1)
    for src in range(n):
        ps = pre[src]
        if ps == 0:
            continue
        for ei in range(first_edge[src], first_edge[src + 1]):
            if essential[ei]:
                pt = pre[to_ord[ei]]
                if ps > pt:
                    first_ret[pt] -= 1
                    ret_node[first_ret[pt]] = ps
    return ret_node


@njit(cache=True, nogil=True)
def semi_nca(first_ret, ret_node, parent, low):
    """Step three: semidominators in reverse preorder with simple link/eval and iterative path
    compression, then Semi-NCA's immediate dominators in preorder; ``parent`` becomes the idom
    (by preorder number; the root's is itself). ``low`` is the eval labels' semidominator values
    (its entries for nodes not yet processed are their ``low``); ``first_ret[w + 1]``, no longer
    read once w is processed, keeps semi(w). A node x is linked iff x > w, the node being
    processed (so no 'not linked' marker is needed)."""
    n = parent.shape[0] - 1
    ancestor = np.empty(n + 1, dtype=np.int32)   # read only for linked nodes
    comp = np.empty(n + 1, dtype=np.int32)       # the compression stack: only its used depth is paged in
    for w in range(n, 1, -1):
        s = low[w]
        for ri in range(first_ret[w], first_ret[w + 1]):
            v = ret_node[ri]   # v > w: linked
            x = v
            sp = 0
            while ancestor[x] > w:
                comp[sp] = x
                sp += 1
                x = ancestor[x]
            while sp > 0:
                sp -= 1
                y = comp[sp]
                a = ancestor[y]
                if low[a] < low[y]:
                    low[y] = low[a]
                ancestor[y] = ancestor[a]
            if low[v] < s:
                s = low[v]
        low[w] = s
        first_ret[w + 1] = s
        ancestor[w] = parent[w]
    parent[1] = 1
    for w in range(2, n + 1):
        s = first_ret[w + 1]
        i = parent[w]
        while i > s:
            i = parent[i]
        parent[w] = i


@njit(cache=True, nogil=True)
def dom_finish(pre, idom, self_size):
    """Step four: retained sizes (self sizes summed into the immediate dominator in reverse
    preorder, float64 like DevTools') and the immediate dominators as ordinals, written over
    ``pre``. Returns (idom by ordinal, retained)."""
    n = pre.shape[0]
    vertex = np.empty(n + 1, dtype=np.int32)
    for o in range(n):
        vertex[pre[o]] = o
    ret = np.empty(n, dtype=np.float64)
    for o in range(n):
        ret[o] = self_size[o]
    for w in range(n, 1, -1):
        ret[vertex[idom[w]]] += ret[vertex[w]]
    for o in range(n):
        pre[o] = vertex[idom[pre[o]]]
    return pre, ret


@njit(cache=True, nogil=True)
def dominated_csr(idom, root):
    """The dominator tree's children: (first, children), children of d in
    ``children[first[d]:first[d + 1]]`` in decreasing ordinal order. Each slice is filled from its
    end by counting ``first`` itself down (no copy of the offsets)."""
    n = idom.shape[0]
    first = np.zeros(n + 1, dtype=np.int32)
    for o in range(n):
        if o != root:
            first[idom[o]] += 1
    for i in range(1, n + 1):
        first[i] += first[i - 1]
    # first[d] is now the end of d's slice; counted down to its start = the end of d - 1's
    first[n] = first[n - 1] if n else 0
    children = np.empty(max(n - 1, 0), dtype=np.int32)
    for o in range(n):
        if o == root:
            continue
        d = idom[o]
        first[d] -= 1
        children[first[d]] = o
    return first, children


@njit(cache=True, nogil=True)
def summary_aggregate(first_dom, dom_children, root, class_key, self_size, retained, dist, nkeys, include):
    """The Summary's per-class figures: DevTools calculateClassesRetainedSize
    (``summary_retained``) and buildAggregates' count, self-size sum, minimum distance and first
    ordinal of the members (``summary_counts``). ``include`` is a node mask, or empty for every
    node. (The Summary runs the two on two threads.)"""
    count, ssum, dmin, first = summary_counts(class_key, self_size, dist, nkeys, include)
    out = summary_retained(first_dom, dom_children, root, class_key, self_size, retained, nkeys, include)
    return count, ssum, dmin, first, out


@njit(cache=True, nogil=True)
def summary_counts(class_key, self_size, dist, nkeys, include):
    """buildAggregates over the members (self size > 0, passing ``include``: a node mask, or empty
    for every node), one pass in ordinal order: per class key (count, self-size sum, minimum
    distance, first (lowest) ordinal, -1 without members)."""
    count = np.zeros(nkeys, dtype=np.int64)
    ssum = np.zeros(nkeys, dtype=np.int64)
    dmin = np.full(nkeys, 2147483647, dtype=np.int64)
    first = np.full(nkeys, -1, dtype=np.int64)
    everyone = include.shape[0] == 0
    for x in range(self_size.shape[0]):
        if self_size[x] != 0 and (everyone or include[x]):
            k = class_key[x]
            count[k] += 1
            ssum[k] += self_size[x]
            d = dist[x]
            if d < dmin[k]:
                dmin[k] = d
            if first[k] < 0:
                first[k] = x
    return count, ssum, dmin, first


@njit(cache=True, nogil=True)
def summary_retained(first_dom, dom_children, root, class_key, self_size, retained, nkeys, include):
    """calculateClassesRetainedSize in one walk of the dominator tree: per class key, the retained
    sizes of its members (as in ``summary_counts``) with no member of the same class above them
    (a scoped 'seen' count per class)."""
    out = np.zeros(nkeys, dtype=np.float64)
    seen = np.zeros(nkeys, dtype=np.int32)
    everyone = include.shape[0] == 0
    n = self_size.shape[0]
    # explicit DFS with enter/exit events (numba's array: only the used depth is paged in)
    stack = np.empty(2 * n + 2, dtype=np.int32)
    sp = 0
    stack[sp] = root
    sp += 1
    while sp > 0:
        sp -= 1
        x = stack[sp]
        if x < 0:
            seen[class_key[-x - 1]] -= 1
            continue
        if self_size[x] != 0 and (everyone or include[x]):
            k = class_key[x]
            if seen[k] == 0:
                out[k] += retained[x]
                if first_dom[x] != first_dom[x + 1]:
                    seen[k] += 1
                    stack[sp] = -x - 1
                    sp += 1
        for i in range(first_dom[x], first_dom[x + 1]):
            stack[sp] = dom_children[i]
            sp += 1
    return out


@njit(cache=True, nogil=True, inline="always")
def _div_nf(v, nf, inv):
    """v // nf for 0 <= v < 2^53 (the reader's values) without a hardware division: the float64
    product with inv = 1 / nf is within one of the quotient, and the two steps correct it."""
    v = np.int64(v)
    q = np.int64(np.float64(v) * inv)
    q -= np.int64(q * nf > v)
    q += np.int64((q + 1) * nf <= v)
    return q


@njit(cache=True, nogil=True)
def gather_keys(class_index, dense_of, out):
    """out[i] = dense_of[class_index[i]] (out's dtype: the narrowest that holds every key)."""
    for i in range(class_index.shape[0]):
        out[i] = dense_of[class_index[i]]
    return out


@njit(cache=True, nogil=True)
def located_class_keys(cols, keep, fo, fs, fl, fc, nf, ntype, object_type, class_index, dense_of, canon):
    """Summary keys of located 'object' nodes, from the locations section's rows ``cols`` (those
    in ``keep``, or all when it is empty; node ``cols[r, fo] // nf``): the distinct (script_id,
    line, column, class name id) rows in first-appearance order and the row of each location (-1:
    not an object); ``canon[dense_of[class_index[v]]]`` is node v's class name id (indices that
    spell the same name share it). Returns (rows int64 (k, 4), code per location int32)."""
    m = keep.shape[0] if keep.shape[0] else cols.shape[0]
    codes = np.full(m, -1, dtype=np.int32)
    cap = 64
    rows = np.empty((cap, 4), dtype=np.int64)
    size = 256
    table = np.full(size, -1, dtype=np.int32)
    k = 0
    inv = 1.0 / nf
    last = -1   # the row of the previous location: consecutive locations often repeat one
    for j in range(m):
        r = keep[j] if keep.shape[0] else j
        v = _div_nf(cols[r, fo], nf, inv)
        if ntype[v] != object_type:
            continue
        a = np.int64(cols[r, fs])
        b = np.int64(cols[r, fl])
        c = np.int64(cols[r, fc])
        d = np.int64(canon[dense_of[class_index[v]]])
        if last >= 0 and rows[last, 0] == a and rows[last, 1] == b and rows[last, 2] == c and rows[last, 3] == d:
            codes[j] = last
            continue
        h = np.uint64(a) * np.uint64(0x9E3779B97F4A7C15)
        h = (h ^ np.uint64(b)) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ np.uint64(c)) * np.uint64(0x94D049BB133111EB)
        h = (h ^ np.uint64(d)) * np.uint64(0x9E3779B97F4A7C15)
        mask = np.uint64(size - 1)
        slot = np.int64((h >> np.uint64(29)) & mask)
        while True:
            q = table[slot]
            if q < 0:
                break
            if rows[q, 0] == a and rows[q, 1] == b and rows[q, 2] == c and rows[q, 3] == d:
                break
            slot = (slot + 1) & np.int64(mask)
        if q < 0:
            if k == cap:
                cap *= 2
                grown = np.empty((cap, 4), dtype=np.int64)
                grown[:k] = rows[:k]
                rows = grown
            rows[k, 0] = a
            rows[k, 1] = b
            rows[k, 2] = c
            rows[k, 3] = d
            q = k
            k += 1
            if 2 * k > size:
                size *= 2
                table = np.full(size, -1, dtype=np.int32)
                mask = np.uint64(size - 1)
                for e in range(k):
                    g = np.uint64(rows[e, 0]) * np.uint64(0x9E3779B97F4A7C15)
                    g = (g ^ np.uint64(rows[e, 1])) * np.uint64(0xBF58476D1CE4E5B9)
                    g = (g ^ np.uint64(rows[e, 2])) * np.uint64(0x94D049BB133111EB)
                    g = (g ^ np.uint64(rows[e, 3])) * np.uint64(0x9E3779B97F4A7C15)
                    t = np.int64((g >> np.uint64(29)) & mask)
                    while table[t] >= 0:
                        t = (t + 1) & np.int64(mask)
                    table[t] = e
            else:
                table[slot] = q
        codes[j] = q
        last = q
    return rows[:k].copy(), codes


@njit(cache=True, nogil=True)
def apply_located_keys(key, cols, keep, fo, nf, codes, base):
    """key[node of location j] = base + codes[j] for the locations with a code (rows as in
    ``located_class_keys``)."""
    inv = 1.0 / nf
    for j in range(codes.shape[0]):
        if codes[j] >= 0:
            r = keep[j] if keep.shape[0] else j
            key[_div_nf(cols[r, fo], nf, inv)] = base + codes[j]


@njit(cache=True, nogil=True)
def last_row_per_node(cols, f, nf, n):
    """Indices (ascending) of the rows that are the last one for their node (``cols[r, f] // nf``);
    a bit per node marks the nodes already seen from the end."""
    seen = np.zeros((n + 7) // 8, dtype=np.uint8)
    m = cols.shape[0]
    out = np.empty(m, dtype=np.int64)
    k = 0
    inv = 1.0 / nf
    for r in range(m - 1, -1, -1):
        v = _div_nf(cols[r, f], nf, inv)
        b = np.uint8(1) << np.uint8(v & 7)
        if seen[v >> 3] & b:
            continue
        seen[v >> 3] |= b
        out[k] = r
        k += 1
    return out[:k][::-1].copy()


@njit(cache=True, nogil=True)
def column_increasing(cols, f, nf):
    """Is column f of the rows, divided by nf (floor), strictly increasing?"""
    inv = 1.0 / nf
    prev = _div_nf(cols[0, f], nf, inv) if cols.shape[0] else 0
    for r in range(1, cols.shape[0]):
        q = _div_nf(cols[r, f], nf, inv)
        if q <= prev:
            return False
        prev = q
    return True


@njit(cache=True, nogil=True)
def statistics_sums(ntype, names, self_size, ntypes, typed_name, native_type, first_edge, etype, ename, to_ord,
                    array_type, array_name, internal_type, elements_str, state):
    """DevTools calculateStatistics in three passes: self sizes per node type, native nodes named
    'system / JSArrayBufferData', and calculateArraySize for each 'Array' node (``array_type``:
    the types counted as JS, ``array_name``: the strings 'Array'): its size plus its first
    internal 'elements' edge target's size when that target has exactly one retainer (of any edge
    type; counted for those targets only, saturating, instead of a retainer count per node).
    ``state``: uint8 zeros, one per node, the caller's (allocated on the calling thread: a
    kernel run on a worker thread would leave its work array in that thread's malloc arena,
    which malloc_trim does not hand back). Returns (sum per type, typed-array sum, JS-array sum)."""
    n = ntype.shape[0]
    per_type = np.zeros(ntypes, dtype=np.int64)
    typed = 0
    arrays = 0
    # state: 0: no array's elements; 1, 2, 3: an array's elements with 0, 1, 2+ retainers
    for i in range(n):
        t = ntype[i]
        sz = np.int64(self_size[i])
        per_type[t] += sz
        if t == native_type and typed_name[names[i]]:
            typed += sz
        if array_type[t] and array_name[names[i]]:
            arrays += sz
            for ei in range(first_edge[i], first_edge[i + 1]):
                if etype[ei] == internal_type and elements_str[ename[ei]]:
                    state[to_ord[ei]] = 1
                    break
    for ei in range(to_ord.shape[0]):
        c = to_ord[ei]
        if 0 < state[c] < 3:
            state[c] += 1
    for i in range(n):
        if array_type[ntype[i]] and array_name[names[i]]:
            for ei in range(first_edge[i], first_edge[i + 1]):
                if etype[ei] == internal_type and elements_str[ename[ei]]:
                    c = to_ord[ei]
                    if state[c] == 2:
                        arrays += np.int64(self_size[c])
                    break
    return per_type, typed, arrays


@njit(cache=True, nogil=True)
def group_stats(key, member, self_size, dist, nk):
    """Per class key over member nodes: count, sum of self sizes, min distance, first ordinal."""
    count = np.zeros(nk, dtype=np.int64)
    ssum = np.zeros(nk, dtype=np.int64)
    dmin = np.full(nk, 2147483647, dtype=np.int64)
    first = np.full(nk, -1, dtype=np.int64)
    for i in range(key.shape[0]):
        if not member[i]:
            continue
        k = key[i]
        count[k] += 1
        ssum[k] += self_size[i]
        d = dist[i]
        if d < dmin[k]:
            dmin[k] = d
        if first[k] < 0:
            first[k] = i
    return count, ssum, dmin, first


@njit(cache=True, nogil=True)
def strings_containing(raw, starts, lens, idx, needle):
    """For each string index in idx: does its raw text contain the byte string ``needle``?"""
    m = needle.shape[0]
    out = np.zeros(idx.shape[0], dtype=np.bool_)
    for j in range(idx.shape[0]):
        s = idx[j]
        b = starts[s]
        e = b + lens[s] - m
        for p in range(b, e + 1):
            ok = True
            for k in range(m):
                if raw[p + k] != needle[k]:
                    ok = False
                    break
            if ok:
                out[j] = True
                break
    return out


@njit(cache=True, nogil=True)
def mark_values(values, size):
    """Which of 0..size-1 occur in ``values`` (a presence table: no int64 copy, unlike bincount)."""
    out = np.zeros(size, dtype=np.bool_)
    for i in range(values.shape[0]):
        out[values[i]] = True
    return out


@njit(cache=True, nogil=True)
def nodes_of_type_named(ntype, names, type_idx, name_mask):
    """Ordinals (int32, ascending) of the nodes of type ``type_idx`` whose name is in ``name_mask``."""
    n = ntype.shape[0]
    k = 0
    for i in range(n):
        if ntype[i] == type_idx and name_mask[names[i]]:
            k += 1
    out = np.empty(k, dtype=np.int32)
    k = 0
    for i in range(n):
        if ntype[i] == type_idx and name_mask[names[i]]:
            out[k] = i
            k += 1
    return out


@njit(cache=True, nogil=True, inline="always")
def _pair_slot(a, b, mask):
    return np.int64(((a ^ (b * np.uint64(0x9E3779B97F4A7C15))) >> np.uint64(17)) & mask)


@njit(cache=True, nogil=True)
def _pair_table(keys1, keys2, k):
    """An open-addressing table (size a power of two, at least 4k) over the first k key pairs."""
    size = 16
    while size < 4 * k:
        size *= 2
    mask = np.uint64(size - 1)
    table = np.full(size, -1, dtype=np.int32)
    for j in range(k):
        slot = _pair_slot(keys1[j], keys2[j], mask)
        while table[slot] >= 0:
            slot = (slot + 1) & np.int64(mask)
        table[slot] = j
    return table


@njit(cache=True, nogil=True, inline="always")
def _pair_find(table, keys1, keys2, a, b):
    """(index of the pair (a, b) in the table's keys or -1, the slot where it is or would go)."""
    mask = np.uint64(table.shape[0] - 1)
    slot = _pair_slot(a, b, mask)
    while True:
        q = table[slot]
        if q < 0 or (keys1[q] == a and keys2[q] == b):
            return q, slot
        slot = (slot + 1) & np.int64(mask)


@njit(cache=True, nogil=True, inline="always")
def _splitmix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def interface_proposals(first_edge, etype, ename, objs, property_type, proto_str, str_len16):
    """inferInterfaceDefinitions' proposals: per plain object with at least one property, the
    interface name it would propose (``object_signatures``' pair of hashes of the included
    property names, in edge order), grouped. Returns, per distinct proposal in first-appearance
    order: the index in ``objs`` of its first object, its object count, and how many properties
    the name includes. Memory in the number of distinct proposals, not of objects."""
    m = objs.shape[0]
    cap = 64
    keys1 = np.empty(cap, dtype=np.uint64)
    keys2 = np.empty(cap, dtype=np.uint64)
    first = np.empty(cap, dtype=np.int64)
    count = np.zeros(cap, dtype=np.int64)
    nprops = np.empty(cap, dtype=np.int32)
    table = _pair_table(keys1, keys2, 0)
    k = 0
    for j in range(m):
        v = objs[j]
        a = np.uint64(1469598103934665603)
        b = np.uint64(7809847782465536322)
        length = 1  # '{'
        c = 0
        for ei in range(first_edge[v], first_edge[v + 1]):
            if etype[ei] != property_type:
                continue
            nm = ename[ei]
            if nm == proto_str:
                continue
            fl = str_len16[nm]
            if length > 1 and length + fl > 120:
                break
            if length != 1:
                length += 2
            length += fl
            c += 1
            x = np.uint64(nm) + np.uint64(0x9E3779B97F4A7C15)
            a = (a ^ x) * np.uint64(1099511628211)
            b = (b ^ (x * np.uint64(0xBF58476D1CE4E5B9))) * np.uint64(0x94D049BB133111EB)
            b ^= b >> np.uint64(31)
        if c == 0:
            continue
        a ^= np.uint64(c)
        q, slot = _pair_find(table, keys1, keys2, a, b)
        if q >= 0:
            count[q] += 1
            continue
        if k == cap:
            cap *= 2
            keys1 = np.concatenate((keys1, np.empty(cap - k, dtype=np.uint64)))
            keys2 = np.concatenate((keys2, np.empty(cap - k, dtype=np.uint64)))
            first = np.concatenate((first, np.empty(cap - k, dtype=np.int64)))
            count = np.concatenate((count, np.zeros(cap - k, dtype=np.int64)))
            nprops = np.concatenate((nprops, np.empty(cap - k, dtype=np.int32)))
        keys1[k] = a
        keys2[k] = b
        first[k] = j
        count[k] = 1
        nprops[k] = c
        k += 1
        if 2 * k > table.shape[0]:
            table = _pair_table(keys1, keys2, k)
        else:
            table[slot] = k - 1
    return first[:k].copy(), count[:k].copy(), nprops[:k].copy()


@njit(cache=True, nogil=True)
def property_set_codes(first_edge, etype, ename, objs, property_type):
    """Groups the objects by the multiset of their property-edge names (applyInterfaceDefinitions
    only asks which names an object has, and how often): an order-independent pair of 64-bit
    hashes (sums of two mixes of each name index, and the count), so no sort. Returns the group
    of each object (int32) and the index in ``objs`` of each group's first object."""
    m = objs.shape[0]
    codes = np.empty(m, dtype=np.int32)
    cap = 64
    keys1 = np.empty(cap, dtype=np.uint64)
    keys2 = np.empty(cap, dtype=np.uint64)
    first = np.empty(cap, dtype=np.int64)
    table = _pair_table(keys1, keys2, 0)
    k = 0
    for j in range(m):
        v = objs[j]
        a = np.uint64(0)
        b = np.uint64(0)
        c = np.uint64(0)
        for ei in range(first_edge[v], first_edge[v + 1]):
            if etype[ei] == property_type:
                x = np.uint64(ename[ei])
                a += _splitmix(x + np.uint64(0x9E3779B97F4A7C15))
                b += _splitmix(x ^ np.uint64(0xD1B54A32D192ED03))
                c += np.uint64(1)
        a ^= _splitmix(c)
        q, slot = _pair_find(table, keys1, keys2, a, b)
        if q >= 0:
            codes[j] = q
            continue
        if k == cap:
            cap *= 2
            keys1 = np.concatenate((keys1, np.empty(cap - k, dtype=np.uint64)))
            keys2 = np.concatenate((keys2, np.empty(cap - k, dtype=np.uint64)))
            first = np.concatenate((first, np.empty(cap - k, dtype=np.int64)))
        keys1[k] = a
        keys2[k] = b
        first[k] = j
        codes[j] = k
        k += 1
        if 2 * k > table.shape[0]:
            table = _pair_table(keys1, keys2, k)
        else:
            table[slot] = k - 1
    return codes, first[:k].copy()


@njit(cache=True, nogil=True)
def apply_codes(out, objs, codes, code_class):
    """out[objs[j]] = code_class[codes[j]] where that is >= 0."""
    for j in range(objs.shape[0]):
        c = code_class[codes[j]]
        if c >= 0:
            out[objs[j]] = c


@njit(cache=True, nogil=True)
def mark_names(ntype, names, named_type, nstr):
    """Which strings are names of nodes whose type is named by its node name (object, native)."""
    out = np.zeros(nstr, dtype=np.bool_)
    for i in range(ntype.shape[0]):
        if named_type[ntype[i]]:
            out[names[i]] = True
    return out


@njit(cache=True, nogil=True)
def assign_classes(ntype, names, named_type, type_class, name_class):
    """Class string index per node: by node name for named types, else the type's class."""
    n = ntype.shape[0]
    out = np.empty(n, dtype=np.int32)
    for i in range(n):
        t = ntype[i]
        if named_type[t]:
            out[i] = name_class[names[i]]
        else:
            out[i] = type_class[t]
    return out


@njit(cache=True, nogil=True)
def mark_property_names(first_edge, etype, ename, objs, property_type, nstr):
    """Which strings name property edges of the given objects."""
    out = np.zeros(nstr, dtype=np.bool_)
    for j in range(objs.shape[0]):
        v = objs[j]
        for ei in range(first_edge[v], first_edge[v + 1]):
            if etype[ei] == property_type:
                out[ename[ei]] = True
    return out


@njit(cache=True, nogil=True)
def utf16_lengths(raw, starts, lens, esc, idx):
    """JavaScript's String.length of strings ``idx`` of a raw JSON string table (escapes kept):
    an escape is one code unit, a 4-byte UTF-8 sequence two, other UTF-8 lead bytes one."""
    out = np.zeros(idx.shape[0], dtype=np.int64)
    for j in range(idx.shape[0]):
        s = idx[j]
        i = np.int64(starts[s])
        e = i + np.int64(lens[s])
        n = 0
        if not esc[s]:
            for k in range(i, e):
                c = raw[k]
                if c < 0x80 or 0xC0 <= c < 0xF0:
                    n += 1
                elif c >= 0xF0:
                    n += 2
            out[j] = n
            continue
        while i < e:
            c = raw[i]
            if c == 92:
                i += 6 if (i + 1 < e and raw[i + 1] == 117) else 2
                n += 1
                continue
            if c < 0x80 or 0xC0 <= c < 0xF0:
                n += 1
            elif c >= 0xF0:
                n += 2
            i += 1
        out[j] = n
    return out


@njit(cache=True, nogil=True, inline="always")
def _cons_children(v, first_edge, to_ord, etype, ename, internal_type, is_first, is_second):
    """DevTools' scan of a cons string's edges: the first internal 'first' and 'second' targets
    (a missing one reads as node 0, DevTools' 0 default)."""
    f = 0
    s = 0
    ei = first_edge[v]
    end = first_edge[v + 1]
    while ei < end and (f == 0 or s == 0):
        if etype[ei] == internal_type:
            nm = ename[ei]
            if is_first[nm]:
                f = to_ord[ei]
            elif is_second[nm]:
                s = to_ord[ei]
        ei += 1
    return f, s


@njit(cache=True, nogil=True)
def cons_post_order(cons, first_edge, to_ord, etype, ename, ntype, cons_type, internal_type, is_first, is_second, n):
    """The cons strings ``cons`` in an order where a cons string's cons children come first (an
    iterative DFS over the first/second edges; a cycle, only in a malformed file, is cut at its
    back edge)."""
    state = np.zeros(n, dtype=np.int8)  # 0 new, 1 on the stack, 2 done
    order = np.empty(cons.shape[0], dtype=np.int64)
    k = 0
    stack = np.empty(cons.shape[0] + 1, dtype=np.int64)
    for root in cons:
        if state[root] != 0:
            continue
        sp = 0
        stack[sp] = root
        sp += 1
        state[root] = 1
        while sp > 0:
            v = stack[sp - 1]
            f, s = _cons_children(v, first_edge, to_ord, etype, ename, internal_type, is_first, is_second)
            if ntype[f] == cons_type and state[f] == 0:
                state[f] = 1
                stack[sp] = f
                sp += 1
                continue
            if ntype[s] == cons_type and state[s] == 0:
                state[s] = 1
                stack[sp] = s
                sp += 1
                continue
            state[v] = 2
            order[k] = v
            k += 1
            sp -= 1
    return order[:k]


@njit(cache=True, nogil=True)
def _cons_walk(c, write, out, o, first_edge, to_ord, etype, ename, ntype, names, cons_type, internal_type,
               is_first, is_second, len16, raw, starts, lens, esc, done, units, nbytes, cut, rep, offs, has_esc,
               limit, max_units, max_pops, stack):
    """DevTools' consStringName for cons string ``c`` (depth-first over 'first'/'second', leaf
    names appended while the value is shorter than ``limit`` code units), with the values of the
    cons strings already done as shortcuts: one whose whole value fits is appended at once, one
    whose value was cut walks as its representative (the node whose walk made that value). Two
    bounds DevTools lacks: a leaf that would take the value past ``max_units`` ends it, and at most
    ``max_pops`` steps (a cycle of cons strings in a malformed file). With ``write``, the bytes go to
    ``out`` from ``o``. Returns (units, bytes, has_escape, status 0 / 1 max_units / 2 max_pops)."""
    sp = 0
    stack[sp] = c
    sp += 1
    u = 0
    b = 0
    e = False
    pops = 0
    while sp > 0 and u < limit:
        if pops >= max_pops:
            return u, b, e, 2
        pops += 1
        sp -= 1
        v = stack[sp]
        if ntype[v] != cons_type:
            nm = names[v]
            if u + len16[nm] > max_units:
                return u, b, e, 1
            n = np.int64(lens[nm])
            if write:
                a = np.int64(starts[nm])
                for q in range(n):
                    out[o + b + q] = raw[a + q]
            u += len16[nm]
            b += n
            e = e or esc[nm]
            continue
        if v != c and done[v]:
            if not cut[v] and u + units[v] < limit:
                n = nbytes[v]
                if write:
                    a = offs[rep[v]]
                    for q in range(n):
                        out[o + b + q] = out[a + q]
                u += units[v]
                b += n
                e = e or has_esc[v]
                continue
            v = rep[v]
        f, s = _cons_children(v, first_edge, to_ord, etype, ename, internal_type, is_first, is_second)
        if sp + 2 > stack.shape[0]:
            return u, b, e, 2
        stack[sp] = s
        stack[sp + 1] = f
        sp += 2
    return u, b, e, 0


@njit(cache=True, nogil=True)
def flatten_cons(order, first_edge, to_ord, etype, ename, ntype, names, cons_type, internal_type,
                 is_first, is_second, len16, raw, starts, lens, esc, limit, max_units, max_pops, n):
    """The display value of every cons string in ``order`` (children first: cons_post_order), as
    raw JSON string bytes (the pieces' escapes kept: concatenated JSON string contents are the
    content of the concatenated string). A cons string whose 'first' already reaches the bound has
    that value (DevTools stops inside 'first'): it shares its bytes. Linear in the output, not in
    the depth of the trees (a string built by 20,000 '+=' is no 20,000-step walk per node).
    Returns per node ordinal: (bytes, start, length, units, has_escape, status)."""
    done = np.zeros(n, dtype=np.bool_)
    units = np.zeros(n, dtype=np.int64)
    nbytes = np.zeros(n, dtype=np.int64)
    cut = np.zeros(n, dtype=np.bool_)
    rep = np.arange(n, dtype=np.int64)
    offs = np.zeros(n, dtype=np.int64)
    has_esc = np.zeros(n, dtype=np.bool_)
    status = np.zeros(n, dtype=np.int8)
    stack = np.empty(2 * max_pops + 2, dtype=np.int64)
    empty = np.empty(0, dtype=np.uint8)
    # pass 1: sizes; a node whose 'first' is cut takes its value (DevTools never leaves 'first')
    total = 0
    for c in order:
        f, s = _cons_children(c, first_edge, to_ord, etype, ename, internal_type, is_first, is_second)
        if ntype[f] == cons_type and done[f] and cut[f]:
            rep[c] = rep[f]
            units[c] = units[f]
            nbytes[c] = nbytes[f]
            has_esc[c] = has_esc[f]
            cut[c] = True
            status[c] = status[f]
        else:
            u, b, e, st = _cons_walk(c, False, empty, 0, first_edge, to_ord, etype, ename, ntype, names, cons_type,
                                     internal_type, is_first, is_second, len16, raw, starts, lens, esc, done,
                                     units, nbytes, cut, rep, offs, has_esc, limit, max_units, max_pops, stack)
            units[c] = u
            nbytes[c] = b
            has_esc[c] = e
            cut[c] = u >= limit or st != 0
            status[c] = st
            offs[c] = total
            total += b
        done[c] = True
    # pass 2: bytes, replaying pass 1 exactly (the same 'done' at each step, so every walk takes
    # the same shortcuts and writes exactly the bytes pass 1 counted; a shortcut reads bytes
    # written before it)
    out = np.empty(total, dtype=np.uint8)
    done[:] = False
    for c in order:
        if rep[c] == c:
            _cons_walk(c, True, out, offs[c], first_edge, to_ord, etype, ename, ntype, names, cons_type,
                       internal_type, is_first, is_second, len16, raw, starts, lens, esc, done, units, nbytes,
                       cut, rep, offs, has_esc, limit, max_units, max_pops, stack)
        done[c] = True
    start = offs[rep]
    return out, start, nbytes, units, has_esc, status


@njit(cache=True, nogil=True)
def cons_lengths(order, first_edge, to_ord, etype, ename, ntype, names, cons_type, internal_type,
                 is_first, is_second, len16, n):
    """The full String.length of every cons string in ``order`` (children first): first + second;
    a child not yet done (a cycle, only in a malformed file) counts 0. -1 for other nodes."""
    out = np.full(n, -1, dtype=np.int64)
    for c in order:
        total = 0
        f, s = _cons_children(c, first_edge, to_ord, etype, ename, internal_type, is_first, is_second)
        for x in (f, s):
            if ntype[x] != cons_type:
                total += len16[names[x]]
            elif out[x] >= 0:
                total += out[x]
        out[c] = total
    return out


@njit(cache=True, nogil=True)
def gather_bytes(raw, starts, lens, idx):
    """Entries ``idx`` of a raw string table, concatenated: (bytes, offsets of len(idx)+1)."""
    k = idx.shape[0]
    offs = np.zeros(k + 1, dtype=np.int64)
    for j in range(k):
        offs[j + 1] = offs[j] + np.int64(lens[idx[j]])
    out = np.empty(offs[k], dtype=np.uint8)
    for j in range(k):
        a = np.int64(starts[idx[j]])
        o = offs[j]
        for q in range(offs[j + 1] - o):
            out[o + q] = raw[a + q]
    return out, offs


@njit(cache=True, nogil=True)
def string_piece_refs(first_edge, to_ord, etype, ntype, ename, cons_type, internal_type, weak_type,
                      is_first, is_second, n):
    """Per node: (retainers that are a cons string's 'first'/'second' edge, other non-weak retainers)."""
    piece = np.zeros(n, dtype=np.int32)
    other = np.zeros(n, dtype=np.int32)
    for src in range(n):
        cons = ntype[src] == cons_type
        for ei in range(first_edge[src], first_edge[src + 1]):
            t = etype[ei]
            if t == weak_type:
                continue
            if cons and t == internal_type and (is_first[ename[ei]] or is_second[ename[ei]]):
                piece[to_ord[ei]] += 1
            else:
                other[to_ord[ei]] += 1
    return piece, other


@njit(cache=True, nogil=True)
def join_ids(ids_a, order_a, ids_b, order_b):
    """Merge join of two snapshots' node ids (``order_x`` sorts ``ids_x``): per node of a, the
    node of b with the same id (-1 if none); and whether an id repeats within either snapshot
    (then the join is not one-to-one and the caller must not use it). Linear after the sorts."""
    na, nb = ids_a.shape[0], ids_b.shape[0]
    match = np.full(na, -1, dtype=np.int64)
    dup = False
    for k in range(1, na):
        if ids_a[order_a[k]] == ids_a[order_a[k - 1]]:
            dup = True
    for k in range(1, nb):
        if ids_b[order_b[k]] == ids_b[order_b[k - 1]]:
            dup = True
    i = 0
    j = 0
    while i < na and j < nb:
        x = ids_a[order_a[i]]
        y = ids_b[order_b[j]]
        if x < y:
            i += 1
        elif x > y:
            j += 1
        else:
            match[order_a[i]] = order_b[j]
            i += 1
            j += 1
    return match, dup
