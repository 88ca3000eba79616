"""Cons strings by value (issue 11, point 5): the node table's name and duplicate_strings() use the
flattened value of concatenated strings, as DevTools displays them (consStringName), bounded.
Goldens: tests/golden/heap/make_cons_goldens.py (DevTools' own code on the same files)."""
import gzip
import json

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.heap.strings import CONS_MAX_POPS, CONS_MAX_UNITS

from .builder import rooted
from .conftest import DATASET_FILES, golden_base

VERSIONS = [p for p in DATASET_FILES if p.parent.name == "versions"]
REPEAT = next(p for p in VERSIONS if "strings_repeat" in p.name)


def _cons_golden(path):
    return json.loads(gzip.decompress(open(str(golden_base(path)) + ".cons.json.gz", "rb").read()))


@pytest.mark.parametrize("path", VERSIONS, ids=lambda p: p.name.split(".")[0])
def test_cons_names_equal_devtools(path, snapshots):
    snap = snapshots(path)
    g = _cons_golden(path)["cons_names"]
    n = snap.nodes.with_row_index("ord").filter(pl.col("type") == "concatenated string")
    ours = dict(zip(n["ord"].to_list(), n["name"].to_list()))
    assert len(ours) == len(g) > 100
    assert ours == {int(k): v for k, v in g.items()}
    assert not (n["name"] == "(concatenated string)").any()


def test_repeat_copies_are_one_group_of_1000(snapshots):
    """datasets/scenarios/strings_repeat.js holds 1,000 results of 'x'.repeat(100)."""
    snap = snapshots(REPEAT)
    d = snap.duplicate_strings(top=None)
    row = d.filter(pl.col("value") == "x" * 100).row(0, named=True)
    assert (row["count"], row["length"]) == (1000, 100)
    # DevTools' own duplicatedStrings filter selects the same 1,000 nodes under that value
    g = _cons_golden(REPEAT)
    names = snap.nodes["name"].to_numpy()
    theirs = {o for o in g["duplicated_strings"] if names[o] == "x" * 100}
    assert len(theirs) == 1000
    # the pieces (the 'xxxx' and 'xxxxxxxx' leaves, the 16/32/64-character inner cons strings)
    # are parts of those strings, not values of their own
    assert not d.filter(pl.col("value").is_in(["xxxx", "x" * 8, "x" * 16, "x" * 32, "x" * 64])).height
    # each copy's bytes: the retained size of its top cons string, summed
    ords = np.array(sorted(theirs))
    assert row["self_size"] == int(snap.retained_sizes[ords].sum())
    assert row["wasted_size"] == row["self_size"] - int(snap.retained_sizes[ords].max())


def _cons_chain(g, parts, size=32):
    """A right-leaning cons tree over flat strings ``parts``; returns its top node."""
    leaves = [g.node("string", p, 16) for p in parts]
    node = leaves[-1]
    for leaf in reversed(leaves[:-1]):
        c = g.node("concatenated string", "(concatenated string)", size)
        g.edge(c, leaf, "internal", "first")
        g.edge(c, node, "internal", "second")
        node = c
    return node


def test_hand_built_values_groups_and_bounds(tmp_path):
    g, root = rooted()
    glob = g.node("object", "global", 16)
    g.edge(root, glob, "shortcut", "global")
    # two copies of 'ab' + 'c' + 'd', held by properties: one group 'abcd' of 2
    for i in range(2):
        g.edge(glob, _cons_chain(g, ["ab", "c", "d"]), "property", f"s{i}")
    # a flat string with the same text counts as a third copy
    g.edge(glob, g.node("string", "abcd", 24), "property", "flat")
    # DevTools' bound: leaves are appended while the value is shorter than 1,024 units
    g.edge(glob, _cons_chain(g, ["y" * 1000, "z" * 30, "w" * 5]), "property", "long")
    # a non-BMP character counts two units, like JavaScript
    g.edge(glob, _cons_chain(g, ["\U0001F600" * 511, "q", "r"]), "property", "emoji")
    # a cycle of cons strings over empty leaves (only in a malformed file): bounded steps
    a = g.node("concatenated string", "(concatenated string)", 32)
    b = g.node("concatenated string", "(concatenated string)", 32)
    e = g.node("string", "", 0)
    g.edge(a, b, "internal", "first")
    g.edge(a, e, "internal", "second")
    g.edge(b, a, "internal", "first")
    g.edge(b, e, "internal", "second")
    g.edge(glob, a, "property", "cyc")
    # a piece longer than our bound is not appended
    g.edge(glob, _cons_chain(g, ["h", "H" * (CONS_MAX_UNITS + 1)]), "property", "huge")
    sliced = g.node("sliced string", "(sliced string)", 32)
    g.edge(sliced, g.node("string", "parent text", 24), "internal", "parent")
    g.edge(glob, sliced, "property", "sl")
    snap = wb.load_snapshot(g.write(tmp_path / "s.heapsnapshot"), quiet=True)
    names = snap.nodes["name"]
    tops = snap.nodes.filter(pl.col("type") == "concatenated string")["name"].to_list()
    assert tops.count("abcd") == 2 and "cd" in tops
    assert "y" * 1000 + "z" * 30 in tops          # 1,030 units: 'w' not appended
    assert "\U0001F600" * 511 + "q" + "r" in tops  # 1,022 + 1 < 1,024, then + 1
    assert "h" in tops                              # the huge piece is left out
    assert "(sliced string)" in names.to_list()     # V8 records no offset/length for slices
    d = snap.duplicate_strings(top=None)
    row = d.filter(pl.col("value") == "abcd").row(0, named=True)
    assert (row["count"], row["length"]) == (3, 4)
    assert "cd" not in d["value"].to_list()        # only a piece of the copies
    notes = snap.notes
    assert notes.filter(pl.col("what").str.contains(f"{CONS_MAX_UNITS:,} characters"))["count"].to_list() == [1]
    assert notes.filter(pl.col("what").str.contains(f"{CONS_MAX_POPS:,} steps"))["count"].to_list() == [2]
    length = dict(zip(snap.cons_values.table.get_many(range(len(snap.cons_values.ordinals))),
                      snap.cons_values.length.tolist()))
    assert length["h"] == CONS_MAX_UNITS + 2       # String.length of the whole string, not the shown part


def test_deep_string_building_chain(tmp_path):
    """s = s + piece, 30,000 times: a left-deep cons tree deeper than any step bound. Every link
    shows DevTools' value (leaves from the left while shorter than 1,024 units), none is cut."""
    g, root = rooted()
    glob = g.node("object", "global", 16)
    g.edge(root, glob, "shortcut", "global")
    doc = json.loads(g.text())
    nf, k = 7, 30_000
    pieces = [f"p{i};" for i in range(k)]
    strings = doc["strings"]
    base_s = len(strings)
    strings += pieces + ["(concatenated string)", "first", "second", "s"]
    cons_name, first, second, prop = base_s + k, base_s + k + 1, base_s + k + 2, base_s + k + 3
    nodes, edges = doc["nodes"], doc["edges"]
    n0 = len(nodes) // nf
    # leaves n0 .. n0+k-1, then links: link j = cons(previous, leaf j+1)
    for i in range(k):
        nodes += [2, base_s + i, 2 * (n0 + i) + 1, 16, 0, 0, 0]
    prev = n0
    for j in range(1, k):
        o = len(nodes) // nf
        nodes += [10, cons_name, 2 * o + 1, 32, 2, 0, 0]
        edges += [3, first, prev * nf, 3, second, (n0 + j) * nf]
        prev = o
    top = prev
    nodes[nf * glob + 4] += 1                      # global.s -> the last link
    ge = sum(nodes[nf * o + 4] for o in range(glob))  # global's edges come after those of earlier nodes
    ge += nodes[nf * glob + 4] - 1
    edges[3 * ge:3 * ge] = [2, prop, top * nf]
    doc["snapshot"]["node_count"] = len(nodes) // nf
    doc["snapshot"]["edge_count"] = len(edges) // 3
    p = tmp_path / "chain.heapsnapshot"
    p.write_text(json.dumps(doc, separators=(",", ":")))
    snap = wb.load_snapshot(p, quiet=True)
    out = ""
    for piece in pieces:            # DevTools' rule, written out directly
        if len(out) >= 1024:
            break
        out += piece
    names = snap.nodes["name"]
    assert names[top] == out
    assert names[n0 + k + 9] == "".join(pieces[:11])   # an early link: its whole (short) value
    assert snap.notes.filter(pl.col("what").str.contains("steps")).height == 0
    assert int(snap.cons_values.length.max()) == sum(len(x) for x in pieces)
