"""The loader: meta-driven fields, optional sections, gzip, strings, timelines."""
import gzip
import json

import numpy as np
import pytest

import workbench as wb
from workbench.heap.snapshot import HeapSnapshot

from .builder import rooted
from .conftest import DATASET_FILES, ROOT

HEALTHY = ROOT / "datasets/heap/healthy/final.heapsnapshot.gz"
TIMELINE = ROOT / "datasets/heap/timeline/orders.heaptimeline.gz"


def _doc(path):
    return json.loads(gzip.decompress(path.read_bytes()))


def _write(doc, path):
    path.write_text(json.dumps(doc, separators=(",", ":")))
    return path


def test_load_sniffs_and_returns_snapshot():
    snap = wb.load(HEALTHY)
    assert isinstance(snap, HeapSnapshot)
    doc = _doc(HEALTHY)
    assert snap.node_count == doc["snapshot"]["node_count"] == len(doc["nodes"]) // 7
    assert snap.edge_count == doc["snapshot"]["edge_count"]
    assert len(snap.strings) >= len(doc["strings"])


def test_counts_match_manifest():
    manifest = json.loads((ROOT / "datasets/heap/MANIFEST.json").read_text())
    for name, entry in manifest["files"].items():
        snap = wb.load_snapshot(ROOT / "datasets/heap" / name)
        counts = entry["counts"]
        assert (snap.node_count, snap.edge_count) == (counts["node_count"], counts["edge_count"])


def test_plain_and_gzip_give_the_same_arrays(tmp_path, snapshots):
    plain = tmp_path / "h.heapsnapshot"
    plain.write_bytes(gzip.decompress(HEALTHY.read_bytes()))
    a, b = snapshots(HEALTHY), wb.load_snapshot(plain)
    np.testing.assert_array_equal(a.retained_sizes, b.retained_sizes)
    assert a.summary().equals(b.summary())


def test_six_field_nodes_give_the_same_sizes(tmp_path, snapshots):
    """Older V8 wrote 6 node fields (no detachedness); drop it and the numbers stay."""
    doc = _doc(HEALTHY)
    meta = doc["snapshot"]["meta"]
    meta["node_fields"] = meta["node_fields"][:6]
    meta["node_types"] = meta["node_types"][:6]
    doc["nodes"] = [v for i, v in enumerate(doc["nodes"]) if i % 7 != 6]
    doc["edges"] = [v // 7 * 6 if i % 3 == 2 else v for i, v in enumerate(doc["edges"])]
    doc["locations"] = [v // 7 * 6 if i % 4 == 0 else v for i, v in enumerate(doc["locations"])]
    six = wb.load_snapshot(_write(doc, tmp_path / "six.heapsnapshot"))
    seven = snapshots(HEALTHY)
    np.testing.assert_array_equal(six.retained_sizes, seven.retained_sizes)
    np.testing.assert_array_equal(six.distances, seven.distances)
    assert six.nodes["detachedness"].sum() == 0


def test_field_order_comes_from_meta(tmp_path, snapshots):
    """Permute node_fields (and the values) and edge_fields: same results."""
    doc = _doc(HEALTHY)
    meta = doc["snapshot"]["meta"]
    perm = [2, 0, 1, 4, 3, 6, 5]  # new position k holds old field perm[k]
    meta["node_fields"] = [meta["node_fields"][i] for i in perm]
    meta["node_types"] = [meta["node_types"][i] for i in perm]
    nodes = doc["nodes"]
    doc["nodes"] = [nodes[r + perm[k]] for r in range(0, len(nodes), 7) for k in range(7)]
    eperm = [2, 1, 0]
    meta["edge_fields"] = [meta["edge_fields"][i] for i in eperm]
    meta["edge_types"] = [meta["edge_types"][i] for i in eperm]
    edges = doc["edges"]
    doc["edges"] = [edges[r + eperm[k]] for r in range(0, len(edges), 3) for k in range(3)]
    snap = wb.load_snapshot(_write(doc, tmp_path / "perm.heapsnapshot"))
    ref = snapshots(HEALTHY)
    np.testing.assert_array_equal(snap.ids, ref.ids)
    np.testing.assert_array_equal(snap.retained_sizes, ref.retained_sizes)
    assert snap.summary().equals(ref.summary())


def test_optional_sections_may_be_absent_and_unknown_ones_are_reported(tmp_path):
    g, root = rooted()
    a = g.node("object", "A", 10)
    g.edge(root, a, "element", 2)
    text = g.text()
    for key in ('"trace_function_infos":[],\n', '"trace_tree":[],\n', '"samples":[],\n'):
        text = text.replace(key, "")
    text = text.replace('"locations":[]', '"future_section":{"x":[1,2,{"y":"]"}]},\n"locations":[]')
    p = tmp_path / "t.heapsnapshot"
    p.write_text(text)
    snap = wb.load_snapshot(p)
    assert snap.unknown_sections == ["future_section"]
    assert snap.summary()["class"].to_list() == ["A"]


def test_strings_decode_escapes_and_unicode(tmp_path):
    g, root = rooted()
    names = ["café", "emoji 😀", 'quote " and \\ backslash', "line\nbreak", "tab\there"]
    for i, nm in enumerate(names):
        o = g.node("object", nm, 8)
        g.edge(root, o, "element", i + 2)
    # V8 writes non-ASCII as \uXXXX escapes: json.dumps does the same
    snap = wb.load_snapshot(g.write(tmp_path / "s.heapsnapshot"))
    got = snap.nodes["name"].to_list()
    for nm in names:
        assert nm in got
    assert snap.strings[snap.strings.find("café")[0]] == "café"


def test_heaptimeline_sections(snapshots):
    snap = snapshots(TIMELINE)
    doc = _doc(TIMELINE)
    assert len(snap.sections["samples"]) == len(doc["samples"])
    assert len(snap.sections["trace_function_infos"]) == len(doc["trace_function_infos"])
    assert snap.trace_tree == doc["trace_tree"]
    # node 20 undercounts trace_function_count; the loader says so instead of failing
    declared = doc["snapshot"]["trace_function_count"]
    actual = len(doc["trace_function_infos"]) // 6
    assert declared != actual
    assert any("trace_function_count" in w for w in snap.warnings)
    assert (snap.nodes["trace_node_id"] > 0).sum() > 0


def test_progress_bar_can_be_silenced(capsys):
    wb.load_snapshot(HEALTHY, quiet=True)
    assert capsys.readouterr().err == ""


def test_nodes_and_edges_frames(snapshots):
    snap = snapshots(HEALTHY)
    nodes, edges = snap.nodes, snap.edges
    assert nodes.columns == ["id", "type", "name", "class", "self_size", "retained_size", "distance",
                             "dominator_id", "edge_count", "trace_node_id", "detachedness"]
    assert edges.columns == ["from_id", "to_id", "type", "name"]
    assert len(nodes) == snap.node_count and len(edges) == snap.edge_count
    assert nodes["edge_count"].sum() == len(edges)
    # edges out of a node, counted from the edge table, equal its edge_count
    per_src = edges.group_by("from_id").len()
    joined = nodes.join(per_src, left_on="id", right_on="from_id", how="left").fill_null(0)
    assert nodes["id"].n_unique() == len(nodes)
    assert (joined["len"] == joined["edge_count"].cast(int)).all()
    pdf = nodes.to_pandas()
    assert len(pdf) == snap.node_count
    # the root dominates itself and has the largest retained size
    root = nodes.row(0, named=True)
    assert root["dominator_id"] == root["id"]
    assert root["retained_size"] == nodes["retained_size"].max() == snap.statistics()["total"]


@pytest.mark.parametrize("chunk,split_min", [(4099, 512), (65537, 1024), (1 << 20, 1 << 30)])
def test_window_sizes_and_thread_splits_give_identical_arrays(monkeypatch, chunk, split_min, snapshots):
    """Small windows cut numbers, strings and keys at every kind of place, and two-thread splits
    start mid-number; the parsed arrays must not change."""
    from workbench.io import _stream, heapsnapshot as hs
    monkeypatch.setattr(_stream, "CHUNK", chunk)
    monkeypatch.setattr(hs, "SPLIT_MIN_BYTES", split_min)
    ref = snapshots(HEALTHY)
    raw = hs.read_raw(HEALTHY, quiet=True)
    np.testing.assert_array_equal(raw.nodes["id"], ref.ids)
    np.testing.assert_array_equal(raw.edges["to_node"], ref._to)
    np.testing.assert_array_equal(raw.edges["name_or_index"], ref._ename)
    assert len(raw.string_starts) == ref.strings.n_original


# ---- variants the peers accept (issue 11, point 2) ------------------------------------------------

def _small(tmp_path, name="s.heapsnapshot"):
    g, root = rooted()
    glob = g.node("object", "global", 16)
    g.edge(root, glob, "shortcut", "global")
    objs = [g.node("object", "Thing", 40) for _ in range(3)]
    for i, o in enumerate(objs):
        g.edge(glob, o, "property", f"t{i}")
    return g, root, glob, objs


def test_type_index_one_past_node_types_is_undefined_like_devtools(tmp_path):
    g, root, glob, objs = _small(tmp_path)
    doc = json.loads(g.text())
    ntypes = len(doc["snapshot"]["meta"]["node_types"][0])
    doc["nodes"][7 * objs[0]] = ntypes            # one past the list: older V8
    snap = wb.load_snapshot(_write(doc, tmp_path / "old.heapsnapshot"), quiet=True)
    assert snap.node_types[-1] == "undefined" and len(snap.node_types) == ntypes + 1
    assert snap.class_names([objs[0]]) == ["(undefined)"]   # DevTools: '(' + node.type() + ')'
    assert snap.notes.filter(snap.notes["section"] == "nodes")["count"].to_list() == [1]
    assert str(snap.nodes["type"][objs[0]]) == "undefined"
    doc["nodes"][7 * objs[0]] = ntypes + 1        # two past: not a variant, an error
    with pytest.raises(wb.FormatError):
        wb.load_snapshot(_write(doc, tmp_path / "bad.heapsnapshot"), quiet=True)


def test_numbers_above_2_32_are_kept_exact(tmp_path):
    g, root, glob, objs = _small(tmp_path)
    doc = json.loads(g.text())
    big_id = 0x7F00_DEAD_BEE1                      # a 64-bit address as id (non-V8 producers)
    doc["nodes"][7 * objs[1] + 2] = big_id
    doc["nodes"][7 * objs[2] + 3] = 5 * 2**30      # a 5 GiB object
    text = json.dumps(doc, separators=(",", ":"))
    for name, data in (("big.heapsnapshot", text.encode()), ("big.heapsnapshot.gz", gzip.compress(text.encode()))):
        p = tmp_path / name
        p.write_bytes(data)
        snap = wb.load_snapshot(p, quiet=True)
        assert snap.ids.dtype == np.uint64 and int(snap.ids[objs[1]]) == big_id
        assert int(snap.self_sizes[objs[2]]) == 5 * 2**30
        assert int(snap.retained_sizes[glob]) == 16 + 40 + 40 + 5 * 2**30
        assert snap.nodes.filter(snap.nodes["id"] == big_id).height == 1
        notes = dict(zip(snap.notes["section"], snap.notes["count"]))
        assert notes == {"nodes.id": 1, "nodes.self_size": 1}
        assert snap.edges.dtypes  # the edge table builds
    # past JavaScript's safe integers is still an error
    doc["nodes"][7 * objs[1] + 2] = 2**53
    with pytest.raises(wb.FormatError) as e:
        wb.load_snapshot(_write(doc, tmp_path / "huge.heapsnapshot"), quiet=True)
    assert e.value.section == "nodes"


def test_location_inside_a_node_is_dropped_and_noted(tmp_path):
    g, root, glob, objs = _small(tmp_path)
    g.locations.append((objs[0], 7, 10, 4))
    g.locations.append((objs[1], 7, 20, 2))
    doc = json.loads(g.text())
    doc["locations"][4] += 3                      # objs[1]'s entry now points inside the node
    snap = wb.load_snapshot(_write(doc, tmp_path / "loc.heapsnapshot"), quiet=True)
    assert snap.locations == {objs[0]: (7, 10, 4)}
    assert snap.notes.filter(snap.notes["section"] == "locations")["count"].to_list() == [1]
