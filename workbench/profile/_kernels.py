"""numba kernels for call trees: depths, subtree totals, sibling merging, recursion marks, flame layout.

Every kernel takes arrays the readers have already validated (parent indices in range, node 0 the
root, no cycles), so none of them can index out of bounds.
"""
from __future__ import annotations

import numpy as np
from .._jit import njit


@njit(cache=True)
def depths(parent):
    """Depth of every node (root = 0) or -1 for nodes on a cycle / not reaching node 0.

    Memoised walk up the parent chain: O(n) overall.
    """
    n = parent.shape[0]
    depth = np.full(n, -2, np.int64)  # -2 unknown, -3 on the current walk
    stack = np.empty(n, np.int64)
    if n == 0:
        return depth
    depth[0] = 0
    for i in range(n):
        if depth[i] != -2:
            continue
        sp = 0
        j = i
        bad = False
        while True:
            if depth[j] >= 0:
                break
            if depth[j] == -3 or depth[j] == -1:
                bad = True
                break
            depth[j] = -3
            stack[sp] = j
            sp += 1
            p = parent[j]
            if p < 0:  # a second root: not reachable from node 0
                bad = True
                break
            j = p
        if bad:
            for k in range(sp):
                depth[stack[k]] = -1
        else:
            d = depth[j]
            for k in range(sp - 1, -1, -1):
                d += 1
                depth[stack[k]] = d
    return depth


@njit(cache=True)
def subtree_totals(order, parent, self_value):
    """Inclusive totals; ``order`` lists nodes parents-first."""
    total = self_value.copy()
    for k in range(order.shape[0] - 1, 0, -1):
        i = order[k]
        p = parent[i]
        if p >= 0:
            total[p] += total[i]
    return total


@njit(cache=True)
def merge_siblings(order, parent, frame, n_frames):
    """Map every node to a merged node: siblings with the same frame become one node.

    Returns (merged_of_node, merged_parent, merged_frame, n_merged); merged ids are assigned in
    ``order`` (parents first), so merged node 0 is the root.
    """
    n = order.shape[0]
    merged = np.full(parent.shape[0], -1, np.int64)
    m_parent = np.empty(n, np.int64)
    m_frame = np.empty(n, np.int64)
    index = dict()
    index[np.int64(-1)] = np.int64(-1)
    count = 0
    for k in range(n):
        i = order[k]
        p = parent[i]
        mp = merged[p] if p >= 0 else -1
        key = (mp + 1) * n_frames + frame[i]
        if key in index:
            merged[i] = index[key]
        else:
            index[key] = count
            merged[i] = count
            m_parent[count] = mp
            m_frame[count] = frame[i]
            count += 1
    return merged, m_parent[:count], m_frame[:count], count


@njit(cache=True)
def recursion_marks(order, parent, frame, n_frames, child_ptr, child_idx):
    """True for nodes whose frame already occurs among their ancestors (inner recursive calls).

    Iterative DFS from the root keeping a per-frame count of occurrences on the current path.
    """
    n = parent.shape[0]
    rec = np.zeros(n, np.bool_)
    on_path = np.zeros(n_frames, np.int64)
    stack = np.empty(n + 1, np.int64)
    it = np.zeros(n, np.int64)
    if n == 0:
        return rec
    root = order[0]
    sp = 0
    stack[0] = root
    on_path[frame[root]] += 1
    while sp >= 0:
        v = stack[sp]
        if it[v] < child_ptr[v + 1] - child_ptr[v]:
            c = child_idx[child_ptr[v] + it[v]]
            it[v] += 1
            rec[c] = on_path[frame[c]] > 0
            on_path[frame[c]] += 1
            sp += 1
            stack[sp] = c
        else:
            on_path[frame[v]] -= 1
            sp -= 1
    return rec


@njit(cache=True)
def layout_x(sorted_nodes, parent, total):
    """Left edge of every node: children are laid out left to right in ``sorted_nodes`` order
    (which must list parents before children), starting at their parent's left edge."""
    n = parent.shape[0]
    x0 = np.zeros(n, np.float64)
    cursor = np.zeros(n, np.float64)
    for k in range(sorted_nodes.shape[0]):
        i = sorted_nodes[k]
        p = parent[i]
        if p < 0:
            x0[i] = 0.0
        else:
            x0[i] = cursor[p]
            cursor[p] += total[i]
        cursor[i] = x0[i]
    return x0


@njit(cache=True)
def sample_counts(sample_node, n_nodes):
    out = np.zeros(n_nodes, np.int64)
    for s in range(sample_node.shape[0]):
        out[sample_node[s]] += 1
    return out


@njit(cache=True)
def preorder(root, ptr, idx):
    """Depth-first preorder of a CSR tree (children visited in CSR order)."""
    n = ptr.shape[0] - 1
    out = np.empty(n, np.int64)
    stack = np.empty(n + 1, np.int64)
    sp = 0
    stack[0] = root
    k = 0
    while sp >= 0:
        v = stack[sp]
        sp -= 1
        out[k] = v
        k += 1
        for j in range(ptr[v + 1] - 1, ptr[v] - 1, -1):
            sp += 1
            stack[sp] = idx[j]
    return out[:k]


@njit(cache=True)
def inside_subtree(order, parent, match, skip_self):
    """For every node, whether it or an ancestor matches (``skip_self``: strictly an ancestor)."""
    n = parent.shape[0]
    anc = np.zeros(n, np.bool_)  # some strict ancestor matches
    for k in range(order.shape[0]):
        i = order[k]
        p = parent[i]
        if p >= 0:
            anc[i] = anc[p] or match[p]
    if skip_self:
        return anc
    out = np.empty(n, np.bool_)
    for i in range(n):
        out[i] = anc[i] or match[i]
    return out


@njit(cache=True)
def caller_chains(starts, parent, frame, weight_of_start):
    """Raw inverted stacks: for each start node, the chain start -> parent -> ... (root excluded).

    Returns raw (parent, frame, self) arrays of a forest hung under a new root 0 (frame -1), each chain's
    weight on its last (outermost caller) element.
    """
    total = 1
    for s in range(starts.shape[0]):
        j = starts[s]
        while parent[j] >= 0:
            total += 1
            j = parent[j]
    r_parent = np.empty(total, np.int64)
    r_frame = np.empty(total, np.int64)
    r_self = np.zeros(total, np.float64)
    r_parent[0] = -1
    r_frame[0] = -1
    k = 1
    for s in range(starts.shape[0]):
        j = starts[s]
        prev = 0
        while parent[j] >= 0:
            r_parent[k] = prev
            r_frame[k] = frame[j]
            prev = k
            k += 1
            j = parent[j]
        r_self[prev] += weight_of_start[s]
    return r_parent, r_frame, r_self


@njit(cache=True)
def fix_missing_samples(samples, parent, program, gc, idle):
    """DevTools ``CPUProfileDataModel.fixMissingSamples``: a lone ``(program)`` sample between two
    stacks with the same bottom frame is replaced by the previous sample (in place)."""
    n = samples.shape[0]
    if program < 0 or n < 3:
        return 0
    changed = 0
    prev = samples[0]
    cur = samples[1]
    for s in range(1, n - 1):
        nxt = samples[s + 1]
        if cur == program and prev != program and prev != gc and prev != idle and nxt != program \
                and nxt != gc and nxt != idle:
            a = prev
            while parent[a] >= 0 and parent[parent[a]] >= 0:
                a = parent[a]
            b = nxt
            while parent[b] >= 0 and parent[parent[b]] >= 0:
                b = parent[b]
            if a == b:
                samples[s] = prev
                changed += 1
        prev = cur
        cur = nxt
    return changed


@njit(cache=True)
def time_intervals(sample_node, t_end, ts, parent, depth, max_depth, gc):
    """Flame chart rectangles (DevTools ``forEachFrame``): maximal runs of consecutive samples sharing
    the node at each depth; a ``gc`` sample sits on top of the previous sample's stack.

    Returns (node, start, end, level) arrays; a frame closes at the time of the first sample without it and
    the frames still open at the end close at ``t_end``.
    """
    ns = sample_node.shape[0]
    path = np.empty(max_depth + 3, np.int64)
    open_node = np.full(max_depth + 3, -1, np.int64)
    open_start = np.zeros(max_depth + 3, np.float64)
    cap = 1024
    o_node = np.empty(cap, np.int64)
    o_start = np.empty(cap, np.float64)
    o_end = np.empty(cap, np.float64)
    o_lvl = np.empty(cap, np.int64)
    m = 0
    top = -1  # deepest open level
    prev_real = 0  # last non-gc sample's node (the root before the first sample)
    for s in range(ns + 1):
        if s < ns:
            v = sample_node[s]
            if v == gc and gc >= 0:
                base = prev_real
                d = depth[base] + 1
                path[d] = v
            else:
                base = v
                d = depth[v]
                prev_real = v
            j = base
            for k in range(depth[base], -1, -1):
                path[k] = j
                j = parent[j]
            t = ts[s]
        else:
            d = -1
            t = t_end
        k = 0
        while k <= top and k <= d and open_node[k] == path[k]:
            k += 1
        for lvl in range(top, k - 1, -1):
            if m == cap:
                cap *= 2
                a = np.empty(cap, np.int64)
                a[:m] = o_node[:m]
                o_node = a
                b = np.empty(cap, np.float64)
                b[:m] = o_start[:m]
                o_start = b
                c = np.empty(cap, np.float64)
                c[:m] = o_end[:m]
                o_end = c
                e = np.empty(cap, np.int64)
                e[:m] = o_lvl[:m]
                o_lvl = e
            o_lvl[m] = lvl
            o_node[m] = open_node[lvl]
            o_start[m] = open_start[lvl]
            o_end[m] = t
            m += 1
            open_node[lvl] = -1
        for lvl in range(k, d + 1):
            open_node[lvl] = path[lvl]
            open_start[lvl] = t
        top = d
    return o_node[:m], o_start[:m], o_end[:m], o_lvl[:m]


@njit(cache=True)
def nearest_kept(order, parent, keep):
    """Each node itself if ``keep``, else its nearest kept ancestor (the root must be kept)."""
    n = parent.shape[0]
    up = np.arange(n)
    for k in range(order.shape[0]):
        i = order[k]
        if not keep[i]:
            up[i] = up[parent[i]]
    return up
