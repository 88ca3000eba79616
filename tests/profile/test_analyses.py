"""Analyses on tiny hand-built profiles whose answers are known, plus the CLI and charts end to end."""
from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import workbench as wb
from workbench.cli import main
from workbench.profile.diff import diff, diff_flame_graph

ROOT = Path(__file__).resolve().parents[2]
DS = ROOT / "datasets" / "profiles"


def cpuprofile(tmp_path, tree, samples, name="p.cpuprofile", interval=1000):
    """tree: {id: (function, parent_id)} with id 1 the root; samples: node ids, one per ``interval`` µs."""
    nodes = []
    for i, (fn, par) in sorted(tree.items()):
        kids = [k for k, (_, p) in sorted(tree.items()) if p == i]
        nodes.append({"id": i, "callFrame": {"functionName": fn, "scriptId": "1" if i > 1 else "0",
                                             "url": "app.js" if i > 1 else "", "lineNumber": ord(fn[0]) if i > 1 else -1,
                                             "columnNumber": 0 if i > 1 else -1},
                      "hitCount": samples.count(i), "children": kids})
    d = {"nodes": nodes, "startTime": 0, "endTime": interval * len(samples), "samples": samples,
         "timeDeltas": [0] + [interval] * (len(samples) - 1)}
    f = tmp_path / name
    f.write_text(json.dumps(d))
    return wb.load_profile(f)


# main -> a -> b, main -> c, and recursion r -> r -> r
TREE = {1: ("(root)", 0), 2: ("main", 1), 3: ("a", 2), 4: ("b", 3), 5: ("c", 2), 6: ("r", 2), 7: ("r", 6),
        8: ("r", 7), 9: ("a", 7)}
SAMPLES = [2, 3, 4, 4, 4, 5, 5, 6, 7, 8, 8, 9]


def test_self_total_and_recursion(tmp_path):
    p = cpuprofile(tmp_path, TREE, SAMPLES)
    fn = {r["function"]: r for r in p.hotspots().iter_rows(named=True)}
    assert fn["main"]["total_ms"] == 12 and fn["main"]["self_ms"] == 1
    assert fn["b"]["self_ms"] == 3 and fn["c"]["self_ms"] == 2
    # r appears 3 deep on one stack: its total is the 5 samples under the outermost r, not 1+4+5+2...
    assert fn["r"]["self_ms"] == 4 and fn["r"]["total_ms"] == 5
    # a is called from main and from inside r: self adds up, totals of both outermost calls add up
    assert fn["a"]["self_ms"] == 2 and fn["a"]["total_ms"] == 5
    assert fn["main"]["total_pct"] == pytest.approx(100.0)
    # sample counts: r is on top in 4 samples, on the stack of 5 (counted once per sample)
    assert (fn["r"]["self_samples"], fn["r"]["total_samples"]) == (4, 5)
    assert (fn["a"]["self_samples"], fn["a"]["total_samples"]) == (2, 5)


def test_calltree_merges_same_frame_siblings(tmp_path):
    # two sibling nodes with the same call frame (V8 can emit these) become one call-tree row
    tree = {1: ("(root)", 0), 2: ("main", 1), 3: ("x", 2), 4: ("x", 2), 5: ("y", 4)}
    p = cpuprofile(tmp_path, tree, [3, 3, 4, 5])
    ct = p.calltree()
    assert ct["function"].to_list() == ["(root)", "main", "x", "y"]
    assert ct.filter(pl.col("function") == "x")["total_ms"][0] == 4


def test_flame_graph_pruning_keeps_parent_widths(tmp_path):
    p = cpuprofile(tmp_path, TREE, SAMPLES)
    full = p.flame_graph(min_frac=0)
    assert full.filter(pl.col("name") == "(other)").height == 0
    pruned = p.flame_graph(min_frac=0.2)  # keep frames >= 2.4 ms of 12
    names = set(pruned["name"])
    assert "c" not in names and "(other)" in names
    for par in pruned.filter(pl.col("id") >= 0).iter_rows(named=True):
        kids = pruned.filter(pl.col("parent_id") == par["id"])
        if kids.height:
            # children (kept and "(other)") never exceed the parent, and start at its left edge
            assert kids["total_ms"].sum() <= par["total_ms"] + 1e-9
            assert kids["x0"].min() == pytest.approx(par["x0"])
    other = pruned.filter((pl.col("name") == "(other)") & (pl.col("depth") == 2))
    # under main: only c (2 ms) is narrower than 2.4; a (4 with b) and the r branch (5) stay
    assert other["total_ms"][0] == 2 and other["pruned"][0] == 1
    assert {"a", "b", "r"} <= names
    heavy = p.flame_graph(min_frac=0).filter(pl.col("depth") == 2).sort("x0")["name"].to_list()
    assert heavy[0] == "r"  # heaviest child first


def test_flame_chart_by_hand(tmp_path):
    p = cpuprofile(tmp_path, TREE, SAMPLES)
    fc = p.flame_chart_rects()
    b = fc.filter(pl.col("name") == "b")
    assert b.height == 1 and b["start_ms"][0] == 2 and b["duration_ms"][0] == 3
    main_ = fc.filter(pl.col("name") == "main")
    assert main_.height == 1 and main_["duration_ms"][0] == pytest.approx(12)  # last sample lasts 1 average interval


def test_window_focus_callers(tmp_path):
    p = cpuprofile(tmp_path, TREE, SAMPLES)
    w = p.window(2, 5)  # samples at 2,3,4 ms: all b
    assert w.hotspots().filter(pl.col("self_ms") > 0)["function"].to_list() == ["b"]
    f = p.focus("r")
    ct = f.calltree()
    assert ct.filter(pl.col("depth") == 1)["function"].to_list() == ["r"]
    assert f.total_value == 5
    c = p.callers("a").calltree()
    # a is called by main (2 ms) and by r <- r <- main (1 ms... a under node 7 has total 1)
    first = dict(zip(c.filter(pl.col("depth") == 1)["function"], c.filter(pl.col("depth") == 1)["total_ms"]))
    assert first == {"a": 5.0}
    second = dict(zip(c.filter(pl.col("depth") == 2)["function"], c.filter(pl.col("depth") == 2)["total_ms"]))
    assert second == {"main": 4.0, "r": 1.0}


def test_diff_by_hand(tmp_path):
    a = cpuprofile(tmp_path, TREE, SAMPLES, "a.cpuprofile")
    # after: b is gone, c doubled, new function d
    tree = {1: ("(root)", 0), 2: ("main", 1), 5: ("c", 2), 10: ("d", 2)}
    b = cpuprofile(tmp_path, tree, [5, 5, 5, 5, 10, 10], "b.cpuprofile")
    dd = diff(a, b)
    d = {r["function"]: r for r in dd.functions.iter_rows(named=True)}
    assert set(dd.added["function"]) == {"d"} and set(dd.vanished["function"]) == {"a", "b", "r"}
    st = {r["stack"]: r for r in dd.stacks.iter_rows(named=True)}
    # per stack: main;a;b was 3/12 of before (b on top 3 times), gone after; main;c went from 2/12 to 4/6
    assert st["main;a;b"]["status"] == "removed" and st["main;a;b"]["total_pct_before"] == pytest.approx(25.0)
    assert st["main;c"]["total_delta_pct"] == pytest.approx(400 / 6 - 200 / 12)
    assert st["main;d"]["status"] == "added" and st["main"]["total_delta_pct"] == pytest.approx(0.0)
    assert d["b"]["status"] == "removed" and d["b"]["self_delta_pct"] == pytest.approx(-25.0)
    assert d["d"]["status"] == "added" and d["d"]["self_pct_after"] == pytest.approx(100 / 3)
    assert d["c"]["status"] == "grew" and d["c"]["self_delta_pct"] == pytest.approx(200 / 3 - 100 / 6)
    dg = diff_flame_graph(a, b, width="max", min_frac=0)
    row = {r["name"]: r for r in dg.iter_rows(named=True)}
    assert row["b"]["status"] == "removed" and row["d"]["status"] == "added"
    assert row["main"]["total_delta_pct"] == pytest.approx(0.0)
    # widths from the larger side: b keeps its before-width
    assert row["b"]["x1"] - row["b"]["x0"] == pytest.approx(25.0)
    after = diff_flame_graph(a, b, width="after", min_frac=0)
    assert after.filter(pl.col("depth") == 0)["x1"][0] == pytest.approx(100.0)


def test_diff_of_real_pair_finds_the_fix():
    slow = wb.load_profile(DS / "cpu_slow.cpuprofile")
    fast = wb.load_profile(DS / "cpu_fast.cpuprofile")
    d = diff(slow, fast).functions
    # the "fast" variant stopped re-sorting in priceOrder: it is the largest drop, and the sort
    # comparator (an anonymous arrow at line 28 of the scenario) is gone
    assert d["function"][0] == "priceOrder" and d["self_delta_pct"][0] < -3
    comp = d.filter((pl.col("function") == "(anonymous)") & (pl.col("line") == 28))
    assert comp["status"][0] == "removed"


def test_cli_end_to_end(tmp_path, capsys):
    src = str(DS / "cpu_slow.cpuprofile")
    assert main(["functions", src, "--top", "3", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["function"] for r in rows] == wb.load_profile(src).hotspots(top=3)["function"].to_list()
    for out in ("f.png", "f.html", "f.csv", "f.folded", "f.speedscope.json"):
        assert main(["flame", src, "-o", str(tmp_path / out)]) == 0
        assert (tmp_path / out).stat().st_size > 100
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["flame", src, "--time", "--window", "0:200", "-o", str(tmp_path / "t.png")]) == 0
    capsys.readouterr()
    assert main(["profile-diff", src, str(DS / "cpu_fast.cpuprofile"), "--top", "3", "--format", "csv",
                 "-o", str(tmp_path / "d.png")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("priceOrder,")
    assert main(["calltree", str(DS / "alloc.heapprofile"), "--format", "csv"]) == 0
    assert "total_size" in capsys.readouterr().out.splitlines()[0]


def test_load_sniffs_profiles():
    assert wb.load(DS / "cpu_slow.cpuprofile").kind == "cpu"
    assert wb.load(DS / "alloc.heapprofile").kind == "alloc"
    assert wb.load(DS / "trace.json.gz").source == "trace"


