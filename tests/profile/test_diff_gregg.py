"""Gregg's differential flame graph (issue 17): one profile's shape, coloured by the change.

Hand-built folded profiles where every answer is counted by hand from the stacks; the dataset
pairs (each service and its fixed version) where the fix is known; the CLI's rectangles; the
FlameGraph widget's diff and sandwich views."""
from __future__ import annotations

from collections import defaultdict

import polars as pl
import pytest

import workbench as wb
from workbench.cli import main

from ..heap.conftest import ROOT

DS = ROOT / "datasets" / "profiles"

BEFORE = {"main;a;b": 30, "main;a": 10, "main;c": 55, "main;e": 5}     # 100 samples
AFTER = {"main;a;b": 10, "main;c": 38, "main;d": 40, "main;a;f": 12}   # 100 samples, d and f new, e gone


def _write(tmp_path, name, stacks):
    p = tmp_path / f"{name}.folded"
    p.write_text("".join(f"{k} {v}\n" for k, v in stacks.items()))
    return wb.load_profile(p, quiet=True)


def _shares(stacks):
    """(self %, total %) per call path, counted from the folded lines."""
    n = sum(stacks.values())
    self_, total = defaultdict(float), defaultdict(float)
    for k, v in stacks.items():
        parts = k.split(";")
        self_[k] += 100 * v / n
        for i in range(1, len(parts) + 1):
            total[";".join(parts[:i])] += 100 * v / n
    return self_, total


def _paths(rects):
    """call path of every rectangle, from its parent ids."""
    by_id = {r["id"]: r for r in rects.iter_rows(named=True)}

    def path(r):
        out = []
        while r is not None and r["depth"] > 0:
            out.append(r["function"])
            r = by_id.get(r["parent_id"])
        return ";".join(reversed(out))
    return {path(r): r for r in rects.iter_rows(named=True)}


@pytest.mark.parametrize("shape", ["after", "before"])
@pytest.mark.parametrize("color_by", ["self", "total"])
def test_hand_built_shapes(tmp_path, shape, color_by):
    a, b = _write(tmp_path, "before", BEFORE), _write(tmp_path, "after", AFTER)
    rects = wb.profile_diff(a, b).flame_rects(shape=shape, color_by=color_by, min_frac=0)
    root = rects.filter(pl.col("depth") == 0).row(0, named=True)
    assert (root["x0"], round(root["x1"], 9)) == (0.0, 100.0)
    sb, tb = _shares(BEFORE)
    sa, ta = _shares(AFTER)
    shaped = ta if shape == "after" else tb
    got = _paths(rects)
    drawn = {k for k in got if k}
    assert drawn == {k for k, v in shaped.items() if v > 0}   # the other profile's own frames are not drawn
    for k in drawn:
        r = got[k]
        assert r["x1"] - r["x0"] == pytest.approx(shaped[k])
        want = (sa.get(k, 0) - sb.get(k, 0)) if color_by == "self" else (ta.get(k, 0) - tb.get(k, 0))
        assert r["delta"] == pytest.approx(want)
        if tb.get(k, 0) == 0:
            assert r["status"] == "new"
        elif ta.get(k, 0) == 0:
            assert r["status"] == "gone"
        else:
            assert r["status"] == ("grew" if want > 0.01 else "shrank" if want < -0.01 else "same")
    if shape == "after":
        assert got["main;d"]["status"] == "new" and got["main;a;f"]["status"] == "new"
    else:
        assert got["main;e"]["status"] == "gone"


def test_chart_colour_sign_follows_the_delta(tmp_path):
    """Red (the high end of the reversed redblue scale) is growth; the domain is symmetric around 0,
    scaled to the largest change, so white is no change."""
    a, b = _write(tmp_path, "before", BEFORE), _write(tmp_path, "after", AFTER)
    d = wb.profile_diff(a, b)
    spec = d.flame(table=False).to_dict()
    rect = spec["layer"][0]
    color = rect["encoding"]["color"]
    assert color["field"] == "delta" and color["condition"]["test"] == "datum.status == 'other'"
    scale = color["scale"]
    assert scale["scheme"] == "redblue" and scale["reverse"] is True
    m = max(abs(x) for x in d.flame_rects()["delta"].drop_nulls())
    assert scale["domain"] == [-m, m]
    assert "before.folded → after.folded" in spec["title"]["text"]


def test_absolute_comparison(tmp_path):
    """normalize=False colours by the change in ms (1 ms per folded sample): the same work measured
    twice."""
    a = _write(tmp_path, "before", BEFORE)
    b = _write(tmp_path, "after", {k: 2 * v for k, v in AFTER.items()})   # twice as long: shares equal AFTER's
    norm = _paths(wb.profile_diff(a, b).flame_rects(min_frac=0))
    absolute = _paths(wb.profile_diff(a, b).flame_rects(min_frac=0, normalize=False))
    assert norm["main;a;b"]["delta"] == pytest.approx(-20.0)            # 30 % -> 10 %
    assert absolute["main;a;b"]["delta"] == pytest.approx(20 - 30)      # 30 ms -> 20 ms
    assert absolute["main;c"]["status"] == "grew" and norm["main;c"]["status"] == "shrank"   # 55 -> 76 ms, 55 -> 38 %


PAIRS = ["sync_logging", "regex", "json", "worker_loop"]


def _pair(name):
    return (wb.load_profile(DS / f"{name}.cpuprofile", quiet=True),
            wb.load_profile(DS / f"{name}_fast.cpuprofile", quiet=True))


@pytest.mark.parametrize("name", PAIRS)
def test_dataset_pairs_show_the_fix(name):
    """What the fix removed is blue or gone in the before shape; what it added is new in the after
    shape; the rectangles and the change table agree."""
    d = wb.profile_diff(*_pair(name))
    ft = d.changes(top=1000)
    before = d.flame_rects(shape="before", color_by="total", min_frac=0)
    after = d.flame_rects(shape="after", color_by="total", min_frac=0)
    gone = ft.filter(pl.col("status") == "gone")
    new = ft.filter(pl.col("status") == "new")
    assert gone.height + new.height > 0
    key = ["function", "url", "line"]
    for f in gone.select(key).iter_rows():
        rs = before.join(pl.DataFrame([f], schema=key, orient="row"), on=key, how="semi")
        assert rs.height and set(rs["status"]) <= {"gone", "shrank"} and (rs["delta"] < 0).all(), f
    for f in new.select(key).iter_rows():
        rs = after.join(pl.DataFrame([f], schema=key, orient="row"), on=key, how="semi")
        assert rs.height and set(rs["status"]) == {"new"}, f
    # the heaviest drop of the table is blue in the before shape
    worst = ft.filter(~pl.col("status").is_in(["new", "gone"])).sort("total_delta_pct").row(0, named=True)
    rs = before.filter(pl.col("function") == worst["function"])
    assert (rs["delta"] < 0).any()


def test_sync_logging_reads_at_a_glance():
    d = wb.profile_diff(*_pair("sync_logging"))
    before = d.flame_rects(shape="before", min_frac=0)
    paths = _paths(before)
    moved = [r for k, r in paths.items() if ";logLine;appendFileSync" in k]
    assert moved and all(r["status"] == "gone" for r in moved)   # appendFileSync and all under it, off logLine
    total = d.flame_rects(shape="after", color_by="total")
    log = total.filter(pl.col("function") == "logLine").sort(pl.col("x1") - pl.col("x0"), descending=True).row(0, named=True)
    assert log["status"] == "shrank" and log["delta"] < -40          # as a whole it got cheaper
    selfc = d.flame_rects(shape="after")
    assert selfc.filter(pl.col("function") == "logLine")["delta"].max() > 40   # its own share grew
    newp = _paths(d.flame_rects(shape="after", min_frac=0))
    flush = [r for k, r in newp.items() if k.endswith(";flushLogs")]
    assert flush and all(r["status"] == "new" for r in flush)


def test_cli_writes_the_rectangles(tmp_path, capsys):
    out = tmp_path / "diff.csv"
    assert main(["--quiet", "profile-diff", str(DS / "sync_logging.cpuprofile"), str(DS / "sync_logging_fast.cpuprofile"),
                 "-o", str(out), "--shape", "before", "--format", "json"]) == 0
    capsys.readouterr()
    df = pl.read_csv(out)
    for c in ("depth", "x0", "x1", "function", "url", "line", "before_self_pct", "after_self_pct", "delta_self_pct",
              "status"):
        assert c in df.columns
    assert set(df["status"]) <= {"grew", "shrank", "same", "new", "gone", "other"}
    assert "gone" in set(df["status"]) and "new" not in set(df["status"])   # before shape: nothing new is drawn
    root = df.filter(pl.col("depth") == 0)
    assert root["x0"][0] == 0 and root["x1"][0] == pytest.approx(100)
    png = tmp_path / "diff.png"
    assert main(["--quiet", "profile-diff", str(DS / "regex.cpuprofile"), str(DS / "regex_fast.cpuprofile"),
                 "-o", str(png), "--format", "json"]) == 0
    capsys.readouterr()
    assert png.read_bytes()[:4] == b"\x89PNG"


def _click(widget, selection, node):
    widget.jchart._vl_selections = {selection: {"value": {"vlPoint": {"or": [{"id": int(node)}]}},
                                                "store": [{"unit": "", "fields": [{"field": "id", "type": "E"}],
                                                           "values": [int(node)]}]}}


def test_widget_clicks_zoom_again_and_again():
    g = wb.FlameGraph(_pair("sync_logging")[0])
    first = int(g.rects.filter(pl.col("name") == "batch")["id"][0])
    _click(g, "zoom", first)
    assert g.root == first
    second = int(g.rects.filter(pl.col("name") == "logLine").sort(pl.col("x1") - pl.col("x0"), descending=True)["id"][0])
    _click(g, "zoom", second)
    assert g.root == second and g.rects.filter(pl.col("depth") == 0)["name"].to_list() == ["logLine"]


def test_widget_diff_and_sandwich_views():
    a, b = _pair("sync_logging")
    g = wb.FlameGraph(a, b)
    assert g.view == "diff" and set(g.rects["status"]) >= {"new", "grew"}
    spec = g.jchart.chart.to_dict()
    assert spec["height"] == max(18 * (int(g.rects["depth"].max()) + 1), 60)   # height follows the depth
    g.search("flushLogs")
    assert g.rects.filter(pl.col("match"))["function"].to_list() == ["flushLogs"]
    g.reset()
    log = int(g.rects.filter(pl.col("function") == "logLine").sort(pl.col("x1") - pl.col("x0"), descending=True)["id"][0])
    g.zoom(log)
    assert g.rects.filter(pl.col("depth") == 0)["function"].to_list() == ["logLine"]
    g.reset()
    assert g.root == 0 and g.rects["match"].all()
    one = wb.FlameGraph(a)
    one.sandwich("appendFileSync")
    sides = {s: set(one.rects.filter(pl.col("side") == s)["name"]) for s in ("callers", "callees")}
    assert "logLine" in sides["callers"] and "writeFileSync" in sides["callees"]
    # a click on a caller re-centres the sandwich on it; clicks keep working after every re-render
    # (JupyterChart makes a new selections object per chart): sent the way its JavaScript sends them
    for name in ("logLine", "chargePayment"):
        caller = one.rects.filter((pl.col("side") == "callers") & (pl.col("name") == name))["id"][0]
        _click(one, "callers", caller)
        assert one.function.startswith(name) and f"sandwich of <b>{name}" in one.status.value
    one.set_view("flame")
    assert one.view == "flame" and "side" not in one.rects.columns
