"""analyze() on two threads (the dominator pass beside shallow sizes, distances and class names)
gives exactly what one thread gives, on every dataset snapshot; an error on the second thread
reaches the caller and leaves nothing waiting."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.heap import snapshot as S
from workbench.io import heapsnapshot as hs

from .conftest import DATASET_FILES


def _load(path):
    return S.HeapSnapshot(hs.read_raw(path, quiet=True), quiet=True)


@pytest.mark.parametrize("path", DATASET_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_two_threads_give_the_sequential_results(monkeypatch, path):
    monkeypatch.setenv("WORKBENCH_THREADS", "1")
    one = _load(path).analyze()
    monkeypatch.delenv("WORKBENCH_THREADS")
    monkeypatch.setattr(S, "TWO_THREADS_MIN_NODES", 0)
    calls = []
    orig = S.HeapSnapshot._analyze_two_threads
    monkeypatch.setattr(S.HeapSnapshot, "_analyze_two_threads",
                        lambda self, *a: calls.append(1) or orig(self, *a))
    two = _load(path).analyze()
    assert calls == [1]
    for attr in ("self_sizes", "distances", "class_index", "dominator_ordinals", "retained_sizes"):
        np.testing.assert_array_equal(getattr(one, attr), getattr(two, attr), err_msg=attr)
    assert one.summary().equals(two.summary())
    assert one.statistics() == two.statistics()
    assert one.warnings == two.warnings
    assert "_sizes_ready" not in two.__dict__


def test_an_error_on_the_second_thread_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(S, "TWO_THREADS_MIN_NODES", 0)
    snap = _load(DATASET_FILES[0])

    def boom(self):
        raise RuntimeError("distances failed")

    monkeypatch.setattr(S.HeapSnapshot, "distances", property(boom))
    with pytest.raises(RuntimeError, match="distances failed"):
        snap.analyze()
    assert "_sizes_ready" not in snap.__dict__
    assert snap.retained_sizes.shape == (snap.node_count,)   # the dominator pass did not hang
