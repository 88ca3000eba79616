"""Folded retainer paths on hand-built graphs: a run of the same step, a repeated block of two steps
and a run inside a longer path become one step (or one block) with a repeat count; the raw path
(``fold=False``) is still there and equals the folded one expanded."""
import pytest

import workbench as wb
from workbench.heap.retainers import fold_runs

from .builder import rooted


def _expand(folded):
    """The folded rows expanded back to one (edge, class) per step."""
    rows, out, i = folded.to_dicts(), [], 0
    while i < len(rows):
        block = rows[i:i + rows[i]["block"]]
        out += [(r["edge_type"], r["edge"] if r["edge_type"] != "element" else "[]", r["class"])
                for r in block] * rows[i]["repeat"]
        i += rows[i]["block"]
    return out


def _raw(raw):
    return [(t, e if t != "element" else "[]", c) for t, e, c in zip(raw["edge_type"], raw["edge"], raw["class"])]


def _graph(tmp_path, pattern, prefix=("app", "registry"), suffix=("box", "Leaf")):
    """root -> global -> prefix objects -> pattern steps -> suffix -> target; ``pattern`` is a list
    of (edge name, class) repeated."""
    g, root = rooted()
    glob = g.node("object", "global", 16)
    g.edge(root, glob, "shortcut", "global")
    v = glob
    for name in prefix:
        w = g.node("object", name.capitalize(), 16)
        g.edge(v, w, "property", name)
        v = w
    for edge, cls in pattern:
        w = g.node("object", cls, 24)
        g.edge(v, w, "property", edge)
        v = w
    w = g.node("object", suffix[1], 8)
    g.edge(v, w, "property", suffix[0])
    snap = wb.load_snapshot(g.write(tmp_path / "g.heapsnapshot"), quiet=True)
    return snap, g.nodes[w]["id"]


def test_a_chain_of_ten_thousand_steps_is_one_step(tmp_path):
    snap, target = _graph(tmp_path, [("_idleNext", "Timeout")] * 10_000)
    folded = snap.retainer_paths(target, k=1)
    raw = snap.retainer_paths(target, k=1, fold=False)
    assert raw.height == 10_000 + 4 and folded.height == 5
    run = folded.filter(folded["repeat"] > 1).row(0, named=True)
    assert (run["edge"], run["class"], run["repeat"], run["block"]) == ("._idleNext", "Timeout", 10_000, 1)
    assert _expand(folded) == _raw(raw) and (raw["repeat"] == 1).all()
    assert folded["node_id"][-1] == target == raw["node_id"][-1]


def test_a_repeated_two_step_block_is_one_block(tmp_path):
    snap, target = _graph(tmp_path, [("next", "Node"), ("value", "Entry")] * 500)
    folded = snap.retainer_paths(target, k=1)
    raw = snap.retainer_paths(target, k=1, fold=False)
    blocks = folded.filter(folded["block"] == 2)
    assert blocks["edge"].to_list() == [".next", ".value"] and blocks["repeat"].to_list() == [500, 500]
    assert _expand(folded) == _raw(raw)


def test_a_run_inside_a_longer_path(tmp_path):
    snap, target = _graph(tmp_path, [("a", "A"), ("b", "B")] + [("link", "Item")] * 300 + [("c", "C")],
                          prefix=("app", "registry", "cache"))
    folded = snap.retainer_paths(target, k=1)
    raw = snap.retainer_paths(target, k=1, fold=False)
    assert folded["edge"].to_list() == [".global", ".app", ".registry", ".cache", ".a", ".b", ".link", ".c", ".box"]
    assert folded.filter(folded["edge"] == ".link")["repeat"].item() == 300
    assert _expand(folded) == _raw(raw)


def test_find_leaks_folds_its_paths_and_holder(tmp_path):
    """Three snapshots of one graph: a linked list of Timeout objects that grows (new ones are
    added in front of the old ones), each new timer also in a list deep below the holder."""
    paths = []
    for stage in range(3):
        g, root = rooted()
        glob = g.node("object", "global", 16, id_=1001)
        g.edge(root, glob, "shortcut", "global")
        lst = g.node("object", "TimersList", 32, id_=1003)
        g.edge(glob, lst, "property", "timerList")
        v = lst
        n = 50 + 400 * stage
        for i in range(n):
            t = g.node("object", "Timeout", 64, id_=2001 + 2 * i)
            g.edge(v, t, "property", "_idleNext")
            v = t
        paths.append(g.write(tmp_path / f"s{stage}.heapsnapshot"))
    rep = wb.find_leaks(*paths, serious_count=3, serious_bytes=1)
    top = rep.suspects.row(0, named=True)
    assert top["class"] == "Timeout"
    d = rep.to_dict()["suspects"][0]
    assert len(d["path"]) <= 40 and any(s["repeat"] > 1 for s in d["path"])
    raw = wb.find_leaks(*paths, serious_count=3, serious_bytes=1, fold=False)
    assert len(raw.paths[0]) >= len(rep.paths[0]) and _expand(rep.paths[0]) == _raw(raw.paths[0])
    assert "×" in top["path"] or len(raw.paths[0]) == len(rep.paths[0])


@pytest.mark.parametrize("seq,expect", [
    ("abbbbbc", [(0, 1, 1), (1, 1, 5), (6, 1, 1)]),
    ("xababababy", [(0, 1, 1), (1, 2, 4), (9, 1, 1)]),
    ("abcabcabc", [(0, 3, 3)]),
    ("abcd", [(0, 1, 1), (1, 1, 1), (2, 1, 1), (3, 1, 1)]),
    ("", []),
])
def test_fold_runs(seq, expect):
    assert fold_runs(list(seq)) == expect


def _reference_freed(g, group_ordinals):
    """Bytes no longer reachable from the root once the group's nodes are removed (plain BFS over
    the hand-built graph's non-weak edges)."""
    def reach(blocked):
        seen, todo = {0}, [0]
        while todo:
            v = todo.pop()
            for t, _name, w in g.edges[v]:
                if t != 6 and w not in seen and w not in blocked:   # 6: weak
                    seen.add(w)
                    todo.append(w)
        return seen
    gone = reach(set()) - reach(set(group_ordinals))
    return sum(g.nodes[v]["size"] for v in gone)


def test_group_retained_size_counts_what_members_hold_jointly(tmp_path):
    from workbench.heap.leaks import group_retained_sizes
    g, root = rooted()
    glob = g.node("object", "global", 16)
    g.edge(root, glob, "shortcut", "global")
    holder = g.node("object", "Holder", 32)
    g.edge(glob, holder, "property", "cache")
    members = []
    shared = g.node("object", "Shared", 1000)           # held by two members: neither dominates it
    for i in range(3):
        m = g.node("object", "Entry", 40)
        g.edge(holder, m, "property", f"e{i}")
        own = g.node("object", "Payload", 100)
        g.edge(m, own, "property", "payload")
        members.append(m)
    g.edge(members[0], shared, "property", "s")
    g.edge(members[1], shared, "property", "s")
    chain = [g.node("object", "Link", 8) for _ in range(5)]   # a list whose every member holds the next
    g.edge(holder, chain[0], "property", "head")
    for a, b in zip(chain, chain[1:]):
        g.edge(a, b, "property", "next")
    g.edge(glob, chain[3], "weak", "w")                  # weak edges hold nothing
    snap = wb.load_snapshot(g.write(tmp_path / "g.heapsnapshot"), quiet=True)
    for group in (members, members[:1], chain, chain[2:], [shared], members + chain):
        ords = snap.ordinals_of([g.nodes[v]["id"] for v in group])
        assert group_retained_sizes(snap, [ords]) == [_reference_freed(g, group)]
    ords = snap.ordinals_of([g.nodes[v]["id"] for v in members])
    per_object = int(snap.retained_sizes[ords].sum())
    assert group_retained_sizes(snap, [ords])[0] == per_object + 1000   # the shared object, counted once
