"""Exact equality with Chrome DevTools' own code (heap-snapshot-toolkit@1.1.3), per node and per
class, on every dataset snapshot. Goldens: tests/golden/heap/make_goldens.py."""
import json

import numpy as np
import pytest

from .conftest import DATASET_FILES, MANIFEST, golden_base


def _golden(path):
    base = golden_base(path)
    return np.load(str(base) + ".npz"), json.loads(open(str(base) + ".json").read())


@pytest.mark.parametrize("path", DATASET_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_per_node_numbers_equal_devtools(path, snapshots):
    snap = snapshots(path)
    g, meta = _golden(path)
    assert snap.node_count == meta["node_count"]
    np.testing.assert_array_equal(snap.ids, g["id"])
    np.testing.assert_array_equal(snap.self_sizes, g["self_size"], err_msg="shallow size")
    np.testing.assert_array_equal(snap.retained_sizes, g["retained_size"], err_msg="retained size")
    np.testing.assert_array_equal(snap.distances, g["distance"], err_msg="distance")
    np.testing.assert_array_equal(snap.dominator_ordinals, g["dominator"], err_msg="dominator")
    ours = np.array(snap.class_names(), dtype=object)
    theirs = np.array(meta["class_names"], dtype=object)[g["class_index"]]
    assert (ours == theirs).all(), list(zip(ours[ours != theirs][:5], theirs[ours != theirs][:5]))
    assert snap.max_js_object_id == meta["max_js_node_id"]
    assert snap.total_size == meta["total_size"]


@pytest.mark.parametrize("path", DATASET_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_summary_rows_equal_devtools(path, snapshots):
    snap = snapshots(path)
    _, meta = _golden(path)
    theirs = {r["key"]: (r["name"], r["count"], r["distance"], r["self"], r["maxRet"]) for r in meta["summary"]}
    ours = {r["class_key"]: (r["class"], r["count"], r["distance"], r["self_size"], r["retained_size"])
            for r in snap.summary().iter_rows(named=True)}
    assert ours == theirs
    # the Summary is sorted by retained size, largest first
    ret = snap.summary()["retained_size"].to_list()
    assert ret == sorted(ret, reverse=True)


@pytest.mark.parametrize("path", DATASET_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_statistics_equal_devtools(path, snapshots):
    s = snapshots(path).statistics()
    t = _golden(path)[1]["statistics"]
    assert s == {
        "total": t["total"],
        "v8heap": {"total": t["v8heap"]["total"], "code": t["v8heap"]["code"], "strings": t["v8heap"]["strings"],
                   "js_arrays": t["v8heap"]["jsArrays"], "system": t["v8heap"]["system"]},
        "native": {"total": t["native"]["total"], "typed_arrays": t["native"]["typedArrays"]},
    }


def test_planted_leak_visible_in_summary(snapshots):
    """The api_gateway's cache holds 1800 ThumbnailJobs per phase: the final snapshot has 3600,
    each retaining its 64x64 Buffer (4096 bytes of native memory)."""
    snap = snapshots(next(p for p in DATASET_FILES if "api_gateway/final" in str(p)))
    summary = snap.summary()
    row = summary.filter(summary["class"] == "ThumbnailJob").row(0, named=True)
    assert row["count"] == 3600
    assert row["retained_size"] >= 3600 * 4096


def test_every_node_version_is_compared():
    """Issue 11, point 6: one snapshot per Node major (datasets/build_heap_versions.py), each with
    its DevTools golden, so the tests above compare every version per node and per Summary row.
    Node 24 and later write 6-field nodes (no trace_node_id); the reader must not care. Node 8
    writes symbols as a node type one past its meta.node_types list, which DevTools loads."""
    versions = {p.name.split(".")[0]: p for p in DATASET_FILES
                if p.parent.name == "versions" and "_" not in p.name}   # node20_strings_repeat: another scenario
    assert sorted(versions, key=lambda n: int(n[4:])) == [f"node{m}" for m in (8, 10, 12, 18, 20, 22, 24, 26)]
    for name, path in versions.items():
        entry = MANIFEST["files"][f"versions/{path.name}"]
        assert entry["notes"]["node"].startswith(f"v{name[4:]}.")
        assert golden_base(path).with_suffix(".npz").exists()
        import workbench as wb
        snap = wb.load_snapshot(path, quiet=True)
        fields = snap.meta["node_fields"]
        assert len(fields) == entry["notes"]["node_fields"]
        assert ("trace_node_id" in fields) == (int(name[4:]) < 24), (name, fields)
        assert ("undefined" in snap.node_types) == (name == "node8"), (name, snap.node_types)
