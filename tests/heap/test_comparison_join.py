"""The Comparison's id join (a merge over each snapshot's sorted ids, linear on millions of nodes)
gives exactly what the set-membership form gives: per class the same new and deleted objects, on
the datasets and on hand-built pairs with moved, re-classed and repeated ids."""
import pytest

import workbench as wb
from workbench.heap import diff

from .builder import rooted
from .conftest import ROOT


def _both_ways(before, after, monkeypatch):
    fast = diff._Pair(before, after)
    with monkeypatch.context() as m:
        m.setattr(diff, "_id_join", lambda b, a: None)
        slow = diff._Pair(before, after)
    return fast, slow


def _same(fast, slow):
    assert fast.table().equals(slow.table())
    for side in ("new", "deleted"):
        assert fast.objects(None, side).equals(slow.objects(None, side))


@pytest.mark.parametrize("scenario", ["api_gateway", "sessions", "timers"])
def test_join_equals_set_membership_on_datasets(scenario, snapshots, monkeypatch):
    d = ROOT / "datasets" / "heap" / scenario
    b, f = snapshots(d / "baseline.heapsnapshot.gz"), snapshots(d / "final.heapsnapshot.gz")
    fast, slow = _both_ways(b, f, monkeypatch)
    assert len(fast.new_ords) and len(fast.del_ords)
    _same(fast, slow)


def _pair(tmp_path, ids_before, ids_after, classes_after=None):
    out = []
    for tag, ids, classes in (("b", ids_before, None), ("a", ids_after, classes_after)):
        g, root = rooted()
        for k, i in enumerate(ids):
            n = g.node("object", (classes or {}).get(i, f"C{i % 3}"), 10 + k, id_=i)
            g.edge(root, n, "shortcut", f"p{k}")
        out.append(wb.load_snapshot(g.write(tmp_path / f"{tag}.heapsnapshot"), quiet=True, cache=False))
    return out


def test_join_handles_moved_reclassed_and_repeated_ids(tmp_path, monkeypatch):
    ids = [101 + 2 * k for k in range(20)]
    # the same ids in another node order, one re-classed (new in its class, deleted from the old one)
    b, a = _pair(tmp_path, ids, ids[::-1] + [201], classes_after={107: "Other"})
    match = diff._id_join(b, a)
    assert match is not None and (match >= 0).sum() == 20 + 2   # and the two roots
    fast, slow = _both_ways(b, a, monkeypatch)
    _same(fast, slow)
    t = fast.table()
    assert int(t.filter(t["class"] == "Other")["new_count"].item()) == 1
    assert int(t["deleted_count"].sum()) == 1 and int(t["new_count"].sum()) == 2   # 107 moved class; 201
    # an id written twice: no one-to-one join, the set form decides
    b2, a2 = _pair(tmp_path, ids + [101], ids)
    assert diff._id_join(b2, a2) is None
    t2 = diff._Pair(b2, a2).table()
    assert int(t2["deleted_count"].sum()) == 0 and int(t2["new_count"].sum()) == 0
