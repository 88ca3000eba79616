"""DevTools semantics on hand-built graphs whose answers are known, and a property test of the
dominator kernel against a simple reference algorithm on random graphs."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb

from .builder import rooted


def load(g, tmp_path, name="g.heapsnapshot"):
    return wb.load_snapshot(g.write(tmp_path / name))


def test_backing_stores_move_to_their_single_owner(tmp_path):
    g, root = rooted()
    a = g.node("object", "A", 32)
    b = g.node("object", "B", 16)
    h = g.node("hidden", "system / Map", 100)        # owned by A only
    arr1 = g.node("array", "", 40)                   # A -> arr1 -> arr2: both A's
    arr2 = g.node("array", "", 24)
    shared = g.node("array", "", 64)                 # retained by A and B: nobody's
    g.edge(root, a, "element", 2)
    g.edge(root, b, "element", 3)
    g.edge(a, h, "internal", "map")
    g.edge(a, arr1, "internal", "elements")
    g.edge(arr1, arr2, "element", 0)
    g.edge(a, shared, "property", "s")
    g.edge(b, shared, "property", "s")
    snap = load(g, tmp_path)
    size = dict(zip(range(snap.node_count), snap.self_sizes.tolist()))
    assert size[a] == 32 + 100 + 40 + 24
    assert size[h] == size[arr1] == size[arr2] == 0
    assert size[shared] == 64 and size[b] == 16
    # retained: A dominates h, arr1, arr2 (sizes now 0 there) but not shared
    assert snap.retained_sizes[a] == 196
    assert snap.retained_sizes[root] == 196 + 16 + 64


def test_weak_only_nodes_hang_from_the_root(tmp_path):
    g, root = rooted()
    a = g.node("object", "A", 10)
    w = g.node("object", "W", 7)
    g.edge(root, a, "element", 2)
    g.edge(a, w, "weak", "ref")
    snap = load(g, tmp_path)
    assert snap.dominator_ordinals[w] == root
    assert snap.distances[w] == -5          # weak edges are never followed
    assert snap.retained_sizes[a] == 10     # a weak edge retains nothing
    assert any("weak" in m for m in snap.warnings)


def test_weakmap_value_is_retained_by_its_key_not_the_table(tmp_path):
    g, root = rooted()
    holder = g.node("object", "Holder", 8)
    table = g.node("array", "", 16, id_=101)
    key = g.node("object", "Key", 8, id_=103)
    value = g.node("object", "Value", 50, id_=105)
    wm = g.node("object", "WeakMap", 8)
    g.edge(root, holder, "element", 2)
    g.edge(holder, wm, "property", "wm")
    g.edge(holder, key, "property", "k")
    g.edge(wm, table, "internal", "table")
    name = "1 / part of key (Key @103) -> value (Value @105) pair in WeakMap (table @101)"
    g.edge(table, value, "internal", name)
    g.edge(key, value, "internal", name)
    snap = load(g, tmp_path)
    assert snap.dominator_ordinals[value] == key
    # distance = max(table + 1, key + 1): the first edge of the pair is skipped
    assert snap.distances[value] == max(snap.distances[table], snap.distances[key]) + 1


def test_class_names_by_node_type(tmp_path):
    g, root = rooted()
    nodes = {
        "Function": g.node("closure", "handler", 32),
        "(compiled code)": g.node("code", "", 64),
        "(string)": g.node("string", "hello", 24),
        "<div>": g.node("native", '<div id="a" class="b">', 80),
        "RegExp": g.node("regexp", "/a+/", 40),
        "(system)": g.node("hidden", "system / Foo", 16),
        "Session": g.node("object", "Session", 48),
    }
    for i, o in enumerate(nodes.values()):
        g.edge(root, o, "element", i + 2)
    snap = load(g, tmp_path)
    names = snap.class_names()
    for cls, o in nodes.items():
        assert names[o] == cls


def test_plain_objects_named_by_their_properties(tmp_path):
    g, root = rooted()
    def obj(*props):
        o = g.node("object", "Object", 24)
        g.edge(root, o, "element", len(g.nodes))
        for p in props:
            v = g.node("number", "number", 16)
            g.edge(o, v, "property", p)
        return o
    two = [obj("name", "locale"), obj("name", "locale"), obj("locale", "name")]
    more = obj("name", "locale", "flags")
    lonely = obj("zzz")
    quoted = [obj("a,b"), obj("a,b")]
    snap = load(g, tmp_path)
    names = snap.class_names()
    assert [names[o] for o in two[:2]] == ["{name, locale}"] * 2
    assert names[two[2]] == "{name, locale}"      # same set in another order
    assert names[more] == "{name, locale}"        # the best subset
    assert names[lonely] == "Object"              # proposed by one object only
    assert names[quoted[0]] == '{"a,b"}'


def test_same_class_name_from_two_locations_is_two_rows(tmp_path):
    g, root = rooted()
    a = g.node("object", "Job", 40)
    b = g.node("object", "Job", 40)
    g.edge(root, a, "element", 2)
    g.edge(root, b, "element", 3)
    g.locations = [(a, 7, 10, 2), (b, 9, 3, 4)]
    snap = load(g, tmp_path)
    rows = snap.summary().filter(snap.summary()["class"] == "Job")
    assert sorted(rows["class_key"].to_list()) == ["7,10,2,Job", "9,3,4,Job"]


def test_class_retained_size_does_not_double_count(tmp_path):
    g, root = rooted()
    outer = g.node("object", "Node", 10)
    inner = g.node("object", "Node", 10)
    leaf = g.node("object", "Leaf", 5)
    g.edge(root, outer, "element", 2)
    g.edge(outer, inner, "property", "next")
    g.edge(inner, leaf, "property", "leaf")
    snap = load(g, tmp_path)
    row = snap.summary().filter(snap.summary()["class"] == "Node").row(0, named=True)
    assert row["count"] == 2 and row["self_size"] == 20
    assert row["retained_size"] == 25     # outer's retained size, not outer + inner


# ----------------------------------------------------------------------------- property test
def reference_dominators(n, succ, root):
    preds = [set() for _ in range(n)]
    for v in range(n):
        for w in succ[v]:
            preds[w].add(v)
    dom = [set(range(n)) for _ in range(n)]
    dom[root] = {root}
    changed = True
    while changed:
        changed = False
        for v in range(n):
            if v == root:
                continue
            ps = [dom[p] for p in preds[v]]
            new = {v} | (set.intersection(*ps) if ps else set())
            if new != dom[v]:
                dom[v] = new
                changed = True
    idom = [root] * n
    for v in range(n):
        if v != root:
            strict = dom[v] - {v}
            idom[v] = max(strict, key=lambda d: len(dom[d]))
    return idom


@st.composite
def random_graphs(draw):
    n = draw(st.integers(2, 30))
    parents = [draw(st.integers(0, i - 1)) for i in range(1, n)]
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, n - 1),
                                    st.sampled_from(["property", "element", "internal", "weak", "context", "shortcut"])),
                          max_size=3 * n))
    sizes = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    return n, parents, extra, sizes


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_graphs())
def test_dominators_match_reference_on_random_graphs(tmp_path, graph):
    n, parents, extra, sizes = graph
    from .builder import Graph
    g = Graph()
    g.node("synthetic", "", 0)
    for i in range(1, n):
        g.node("object", f"O{i}", sizes[i])
    essential = [set() for _ in range(n)]
    for child, parent in enumerate(parents, start=1):
        g.edge(parent, child, "element" if parent == 0 else "property", child)
        essential[parent].add(child)
    for src, dst, kind in extra:
        if src == 0 and kind == "shortcut":
            kind = "element"   # root shortcuts mark page-owned objects: not this test
        g.edge(src, dst, kind, dst)
        if kind not in ("weak", "shortcut") and src != dst:
            essential[src].add(dst)
    snap = wb.load_snapshot(g.write(tmp_path / "r.heapsnapshot"))
    idom = reference_dominators(n, [sorted(s) for s in essential], 0)
    assert snap.dominator_ordinals.tolist() == idom
    # retained size = self sizes over the dominator subtree
    subtree = np.array([0] + sizes[1:], dtype=np.int64)
    expect = subtree.astype(float).copy()
    depth = {0: 0}
    def d(v):
        if v not in depth:
            depth[v] = d(idom[v]) + 1
        return depth[v]
    for v in sorted(range(1, n), key=d, reverse=True):
        expect[idom[v]] += expect[v]
    np.testing.assert_array_equal(snap.retained_sizes, expect)
    # distances: BFS over non-weak edges from the root's children
    adj = [[] for _ in range(n)]
    for child, parent in enumerate(parents, start=1):
        adj[parent].append(child)
    for src, dst, kind in extra:
        if kind != "weak":
            adj[src].append(dst)
    dist = [-5] * n
    # DevTools seeds every child of the root at distance 1, whatever the edge type (weak too)
    frontier = list(dict.fromkeys(adj[0] + [dst for src, dst, kind in extra if src == 0 and kind == "weak"]))
    for c in frontier:
        dist[c] = 1
    i = 0
    while i < len(frontier):
        v = frontier[i]
        i += 1
        for w in adj[v]:
            if dist[w] == -5:
                dist[w] = dist[v] + 1
                frontier.append(w)
    dist[0] = 100000000
    assert snap.distances.tolist() == dist


def test_detached_dom_state_spreads_through_native_nodes_only(tmp_path):
    """DevTools' propagateDOMState: attached spreads to native children; detached to those not
    attached (renamed 'Detached <name>'); a JS node stops both."""
    g, root = rooted()
    doc = g.node("native", "HTMLDocument", 40, detachedness=1)
    a = g.node("native", "<div>", 20)           # attached through doc
    gone = g.node("native", "<section>", 30, detachedness=2)
    child = g.node("native", '<p class="x">', 10)  # detached through gone
    js = g.node("object", "Wrapper", 16)
    behind_js = g.node("native", "<span>", 8)    # not reached: a JS node stops propagation
    shared = g.node("native", "<b>", 8)          # reachable from both: attached wins
    for i, o in enumerate((doc, gone)):
        g.edge(root, o, "element", i + 2)
    g.edge(doc, a, "element", 0)
    g.edge(gone, child, "element", 0)
    g.edge(gone, js, "property", "wrapper")
    g.edge(js, behind_js, "property", "el")
    g.edge(a, shared, "element", 0)
    g.edge(gone, shared, "element", 1)
    snap = load(g, tmp_path)
    det = snap.nodes["detachedness"].to_list()
    assert [det[o] for o in (doc, a, shared, gone, child, behind_js)] == [1, 1, 1, 2, 2, 0]
    names = snap.class_names()
    assert names[gone] == "Detached <section>" and names[child] == "Detached <p>"
    assert names[a] == "<div>" and names[shared] == "<b>" and names[behind_js] == "<span>"
