"""Heap snapshots written by other projects (tests/corpus/heap/MANIFEST.json): each loads and gives
the answer its project's own tests record."""
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

import workbench as wb

HERE = Path(__file__).resolve().parent / "heap"
MANIFEST = json.loads((HERE / "MANIFEST.json").read_text())
FILES = sorted(MANIFEST["files"])


def _stats(s):
    return {"total": s["total"], "native": {"total": s["native"]["total"], "typedArrays": s["native"]["typed_arrays"]},
            "v8heap": {"total": s["v8heap"]["total"], "code": s["v8heap"]["code"], "jsArrays": s["v8heap"]["js_arrays"],
                       "strings": s["v8heap"]["strings"], "system": s["v8heap"]["system"]}}


def test_manifest_lists_every_file_with_its_provenance():
    on_disk = {p.name for p in HERE.iterdir() if p.name != "MANIFEST.json"}
    assert on_disk == set(FILES)
    for name, e in MANIFEST["files"].items():
        p = HERE / name
        assert hashlib.sha256(p.read_bytes()).hexdigest() == e["sha256"] and p.stat().st_size == e["bytes"]
        assert e["licence"] and e["format"] and e["answer"] and e["answer_source"] and e["repo"]
        assert p.stat().st_size < 2 * 1024 * 1024
    assert all(x["why"] for x in MANIFEST["left_out"])


@pytest.mark.parametrize("name", FILES)
def test_loads_with_the_recorded_answer(name):
    e = MANIFEST["files"][name]
    snap = wb.load(HERE / name)
    assert isinstance(snap, wb.HeapSnapshot) if hasattr(wb, "HeapSnapshot") else snap.node_count > 0
    a = e["answer"]
    if "statistics" in a:
        assert _stats(snap.statistics()) == a["statistics"]
    if "node_count" in a:
        assert snap.node_count == a["node_count"]
    if "total_size" in a:
        assert snap.total_size == a["total_size"]
    if "summary_rows" in a:
        assert len(snap.summary()) == a["summary_rows"]
    if "first_edge_indexes" in a:   # DevTools counts edge fields, we count edges
        assert (snap.first_edge.astype(int) * len(snap.meta["edge_fields"])).tolist() == a["first_edge_indexes"]
    if "dominators" in a:
        assert snap.dominator_ordinals.tolist() == a["dominators"]
    if "retained_sizes" in a:
        assert snap.retained_sizes.tolist() == a["retained_sizes"]
    if "retainers" in a:
        names = snap.nodes["name"].to_list()
        got = {names[o]: sorted(names[r] for r in snap.retaining_nodes[snap.first_retainer[o]:snap.first_retainer[o + 1]])
               for o in range(snap.node_count)}
        assert got == a["retainers"]
    if "workbench_notes" in a:     # the lossy step is said, not silent
        assert dict(zip(snap.notes["section"], snap.notes["count"])) == a["workbench_notes"]
    if "located_nodes" in a:
        assert {str(k): list(v) for k, v in snap.locations.items()} == a["located_nodes"]


def test_toolkit_fixtures_hold_the_new_foo():
    """heap-snapshot-toolkit's test: one `new Foo()` of 52 bytes in the second fixture. The two
    fixtures come from two VMs (only 56% of shared ids have the same type and name), so
    workbench's compare() refuses them as not one process, where DevTools diffs them anyway; the
    recorded answer is checked on the Summary rows instead."""
    before = wb.load(HERE / "heap-snapshot-toolkit_snapshot1.heapsnapshot.gz")
    after = wb.load(HERE / "heap-snapshot-toolkit_snapshot2.heapsnapshot.gz")
    want = MANIFEST["files"]["heap-snapshot-toolkit_snapshot2.heapsnapshot.gz"]["answer"]["diff_from_snapshot1"]

    def foo(snap):
        s = snap.summary().filter(pl.col("class") == want["class"])
        return (int(s["count"].sum()), int(s["self_size"].sum()))
    assert foo(before) == (0, 0)
    assert foo(after) == (want["addedCount"], want["addedSize"])
    with pytest.raises(wb.UsageError):
        after.compare(before)
