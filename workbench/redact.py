"""Redact a heap snapshot for sharing: string contents are replaced, the graph and every size kept.

Semantics (in the spirit of memlab's and heap-snapshot-sanitizer's anonymisation: "strings that are
not names of nodes or edges are obfuscated"):

- The *names of value nodes* are their contents and are replaced: node types ``string``,
  ``concatenated string``, ``sliced string`` (string values, including source code held in
  strings), ``regexp`` (the pattern), ``number`` and ``bigint`` (unless the name is V8's generic
  ``heap number``/``smi number``). Each distinct content becomes ``redacted:<12 hex>``, a keyed
  hash (HMAC-SHA256 with a random key per call unless ``key`` is given), so equal strings stay
  equal inside the file (duplicate-string analysis still works) but cannot be guessed back from
  the token.
- Kept: class and constructor names, function and closure names, property and variable names
  (edge names), native/system names, script names in allocation traces, and every number of the
  graph: node ids, types, self sizes, edge counts, edges, trace nodes, locations, samples. So
  Summary, Statistics, dominators, retained sizes, distances, Comparison and ``find_leaks`` give
  the same answers on the redacted file.
- A string-table entry that was only the content of redacted nodes is emptied (V8 shares one
  table entry between equal strings, so a content equal to a property name stays, as that name).
- Caveat: property names of objects used as dictionaries (``cache[userEmail] = ...``) are edge
  names and are kept; pass ``edge_names=True`` to replace the names of ``property`` edges too
  (the class and path views then show tokens instead of those keys).
- Sections workbench does not know cannot be written back; they are dropped and counted.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import numpy as np

from .errors import UsageError

VALUE_TYPES = ("string", "concatenated string", "sliced string", "regexp", "number", "bigint")
GENERIC_NAMES = {b"heap number", b"smi number", b"<dummy>"}
INDEX_EDGES = ("element", "hidden")


def redact(src, out, *, key: bytes | None = None, edge_names: bool = False, quiet: bool = True) -> dict:
    """Write a redacted copy of snapshot ``src`` to ``out`` (``.gz`` for gzip); returns counts:
    ``redacted_nodes``, ``distinct_contents``, ``emptied_strings``, ``dropped_sections``."""
    from .io.heapsnapshot import read_raw
    from .io.heapsnapshot_writer import write_raw

    src, out = Path(src), Path(out)
    if out.exists() and out.resolve() == src.resolve():
        raise UsageError("refusing to overwrite the input snapshot; choose another -o", out)
    raw = read_raw(src, quiet=quiet)
    key = key if key is not None else os.urandom(32)
    meta = raw.header["meta"]
    nfields, efields = meta["node_fields"], meta["edge_fields"]
    node_types = list(meta["node_types"][nfields.index("type")])
    edge_types = list(meta["edge_types"][efields.index("type")])

    buf = raw.strings_raw.tobytes()
    starts, lens = raw.string_starts, raw.string_lens
    table = [buf[s:s + n] for s, n in zip(starts.tolist(), lens.tolist())]
    nstr = len(table)

    ntype = np.asarray(raw.nodes["type"])
    names = np.asarray(raw.nodes["name"]).astype(np.int64)
    value_type = np.isin(ntype, [node_types.index(t) for t in VALUE_TYPES if t in node_types])
    generic = np.zeros(nstr, dtype=np.bool_)
    for i, s in enumerate(table):
        if s in GENERIC_NAMES:
            generic[i] = True
    redact_node = value_type & ~generic[names]

    etype = np.asarray(raw.edges["type"])
    ename = np.asarray(raw.edges["name_or_index"]).astype(np.int64)
    named_edge = ~np.isin(etype, [edge_types.index(t) for t in INDEX_EDGES if t in edge_types])
    redact_edge = np.zeros_like(named_edge)
    if edge_names and "property" in edge_types:
        redact_edge = etype == edge_types.index("property")

    # which table entries are still referenced by something we keep
    kept = np.zeros(nstr, dtype=np.bool_)
    kept[names[~redact_node]] = True
    kept[ename[named_edge & ~redact_edge]] = True
    tf = meta.get("trace_function_info_fields") or []
    infos = raw.sections.get("trace_function_infos")
    if infos is not None and len(infos) and tf:
        grid = np.asarray(infos, dtype=np.int64).reshape(-1, len(tf))
        for f in ("name", "script_name"):
            if f in tf:
                col = grid[:, tf.index(f)]
                kept[col[(col >= 0) & (col < nstr)]] = True
    kept[0] = True  # V8's "<dummy>"

    # one token per distinct content, appended to the table
    to_redact = np.unique(np.concatenate([names[redact_node], ename[redact_edge]]))
    token_of: dict[bytes, int] = {}
    remap = np.arange(nstr, dtype=np.int64)
    new_strings = list(table)
    for i in to_redact.tolist():
        tok = b"redacted:" + hmac.new(key, table[i], hashlib.sha256).hexdigest()[:12].encode()
        j = token_of.get(tok)
        if j is None:
            j = token_of[tok] = len(new_strings)
            new_strings.append(tok)
        remap[i] = j
    emptied = 0
    for i in np.flatnonzero(~kept).tolist():
        if new_strings[i]:
            new_strings[i] = b""
            emptied += 1

    nodes = dict(raw.nodes)
    new_names = names.copy()
    new_names[redact_node] = remap[names[redact_node]]
    nodes["name"] = new_names
    edges = dict(raw.edges)
    new_ename = ename.copy()  # element/hidden edges hold indices, not strings: only touch redacted ones
    new_ename[redact_edge] = remap[ename[redact_edge]]
    edges["name_or_index"] = new_ename
    raw.nodes, raw.edges = nodes, edges
    dropped = write_raw(raw, out, strings=new_strings)
    return {"input": str(src), "output": str(out), "nodes": int(len(ntype)),
            "redacted_nodes": int(redact_node.sum()), "redacted_edges": int(redact_edge.sum()),
            "distinct_contents": len(token_of), "emptied_strings": emptied,
            "dropped_sections": dropped}
