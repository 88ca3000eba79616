"""The memory-lean passes against straightforward references on small graphs: the Semi-NCA dominator
pass (``dom_preorder`` .. ``dom_finish``) against a naive iterative dominator computation and against
DevTools' Lengauer-Tarjan as ported before (``dominator_dfs`` + ``essential_retainers`` +
``dominators``), on random graphs with weak (non-essential) edges, weak-only roots, unreachable
cycles (clique nodes) and self-loops; and the snapshot-level pass on hand-built graphs."""
import numpy as np
import pytest

import workbench as wb
from workbench.heap import _kernels as K

from .builder import rooted
from .test_semantics import reference_dominators


def csr(n, edges, dtype=np.uint32):
    """(first_edge, to, essential) from (src, dst, essential) triples, in the given order per src."""
    edges = sorted(edges, key=lambda t: t[0])  # stable: keeps each node's edge order
    counts = np.zeros(n + 1, dtype=np.int64)
    for s, _, _ in edges:
        counts[s + 1] += 1
    first_edge = np.cumsum(counts).astype(dtype)
    to = np.array([d for _, d, _ in edges], dtype=np.uint32)
    ess = np.array([e and s != d for s, d, e in edges], dtype=np.bool_)
    return first_edge, to, ess


def essential_counts(n, to, ess):
    c = np.zeros(n + 2, dtype=np.int32)
    for t, e in zip(to.tolist(), ess.tolist()):
        if e:
            c[t + 1] += 1
    return c


def lengauer_tarjan(first_edge, to, ess, root, sizes):
    """DevTools' algorithm as the kernels ported it first (the reference for every graph)."""
    n = first_edge.shape[0] - 1
    counts = essential_counts(n, to, ess)
    parent, semi, vertex, label, cnt, weak, clique = K.dominator_dfs(first_edge, to, counts, ess, root)
    first_ret, ret_node = K.essential_retainers(first_edge, to, ess, n, counts)
    idom, ret = K.dominators(first_ret, ret_node, root, parent, semi, vertex, label, cnt, sizes)
    return idom, ret, weak, clique


def semi_nca(first_edge, to, ess, root, sizes):
    n = first_edge.shape[0] - 1
    counts = essential_counts(n, to, ess)
    pre, parent, low, cnt, weak, clique = K.dom_preorder(first_edge, to, counts, ess, root)
    if clique:
        K.essential_counts(to, ess, counts)
        np.testing.assert_array_equal(counts, essential_counts(n, to, ess))
        return None, None, weak, clique
    assert cnt == n
    ret_node = K.dom_later_retainers(first_edge, to, ess, pre, counts)
    K.semi_nca(counts, ret_node, parent, low)
    idom, ret = K.dom_finish(pre, parent, sizes)
    return idom, ret, weak, clique


def naive_dominators(n, edges, root, extra_roots):
    """The fixed-point dominator computation of ``test_semantics`` on the essential edges plus
    root -> each weak-only root."""
    succ = [set() for _ in range(n)]
    for s, d, e in edges:
        if e and s != d:
            succ[s].add(d)
    for v in extra_roots:
        succ[root].add(v)
    return reference_dominators(n, succ, root)


def random_graph(rng, n):
    """A random graph: a spanning structure from the root over part of the nodes, extra edges of
    which some are weak, and the rest of the nodes left to weak-only roots, cycles among
    themselves, or nothing."""
    edges = []
    reach = int(rng.integers(1, n + 1))
    for v in range(1, reach):
        edges.append((int(rng.integers(0, v)), v, True))
    for _ in range(int(rng.integers(0, 3 * n + 1))):
        s, d = int(rng.integers(0, n)), int(rng.integers(0, n))
        edges.append((s, d, bool(rng.random() < 0.7)))
    if rng.random() < 0.3 and n - reach >= 2:   # an unreachable cycle
        a, b = int(rng.integers(reach, n)), int(rng.integers(reach, n))
        edges += [(a, b, True), (b, a, True)]
    order = rng.permutation(len(edges))
    return [edges[i] for i in order]


@pytest.mark.parametrize("seed", range(8))
def test_semi_nca_equals_lengauer_tarjan_and_the_naive_dominators(seed):
    rng = np.random.default_rng(seed)
    cliques = weak_roots = 0
    for _ in range(400):
        n = int(rng.integers(1, 40))
        edges = random_graph(rng, n)
        first_edge, to, ess = csr(n, edges, np.uint32 if seed % 2 else np.int64)
        sizes = rng.integers(0, 1000, n).astype(np.uint32)
        root = 0
        i0, r0, w0, c0 = lengauer_tarjan(first_edge, to, ess, root, sizes)
        i1, r1, w1, c1 = semi_nca(first_edge, to, ess, root, sizes)
        assert (w0, c0) == (w1, c1)
        cliques += c0 > 0
        weak_roots += w0 > 0
        if c0:
            continue   # the pass uses Lengauer-Tarjan itself then
        np.testing.assert_array_equal(i0, i1)
        np.testing.assert_array_equal(r0, r1)
        counts = essential_counts(n, to, ess)
        extra = [v for v in range(n) if v != root and counts[v + 1] == 0]   # the weak-only roots
        assert i1.tolist() == naive_dominators(n, edges, root, extra)
    assert cliques > 10 and weak_roots > 10   # the generator reaches both cases


def test_deep_chain_and_wide_fan_in():
    """A 200,000-long chain (the DFS and compression stacks at full depth) with back edges, and a
    node retained by every other."""
    n = 200_000
    edges = [(v, v + 1, True) for v in range(n - 1)]
    edges += [(v, v // 2, True) for v in range(2, n, 7)]
    edges += [(v, n - 1, True) for v in range(0, n - 2, 3)]
    first_edge, to, ess = csr(n, edges)
    sizes = np.ones(n, dtype=np.uint32)
    i0, r0, _, _ = lengauer_tarjan(first_edge, to, ess, 0, sizes)
    i1, r1, _, _ = semi_nca(first_edge, to, ess, 0, sizes)
    np.testing.assert_array_equal(i0, i1)
    np.testing.assert_array_equal(r0, r1)


def load(g, tmp_path, name="g.heapsnapshot"):
    return wb.load_snapshot(g.write(tmp_path / name), cache=False)


def _graph_with(clique: bool):
    g, root = rooted()
    a = g.node("object", "A", 10)
    b = g.node("object", "B", 20)
    w = g.node("object", "W", 7)       # weak-only root
    x = g.node("object", "X", 5)       # below it
    g.edge(root, a, "element", 2)
    g.edge(a, b, "property", "b")
    g.edge(b, a, "property", "a")
    g.edge(a, w, "weak", "ref")
    g.edge(w, x, "property", "x")
    g.edge(x, b, "property", "b")
    if clique:
        c1 = g.node("object", "C1", 3)
        c2 = g.node("object", "C2", 4)
        g.edge(c1, c2, "property", "n")
        g.edge(c2, c1, "property", "p")
        g.edge(c2, x, "property", "x")
    return g


@pytest.mark.parametrize("clique", [False, True])
def test_the_pass_on_weak_only_roots_and_cliques_equals_lengauer_tarjan(tmp_path, clique):
    snap = load(_graph_with(clique), tmp_path)
    sizes = snap.self_sizes
    ess = snap.essential_edges.copy()
    i0, r0, w0, c0 = lengauer_tarjan(snap.first_edge, snap._to, ess, snap.root, sizes)
    assert (w0 > 0, c0 > 0) == (True, clique)
    idom, ret = snap._dominators
    np.testing.assert_array_equal(idom, i0)
    np.testing.assert_array_equal(ret, r0)
    assert "essential_edges" not in snap.__dict__          # freed by the pass
    assert any("weak" in m for m in snap.warnings)


# ------------------------------------------------------------------ the Summary's kernels
def test_dominated_csr_and_summary_aggregate_equal_a_naive_walk():
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 60))
        idom = np.array([0] + [int(rng.integers(0, v)) for v in range(1, n)], dtype=np.int32)
        first, children = K.dominated_csr(idom, 0)
        for d in range(n):
            want = sorted((o for o in range(1, n) if idom[o] == d), reverse=True)
            assert children[first[d]:first[d + 1]].tolist() == want
        nk = int(rng.integers(1, 5))
        key = rng.integers(0, nk, n).astype(np.uint8)
        size = rng.integers(0, 3, n).astype(np.uint32)
        ret = rng.integers(0, 100, n).astype(np.float64)
        dist = rng.integers(0, 10, n).astype(np.int32)
        include = rng.random(n) < 0.8
        for inc in (np.zeros(0, dtype=np.bool_), include):
            count, ssum, dmin, first_seen, out = K.summary_aggregate(first, children, 0, key, size, ret, dist, nk, inc)
            member = (size != 0) & (include if inc.size else True)
            for k in range(nk):
                m = [o for o in range(n) if member[o] and key[o] == k]
                assert count[k] == len(m) and ssum[k] == sum(int(size[o]) for o in m)
                assert first_seen[k] == (min(m) if m else -1)
                if m:
                    assert dmin[k] == min(int(dist[o]) for o in m)

                def above(o):
                    while o != 0:
                        o = int(idom[o])
                        if member[o] and key[o] == k:
                            return True
                    return False
                assert out[k] == sum(ret[o] for o in m if not above(o))


def test_property_set_codes_and_interface_proposals_group_like_sorting():
    rng = np.random.default_rng(3)
    m = 400
    props = [sorted(rng.integers(1, 8, int(rng.integers(0, 5))).tolist(), key=lambda _: rng.random())
             for _ in range(m)]
    etype = np.array([0 for p in props for _ in p] + [1], dtype=np.uint8)
    ename = np.array([x for p in props for x in p] + [0], dtype=np.uint32)
    first_edge = np.concatenate([[0], np.cumsum([len(p) for p in props])]).astype(np.uint32)
    objs = np.arange(m, dtype=np.int32)
    codes, first = K.property_set_codes(first_edge, etype, ename, objs, 0)
    seen = {}
    for j, p in enumerate(props):
        seen.setdefault(tuple(sorted(p)), len(seen))
        assert codes[j] == seen[tuple(sorted(p))]
    assert [tuple(sorted(props[j])) for j in first.tolist()] == list(seen)
    len16 = np.full(8, 40, dtype=np.int64)    # '{' + 40 + ', ' + 40: a third name would pass 120 units
    f, count, nprops = K.interface_proposals(first_edge, etype, ename, objs, 0, 7, len16)
    groups = {}
    for j, p in enumerate(props):
        q = tuple(x for x in p if x != 7)[:2]
        if q:
            groups.setdefault(q, []).append(j)
    assert [g[0] for g in groups.values()] == f.tolist()
    assert [len(g) for g in groups.values()] == count.tolist()
    assert [len(q) for q in groups] == nprops.tolist()


def test_last_row_per_node_keeps_devtools_last_entry():
    rng = np.random.default_rng(5)
    for _ in range(200):
        rows, n, nf = int(rng.integers(1, 200)), int(rng.integers(1, 50)), 7
        cols = np.zeros((rows, 4), dtype=np.uint32)
        cols[:, 0] = rng.integers(0, n, rows) * nf
        obj = cols[:, 0] // nf
        want = np.sort(len(obj) - 1 - np.unique(obj[::-1], return_index=True)[1])
        np.testing.assert_array_equal(K.last_row_per_node(cols, 0, nf, n), want)
        assert K.column_increasing(cols, 0, nf) == bool(np.all(obj[1:] > obj[:-1]))


def test_statistics_first_equal_statistics_after_the_passes():
    """Statistics asked for before any other pass (the 'Detached' renames then add strings while
    its tables are being sized) equal Statistics after analyze(): the redaction test found
    typed_arrays off by 208-1,104 bytes when the order was wrong."""
    from .conftest import DATASET_FILES
    for path in DATASET_FILES:
        first = wb.load_snapshot(path, quiet=True, cache=False).statistics()
        after = wb.load_snapshot(path, quiet=True, cache=False).analyze().statistics()
        assert first == after, path
