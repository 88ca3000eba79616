"""Growth across snapshots, duplicate strings, and the issue-3 CLI subcommands."""
import json

import polars as pl
import pytest

import workbench as wb
from workbench.cli import main
from workbench.heap.growth import growing_classes, growing_collections

from .builder import rooted
from .conftest import ROOT


def triple(sc, snapshots):
    return [snapshots(ROOT / "datasets" / "heap" / sc / f"{n}.heapsnapshot.gz") for n in ("baseline", "target", "final")]


def count_named(snap, name):
    """Instances of class ``name`` (``fn:name``: closures named ``name``), from the node table."""
    n = snap.nodes
    t = n["type"].cast(pl.String)
    if name.startswith("fn:"):
        return int(((n["name"] == name[3:]) & (t == "closure")).sum())
    return int(((n["class"] == name) & (t == "object")).sum())


@pytest.mark.parametrize("sc,cls,per_entry,unit", [
    ("sessions", "Map", 2, "Session"),          # key string + Session value per entry
    ("api_gateway", "Map", 2, "ThumbnailJob"),
    ("listeners", "Array", 1, "fn:onConfigChanged"),
])
def test_growing_collection_is_the_planted_one(sc, cls, per_entry, unit, snapshots):
    snaps = triple(sc, snapshots)
    g = growing_collections(snaps)
    assert len(g) == 1
    row = g.row(0, named=True)
    assert row["class"] == cls
    # entries counted independently: the leaked objects present in each snapshot
    assert row["entries"] == [per_entry * count_named(s, unit) for s in snaps]
    assert row["growth"] == row["entries"][-1] - row["entries"][0]


def test_healthy_has_no_growth(snapshots):
    snaps = triple("healthy", snapshots)
    assert len(growing_collections(snaps)) == 0
    assert len(growing_classes(snaps)) == 0


def test_growing_classes_timers(snapshots):
    snaps = triple("timers", snapshots)
    c = growing_classes(snaps)
    timeout = c.filter(pl.col("class") == "Timeout").row(0, named=True)
    assert timeout["count"] == [int((s.summary().filter(pl.col("class") == "Timeout")["count"]).sum()) for s in snaps] \
        or timeout["count"][-1] > timeout["count"][0]
    assert all(b > a for a, b in zip(timeout["retained_size"], timeout["retained_size"][1:]))


def test_growth_needs_three_snapshots(snapshots):
    b, t, _ = triple("sessions", snapshots)
    with pytest.raises(wb.UsageError):
        growing_collections([b, t])


def test_duplicate_strings_hand_built(tmp_path):
    g, root = rooted()
    glob = g.node("object", "global", 16)
    g.edge(root, glob, "shortcut", "global")
    holders = [g.node("object", "Holder", 16) for _ in range(3)]
    for i, h in enumerate(holders):
        g.edge(glob, h, "property", f"h{i}")
    dup = [g.node("string", "same text", 40) for _ in range(3)]
    for h, s in zip(holders, dup):
        g.edge(h, s, "property", "name")
    other = g.node("string", "unique", 40)
    g.edge(glob, other, "property", "u")
    # a flattened cons string whose text is also 'same text': DevTools skips it
    cons = g.node("concatenated string", "same text", 32)
    empty = g.node("string", "", 0)
    g.edge(cons, dup[0], "internal", "first")
    g.edge(cons, empty, "internal", "second")
    g.edge(glob, cons, "property", "c")
    snap = wb.load_snapshot(g.write(tmp_path / "s.heapsnapshot"), quiet=True)
    d = snap.duplicate_strings()
    assert d["value"].to_list() == ["same text"]
    row = d.row(0, named=True)
    assert (row["count"], row["self_size"], row["wasted_size"]) == (3, 120, 80)
    # first strong retainer in DevTools' order (later edges first): the cons string's {first}
    # edge comes after Holder.name in edge order, so it is dup[0]'s first retainer
    assert row["top_holders"] == "Holder.name x2, (concatenated string){first} x1"


def test_cli_diff_json_and_refusal(tmp_path, capsys):
    d = ROOT / "datasets" / "heap" / "sessions"
    assert main(["--quiet", "diff", str(d / "baseline.heapsnapshot.gz"), str(d / "target.heapsnapshot.gz"),
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert set(rows[0]) == {"class", "new_count", "deleted_count", "delta_count", "alloc_size", "freed_size",
                            "size_delta"}
    assert {r["class"]: r["new_count"] for r in rows}["Session"] == 2000
    other = ROOT / "datasets" / "heap" / "api_gateway" / "final.heapsnapshot.gz"
    assert main(["--quiet", "diff", str(d / "baseline.heapsnapshot.gz"), str(other)]) == 2
    err = capsys.readouterr().err
    assert "not from the same process" in err and err.count("\n") == 1


def test_cli_leaks_fail_on_leak(capsys):
    d = ROOT / "datasets" / "heap" / "sessions"
    files = [str(d / f"{n}.heapsnapshot.gz") for n in ("baseline", "target", "final")]
    assert main(["--quiet", "leaks", *files, "--format", "json", "--fail-on-leak"]) == 1
    out = json.loads(capsys.readouterr().out)
    s = out["suspects"][0]
    assert s["class"] == "Session" and s["count"] == 2000
    assert [p["edge"] for p in s["path"]][-3:-1] == ["->sessions", "{table}"]
    assert all(set(p) >= {"node_id", "class", "edge", "edge_type"} for p in s["path"])
    h = ROOT / "datasets" / "heap" / "healthy"
    files = [str(h / f"{n}.heapsnapshot.gz") for n in ("baseline", "target", "final")]
    assert main(["--quiet", "leaks", *files, "--fail-on-leak"]) == 0


def test_cli_retainers_and_strings(capsys):
    f = ROOT / "datasets" / "heap" / "sessions" / "final.heapsnapshot.gz"
    snap = wb.load_snapshot(f, quiet=True)
    sid = int(snap.nodes.filter(pl.col("class") == "Session")["id"][0])
    assert main(["--quiet", "retainers", str(f), str(sid), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["class"] for r in rows] == ["(array)"]
    assert main(["--quiet", "retainers", str(f), str(sid), "--paths", "2", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["path"] for r in rows} == {0, 1} and rows[-1]["node_id"] == sid
    assert main(["--quiet", "retainers", str(f), "12345678"]) == 2
    assert "no object with id @12345678" in capsys.readouterr().err
    assert main(["--quiet", "strings", str(f), "--top", "5", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("value,length,count,self_size,wasted_size") and len(out) >= 3
