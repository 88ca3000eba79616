"""Our numbers against Chrome DevTools' own profile models run on the same files (goldens made by
tests/golden/profile/make_goldens.sh, chrome-devtools-frontend 1.0.1705227)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import workbench as wb

ROOT = Path(__file__).resolve().parents[2]
DS = ROOT / "datasets" / "profiles"
GOLD = ROOT / "tests" / "golden" / "profile"
CPU = ["cpu_slow", "cpu_fast", "trace_twin"]


def golden(name):
    with gzip.open(GOLD / f"{name}.devtools.json.gz") as f:
        return json.load(f)


def load(name):
    ext = ".heapprofile" if name == "alloc" else ".cpuprofile"
    return wb.load_profile(DS / f"{name}{ext}")


def key_frame(df: pl.DataFrame) -> pl.Series:
    # the harness keys frames as functionName \x01 url \x01 line \x01 column (1-based)
    col = "function" if "function" in df.columns else "name"
    fn = pl.when(pl.col(col) == "(anonymous)").then(pl.lit("")).otherwise(pl.col(col))
    return df.select(pl.concat_str([fn, pl.col("url"), pl.col("line").cast(pl.String),
                                    pl.col("column").cast(pl.String)], separator="\x01")).to_series()


@pytest.mark.parametrize("name", CPU + ["alloc"])
def test_node_self_and_total_equal_devtools(name):
    g, p = golden(name), load(name)
    gn = pl.DataFrame(g["nodes"]).sort("id")
    ours = p.nodes.sort("node_id")
    assert ours["node_id"].to_list() == gn["id"].to_list()
    np.testing.assert_allclose(ours[p.self_col].to_numpy(), gn["self"].to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours[p.total_col].to_numpy(), gn["total"].to_numpy(), rtol=1e-9, atol=1e-9)
    # DevTools puts the root at depth -1
    assert (ours["depth"].to_numpy() - 1).tolist() == gn["depth"].to_list()
    assert (ours["parent_id"].to_list()) == gn["parent"].to_list()
    assert p.total_value == pytest.approx(g["root_total"], rel=1e-12)


@pytest.mark.parametrize("name", CPU + ["alloc"])
def test_calltree_equals_devtools_top_down(name):
    g, p = golden(name), load(name)
    ct = p.calltree()
    keys = key_frame(ct).to_list()
    ids, parents = ct["id"].to_list(), ct["parent_id"].to_list()
    path = {}
    for i, par, k in zip(ids, parents, keys):  # rows are in preorder: parents come first
        path[i] = "(root)" if par < 0 else path[par] + "\x02" + k
    ours = {path[i]: (s, t) for i, s, t in zip(ids, ct[p.self_col], ct[p.total_col])}
    assert set(ours) == set(g["calltree"])
    for k, v in g["calltree"].items():
        assert ours[k][0] == pytest.approx(v["self"], rel=1e-9, abs=1e-9)
        assert ours[k][1] == pytest.approx(v["total"], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", CPU + ["alloc"])
def test_functions_equal_devtools_bottom_up_roots(name):
    g, p = golden(name), load(name)
    fn = p.functions()
    # frames are callUIDs (they include the script id); the harness keys rows without it, so add up
    # our rows that share a key (e.g. nameless frames of different scripts)
    agg = fn.with_columns(key_frame(fn).alias("k")).group_by("k").agg(pl.col(p.self_col).sum(),
                                                                    pl.col(p.total_col).sum())
    ours = dict(zip(agg["k"].to_list(), zip(agg[p.self_col], agg[p.total_col])))
    assert set(ours) == set(g["functions"])
    for k, v in g["functions"].items():
        assert ours[k][0] == pytest.approx(v["self"], rel=1e-9, abs=1e-9)
        assert ours[k][1] == pytest.approx(v["total"], rel=1e-9, abs=1e-9)


def test_recursive_function_total_counts_each_stack_once():
    g, p = golden("cpu_slow"), load("cpu_slow")
    fib = [v for k, v in g["functions"].items() if k.startswith("fib\x01")]
    assert len(fib) == 1
    # adding every node's total (what DevTools' Bottom-Up grid ends up doing) overcounts recursion
    assert fib[0]["devtools_naive_total"] > 2 * fib[0]["total"]
    row = p.hotspots().filter(pl.col("function") == "fib")
    assert row["total_ms"][0] == pytest.approx(fib[0]["total"], rel=1e-9)
    assert row["total_ms"][0] < fib[0]["devtools_naive_total"]


@pytest.mark.parametrize("name", CPU)
def test_flame_chart_equals_devtools_for_each_frame(name):
    g, p = golden(name), load(name)
    fc = p.flame_chart_rects()
    ours = fc.select("depth", "node_id", (pl.col("start_ms") + p.start_us / 1000.0).alias("start"),
                     "duration_ms", "self_ms").sort("start", "depth", "node_id")
    gd = pl.DataFrame(g["flame_chart"], schema=["depth", "node_id", "key", "start", "duration_ms", "self_ms"],
                      orient="row").drop("key").sort("start", "depth", "node_id")
    assert ours.height == gd.height
    assert ours["depth"].to_list() == gd["depth"].to_list()
    assert ours["node_id"].to_list() == gd["node_id"].to_list()
    for c in ("start", "duration_ms", "self_ms"):
        np.testing.assert_allclose(ours[c].to_numpy(), gd[c].to_numpy(), rtol=0, atol=1e-6)


def test_flame_graph_widths_are_devtools_totals():
    g, p = golden("cpu_slow"), load("cpu_slow")
    fg = p.flame_graph(min_frac=0.0)
    real = fg.filter(pl.col("id") >= 0)
    np.testing.assert_allclose((real["x1"] - real["x0"]).to_numpy(), real["total_ms"].to_numpy(), rtol=1e-12)
    assert real.height == len(g["calltree"])  # with no pruning, one rectangle per call-tree row
    root = real.filter(pl.col("depth") == 0)
    assert root["x1"][0] == pytest.approx(g["root_total"], rel=1e-12)
