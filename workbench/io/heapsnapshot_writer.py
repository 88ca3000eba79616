"""Write a V8 heap snapshot (the ``RawSnapshot`` the reader produces) back to a ``.heapsnapshot``
file, gzipped when the name ends in ``.gz``. Used by ``workbench.redact``.

The layout is V8's own (``HeapSnapshotJSONSerializer``): one JSON object with ``snapshot`` (the
header), ``nodes`` and ``edges`` (flat integer arrays, ``to_node`` as an index into ``nodes``, i.e.
ordinal x node field count), the other numeric sections (``trace_function_infos``, ``samples``,
``locations``), ``trace_tree`` and ``strings``. String contents are written with the JSON escapes
the reader kept. Sections the reader did not know (``unknown_sections``) cannot be written back:
``write_raw`` returns their names so the caller can report them.
"""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np

_ORDER = ("trace_function_infos", "trace_tree", "samples", "locations")


def _ints(arr: np.ndarray) -> bytes:
    return ",".join(map(str, np.asarray(arr, dtype=np.int64).tolist())).encode()


def _interleave(fields: list[str], columns: dict) -> np.ndarray:
    return np.column_stack([np.asarray(columns[f], dtype=np.int64) for f in fields]).ravel()


def write_raw(raw, path, *, strings: list[bytes]) -> list[str]:
    """Write ``raw`` with the string table ``strings`` (raw JSON string contents, escapes kept) to
    ``path`` atomically; returns the names of sections that were not written."""
    path = Path(path)
    header = dict(raw.header)
    meta = header["meta"]
    nf, ef = len(meta["node_fields"]), len(meta["edge_fields"])
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
            f.write(b',\n"nodes":[' + _ints(_interleave(meta["node_fields"], raw.nodes)) + b"]")
            f.write(b',\n"edges":[' + _ints(_interleave(meta["edge_fields"], edges)) + b"]")
            for key in _ORDER:
                if key == "trace_tree":
                    if raw.trace_tree is not None:
                        f.write(b',\n"trace_tree":' + json.dumps(raw.trace_tree, separators=(",", ":")).encode())
                elif key in raw.sections:
                    f.write(b',\n"' + key.encode() + b'":[' + _ints(np.asarray(raw.sections[key])) + b"]")
            for key, arr in raw.sections.items():
                if key not in _ORDER:
                    f.write(b',\n"' + key.encode() + b'":[' + _ints(np.asarray(arr)) + b"]")
            f.write(b',\n"strings":[' + b",\n".join(b'"' + s + b'"' for s in strings) + b"]}\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return list(raw.unknown_sections)
