"""Filters, merge, sandwich on hand-built profiles with known answers; CLI outputs; charts and the
FlameGraph widget (zoom, breadcrumbs, search share) against numbers computed independently."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.cli import main
from workbench.profile.calltree import merge

from .test_analyses import SAMPLES, TREE, cpuprofile

ROOT = Path(__file__).resolve().parents[2]
DS = ROOT / "datasets" / "profiles"


def with_urls(tmp_path, urls: dict, samples, name="c.cpuprofile"):
    """tree: main(app) -> lib(node_modules) -> fs(node:) -> leaf(app)."""
    tree = {1: ("(root)", "", 0), 2: ("main", "file:///app/main.js", 1), 3: ("lib", "file:///app/node_modules/x/i.js", 2),
            4: ("readSync", "node:fs", 3), 5: ("cb", "file:///app/main.js", 4)}
    nodes = [{"id": i, "callFrame": {"functionName": fn, "scriptId": str(i), "url": url, "lineNumber": i, "columnNumber": 0},
              "children": [k for k, v in tree.items() if v[2] == i]} for i, (fn, url, _) in tree.items()]
    d = {"nodes": nodes, "startTime": 0, "endTime": 1000 * len(samples), "samples": samples,
         "timeDeltas": [1000] * len(samples)}
    f = tmp_path / name
    f.write_text(json.dumps(d))
    return wb.load_profile(f)


def test_categories_and_my_code_only(tmp_path):
    p = with_urls(tmp_path, {}, [2, 3, 3, 4, 4, 4, 5])
    cats = dict(zip(p.frames["function"], p.frames["category"]))
    assert cats == {"(root)": "program", "main": "app", "lib": "deps", "readSync": "core", "cb": "app"}
    mine = p.filter(categories=["app"])
    hs = {r["function"]: r for r in mine.hotspots().iter_rows(named=True)}
    # lib (2 samples) and readSync (3) are hidden: their time goes to their nearest shown caller, main
    assert hs["main"]["self_samples"] == 1 + 2 + 3 and hs["main"]["total_samples"] == 7
    assert hs["cb"]["self_samples"] == 1 and mine.total_value == pytest.approx(p.total_value)
    ct = mine.calltree()
    assert ct.filter(pl.col("function") == "cb")["depth"][0] == 2  # cb now hangs directly under main
    with pytest.raises(wb.UsageError):
        p.filter(categories=["mine"])


def test_merge_adds_samples(tmp_path):
    a = cpuprofile(tmp_path, TREE, SAMPLES, "a.cpuprofile")
    b = cpuprofile(tmp_path, TREE, SAMPLES[:5], "b.cpuprofile")
    m = merge(a, b)
    ha, hb, hm = (x.hotspots().select("function", "self_samples", "total_samples") for x in (a, b, m))
    both = ha.join(hb, on="function", how="left", suffix="_b").fill_null(0)
    got = dict(zip(hm["function"], hm["total_samples"]))
    assert got == dict(zip(both["function"], both["total_samples"] + both["total_samples_b"]))
    assert m.n_samples == a.n_samples + b.n_samples
    assert np.all(np.diff(m.sample_ts_us) >= 0)  # b's samples follow a's
    assert m.hotspots()["total_ms"].max() == pytest.approx(a.total_value + b.total_value)


def test_sandwich_callers_and_callees(tmp_path):
    p = cpuprofile(tmp_path, TREE, SAMPLES)
    s = p.sandwich("a")
    # a is called by main (a and b below: 4 samples) and by the inner r (1 sample)
    assert dict(zip(s.callers["caller"], s.callers["total_ms"])) == {"main": 4.0, "r": 1.0}
    assert dict(zip(s.callees["callee"], s.callees["total_ms"])) == {"b": 3.0}
    assert s.row["total_ms"][0] == 5.0


def test_cli_hotspots_json_has_exactly_the_documented_keys(capsys):
    src = str(DS / "regex.cpuprofile")
    assert main(["hotspots", src, "--top", "4", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [list(r) for r in rows] == [["function", "url", "line", "column", "category", "self_samples",
                                        "total_samples", "self_ms", "total_ms"]] * 4
    raw = json.loads((DS / "regex.cpuprofile").read_text())
    vf = next(n["callFrame"] for n in raw["nodes"] if n["callFrame"]["functionName"] == "validateEmail")
    row = next(r for r in rows if r["function"] == "validateEmail")
    # 1-based, as an editor shows the file (the .cpuprofile stores 0-based numbers)
    assert (row["line"], row["column"]) == (vf["lineNumber"] + 1, vf["columnNumber"] + 1)


def test_cli_flame_outputs(tmp_path):
    src = str(DS / "json.cpuprofile")
    for name in ("f.html", "f.svg", "f.folded", "f.speedscope.json", "f.png"):
        assert main(["flame", src, "-o", str(tmp_path / name)]) == 0
    html = (tmp_path / "f.html").read_text()
    assert "<script" in html and "cdn.jsdelivr" not in html  # standalone: vega inlined
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<svg")
    folded = (tmp_path / "f.folded").read_text().splitlines()
    p = wb.load_profile(src)
    assert sum(int(ln.rsplit(" ", 1)[1]) for ln in folded) == int(p.hit_count.sum() - p.hit_count[0])
    assert main(["profile-diff", src, str(DS / "json_fast.cpuprofile"), "--by", "stack", "--format", "csv",
                 "-o", str(tmp_path / "d.svg")]) == 0
    assert (tmp_path / "d.svg").stat().st_size > 1000


def test_flame_chart_stays_within_max_rects():
    p = wb.load_profile(DS / "sync_logging.cpuprofile")
    fg = p.flame_graph(min_frac=0.0, max_rects=40)
    assert fg.height <= 40
    root = fg.filter(pl.col("depth") == 0)
    assert root["x1"][0] == pytest.approx(p.total_value)  # pruning keeps widths exact
    spec = p.flame(max_rects=40).to_dict()
    assert len(spec["datasets"][next(iter(spec["datasets"]))]) == fg.height


def test_diff_chart_colours_new_frames_apart():
    d = wb.load_profile(DS / "sync_logging.cpuprofile")
    from workbench.profile.diff import diff
    pd_ = diff(d, wb.load_profile(DS / "sync_logging_fast.cpuprofile"))
    dg = pd_.flame_graph(width="max", min_frac=0.0)
    assert set(dg.filter(pl.col("name") == "flushLogs")["status"]) == {"added"}
    assert "removed" in set(dg.filter(pl.col("name") == "writeFileUtf8")["status"])  # under logLine: gone
    spec = json.dumps(pd_.flame().to_dict())   # Gregg's form: new frames outlined in purple
    assert "#6a00a8" in spec and "redblue" in spec
    from workbench.charts.flame import diff_chart   # the union layout's chart keeps its flat colours
    assert "#9467bd" in json.dumps(diff_chart(dg).to_dict())


def test_widget_zoom_breadcrumbs_and_search():
    from workbench.profile.calltree import merged
    from workbench.widgets.flame import FlameGraph

    p = wb.load_profile(DS / "sync_logging.cpuprofile")
    w = FlameGraph(p, min_frac=0.0)
    m = merged(p)
    node = int(np.nonzero(np.array([p.frame_labels["name"][int(f)] for f in m.frame]) == "chargePayment")[0][0])
    w.zoom(node)
    root = w.rects.filter(pl.col("depth") == 0)
    assert root["name"][0] == "chargePayment" and root["x1"][0] == pytest.approx(m.total[node])
    assert [b.description for b in w.crumbs.children][-1] == "chargePayment"
    assert len(w.crumbs.children) == m.depth[node] + 1
    w.crumbs.children[0].click()  # back to the root through the breadcrumb
    assert w.root == 0
    share = w.search("appendFileSync")
    total_pct = p.hotspots().filter(pl.col("function") == "appendFileSync")["total_pct"][0]
    assert share * 100 == pytest.approx(total_pct)  # counted once per sample, as hotspots' total
    assert "appendFileSync" in w.status.value
    matched = set(w.rects.filter(pl.col("match"))["name"])
    assert matched == {"appendFileSync"}
    w.reset()
    assert w.root == 0 and w.query == ""


def test_widget_click_selection_zooms():
    from workbench.widgets.flame import FlameGraph

    p = wb.load_profile(DS / "regex.cpuprofile")
    w = FlameGraph(p)
    target = int(w.rects.filter(pl.col("depth") == 2)["id"][0])

    class Sel:
        value = [{"id": target}]

    w._on_select({"new": Sel()})
    assert w.root == target
    Sel.value = [{"id": -1}]  # "(other)" is not a node: ignored
    w._on_select({"new": Sel()})
    assert w.root == target
