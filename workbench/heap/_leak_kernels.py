"""numba kernels for retainer paths and leak hunting: a two-phase BFS parent tree (user roots
first, like DevTools' distances), k shortest simple retainer paths (best-first search over the
retainer graph with the exact BFS distance as heuristic), the nearest marked ancestor in the
dominator tree, and retainer-trace signatures for clustering. Inputs are the validated arrays of
a HeapSnapshot (every ordinal < node count)."""
from __future__ import annotations

import numpy as np
from .._jit import njit


@njit(cache=True, nogil=True)
def bfs_tree(first_edge, to_ord, edge_ok, node_ok, root, user_root, user_first):
    """Shortest paths from the root over edges with edge_ok, never entering nodes without node_ok.
    Phase 1 starts from the root's user-root children (DevTools' user roots, e.g. the global
    object); phase 2 from the root's other children, for what phase 1 did not reach. With
    user_first False it is one plain BFS from the root (true shortest hop counts).
    Returns (dist int32, -1 = unreachable; parent_edge int64, -1 = none; parent_node int32)."""
    n = node_ok.shape[0]
    dist = np.full(n, -1, dtype=np.int32)
    parent = np.full(n, -1, dtype=np.int64)
    pnode = np.full(n, -1, dtype=np.int32)
    queue = np.empty(n, dtype=np.int64)
    dist[root] = 0
    head = 0
    tail = 0
    for phase in range(2):
        for ei in range(first_edge[root], first_edge[root + 1]):
            c = to_ord[ei]
            if not edge_ok[ei] or not node_ok[c] or dist[c] >= 0:
                continue
            if user_first and (phase == 0) != user_root[c]:
                continue
            dist[c] = 1
            parent[c] = ei
            pnode[c] = root
            queue[tail] = c
            tail += 1
        while head < tail:
            v = queue[head]
            head += 1
            dv = dist[v] + 1
            for ei in range(first_edge[v], first_edge[v + 1]):
                if not edge_ok[ei]:
                    continue
                c = to_ord[ei]
                if dist[c] >= 0 or not node_ok[c]:
                    continue
                dist[c] = dv
                parent[c] = ei
                pnode[c] = v
                queue[tail] = c
                tail += 1
    return dist, parent, pnode


@njit(cache=True, nogil=True)
def _heap_push(hk, hs, size, key, state):
    i = size
    hk[i] = key
    hs[i] = state
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] < hk[i] or (hk[p] == hk[i] and hs[p] < hs[i]):
            break
        hk[p], hk[i] = hk[i], hk[p]
        hs[p], hs[i] = hs[i], hs[p]
        i = p
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(hk, hs, size):
    size -= 1
    hk[0] = hk[size]
    hs[0] = hs[size]
    i = 0
    while True:
        lft = 2 * i + 1
        if lft >= size:
            break
        c = lft
        r = lft + 1
        if r < size and (hk[r] < hk[lft] or (hk[r] == hk[lft] and hs[r] < hs[lft])):
            c = r
        if hk[i] < hk[c] or (hk[i] == hk[c] and hs[i] < hs[c]):
            break
        hk[c], hk[i] = hk[i], hk[c]
        hs[c], hs[i] = hs[i], hs[c]
        i = c
    return size


@njit(cache=True, nogil=True)
def k_shortest_retainer_paths(first_ret, ret_node, ret_edge, edge_ok, node_ok, dist, root, target, k,
                              max_states):
    """The k shortest simple paths root -> target, as lists of edge indices (root side first).

    Best-first search backwards from the target over retainer edges; a partial path ending at u
    (seen from the target) is keyed by g + dist[u], where dist is the exact BFS distance from the
    root under the same edge/node filters, so complete paths come out shortest first (ties: the
    longer partial path first, then first pushed). Extensions that revisit a node of the partial
    path are dropped (simple paths only). Returns (paths: int64[k, L] padded with -1, lengths,
    states_used, truncated)."""
    cap = max_states
    st_node = np.empty(cap, dtype=np.int64)
    st_parent = np.empty(cap, dtype=np.int64)
    st_edge = np.empty(cap, dtype=np.int64)
    st_g = np.empty(cap, dtype=np.int64)
    hk = np.empty(cap, dtype=np.int64)
    hs = np.empty(cap, dtype=np.int64)
    found = np.empty(k, dtype=np.int64)
    nfound = 0
    nst = 0
    hsize = 0
    truncated = False
    maxlen = 0
    if dist[target] < 0 or not node_ok[target]:
        return np.full((0, 0), -1, dtype=np.int64), np.zeros(0, dtype=np.int64), 0, False
    scale = np.int64(1) << np.int64(32)
    st_node[0] = target
    st_parent[0] = -1
    st_edge[0] = -1
    st_g[0] = 0
    nst = 1
    hsize = _heap_push(hk, hs, hsize, np.int64(dist[target]) * scale, 0)
    while hsize > 0 and nfound < k:
        s = hs[0]
        hsize = _heap_pop(hk, hs, hsize)
        u = st_node[s]
        if u == root:
            found[nfound] = s
            nfound += 1
            if st_g[s] > maxlen:
                maxlen = st_g[s]
            continue
        g1 = st_g[s] + 1
        for ri in range(first_ret[u], first_ret[u + 1]):
            e = ret_edge[ri]
            if not edge_ok[e]:
                continue
            src = ret_node[ri]
            if not node_ok[src] or dist[src] < 0:
                continue
            # simple path: src must not already be on the partial path
            x = s
            dup = False
            while x >= 0:
                if st_node[x] == src:
                    dup = True
                    break
                x = st_parent[x]
            if dup:
                continue
            if nst >= cap:
                truncated = True
                break
            st_node[nst] = src
            st_parent[nst] = s
            st_edge[nst] = e
            st_g[nst] = g1
            key = (g1 + np.int64(dist[src])) * scale + (scale - 1 - g1)
            hsize = _heap_push(hk, hs, hsize, key, nst)
            nst += 1
        if truncated:
            break
    paths = np.full((nfound, maxlen), -1, dtype=np.int64)
    lengths = np.zeros(nfound, dtype=np.int64)
    for j in range(nfound):
        s = found[j]
        i = 0
        while st_parent[s] >= 0:  # root side first: walking parents goes towards the target
            paths[j, i] = st_edge[s]
            i += 1
            s = st_parent[s]
        lengths[j] = i
    return paths, lengths, nst, truncated


@njit(cache=True, nogil=True)
def nearest_marked_ancestor(first_dom, dom_children, root, mark):
    """For every node, the nearest strict ancestor in the dominator tree with mark set (-1 if
    none), by one DFS from the root."""
    n = mark.shape[0]
    out = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n + 1, dtype=np.int64)
    sp = 0
    stack[sp] = root
    sp += 1
    while sp > 0:
        sp -= 1
        x = stack[sp]
        below = x if mark[x] else out[x]
        for i in range(first_dom[x], first_dom[x + 1]):
            c = dom_children[i]
            out[c] = below
            stack[sp] = c
            sp += 1
    return out


@njit(cache=True, nogil=True)
def trace_signatures(nodes, parent_node, node_label, node_class, is_code, root, max_hops):
    """A signature of each node's BFS retainer trace, root side to node: the sequence of
    (normalised label of the edge into a node, that node's class) with consecutive repeats
    collapsed (a linked list of 50 Timeouts is one step). Returns (h_full, h_class, n_steps, hops)
    where h_class hashes the class sequence only; hops = real path length (-1: unreachable,
    -2: longer than max_hops, -3: the trace passes through compiled code, i.e. the object is held
    by V8's feedback/allocation-site internals)."""
    m = nodes.shape[0]
    hf = np.zeros(m, dtype=np.uint64)
    hc = np.zeros(m, dtype=np.uint64)
    nsteps = np.zeros(m, dtype=np.int32)
    hops = np.full(m, -1, dtype=np.int32)
    buf_l = np.empty(max_hops, dtype=np.int64)
    buf_c = np.empty(max_hops, dtype=np.int64)
    for j in range(m):
        v = nodes[j]
        h = 0
        ok = True
        why = -1
        while v != root:
            if v < 0 or h >= max_hops:
                ok = False
                why = -1 if v < 0 else -2
                break
            if h > 0 and is_code[v]:
                ok = False
                why = -3
                break
            buf_l[h] = node_label[v]
            buf_c[h] = node_class[v]
            h += 1
            v = parent_node[v]
        if not ok:
            hops[j] = why
            continue
        hops[j] = h
        a = np.uint64(1469598103934665603)
        b = np.uint64(7809847782465536322)
        pl = np.int64(-2)
        pc = np.int64(-2)
        c = 0
        for i in range(h - 1, -1, -1):  # root side first
            lab = buf_l[i]
            cl = buf_c[i]
            if lab == pl and cl == pc:
                continue
            pl = lab
            pc = cl
            c += 1
            x = (np.uint64(lab + 3) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(cl + 7)
            a = (a ^ x) * np.uint64(1099511628211)
            y = np.uint64(cl + 11) * np.uint64(0xBF58476D1CE4E5B9)
            b = (b ^ y) * np.uint64(0x94D049BB133111EB)
            b ^= b >> np.uint64(31)
        hf[j] = a ^ np.uint64(c)
        hc[j] = b ^ np.uint64(c)
        nsteps[j] = c
    return hf, hc, nsteps, hops


@njit(cache=True, nogil=True)
def first_strong_retainer(first_ret, ret_node, ret_edge, etype, weak_type, root, nodes):
    """For each node, its first retainer in DevTools' order that is not the root and not a weak
    edge: (source ordinal, edge index), -1 when there is none."""
    m = nodes.shape[0]
    src = np.full(m, -1, dtype=np.int64)
    edge = np.full(m, -1, dtype=np.int64)
    for j in range(m):
        v = nodes[j]
        for ri in range(first_ret[v], first_ret[v + 1]):
            e = ret_edge[ri]
            if etype[e] == weak_type or ret_node[ri] == root:
                continue
            src[j] = ret_node[ri]
            edge[j] = e
            break
    return src, edge


@njit(cache=True, nogil=True)
def collection_entries(first_edge, etype, ename, to_ord, nodes, kind, table_str, elements_str, digit_str,
                       internal_t, element_t, property_t, proto_str):
    """Entry references held by each collection node. kind 0 (Map/Set/WeakMap/WeakSet): the
    element or numerically named internal edges of its internal 'table'; kind 1 (Array): the
    element edges of its internal 'elements' store (references, so small integers, which are not
    heap objects, are not counted); kind 2 (plain object): its property edges but __proto__,
    plus its element edges."""
    m = nodes.shape[0]
    out = np.zeros(m, dtype=np.int64)
    for j in range(m):
        v = nodes[j]
        k = kind[j]
        if k == 2:
            c = 0
            for ei in range(first_edge[v], first_edge[v + 1]):
                t = etype[ei]
                if (t == property_t and ename[ei] != proto_str) or t == element_t:
                    c += 1
            out[j] = c
            continue
        want = table_str if k == 0 else elements_str
        for ei in range(first_edge[v], first_edge[v + 1]):
            if etype[ei] != internal_t or not want[ename[ei]]:
                continue
            s = to_ord[ei]
            c = 0
            for ej in range(first_edge[s], first_edge[s + 1]):
                t = etype[ej]
                if t == element_t or (t == internal_t and digit_str[ename[ej]]):
                    c += 1
            out[j] = c
            break
    return out


@njit(cache=True, nogil=True)
def first_old_ancestor(nodes, parent_node, is_new, root):
    """For each node, the nearest ancestor on its BFS tree path that is not new (existed in the
    baseline snapshot): the holder that a group of new objects hangs from, whatever list or array
    of new objects lies between (-1 when the path is broken)."""
    out = np.full(nodes.shape[0], -1, dtype=np.int64)
    n = parent_node.shape[0]
    for j in range(nodes.shape[0]):
        v = parent_node[nodes[j]]
        steps = 0
        while v >= 0 and v != root and is_new[v] and steps < n:
            v = parent_node[v]
            steps += 1
        out[j] = v if v >= 0 else -1
    return out


@njit(cache=True, nogil=True)
def reachable_avoiding(first_edge, to_ord, edge_ok, root, blocked):
    """Nodes reachable from ``root`` through ``edge_ok`` edges without entering a ``blocked`` node
    (iterative DFS, an explicit stack)."""
    n = first_edge.shape[0] - 1
    seen = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    top = 0
    seen[root] = True
    stack[top] = root
    top += 1
    while top:
        top -= 1
        v = stack[top]
        for e in range(first_edge[v], first_edge[v + 1]):
            if not edge_ok[e]:
                continue
            w = to_ord[e]
            if not seen[w] and not blocked[w]:
                seen[w] = True
                stack[top] = w
                top += 1
    return seen


@njit(cache=True, nogil=True)
def stable_holders(nodes, parent_node, is_new, node_class, root):
    """For each node, the object its group hangs from: the nearest ancestor on its BFS tree path
    that existed in the baseline snapshot and is not a link of a chain, i.e. whose class differs
    from both its parent's and its child's on the path. Old members of a linked list (the timers
    of a TimersList, the nodes of a list-based LRU, a promise's reactions) are passed over, so
    every member of one list, old end or new end, names the same holder (the TimersList, the
    cache object, the promise); -1 when the path is broken."""
    out = np.full(nodes.shape[0], -1, dtype=np.int64)
    n = parent_node.shape[0]
    for j in range(nodes.shape[0]):
        child = nodes[j]
        v = parent_node[child]
        steps = 0
        while v >= 0 and v != root and steps < n:
            p = parent_node[v]
            c = node_class[v]
            if not is_new[v] and c != node_class[child] and (p < 0 or node_class[p] != c):
                break
            child = v
            v = p
            steps += 1
        out[j] = v if v >= 0 else -1
    return out


@njit(cache=True, nogil=True)
def nearest_ancestor_of_class(nodes, parent_node, node_class, cls, root):
    """For each node, its nearest strict ancestor on the BFS tree path whose class is ``cls``
    (-1 when there is none)."""
    out = np.full(nodes.shape[0], -1, dtype=np.int64)
    n = parent_node.shape[0]
    for j in range(nodes.shape[0]):
        v = parent_node[nodes[j]]
        steps = 0
        while v >= 0 and v != root and steps < n:
            if node_class[v] == cls:
                out[j] = v
                break
            v = parent_node[v]
            steps += 1
    return out
