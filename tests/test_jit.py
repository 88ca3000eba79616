"""workbench._jit: a call's key (``value_key``) is the key of the numba types numba itself gives the
same values (``type_key(numba.typeof(v))``), or None; so the compiled module's export is run only
for exactly the types it was compiled for. And a Kernel behaves as numba's dispatcher otherwise."""
from __future__ import annotations

import enum
import subprocess
import sys
from collections import namedtuple

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from workbench._jit import Kernel, njit, type_key, value_key  # noqa: E402


def _arrays():
    out = []
    for dt in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
               np.float32, np.float64, np.bool_, np.complex128, np.intc, np.longlong, np.uintp):
        a = np.arange(24).astype(dt)
        out += [a, a.reshape(4, 6), a.reshape(4, 6).T, a[::2], a.reshape(4, 6)[:, 1:3], a[:0], a.reshape(2, 3, 4)]
        ro = a.copy()
        ro.flags.writeable = False
        out.append(ro)
    buf = np.zeros(33, np.uint8)
    out.append(buf[1:].view(np.uint32))   # unaligned
    out.append(np.frombuffer(b"abcdefgh", dtype=np.uint8))   # read-only over bytes
    out.append(np.arange(4, dtype=">u4"))   # not native: numba refuses; no key
    out.append(np.zeros(3, dtype=[("a", "u4"), ("b", "f8")]))   # a record: no key
    out.append(np.arange(3).astype("M8[s]"))
    return out


class Color(enum.IntEnum):
    RED = 1


Pair = namedtuple("Pair", "a b")


def _scalars():
    return [0, 1, -1, 2**31, 2**63 - 1, -2**63, 2**63, 2**64 - 1, True, False, 1.5, float("nan"), 2j,
            np.uint8(3), np.int32(-3), np.uint32(7), np.int64(9), np.uint64(2**64 - 1), np.float32(1.0),
            np.bool_(True), None, Color.RED, "text", b"bytes", [1, 2]]


def _expected(v):
    try:
        ty = numba.typeof(v)
    except (ValueError, TypeError, numba.core.errors.NumbaError):
        return None
    return type_key((ty,))


def test_value_key_agrees_with_numba_typeof():
    values = _arrays() + _scalars()
    values += [(a, a) for a in _arrays()[:6]] + [(1, np.uint32(2)), (), (np.arange(3), 1.0, True), Pair(1, 2),
                                                  ((1, 2), (np.zeros(2), None))]
    checked = 0
    for v in values:
        got = value_key((v,))
        want = _expected(v)
        if got is not None:
            assert got == want, (v, got, want)   # a key is always numba's
            checked += 1
        # else: numba decides (always safe); but the common kinds must have keys:
    common = [np.zeros(3, np.uint32), np.zeros((2, 2), np.float64), 5, True, 2.5, np.uint32(1),
              (np.zeros(2, np.uint8), np.zeros(2, np.uint8))]
    for v in common:
        assert value_key((v,)) is not None and value_key((v,)) == _expected(v)
    assert checked > 100


def test_no_key_for_what_numba_types_otherwise():
    for v in (Color.RED, Pair(1, 2), np.arange(4, dtype=">u4"), "text", [1], np.zeros(2).view(np.matrix)):
        assert value_key((v,)) is None
    assert value_key((2**64,)) is None


def test_kernel_runs_an_export_only_for_its_exact_types():
    calls = []

    def add(a, b):
        return a + b

    k = njit(cache=False, nogil=True)(add)
    assert isinstance(k, Kernel)
    key = value_key((np.zeros(3, np.int64), 1))
    k.aot = {key: lambda a, b: calls.append("aot") or a - b}
    x = np.arange(3, dtype=np.int64)
    np.testing.assert_array_equal(k(x, 1), x - 1)            # the export (a stand-in here)
    np.testing.assert_array_equal(k(x.astype(np.int32), 1), x + 1)   # other types: numba
    np.testing.assert_array_equal(k(x[::2], 1), x[::2] + 1)         # another layout: numba
    assert calls == ["aot"]
    assert k.dispatcher.overloads   # numba compiled the other two


def test_kernels_calling_kernels_compile_through_numba():
    @njit
    def inner(a):
        return a * 2

    @njit(cache=False)
    def outer(a):
        return inner(a) + 1

    assert outer(3) == 7 and inner(4) == 8


def test_importing_the_kernels_does_not_import_numba():
    code = ("import sys\nimport workbench.heap._kernels, workbench.io._json_kernels, workbench._arrays, "
            "workbench.io.heapsnapshot, workbench.heap.snapshot\nprint('numba' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
