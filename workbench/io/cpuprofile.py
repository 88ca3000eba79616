"""Reader for V8 CPU profiles (``.cpuprofile``: CDP ``Profiler.Profile``, what ``node --cpu-prof`` writes).

Format (CDP Profiler domain; research note ``profiles-and-flame-graphs.md`` §1.1):
``{nodes:[{id, callFrame:{functionName, scriptId, url, lineNumber, columnNumber}, hitCount?,
children?:[id], parent?:id}], startTime µs, endTime µs, samples:[id], timeDeltas:[µs]}``.
The first node is the root. Trace ``ProfileChunk`` nodes carry ``parent`` instead of ``children``.

What we do, after DevTools ``CPUProfileDataModel`` (chrome-devtools-frontend 1.0.1705227):
* sample times are ``startTime + cumsum(timeDeltas)``; samples are stably sorted by time (V8 can emit
  negative deltas) and how many moved is reported in ``meta["reordered_samples"]``;
* hit counts come from ``hitCount`` when every node has one, else they are counted from ``samples``;
* self time of a node = ``hitCount * (endTime - startTime) / sum(hitCount)`` ms;
* nodes that do not hang off the root, unknown ids in ``children``/``samples``, a node with two
  parents, and ``samples``/``timeDeltas`` of different lengths are errors (DevTools drops such
  nodes silently; we refuse rather than skip). The legacy ``head`` format is not read.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import FormatError
from ._jsonfile import load_json

_CALLFRAME = pl.Struct({"functionName": pl.String, "scriptId": pl.String, "url": pl.String,
                        "lineNumber": pl.Int64, "columnNumber": pl.Int64})
_NODE_SCHEMA = {"id": pl.Int64, "callFrame": _CALLFRAME, "hitCount": pl.Int64,
                "children": pl.List(pl.Int64), "parent": pl.Int64}


def _int_array(path, section, values) -> np.ndarray:
    if not isinstance(values, list):
        raise FormatError(path, section, None, "not an array")
    try:
        a = np.asarray(values)
    except (ValueError, TypeError):
        a = np.asarray([], dtype=object)
    if len(values) and (a.dtype.kind not in "iuf" or a.ndim != 1 or not np.isfinite(a).all()):
        bad = next((i for i, v in enumerate(values)
                    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v
                    or v in (float("inf"), float("-inf"))), 0)
        raise FormatError(path, f"{section}[{bad}]", None, f"not a number: {values[bad]!r:.40}")
    return a.astype(np.int64) if a.dtype.kind in "iu" else a.astype(np.float64)


def nodes_frame(path, section: str, nodes) -> pl.DataFrame:
    if not isinstance(nodes, list) or not nodes:
        raise FormatError(path, section, None, "missing or empty node list")
    try:
        df = pl.from_dicts(nodes, schema=_NODE_SCHEMA, strict=False)
    except Exception as e:  # noqa: BLE001 - polars raises several types for foreign data
        bad = next((i for i, n in enumerate(nodes) if not isinstance(n, dict)), None)
        where = f"{section}[{bad}]" if bad is not None else section
        raise FormatError(path, where, None, f"malformed node ({str(e).splitlines()[0][:120]})") from None
    for col, what in (("id", "id"), ("callFrame", "callFrame")):
        nulls = df[col].is_null()
        if nulls.any():
            bad = int(nulls.arg_true()[0])
            raise FormatError(path, f"{section}[{bad}]", None, f"missing or invalid '{what}'")
    return df


def profile_from_cdp(path, d: dict, *, section: str = "nodes", source: str = "cpuprofile",
                     start_us=None, end_us=None, meta=None):
    """Build a CPU Profile from a CDP Profiler.Profile dict (also used for trace ProfileChunks)."""
    from ..profile.model import build_frames, check_tree, finish, index_of_ids

    if not isinstance(d, dict):
        raise FormatError(path, "document", 0, "not a JSON object")
    df = nodes_frame(path, section, d.get("nodes"))
    ids = df["id"].to_numpy().astype(np.int64)
    n = len(ids)
    if len(np.unique(ids)) != n:
        u, c = np.unique(ids, return_counts=True)
        raise FormatError(path, section, None, f"node id {int(u[c > 1][0])} appears more than once")

    parent = np.full(n, -1, np.int64)
    has_children = df["children"].is_not_null().any()
    if has_children:
        edges = df.select(pl.col("id").alias("p"), pl.col("children").alias("c")).explode("c").drop_nulls("c")
        p_idx = index_of_ids(path, f"{section}.children", ids, edges["p"].to_numpy(), "parent")
        c_idx = index_of_ids(path, f"{section}.children", ids, edges["c"].to_numpy(), "child")
        if len(np.unique(c_idx)) != len(c_idx):
            u, c = np.unique(c_idx, return_counts=True)
            raise FormatError(path, f"{section}[{int(u[c > 1][0])}]", None,
                              f"node {int(ids[u[c > 1][0]])} is the child of more than one node")
        parent[c_idx] = p_idx
    else:
        par = df["parent"]
        has = par.is_not_null().to_numpy()
        has[0] = False  # the root's parent, if any, is ignored as DevTools does
        if has.any():
            parent[has] = index_of_ids(path, f"{section}.parent", ids, par.to_numpy()[has].astype(np.int64),
                                       "parent")
    check_tree(path, section, parent, ids)

    cf = df["callFrame"].struct.unnest()
    frames, frame = build_frames(path, section, {
        "function": cf["functionName"], "script_id": cf["scriptId"], "url": cf["url"],
        # files store 0-based positions (-1 unknown); we show 1-based, 0 unknown
        "line": (cf["lineNumber"].fill_null(-1) + 1).clip(lower_bound=0),
        "column": (cf["columnNumber"].fill_null(-1) + 1).clip(lower_bound=0),
    })

    samples = d.get("samples", [])
    sample_ids = _int_array(path, "samples", samples if samples is not None else []).astype(np.int64)
    sample_node = index_of_ids(path, "samples", ids, sample_ids, "sample node") if len(sample_ids) else \
        np.zeros(0, np.int64)
    meta = dict(meta or {})
    start = d.get("startTime", 0) if start_us is None else start_us
    if not isinstance(start, (int, float)) or isinstance(start, bool):
        raise FormatError(path, "startTime", None, "not a number")
    deltas = d.get("timeDeltas")
    if deltas is None:
        if len(sample_node):
            raise FormatError(path, "timeDeltas", None, "samples without timeDeltas")
        ts = np.zeros(0, np.float64)
    else:
        deltas = _int_array(path, "timeDeltas", deltas).astype(np.float64)
        if len(deltas) != len(sample_node):
            raise FormatError(path, "timeDeltas", None,
                              f"{len(deltas)} time deltas for {len(sample_node)} samples")
        ts = float(start) + np.cumsum(deltas)
    if len(ts) > 1 and np.any(np.diff(ts) < 0):
        o = np.argsort(ts, kind="stable")
        meta["reordered_samples"] = int(np.count_nonzero(o != np.arange(len(o))))
        ts, sample_node = ts[o], sample_node[o]
    else:
        meta["reordered_samples"] = 0
    end = d.get("endTime") if end_us is None else end_us
    if end is None:
        end = ts[-1] if len(ts) else start
    if not isinstance(end, (int, float)) or isinstance(end, bool):
        raise FormatError(path, "endTime", None, "not a number")
    if end < start:
        raise FormatError(path, "endTime", None, f"endTime {end} is before startTime {start}")

    hc = df["hitCount"]
    counted = np.bincount(sample_node, minlength=n).astype(np.int64)
    if hc.is_null().any():
        hits = counted
        meta["hit_counts"] = "counted from samples"
    else:
        hits = hc.to_numpy().astype(np.int64)
        if np.any(hits < 0):
            bad = int(np.nonzero(hits < 0)[0][0])
            raise FormatError(path, f"{section}[{bad}].hitCount", None, "negative hit count")
        meta["hit_counts"] = "from file"
        meta["hit_count_minus_samples"] = int(hits.sum() - len(sample_node))
    total_hits = int(hits.sum())
    interval_ms = (float(end) - float(start)) / 1000.0 / total_hits if total_hits else 0.0
    meta["interval_ms"] = interval_ms
    self_ms = hits * interval_ms
    weight = np.full(len(sample_node), interval_ms, np.float64)
    return finish("cpu", path, source, frames, parent, frame, ids, hits, self_ms, sample_node, ts, weight,
                  start, end, meta)


def read_cpuprofile(path, *, quiet: bool = False):
    """Read a ``.cpuprofile`` (optionally gzipped) into a CPU Profile."""
    d = load_json(path, "document", quiet=quiet)
    if isinstance(d, dict) and "head" in d and "nodes" not in d:
        raise FormatError(path, "head", None, "legacy V8 CPU profile format (head/timestamps) is not supported")
    return profile_from_cdp(path, d)
