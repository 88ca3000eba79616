"""find_leaks on every dataset scenario (the planted leak first, with its holder named) and on
hand-built snapshot triples."""

import numpy as np
import polars as pl
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


# ---- issue 12: every leaking dataset, old and new, in Node's terms --------------------------------

def _manifest():
    import json
    return json.loads((ROOT / "datasets" / "heap" / "MANIFEST.json").read_text())["files"]


def _planted():
    """scenario -> (planted class or function name, planted count), from the MANIFEST (recorded by
    datasets/build_heap.py from each scenario's ``// planted:`` line)."""
    out = {}
    for key, e in _manifest().items():
        if key.endswith("/final.heapsnapshot.gz") and e["counts"].get("planted"):
            out[key.split("/")[0]] = (e["notes"]["planted_class"], e["counts"]["planted"])
    return out


# scenario -> (kind, a piece of the holder text, a piece of the explanation)
NODE_TERMS = {
    "api_gateway": ("map", ".table Map", "entries"),
    "sessions": ("map", "->sessions Map", "entries"),
    "listeners": ("listener", "._events Object .configChanged Array", "listeners of 'configChanged'"),
    "timers": ("timer", "TimersList", "callback pollUpstream"),
    "timer_mix": ("timer", "->timerListMap Object", "pollUpstream ×666"),
    "lru_list": ("list", "->responses RecentResponses", "linked list held by ->responses RecentResponses"),
    "stream_backpressure": ("stream", "._writableState WritableState", "PassThrough ->audit"),
    "promise_chain": ("promise", "->configReady Promise", "answerLookup"),
}


def test_every_leaking_dataset_has_its_terms():
    assert set(_planted()) == set(NODE_TERMS)


@pytest.mark.parametrize("sc", sorted(NODE_TERMS))
def test_planted_leak_first_in_nodes_terms(sc, snapshots):
    """The planted leak ranks first, serious and growing, with a count within 5% of the planted
    number (the suspect's own class, or what it carries: a stream's write requests carry the
    chunks, a promise's reactions the requests waiting on it), a folded path of at most 40 steps
    that names the holder, the right kind, and an allocation site."""
    from workbench.cli import main
    b, t, f = triple(sc, snapshots)
    rep = wb.find_leaks(b, t, f)
    planted_cls, planted_n = _planted()[sc]
    top = rep.suspects.row(0, named=True)
    if planted_cls in (top["class"], top["name"]):
        got = top["count"]
    else:
        got = {r["class"]: r["count"] for r in top["retains"]}.get(planted_cls, 0)
    assert abs(got - planted_n) <= 0.05 * planted_n, (top["class"], top["count"], top["retains"])
    assert top["serious"] and top["status"] == "growing" and top["gained"][-1] > 0
    assert len(rep.suspects.filter(pl.col("serious"))) == 1
    kind, holder, words = NODE_TERMS[sc]
    assert top["kind"] == kind, top["explanation"]
    assert holder in top["holder"], top["holder"]
    assert words in top["explanation"], top["explanation"]
    assert len(rep.path(0)) <= 40
    site = top["allocation_site"]
    assert site is not None and site["line"] >= 1 and site["url"] and site["function"]
    assert main(["--quiet", "leaks", *(str(s.path) for s in (b, t, f)), "--fail-on-leak", "--format", "json"]) == 1


def test_healthy_passes_a_ci_gate(snapshots, capsys):
    from workbench.cli import main
    paths = [str(s.path) for s in triple("healthy", snapshots)]
    assert main(["--quiet", "leaks", *paths, "--fail-on-leak"]) == 0
    capsys.readouterr()


def test_timer_group_spans_every_list(snapshots):
    """timer_mix: four durations (four TimersLists, each a doubly linked list walked from both
    ends) and three callbacks are one group, with each duration's and callback's share."""
    b, t, f = triple("timer_mix", snapshots)
    top = wb.find_leaks(b, t, f).suspects.row(0, named=True)
    for d in ("30000 ms ×500", "60000 ms ×500", "300000 ms ×500", "3600000 ms ×500"):
        assert d in top["explanation"]
    for cb in ("pollUpstream ×666", "refreshToken ×667", "reportMetrics ×667"):
        assert cb in top["explanation"]
    # the timers' closures, reports and arrays are what the group retains, not other suspects
    assert {"UpstreamReport"} <= {r["class"] for r in top["retains"]}


def test_weakref_kept_objects_are_transient(snapshots):
    """timer_mix dereferences a WeakRef cache of 500 fragments in the task that writes the final
    snapshot: V8 keeps them only through its keep-during-job list; they are counted as transient
    and are no suspect."""
    from workbench.heap.leaks import _transient_only
    b, t, f = triple("timer_mix", snapshots)
    rep = wb.find_leaks(b, t, f)
    nodes = f.nodes
    frag = (nodes["class"] == "RenderedFragment").to_numpy()
    new_in_target = np.isin(f.ids, t.ids) & ~np.isin(f.ids, b.ids)
    assert int((frag & new_in_target).sum()) == 500
    assert _transient_only(f)[frag & new_in_target].all()
    assert rep.counts["transient"] >= 500
    assert "RenderedFragment" not in rep.suspects["class"].to_list()
    assert all(r["class"] != "RenderedFragment" for rs in rep.suspects["retains"].to_list() for r in rs)


def _stages(tmp_path, adds, chain=False, transient=0):
    """One snapshot per entry of ``adds`` (cumulative Items under global.cache; ``chain`` links
    them as a singly linked list instead of an array); ``transient`` Items made at stage 1 are,
    in the last snapshot, held only by (Strong roots) -> weak_refs_keep_during_job."""
    paths, total = [], 0
    for stage, _ in enumerate(adds):
        total = sum(adds[:stage + 1])
        g, root = rooted()
        gc = 1
        glob = g.node("object", "global", 16, id_=1001)
        g.edge(root, glob, "shortcut", "global")
        holder = g.node("object", "Holder", 32, id_=1003)
        g.edge(glob, holder, "property", "cache")
        arr = g.node("array", "", 16, id_=1005)
        g.edge(holder, arr, "internal", "elements")
        prev = holder
        for i in range(total):
            it = g.node("object", "Item", 40, id_=2001 + 4 * i)
            blob = g.node("string", f"payload {i}", 500, id_=2003 + 4 * i)
            g.edge(it, blob, "property", "payload")
            if chain:
                g.edge(prev, it, "property", "next")
                prev = it
            else:
                g.edge(arr, it, "element", i)
        if transient:
            strong = g.node("synthetic", "(Strong roots)", 0, id_=7)
            g.edge(gc, strong, "element", 4)
            if stage < len(adds) - 1:   # strongly held until the last snapshot
                tarr = g.node("array", "", 16, id_=1007)
                g.edge(glob, tarr, "property", "generation")
            else:
                tarr = g.node("array", "", 16, id_=1009)
                g.edge(strong, tarr, "internal", "weak_refs_keep_during_job")
            if stage >= 1:
                for i in range(transient):
                    tr = g.node("object", "Fragment", 64, id_=1101 + 2 * i)
                    g.edge(tarr, tr, "element", i)
        paths.append(g.write(tmp_path / f"s{stage}.heapsnapshot"))
    return paths


def test_singly_linked_chain_is_one_group(tmp_path):
    """Each link of a singly linked list dominates the rest: the group still counts every link,
    and its retained size is the chain's, counted once."""
    rep = wb.find_leaks(*_stages(tmp_path, [0, 50, 5], chain=True), serious_count=3, serious_bytes=1)
    s = rep.suspects.row(0, named=True)
    assert (s["class"], s["count"]) == ("Item", 50)
    assert s["retained_size"] == 55 * 540   # the first link made in target retains all 55 from it on
    assert s["status"] == "growing" and s["gained"] == [5]


def test_four_snapshots_growth_per_window(tmp_path):
    adds_growing = [0, 20, 5, 5]
    rep = wb.find_leaks(*_stages(tmp_path, adds_growing), serious_count=3, serious_bytes=1)
    s = rep.suspects.row(0, named=True)
    assert s["gained"] == [5, 5] and s["status"] == "growing" and s["serious"]
    assert rep.counts["windows"] == 2


def test_growth_that_stopped_is_a_plateau(tmp_path):
    rep = wb.find_leaks(*_stages(tmp_path, [0, 20, 5, 0]), serious_count=3, serious_bytes=1)
    s = rep.suspects.row(0, named=True)
    assert s["gained"] == [5, 0] and s["status"] == "plateau" and not s["serious"]
    assert any("growth stopped" in n for n in rep.notes)


def test_three_snapshots_say_when_they_cannot_tell(tmp_path):
    rep = wb.find_leaks(*_stages(tmp_path, [0, 20, 0]), serious_count=3, serious_bytes=1)
    assert rep.suspects.row(0, named=True)["status"] == "plateau"
    assert any("one window" in n and "fourth snapshot" in n for n in rep.notes)
    grow = wb.find_leaks(*_stages(tmp_path, [0, 20, 3]), serious_count=3, serious_bytes=1)
    assert not any("one window" in n for n in grow.notes)


def test_hand_built_transient_root(tmp_path):
    rep = wb.find_leaks(*_stages(tmp_path, [0, 20, 2], transient=8), serious_count=3, serious_bytes=1)
    assert rep.counts["transient"] == 8
    assert "Fragment" not in rep.suspects["class"].to_list()
    assert rep.suspects.row(0, named=True)["class"] == "Item"


def test_fewer_than_three_snapshots_is_a_usage_error(snapshots):
    b, t, _ = triple("sessions", snapshots)
    with pytest.raises(UsageError, match="three"):
        wb.find_leaks(b, t)


def test_object_used_as_a_map(tmp_path):
    """A plain object keyed by request ids (obj[key] = value) that never deletes a key: kind
    object-map, with its key count in every snapshot."""
    paths = []
    for stage, total in enumerate([3, 23, 28]):
        g, root = rooted()
        glob = g.node("object", "global", 16, id_=1001)
        g.edge(root, glob, "shortcut", "global")
        byId = g.node("object", "Object", 32, id_=1003)
        g.edge(glob, byId, "property", "pendingById")
        for i in range(total):
            it = g.node("object", "Pending", 40, id_=(1101 + 2 * i) if i < 3 else (2001 + 4 * i))
            g.edge(byId, it, "property", f"req-{i}")
        paths.append(g.write(tmp_path / f"m{stage}.heapsnapshot"))
    rep = wb.find_leaks(*paths, serious_count=3, serious_bytes=1)
    s = rep.suspects.row(0, named=True)
    assert (s["class"], s["count"], s["kind"]) == ("Pending", 20, "object-map")
    assert "keys 3 → 23 → 28 across the snapshots" in s["explanation"], s["explanation"]
    assert s["gained"] == [5] and s["serious"]
