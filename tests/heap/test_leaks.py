"""find_leaks on every dataset scenario (the planted leak first, with its holder named) and on
hand-built snapshot triples."""

import numpy as np
import pytest

import workbench as wb
from workbench.errors import UsageError

from .builder import rooted
from .conftest import ROOT


def triple(sc, snapshots):
    return [snapshots(ROOT / "datasets" / "heap" / sc / f"{n}.heapsnapshot.gz") for n in ("baseline", "target", "final")]


def leaked_count(b, t, f, cls, name):
    """Objects of class ``cls`` named ``name`` new in target and alive in final, counted
    straight from the ids."""
    nodes = f.nodes
    ids = nodes["id"].to_numpy()
    mask = np.isin(ids, t.ids) & ~np.isin(ids, b.ids) & (nodes["class"] == cls).to_numpy() \
        & (nodes["name"] == name).to_numpy()
    return int(mask.sum())


# scenario -> (class, name, pieces the holder must show, classes the suspect must retain)
PLANTED = {
    "api_gateway": ("ThumbnailJob", "ThumbnailJob", ["->cache ThumbnailCache", ".table Map"], ["Buffer"]),
    "sessions": ("Session", "Session", ["->sessions Map"], []),
    "listeners": ("Function", "onConfigChanged", ["->configBus EventEmitter", "._events", ".configChanged Array"],
                  ["RequestContext"]),
    "timers": ("Timeout", "Timeout", ["->timerListMap", "TimersList"], ["PollingSession"]),
}


@pytest.mark.parametrize("sc", sorted(PLANTED))
def test_planted_leak_is_first_with_its_holder(sc, snapshots):
    b, t, f = triple(sc, snapshots)
    rep = wb.find_leaks(b, t, f)
    cls, name, holder_parts, retains = PLANTED[sc]
    first = rep.suspects.row(0, named=True)
    assert (first["class"], first["name"]) == (cls, name)
    assert first["serious"]
    for part in holder_parts:
        assert part in first["holder"], first["holder"]
    assert first["count"] == leaked_count(b, t, f, cls, name)
    kept = {r["class"] for r in first["retains"]}
    assert set(retains) <= kept
    # nothing else is serious: the rest is runtime noise (parsers pools, lazily built objects)
    assert len(rep.serious) == 1
    assert first["retained_size"] > 20 * rep.suspects["retained_size"][1:].sum() if len(rep.suspects) > 1 else True
    # the representative path starts at a root's child, ends at a leaked object of that class
    path = rep.path(0)
    assert path["class"][-1] == cls and path["leaked"][-1]
    assert path["node_id"][-1] == first["representative_id"]
    d = rep.to_dict()["suspects"][0]
    assert {"class", "count", "retained_size", "path"} <= set(d)
    assert all(set(s) == {"node_id", "class", "name", "edge", "edge_type", "repeat", "block"} for s in d["path"])
    # every step is an existing edge of the final snapshot
    for a, c in zip(d["path"], d["path"][1:]):
        r = f.retainers(c["node_id"])
        assert a["node_id"] in r["node_id"].to_list()


def test_healthy_reports_nothing_serious(snapshots):
    rep = wb.find_leaks(*triple("healthy", snapshots))
    assert len(rep.serious) == 0
    assert rep.counts["candidates"] > 0  # there were new objects, all judged noise
    assert rep.suspects["retained_size"].sum() < 64 * 1024


def test_snapshots_in_the_wrong_order_or_from_other_processes(snapshots):
    b, t, f = triple("sessions", snapshots)
    with pytest.raises(UsageError, match="order"):
        wb.find_leaks(f, t, b)
    other = triple("api_gateway", snapshots)[2]
    with pytest.raises(UsageError, match="same process"):
        wb.find_leaks(b, t, other)


def _three(tmp_path, n_new=5, strings=False):
    """baseline: global.cache (a Holder); target: + n_new Items in cache and a temp; final: the
    temp is gone, one more item is added after target (not a candidate)."""
    paths = []
    for stage in range(3):
        g, root = rooted()
        glob = g.node("object", "global", 16, id_=1001)
        g.edge(root, glob, "shortcut", "global")
        holder = g.node("object", "Holder", 32, id_=1003)
        g.edge(glob, holder, "property", "cache")
        arr = g.node("array", "", 16, id_=1005)
        g.edge(holder, arr, "internal", "elements")
        if stage >= 1:
            for i in range(n_new):
                if strings:
                    it = g.node("string", f"value {i}", 1000, id_=2001 + 2 * i)
                else:
                    it = g.node("object", "Item", 40, id_=2001 + 2 * i)
                    blob = g.node("string", f"payload {i}", 500, id_=3001 + 2 * i)
                    g.edge(it, blob, "property", "payload")
                g.edge(arr, it, "element", i)
        if stage == 1:
            tmp = g.node("object", "Temp", 64, id_=4001)
            g.edge(glob, tmp, "property", "temp")
        if stage == 2:
            late = g.node("object", "Item", 40, id_=5001)
            g.edge(arr, late, "element", 99)
        paths.append(g.write(tmp_path / f"s{stage}.heapsnapshot"))
    return paths


def test_hand_built_leak(tmp_path):
    rep = wb.find_leaks(*_three(tmp_path), serious_count=3, serious_bytes=1)
    assert len(rep.suspects) == 1
    s = rep.suspects.row(0, named=True)
    assert (s["class"], s["count"], s["retained_size"]) == ("Item", 5, 5 * 540)
    assert s["holder"] == ".cache Holder" or s["holder"].endswith(".cache Holder")
    assert rep.path(0)["edge"].to_list()[:2] == [".global", ".cache"]
    assert rep.counts["candidates"] == 10 and rep.counts["dropped_as_noise"] == 5


def test_hand_built_string_leak_is_kept_as_bulk(tmp_path):
    rep = wb.find_leaks(*_three(tmp_path, strings=True), serious_count=3, serious_bytes=1)
    assert rep.counts["bulk_mode"]
    s = rep.suspects.row(0, named=True)
    assert (s["class"], s["count"], s["retained_size"]) == ("(string)", 5, 5000)


def test_a_table_filled_once_is_a_plateau_not_a_leak(tmp_path, capsys):
    """datasets/scenarios/warmup_table.js fills a 5,000-entry table on its first request (after the
    baseline) and never again: 5,000 objects are new in target and alive in final, but none joins
    them in the last window, so the suspect is a plateau and nothing is serious."""
    import subprocess
    from workbench.cli import main
    subprocess.run(["node", "--expose-gc", str(ROOT / "datasets/scenarios/warmup_table.js"), str(tmp_path)],
                   check=True, timeout=120)
    snaps = [str(tmp_path / f"{n}.heapsnapshot") for n in ("baseline", "target", "final")]
    rep = wb.find_leaks(*snaps)
    top = rep.suspects.row(0, named=True)
    assert (top["class"], top["count"], top["status"]) == ("RateEntry", 5000, "plateau")
    assert top["retained_size"] >= rep.serious_bytes and top["count"] >= rep.serious_count   # big enough, yet
    assert len(rep.serious) == 0
    assert main(["--quiet", "leaks", *snaps, "--fail-on-leak"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("sc", sorted(PLANTED))
def test_planted_leaks_still_grow(sc, snapshots):
    rep = wb.find_leaks(*triple(sc, snapshots))
    assert rep.suspects.row(0, named=True)["status"] == "growing"


KINDS = {"api_gateway": ("map", "Map .table"), "sessions": ("map", "->sessions"),
         "listeners": ("listener", "'configChanged' on EventEmitter"),
         "timers": ("timer", "duration 3600000 ms, callback pollUpstream")}


@pytest.mark.parametrize("sc", sorted(KINDS))
def test_the_planted_leak_is_explained_in_nodes_terms(sc, snapshots):
    rep = wb.find_leaks(*triple(sc, snapshots))
    top = rep.suspects.row(0, named=True)
    kind, evidence = KINDS[sc]
    assert top["kind"] == kind and evidence in top["explanation"], top["explanation"]
    site = top["allocation_site"]
    assert site is not None and site["line"] >= 1 and site["column"] >= 1
    d = rep.to_dict()["suspects"][0]
    assert d["kind"] == kind and d["explanation"] == top["explanation"] and d["allocation_site"] == site
