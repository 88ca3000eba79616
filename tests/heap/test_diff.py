"""Comparison, its objects and the allocated-between filter against DevTools' own diff
(heap-snapshot-toolkit@1.1.3, goldens in tests/golden/heap/diff/), plus the different-process rule."""
import json

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.errors import UsageError
from workbench.heap import diff as D

from .builder import rooted
from .conftest import ROOT

GOLD = ROOT / "tests" / "golden" / "heap" / "diff"
SCENARIOS = sorted(p.stem for p in GOLD.glob("*.json"))


def snap_path(sc, name):
    return ROOT / "datasets" / "heap" / sc / f"{name}.heapsnapshot.gz"


@pytest.mark.parametrize("sc", SCENARIOS)
def test_comparison_equals_devtools_diff(sc, snapshots):
    gold = json.loads((GOLD / f"{sc}.json").read_text())
    arrays = np.load(GOLD / f"{sc}.npz")
    assert len(gold["pairs"]) == 3
    for pair in gold["pairs"]:
        before, after = snapshots(snap_path(sc, pair["before"])), snapshots(snap_path(sc, pair["after"]))
        got = after.compare(before)
        want = pl.DataFrame([{
            "class": r["name"], "class_key": r["key"], "new_count": r["addedCount"],
            "deleted_count": r["removedCount"], "delta_count": r["countDelta"], "alloc_size": r["addedSize"],
            "freed_size": r["removedSize"], "size_delta": r["sizeDelta"]} for r in pair["rows"]],
            schema_overrides={c: pl.Int64 for c in D.COMPARISON_COLUMNS[1:]})
        assert got.columns == ["class", "class_key", *D.COMPARISON_COLUMNS[1:]]
        assert len(got) == len(want) > 10
        a = got.sort("class_key")
        b = want.select(got.columns).sort("class_key")
        assert a.equals(b), (pair["before"], pair["after"])
        # the objects behind the rows: the same ids as DevTools' addedIndexes / deletedIndexes
        tag = f"{pair['before']}__{pair['after']}"
        keys = [r["key"] for r in pair["rows"]]
        objs = D.comparison_objects(before, after, which="both")
        for side, status in (("added", "new"), ("deleted", "deleted")):
            rows, ids = arrays[f"{tag}__{side}_row"], arrays[f"{tag}__{side}_id"]
            want_pairs = sorted(zip([keys[i] for i in rows.tolist()], ids.tolist()))
            mine = objs.filter(pl.col("status") == status)
            got_pairs = sorted(zip(mine["class_key"].to_list(), mine["node_id"].to_list()))
            assert got_pairs == want_pairs


def test_comparison_api_entry_points(snapshots):
    b, t = snapshots(snap_path("api_gateway", "baseline")), snapshots(snap_path("api_gateway", "target"))
    a = wb.compare(b, t)
    assert a.equals(t.compare(b))
    top = a.row(0, named=True)
    # the leak: ThumbnailJob's Buffers' backing stores dominate the growth
    assert a.filter(pl.col("class") == "ThumbnailJob")["new_count"].item() == 1800
    assert top["size_delta"] == a["size_delta"].max()
    objs = D.comparison_objects(b, t, "ThumbnailJob")
    assert len(objs) == 1800 and set(objs["class"]) == {"ThumbnailJob"} and set(objs["status"]) == {"new"}
    assert (objs["node_id"] > b.max_js_object_id).all()


@pytest.mark.parametrize("sc", SCENARIOS)
def test_allocated_between_equals_devtools_filter(sc, snapshots):
    gold = json.loads((GOLD / f"{sc}.json").read_text())
    b = snapshots(snap_path(sc, "baseline"))
    t = snapshots(snap_path(sc, "target"))
    assert gold["max_js_object_id"]["baseline"] == b.max_js_object_id
    assert gold["max_js_object_id"]["target"] == t.max_js_object_id
    for entry in gold["allocated_between"]:
        view = snapshots(snap_path(sc, entry["view"]))
        got = D.allocated_between_summary(view, b, t)
        want = {r["key"]: (r["count"], r["distance"], r["self"], round(r["maxRet"])) for r in entry["summary"]}
        mine = {r["class_key"]: (r["count"], r["distance"], r["self_size"], r["retained_size"])
                for r in got.iter_rows(named=True)}
        assert mine == want
        frame = D.allocated_between(view, b, t)
        ids = frame["node_id"].to_numpy()
        assert ((ids > b.max_js_object_id) & (ids <= t.max_js_object_id)).all()
        assert len(frame) == int(((view.ids > b.max_js_object_id) & (view.ids <= t.max_js_object_id)).sum())


def test_different_processes_are_refused(snapshots):
    a = snapshots(snap_path("api_gateway", "baseline"))
    s = snapshots(snap_path("sessions", "target"))
    with pytest.raises(UsageError, match="not from the same process"):
        s.compare(a)


def test_no_shared_ids_is_refused(tmp_path):
    g1, r1 = rooted()
    o = g1.node("object", "Foo", 32)
    g1.edge(r1, o, "shortcut", "x")
    g2, r2 = rooted()
    g2.nodes[0]["id"], g2.nodes[1]["id"] = 2, 4  # even ids only: no JS object in common
    o2 = g2.node("object", "Foo", 32, id_=1001)
    g2.edge(r2, o2, "shortcut", "x")
    a = wb.load_snapshot(g1.write(tmp_path / "a.heapsnapshot"), quiet=True)
    b = wb.load_snapshot(g2.write(tmp_path / "b.heapsnapshot"), quiet=True)
    with pytest.raises(UsageError, match="share no object ids"):
        b.compare(a)


def test_hand_built_diff_matches_by_id_within_class(tmp_path):
    g1, r1 = rooted()
    keep = g1.node("object", "Foo", 40, id_=101)
    gone = g1.node("object", "Foo", 24, id_=103)
    plain = g1.node("object", "Bar", 8, id_=105)
    for n, nm in ((keep, "k"), (gone, "g"), (plain, "p")):
        g1.edge(r1, n, "shortcut", nm)
    g2, r2 = rooted()
    keep2 = g2.node("object", "Foo", 48, id_=101)     # same id, grown: neither new nor deleted
    new = g2.node("object", "Foo", 16, id_=107)
    plain2 = g2.node("object", "Bar", 8, id_=105)
    for n, nm in ((keep2, "k"), (new, "n"), (plain2, "p")):
        g2.edge(r2, n, "shortcut", nm)
    a = wb.load_snapshot(g1.write(tmp_path / "a.heapsnapshot"), quiet=True)
    b = wb.load_snapshot(g2.write(tmp_path / "b.heapsnapshot"), quiet=True)
    df = b.compare(a)
    assert df.to_dicts() == [{"class": "Foo", "class_key": ",Foo", "new_count": 1, "deleted_count": 1,
                              "delta_count": 0, "alloc_size": 16, "freed_size": 24, "size_delta": -8}]
    objs = D.comparison_objects(a, b, ",Foo", which="both")
    assert sorted(zip(objs["status"], objs["node_id"])) == [("deleted", 103), ("new", 107)]
