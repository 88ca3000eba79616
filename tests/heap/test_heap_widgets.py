"""The heap widgets driven from Python: SnapshotComparison (filter, sort, select a class, then an
object) and RetainerExplorer (lazy levels, weak toggle, paging), checking what they display."""
import polars as pl
import pytest

from workbench.widgets.heap import RetainerExplorer, SnapshotComparison

from .builder import rooted
from .conftest import ROOT

D = ROOT / "datasets" / "heap" / "api_gateway"


@pytest.fixture()
def pair(snapshots):
    return snapshots(D / "baseline.heapsnapshot.gz"), snapshots(D / "target.heapsnapshot.gz")


def test_comparison_widget_class_then_object(pair):
    before, after = pair
    w = SnapshotComparison(before, after, page_size=10)
    full = after.compare(before)
    assert len(w.class_list.options) == 10 < len(full)          # one page only
    first_label, first_key = w.class_list.options[0]
    assert first_key == full.sort(["size_delta", "class_key"], descending=[True, False])["class_key"][0]
    w.filter("thumbnail")
    assert [k for _, k in w.class_list.options] == [",ThumbnailJob"] or \
        all("thumbnail" in lab.lower() for lab, _ in w.class_list.options)
    w.filter("")
    w.sort_by("new_count", descending=True)
    counts = w.page_rows["new_count"].to_list()
    assert counts == sorted(counts, reverse=True) and counts[0] == full["new_count"].max()
    # choose the class through the Select, as a click would
    key = full.filter(pl.col("class") == "ThumbnailJob")["class_key"].item()
    w.filter("ThumbnailJob")
    w.class_list.value = key
    assert w.class_key == key
    assert "1,800 new objects" in w.objects_label.value
    assert len(w.object_list.options) == 10
    rows = w.object_rows
    assert set(rows["class"]) == {"ThumbnailJob"}
    assert rows["retained_size"].to_list() == sorted(rows["retained_size"].to_list(), reverse=True)
    # then an object: its retainer paths are shown
    nid = w.object_list.options[0][1]
    w.object_list.value = nid
    assert w.node_id == nid
    assert w.paths["path"].n_unique() == 3
    assert "-&gt;cache" in w.paths_html.value and ".table" in w.paths_html.value
    assert w.paths.partition_by("path")[0]["node_id"][-1] == nid
    w.goto_page(99)
    assert w.page == 0  # the filtered table has one page


def test_comparison_widget_pages(pair):
    before, after = pair
    w = SnapshotComparison(before, after, page_size=5)
    seen = []
    n = -(-len(w.rows) // 5)
    for p in range(n):
        w.goto_page(p)
        assert len(w.class_list.options) <= 5
        seen += [k for _, k in w.class_list.options]
    assert seen == w.rows["class_key"].to_list()


def test_retainer_explorer_levels_and_weak(tmp_path):
    import workbench as wb
    g, root = rooted()
    glob = g.node("object", "global", 16)
    g.edge(root, glob, "shortcut", "global")
    t = g.node("object", "T", 64)
    holders = []
    for i in range(7):
        h = g.node("object", f"H{i}", 8)
        g.edge(glob, h, "property", f"h{i}")
        g.edge(h, t, "property", "t")
        holders.append(h)
    g.edge(glob, t, "weak", "w")
    snap = wb.load_snapshot(g.write(tmp_path / "t.heapsnapshot"), quiet=True)
    tid = g.nodes[t]["id"]
    ex = RetainerExplorer(snap, tid, page_size=3)
    first = ex.rows_of()
    assert len(first) == 3                                        # one page ...
    assert ex.root.more in ex.root.children_box.children          # ... and a "more" button
    assert all(".t in" in r.label.value for r in first)
    ex.load_more(ex.root)
    ex.load_more(ex.root)
    assert len(ex.rows_of()) == 7 and ex.root.more not in ex.root.children_box.children
    # the next level is loaded only when expanded
    h0 = ex.rows_of()[0]
    assert h0.frame is None and not h0.children_box.children
    ex.expand(h0)
    assert [r.node_id for r in h0.loaded] == [g.nodes[glob]["id"]]
    assert "distance" in h0.loaded[0].label.value and "retained" in h0.loaded[0].label.value
    # weak edges: hidden by default, shown with the toggle
    assert not any("[[w]]" in r.label.value for r in ex.rows_of())
    ex.show_weak(True)
    ex.load_more(ex.root)
    ex.load_more(ex.root)
    assert any("[[w]]" in r.label.value for r in ex.rows_of())
    assert len(ex.rows_of()) == 8


def test_retainer_explorer_on_a_dataset(snapshots):
    snap = snapshots(D / "final.heapsnapshot.gz")
    nodes = snap.nodes
    job = int(nodes.filter(nodes["class"] == "ThumbnailJob")["id"][0])
    ex = RetainerExplorer(snap, job)
    assert len(ex.rows_of()) == 1 and "(array)" in ex.rows_of()[0].label.value
    ex.expand(ex.rows_of()[0])
    assert "Map" in ex.rows_of(ex.rows_of()[0])[0].label.value
