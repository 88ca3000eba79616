"""The reader's memory-mapped windows (``_stream.ByteStream`` on an uncompressed file of
MAP_MIN_BYTES and more) give what the copied windows give: the same arrays, the same errors at the
same offsets, at every window size; and the windows behind the parser are let go."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from workbench.errors import FormatError
from workbench.io import _stream, heapsnapshot as hs

from .conftest import DATASET_FILES


def _plain(tmp_path, src):
    out = tmp_path / src.name.replace(".gz", "")
    out.write_bytes(gzip.decompress(src.read_bytes()) if src.name.endswith(".gz") else src.read_bytes())
    return out


def _read(monkeypatch, path, mapped: bool, chunk: int):
    monkeypatch.setenv("WORKBENCH_MAP_MIN_BYTES", "0" if mapped else str(1 << 62))
    monkeypatch.setattr(_stream, "CHUNK", chunk)
    try:
        return hs.read_raw(path, quiet=True), None
    except FormatError as e:
        return None, str(e)


def _same(a, b):
    assert a.header == b.header
    for part in ("nodes", "edges"):
        da, db = getattr(a, part), getattr(b, part)
        assert da.keys() == db.keys()
        for k in da:
            np.testing.assert_array_equal(da[k], db[k])
    np.testing.assert_array_equal(a.strings_raw[:int(a.string_starts[-1]) + int(a.string_lens[-1])],
                                  b.strings_raw[:int(b.string_starts[-1]) + int(b.string_lens[-1])])
    for k in ("string_starts", "string_lens", "string_esc"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.sections.keys() == b.sections.keys()
    for k in a.sections:
        np.testing.assert_array_equal(a.sections[k], b.sections[k])
    assert a.notes == b.notes


@pytest.mark.parametrize("chunk", [4096, 5000, 1 << 16, 1 << 23])
def test_mapped_windows_give_the_copied_windows_arrays(monkeypatch, tmp_path, chunk):
    for src in DATASET_FILES[:4] + [p for p in DATASET_FILES if "timeline" in str(p)][:1]:
        path = _plain(tmp_path, src)
        mapped, err1 = _read(monkeypatch, path, True, chunk)
        copied, err2 = _read(monkeypatch, path, False, chunk)
        assert err1 is None and err2 is None
        _same(mapped, copied)


def test_mapped_windows_report_the_same_errors(monkeypatch, tmp_path):
    whole = _plain(tmp_path, DATASET_FILES[0]).read_bytes()
    n = len(whole)
    cuts = [11, 300, n // 7, n // 3, n // 2 + 13, 3 * n // 4, n - 5000, n - 3]
    seen = set()
    for cut in cuts:
        p = tmp_path / f"cut{cut}.heapsnapshot"
        p.write_bytes(whole[:cut])
        _, e1 = _read(monkeypatch, p, True, 4096)
        _, e2 = _read(monkeypatch, p, False, 4096)
        assert e1 is not None and e1 == e2
        seen.add(e1)
    flipped = bytearray(whole)
    flipped[n // 2] = ord("x")
    p = tmp_path / "flip.heapsnapshot"
    p.write_bytes(bytes(flipped))
    _, e1 = _read(monkeypatch, p, True, 4096)
    _, e2 = _read(monkeypatch, p, False, 4096)
    assert e1 is not None and e1 == e2
    assert len(seen) >= 3   # different sections and offsets


def test_parsed_windows_are_let_go(monkeypatch, tmp_path):
    """The map's pages behind the parser leave the process's resident set (MADV_DONTNEED)."""
    path = _plain(tmp_path, DATASET_FILES[0])
    monkeypatch.setenv("WORKBENCH_MAP_MIN_BYTES", "0")
    monkeypatch.setattr(_stream, "CHUNK", 1 << 16)
    s = _stream.ByteStream(str(path))
    try:
        assert s.mm is not None
        while s.fill():
            s.pos = s.end   # consume the window
        assert s._dropped >= path.stat().st_size - 4 * (1 << 16)
    finally:
        s.close()
