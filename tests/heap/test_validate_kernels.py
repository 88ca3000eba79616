"""The reader's one-pass validation kernels (``_json_kernels.check_nodes``, ``check_edges``,
``check_locations``) against the per-check numpy definitions they replace, with errors placed
at random (across block boundaries), in 32- and 64-bit arrays."""
import numpy as np
import pytest

from workbench.io import _json_kernels as K

B = K.VALIDATE_BLOCK


def _first(mask):
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else -1


def ref_nodes(t, nm, ec, det, ntypes, nstr):
    return (_first(t > ntypes), int(np.count_nonzero(t == ntypes)), _first(nm >= nstr),
            _first(det >= 4) if det.size else -1, int(ec.sum(dtype=np.uint64)))


def reported(res):
    """What the reader raises from check_edges' answer: the first failing check by priority."""
    for kind, i in (("type", res[0]), ("to_node", res[1]), ("name", res[3])):
        if i >= 0:
            return (kind, i, res[2] if kind == "to_node" else 0)
    return None


def ref_edges(et, nmi, to, ne, named, nstr, nf, n):
    """The per-check order: type, then to_node (converted up to the first bad one), then names."""
    i = _first(et >= ne)
    if i >= 0:
        return [i, -1, 0, -1], None
    q, r = np.divmod(to.astype(np.int64), nf)
    bad = (r != 0) | (q >= n)
    j = _first(bad)
    if j >= 0:
        conv = to.astype(np.int64).copy()
        conv[:j] = q[:j]
        return [-1, j, 1 if r[j] else 2, -1], conv
    k = _first(named[et] & (nmi >= nstr))
    return [-1, -1, 0, k], q


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_check_nodes(dtype):
    rng = np.random.default_rng(1)
    for trial in range(60):
        m = int(rng.integers(1, 3 * B + 50))
        ntypes, nstr = 16, 1000
        t = rng.integers(0, ntypes, m).astype(dtype)
        nm = rng.integers(0, nstr, m).astype(dtype)
        ec = rng.integers(0, 50, m).astype(dtype)
        det = rng.integers(0, 3, m).astype(dtype) if trial % 3 else np.zeros(0, dtype)
        for _ in range(int(rng.integers(0, 4))):
            j = int(rng.integers(0, m))
            kind = int(rng.integers(0, 4))
            if kind == 0:
                t[j] = ntypes + int(rng.integers(0, 3))
            elif kind == 1:
                nm[j] = nstr + int(rng.integers(0, 3))
            elif kind == 2 and det.size:
                det[j] = 3 + int(rng.integers(0, 3))
            else:
                ec[j] = 2**32 - 1
        got = tuple(int(x) for x in K.check_nodes(t, nm, ec, det, ntypes, nstr))
        assert got == ref_nodes(t, nm, ec, det, ntypes, nstr)


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_check_edges(dtype):
    rng = np.random.default_rng(2)
    named = np.array([True, False, True, True, False, True, True])
    ne, nstr, nf, n = len(named), 500, 7, 3000
    for trial in range(200):
        m = int(rng.integers(1, 3 * B + 50))
        et = rng.integers(0, ne, m).astype(dtype)
        nmi = rng.integers(0, nstr, m).astype(dtype)
        to = (rng.integers(0, n, m) * nf).astype(dtype)
        for _ in range(int(rng.integers(0, 4))):
            j = int(rng.integers(0, m))
            kind = int(rng.integers(0, 5))
            if kind == 0:
                et[j] = ne + int(rng.integers(0, 3))
            elif kind == 1:
                to[j] += int(rng.integers(1, nf))
            elif kind == 2:
                to[j] = (n + int(rng.integers(0, 3))) * nf
            elif kind == 3 and dtype == np.uint64:
                to[j] = 2**40 + int(rng.integers(0, 2)) * nf   # the 64-bit reader's values: exact
            else:
                nmi[j] = nstr + int(rng.integers(0, 3))
        want, conv = ref_edges(et, nmi, to, ne, named, nstr, nf, n)
        got_to = to.copy()
        got = K.check_edges(et, nmi, got_to, ne, named, nstr, nf, n).tolist()
        assert reported(got) == reported(want)
        if want[1] >= 0:   # converted before the bad one, the bad one kept for the message
            j = want[1]
            assert (got_to[:j] == conv[:j]).all() and got_to[j] == to[j]
        elif want[0] < 0:
            assert (got_to == conv).all()


def test_check_edges_large_offsets():
    """Every uint32 value the float reciprocal sees: multiples near 2^32 convert exactly."""
    nf = 7
    top = (2**32 - 1) // nf
    q = np.concatenate([np.arange(0, 5000), np.arange(top - 5000, top + 1)]).astype(np.int64)
    to = (q * nf).astype(np.uint32)
    et = np.zeros(to.size, np.uint32)
    out = to.copy()
    assert K.check_edges(et, et, out, 1, np.array([False]), 1, nf, top + 1).tolist() == [-1, -1, 0, -1]
    assert (out == q).all()
    off = to.copy()
    off[-1] += 1
    assert K.check_edges(et, et, off.copy(), 1, np.array([False]), 1, nf, top + 1).tolist() == [-1, to.size - 1, 1, -1]


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_check_locations(dtype):
    rng = np.random.default_rng(3)
    nf, n = 7, 2000
    for trial in range(60):
        rows = int(rng.integers(1, 3000))
        loc = rng.integers(0, 100, rows * 4).astype(dtype)
        loc[0::4] = rng.integers(0, n, rows) * nf
        for _ in range(int(rng.integers(0, 4))):
            j = int(rng.integers(0, rows))
            loc[4 * j] += int(rng.integers(1, nf)) if rng.integers(0, 2) else (n - loc[4 * j] // nf) * nf
        if dtype == np.uint64 and trial % 5 == 0:
            loc[4 * int(rng.integers(0, rows))] = 2**40 + 1
        oi = loc[0::4].astype(np.int64)
        want = (_first(oi // nf >= n), int(np.count_nonzero(oi % nf)))
        assert tuple(int(x) for x in K.check_locations(loc, 4, 0, nf, n)) == want
