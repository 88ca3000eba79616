"""The Summary's and Statistics' kernels and threads: division-free node offsets, the located
class keys against a dict of first appearances, and the Statistics computed beside the Summary
equal to the Statistics computed alone."""
import numpy as np
import pytest

import workbench as wb
from workbench.heap import _kernels as K


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_offsets_divide_exactly(dtype):
    """column_increasing, last_row_per_node and apply_located_keys divide through a float64
    reciprocal: exact for every field count and offset, up to 2^32 and (64-bit reader) 2^53."""
    for nf in (5, 6, 7, 8, 11):
        top = 2**53 - 1 if dtype == np.uint64 else 2**32 - 1
        v = np.concatenate([np.arange(0, 3000), np.arange(top - 3000, top + 1),
                            np.array([2**31 - 1, 2**31, 2**32 - 1] if dtype == np.uint64 else [2**31])]).astype(dtype)
        v.sort()
        q = v // dtype(nf)
        cols = np.zeros((v.size, 4), dtype=dtype)
        cols[:, 0] = v
        assert K.column_increasing(cols, 0, nf) == bool(np.all(q[1:] > q[:-1]))
        strict = np.unique(q, return_index=True)[1]
        cols2 = np.zeros((strict.size, 4), dtype=dtype)
        cols2[:, 0] = v[strict]
        assert K.column_increasing(cols2, 0, nf)
        small = (v < 50_000).nonzero()[0]   # node ordinals a bit table can hold
        c3 = cols[small]
        obj = q[small]
        want = np.sort(len(obj) - 1 - np.unique(obj[::-1], return_index=True)[1])
        np.testing.assert_array_equal(K.last_row_per_node(c3, 0, nf, int(obj.max()) + 1), want)
        key = np.zeros(int(obj.max()) + 1, dtype=np.int32)
        codes = np.arange(len(obj), dtype=np.int32)
        K.apply_located_keys(key, c3, np.zeros(0, np.int64), 0, nf, codes, 100)
        ref = np.zeros_like(key)
        ref[obj.astype(np.int64)] = 100 + codes   # the last location of a node wins, as in numpy
        np.testing.assert_array_equal(key, ref)


def test_located_class_keys_first_appearance():
    rng = np.random.default_rng(4)
    nf, n = 7, 400
    for trial in range(100):
        rows = int(rng.integers(1, 300))
        cols = np.zeros((rows, 4), dtype=np.uint32)
        cols[:, 0] = np.sort(rng.choice(n, rows, replace=rows > n)) * nf
        cols[:, 1:] = rng.integers(0, 3, (rows, 3))
        if trial % 2:   # runs of one location, as V8 writes many objects of one constructor
            cols[:, 1:] = np.repeat(cols[::7, 1:], 7, axis=0)[:rows]
        ntype = rng.integers(0, 3, n).astype(np.uint8)
        ci = rng.integers(0, 6, n).astype(np.uint32)
        dense_of = np.arange(6, dtype=np.int32)
        canon = np.array([0, 1, 2, 0, 1, 2], dtype=np.int32)   # indices that spell one name
        keep = np.zeros(0, dtype=np.int64) if trial % 3 else np.arange(0, rows, 2, dtype=np.int64)
        got_rows, got_codes = K.located_class_keys(cols, keep, 0, 1, 2, 3, nf, ntype, 1, ci, dense_of, canon)
        seen, codes = {}, []
        for r in (keep.tolist() if keep.size else range(rows)):
            v = int(cols[r, 0]) // nf
            if ntype[v] != 1:
                codes.append(-1)
                continue
            t = (int(cols[r, 1]), int(cols[r, 2]), int(cols[r, 3]), int(canon[dense_of[ci[v]]]))
            codes.append(seen.setdefault(t, len(seen)))
        assert got_codes.tolist() == codes
        assert [tuple(x) for x in got_rows.tolist()] == list(seen)


def test_statistics_beside_the_summary_equal_statistics_alone():
    from .conftest import DATASET_FILES
    for path in DATASET_FILES:
        alone = wb.load_snapshot(path, quiet=True, cache=False).analyze().statistics()
        snap = wb.load_snapshot(path, quiet=True, cache=False)
        summary = snap.summary()
        assert "_statistics" in snap.__dict__   # computed on the pool's thread, kept
        assert snap.statistics() == alone, path
        again = wb.load_snapshot(path, quiet=True, cache=False)
        again.statistics()
        assert again.summary().equals(summary), path
