"""Retainers, k shortest retainer paths, dominators: hand-built graphs with known answers (weak
edges, cycles, ignored retainers, root edges) and DevTools' own Retainers on dataset objects."""
import json

import pytest

import workbench as wb
from workbench.errors import UsageError
from workbench.heap.retainers import render_edge

from .builder import rooted
from .conftest import ROOT


@pytest.fixture()
def graph(tmp_path):
    g, root = rooted()
    glob = g.node("object", "global", 16)
    g.edge(root, glob, "shortcut", "global")
    a = g.node("object", "A", 16)
    b = g.node("object", "B", 16)
    c = g.node("object", "C", 16)
    d = g.node("object", "D", 16)
    e = g.node("object", "E", 16)
    t = g.node("object", "T", 100)
    x = g.node("object", "X", 8)
    g.edge(glob, a, "property", "a")
    g.edge(a, t, "property", "t")          # global.a.t: 3 edges from the root
    g.edge(glob, b, "property", "b")
    g.edge(b, c, "context", "c")
    g.edge(c, t, "element", 3)             # global.b->c[3]: 4 edges
    g.edge(glob, d, "property", "the d")
    g.edge(d, e, "internal", "e")
    g.edge(e, t, "property", "t")          # global["the d"]{e}.t: 4 edges
    g.edge(glob, t, "weak", "w")           # weak: 2 edges, only with weak=True
    g.edge(t, a, "property", "back")       # a cycle T -> A -> T
    g.edge(root, x, "element", 2)          # the root retains X directly ...
    g.edge(glob, x, "property", "x")       # ... and so does global
    snap = wb.load_snapshot(g.write(tmp_path / "g.heapsnapshot"), quiet=True)
    ids = {nm: g.nodes[o]["id"] for nm, o in (("global", glob), ("A", a), ("B", b), ("C", c), ("D", d),
                                             ("E", e), ("T", t), ("X", x))}
    return snap, ids


def test_edge_rendering_is_devtools():
    assert render_edge("context", "cache") == "->cache"
    assert render_edge("element", 7) == "[7]"
    assert render_edge("weak", "w") == "[[w]]"
    assert render_edge("property", "table") == ".table"
    assert render_edge("property", "get owner") == '["get owner"]'
    assert render_edge("internal", "context") == "{context}"
    assert render_edge("hidden", 3) == "{3}"
    assert render_edge("shortcut", 2) == "[2]"


def test_k_shortest_paths_in_order(graph):
    snap, ids = graph
    df = snap.retainer_paths(ids["T"], k=5)
    paths = [p.sort("step") for p in df.partition_by("path", maintain_order=True)]
    # exactly three simple non-weak paths exist; the cycle through T.back adds none
    assert len(paths) == 3
    assert [len(p) for p in paths] == [3, 4, 4]
    assert paths[0]["edge"].to_list() == [".global", ".a", ".t"]
    assert paths[0]["node_id"].to_list() == [ids["global"], ids["A"], ids["T"]]
    rest = sorted(tuple(p["edge"].to_list()[1:]) for p in paths[1:])
    assert rest == sorted([(".b", "->c", "[3]"), ('["the d"]', "{e}", ".t")])
    for p in paths:
        assert p["node_id"][-1] == ids["T"]


def test_weak_edges_only_when_asked(graph):
    snap, ids = graph
    df = snap.retainer_paths(ids["T"], k=1, weak=True)
    assert df["edge"].to_list()[1:] == ["[[w]]"] and len(df) == 2
    assert len(snap.retainers(ids["T"])) == 3
    weak = snap.retainers(ids["T"], weak=True)
    assert len(weak) == 4 and "[[w]]" in weak["edge"].to_list()


def test_ignored_retainers(graph):
    snap, ids = graph
    df = snap.retainer_paths(ids["T"], k=5, ignore_nodes=[ids["A"]])
    assert sorted(len(p) for p in df.partition_by("path")) == [4, 4]
    assert ids["A"] not in df["node_id"].to_list()
    df = snap.retainer_paths(ids["T"], k=5, ignore_edges=[(ids["A"], ids["T"])])
    assert sorted(len(p) for p in df.partition_by("path")) == [4, 4]
    # ignoring every retainer leaves the object unreachable: no path, no crash
    df = snap.retainer_paths(ids["T"], ignore_nodes=[ids["A"], ids["C"], ids["E"]])
    assert len(df) == 0


def test_direct_retainers_hide_root_edges_and_sort_by_distance(graph):
    snap, ids = graph
    r = snap.retainers(ids["X"])
    assert r["node_id"].to_list() == [ids["global"]] and r["edge"].to_list() == [".x"]
    r = snap.retainers(ids["T"])
    assert set(r["node_id"].to_list()) == {ids["A"], ids["C"], ids["E"]}
    assert r["distance"].to_list() == sorted(r["distance"].to_list())
    assert r.filter(r["node_id"] == ids["A"])["edge"].item() == ".t"


def test_dominators_and_dominated(graph):
    snap, ids = graph
    chain = snap.dominators(ids["T"])
    assert chain["node_id"].to_list()[:2] == [ids["T"], ids["global"]]
    assert chain["depth"].to_list() == list(range(len(chain)))
    kids = snap.dominated(ids["global"])
    assert set(kids["node_id"].to_list()) >= {ids["T"], ids["A"], ids["B"], ids["D"]}
    assert kids["retained_size"].to_list() == sorted(kids["retained_size"].to_list(), reverse=True)
    t_row = kids.filter(kids["node_id"] == ids["T"])
    assert t_row["retained_size"].item() == 100


def test_unknown_node_is_a_usage_error(graph):
    snap, _ = graph
    with pytest.raises(UsageError, match="no object with id @999999"):
        snap.retainers(999999)
    with pytest.raises(UsageError):
        snap.retainer_paths("nope")


@pytest.mark.parametrize("sc", ["api_gateway", "listeners", "sessions", "timers", "healthy"])
def test_direct_retainers_equal_devtools(sc, snapshots):
    gold = json.loads((ROOT / "tests" / "golden" / "heap" / "diff" / f"{sc}.json").read_text())
    snap = snapshots(ROOT / "datasets" / "heap" / sc / "final.heapsnapshot.gz")
    assert gold["retainers"]
    for entry in gold["retainers"]:
        mine = snap.retainers(entry["node_id"])
        want = sorted((it["from_id"], it["type"], str(it["name"])) for it in entry["items"])
        got = sorted(zip(mine["node_id"].to_list(), mine["edge_type"].to_list(), mine["edge_name"].to_list()))
        assert got == want


def test_paths_on_a_dataset_end_at_the_object(snapshots):
    snap = snapshots(ROOT / "datasets" / "heap" / "api_gateway" / "final.heapsnapshot.gz")
    nodes = snap.nodes
    job = int(nodes.filter(nodes["class"] == "ThumbnailJob")["id"][0])
    df = snap.retainer_paths(job, k=3)
    paths = df.partition_by("path", maintain_order=True)
    assert len(paths) == 3
    lengths = [len(p) for p in paths]
    assert lengths == sorted(lengths)
    for p in paths:
        assert p["node_id"][-1] == job
        assert "->cache" in p["edge"].to_list() and ".table" in p["edge"].to_list()
    # distinct paths
    assert len({tuple(p["node_id"].to_list()) + tuple(p["edge"].to_list()) for p in paths}) == 3
