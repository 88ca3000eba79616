"""Write a V8 heap snapshot (the ``RawSnapshot`` the reader produces) back to a ``.heapsnapshot``
file, gzipped when the name ends in ``.gz``. Used by ``workbench.redact``.

The layout is V8's own (``HeapSnapshotJSONSerializer``): one JSON object with ``snapshot`` (the
header), ``nodes`` and ``edges`` (flat integer arrays, ``to_node`` as an index into ``nodes``, i.e.
ordinal x node field count), the other numeric sections (``trace_function_infos``, ``samples``,
``locations``), ``trace_tree`` and ``strings``. String contents are written with the JSON escapes
the reader kept. Sections the reader did not know (``unknown_sections``) cannot be written back:
``write_raw`` returns their names so the caller can report them.

Integer sections are formatted by a numba kernel in chunks of ``CHUNK`` values (a few MB of text
at a time, never the whole section), so writing costs about as much as reading.
"""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
from .._jit import njit

_ORDER = ("trace_function_infos", "trace_tree", "samples", "locations")
CHUNK = 1 << 20  # values formatted per kernel call


@njit(cache=True, nogil=True)
def _format_uints(values, first):
    """Decimal text of non-negative ``values`` joined by commas; a leading comma unless ``first``."""
    n = values.shape[0]
    out = np.empty(n * 21 + 1, dtype=np.uint8)
    digits = np.empty(20, dtype=np.uint8)
    p = 0
    for i in range(n):
        if i > 0 or not first:
            out[p] = 44
            p += 1
        v = values[i]
        if v == 0:
            out[p] = 48
            p += 1
            continue
        k = 0
        while v > 0:
            digits[k] = 48 + v % 10
            v //= 10
            k += 1
        for j in range(k - 1, -1, -1):
            out[p] = digits[j]
            p += 1
    return out[:p]


def _write_ints(f, arr: np.ndarray) -> None:
    arr = np.asarray(arr, dtype=np.int64)
    for a in range(0, arr.shape[0], CHUNK):
        f.write(_format_uints(arr[a:a + CHUNK], a == 0).tobytes())


def _ints(arr: np.ndarray) -> bytes:
    return _format_uints(np.asarray(arr, dtype=np.int64), True).tobytes()


def _write_interleaved(f, fields: list[str], columns: dict) -> None:
    """The per-field columns as V8's flat record-major array, in chunks of whole records."""
    nf = len(fields)
    n = len(columns[fields[0]])
    step = max(CHUNK // nf, 1)
    for a in range(0, n, step):
        block = np.empty((min(step, n - a), nf), dtype=np.int64)
        for k, name in enumerate(fields):
            block[:, k] = columns[name][a:a + step]
        f.write(_format_uints(block.ravel(), a == 0).tobytes())


def write_raw(raw, path, *, strings: list[bytes]) -> list[str]:
    """Write ``raw`` with the string table ``strings`` (raw JSON string contents, escapes kept) to
    ``path`` atomically; returns the names of sections that were not written."""
    path = Path(path)
    header = dict(raw.header)
    meta = header["meta"]
    nf = len(meta["node_fields"])
    edges = dict(raw.edges)
    edges["to_node"] = np.asarray(edges["to_node"], dtype=np.int64) * nf
    header["node_count"] = int(len(raw.nodes[meta["node_fields"][0]]))
    header["edge_count"] = int(len(edges[meta["edge_fields"][0]]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    opener = (lambda p: gzip.open(p, "wb", compresslevel=6)) if path.suffix == ".gz" else (lambda p: open(p, "wb"))
    try:
        with opener(tmp) as f:
            f.write(b'{"snapshot":' + json.dumps(header, separators=(",", ":")).encode())
            for key, fields, columns in (("nodes", meta["node_fields"], raw.nodes),
                                         ("edges", meta["edge_fields"], edges)):
                f.write(b',\n"' + key.encode() + b'":[')
                _write_interleaved(f, fields, columns)
                f.write(b"]")
            for key in _ORDER:
                if key == "trace_tree":
                    if raw.trace_tree is not None:
                        f.write(b',\n"trace_tree":' + json.dumps(raw.trace_tree, separators=(",", ":")).encode())
                elif key in raw.sections:
                    f.write(b',\n"' + key.encode() + b'":[')
                    _write_ints(f, raw.sections[key])
                    f.write(b"]")
            for key, arr in raw.sections.items():
                if key not in _ORDER:
                    f.write(b',\n"' + key.encode() + b'":[')
                    _write_ints(f, arr)
                    f.write(b"]")
            f.write(b',\n"strings":[')
            for a in range(0, len(strings), CHUNK):
                f.write((b",\n" if a else b"") + b",\n".join(b'"' + s + b'"' for s in strings[a:a + CHUNK]))
            f.write(b"]}\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return list(raw.unknown_sections)
