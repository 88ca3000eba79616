"""Reader for V8 CPU profiles (``.cpuprofile``: CDP ``Profiler.Profile``, what ``node --cpu-prof`` writes).

Format (CDP Profiler domain; research note ``profiles-and-flame-graphs.md`` §1.1):
``{nodes:[{id, callFrame:{functionName, scriptId, url, lineNumber, columnNumber}, hitCount?,
children?:[id], parent?:id}], startTime µs, endTime µs, samples:[id], timeDeltas:[µs]}``.
The first node is the root. Trace ``ProfileChunk`` nodes carry ``parent`` instead of ``children``.

What we do, after DevTools ``CPUProfileDataModel`` (chrome-devtools-frontend 1.0.1705227):
* sample times are ``startTime + cumsum(timeDeltas)``; samples are stably sorted by time (V8 can emit
  negative deltas) and how many moved is reported in ``meta["reordered_samples"]``;
* one sample convention (every view and export counts the same samples): hit counts are counted from
  ``samples`` when the file has a sample list, and come from ``hitCount`` only when it has none; a
  ``hitCount`` that disagrees with the samples is reported in the notes (DevTools itself prefers
  ``hitCount``: the two agree on every file V8 writes, but not on every file people have);
* times, ``weights="devtools"`` (the default): a node's self time is ``hits * (endTime - startTime) /
  sum(hits)`` ms, DevTools' convention (every sample weighs the mean interval);
  ``weights="deltas"``: speedscope's convention (``importFromChromeCPUProfile``): a sample weighs the
  time to the next sample of another node (time order as in the file, a time that goes backwards
  clamped to the latest time seen), the last sample weighs nothing, so the profile's total is the
  time from the first sample to the last;
* nodes that do not hang off the root, unknown ids in ``children``/``samples``, a node with two
  parents, and ``samples``/``timeDeltas`` of different lengths are errors (DevTools drops such
  nodes silently; we refuse rather than skip).

The legacy format (``v8-profiler``/``v8-profiler-node8``, Node <= 10 tools; DevTools
``CPUProfileDataModel.compatibilityConversionHeadToNodes``, speedscope ``v8cpuFormatter.ts``):
``{head: {functionName, url, lineNumber, scriptId, hitCount, id, children: [node...]}, startTime s,
endTime s, samples: [id], timestamps: [µs]}`` -- a nested tree, times in seconds and absolute sample
timestamps. It is converted to the flat form: nested children become id lists (flattened with an
explicit stack), ``lineNumber`` is 0-based as in the current format (the files' own ``a;b;c;d`` sample
program puts ``b`` at 5 in the legacy file and at 5 in the current one), there is no column. Whole-second
start/end times that do not bracket the timestamps (v8-profiler-node8 writes ``startTime == endTime``)
are replaced by the first and last timestamp; timestamps beyond the last sample (it writes one more)
mark the end. Both steps are noted.
"""
from __future__ import annotations

import os
import re
import reprlib

import numpy as np
import polars as pl
from polars.exceptions import PanicException

from .._progress import progress
from ..errors import FormatError
from ..profile.builder import build_frames, check_tree, delta_weights, finish, index_of_ids, sample_counts
from ._jsonfile import fix_surrogates, load_json
from ._profile_kernels import cumulative_time, is_sorted, map_ids, parse_ints
from ._stream import ByteStream

_CALLFRAME = pl.Struct({"functionName": pl.String, "scriptId": pl.String, "url": pl.String,
                        "lineNumber": pl.Int64, "columnNumber": pl.Int64})
_NODE_SCHEMA = {"id": pl.Int64, "callFrame": _CALLFRAME, "hitCount": pl.Int64,
                "children": pl.List(pl.Int64), "parent": pl.Int64}


MAX_POSITION = 2**31 - 1   # line and column numbers are int32 in V8 and in the frames table
_SCALARS = (str, int, float, bool, type(None))


def first_nested(rows, schema: dict) -> int | None:
    """The index of the first row ``pl.from_dicts(rows, schema=schema)`` must not be given: not an
    object, or a list or object where the schema has a scalar (or a list of scalars, or an object of
    scalars). polars' conversion recurses into such values, and a deep one overflows its stack."""
    lists = {k for k, t in schema.items() if isinstance(t, pl.List)}
    structs = {k for k, t in schema.items() if isinstance(t, pl.Struct)}
    keys = list(schema)
    for i, r in enumerate(rows):
        if type(r) is not dict:
            return i
        for k in keys:
            v = r.get(k)
            if isinstance(v, _SCALARS):
                continue
            if k in lists and type(v) is list and all(isinstance(x, _SCALARS) for x in v):
                continue
            if k in structs and type(v) is dict and all(isinstance(x, _SCALARS) for x in v.values()):
                continue
            return i
    return None


def check_positions(path, section: str, line, column) -> None:
    """1-based line and column numbers (sequences or Series, one per node or frame) must fit in an
    int32; the first that does not is a FormatError naming ``section[i]``."""
    for what, values in (("line", line), ("column", column)):
        a = values.to_numpy() if isinstance(values, pl.Series) else np.asarray(values, dtype=object)
        if a.dtype == object:
            bad = [i for i, v in enumerate(a) if v is not None and not 0 <= v <= MAX_POSITION]
        else:
            bad = np.flatnonzero((a < 0) | (a > MAX_POSITION)).tolist() if len(a) else []
        if bad:
            raise FormatError(path, f"{section}[{bad[0]}]", None, f"{what} number {a[bad[0]]} out of range")


def _finite(v) -> bool:
    """A time in µs: an int or float that a float holds (not NaN, infinite or 10**400)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    try:
        return bool(np.isfinite(float(v)))
    except OverflowError:
        return False


def _int_array(path, section, values) -> np.ndarray:
    if not isinstance(values, list):
        raise FormatError(path, section, None, "not an array")
    try:  # only numbers go to numpy: a list holding a long string would become an array of such strings
        a = np.asarray(values) if set(map(type, values)) <= {int, float} else np.asarray([], dtype=object)
    except (ValueError, TypeError, OverflowError):
        a = np.asarray([], dtype=object)
    if len(values) and (a.dtype.kind not in "if" or a.ndim != 1 or not np.isfinite(a).all()):
        bad = next((i for i, v in enumerate(values)
                    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v
                    or v in (float("inf"), float("-inf")) or (isinstance(v, int) and not -2**63 <= v < 2**63)), 0)
        raise FormatError(path, f"{section}[{bad}]", None, f"not a number: {reprlib.repr(values[bad])}")
    return a.astype(np.int64) if a.dtype.kind in "iu" else a.astype(np.float64)


def _map_samples(path, ids: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Node index of every sample id, via a dense table when ids are compact. An int32 ``samples`` array
    (what the streaming reader makes) is overwritten in place: big profiles keep one array, not two."""
    if len(ids) and ids.min() >= 0 and ids.max() < 16 * len(ids) + 1024:
        table = np.full(int(ids.max()) + 1, -1, np.int64)
        table[ids] = np.arange(len(ids))
        out = samples if samples.dtype == np.int32 else np.empty(len(samples), np.int32)
        bad = map_ids(samples, table, out)
        if bad >= 0:
            raise FormatError(path, f"samples[{bad}]", None, f"sample node {int(samples[bad])} is not a node id")
        return out
    return index_of_ids(path, "samples", ids, samples.astype(np.int64), "sample node")


def nodes_frame(path, section: str, nodes) -> pl.DataFrame:
    if not isinstance(nodes, list) or not nodes:
        raise FormatError(path, section, None, "missing or empty node list")
    bad = first_nested(nodes, _NODE_SCHEMA)
    if bad is not None:
        raise FormatError(path, f"{section}[{bad}]", None, "malformed node (not an object, or a nested value where "
                          "a number or string belongs)")
    try:
        df = pl.from_dicts(nodes, schema=_NODE_SCHEMA, strict=False)
    except (Exception, PanicException) as e:  # noqa: BLE001 - polars raises several types for foreign data
        bad = next((i for i, n in enumerate(nodes) if not isinstance(n, dict)), None)
        where = f"{section}[{bad}]" if bad is not None else section
        raise FormatError(path, where, None, f"malformed node ({str(e).splitlines()[0][:120]})") from None
    for col, what in (("id", "id"), ("callFrame", "callFrame")):
        nulls = df[col].is_null()
        if nulls.any():
            bad = int(nulls.arg_true()[0])
            raise FormatError(path, f"{section}[{bad}]", None, f"missing or invalid '{what}'")
    return df


WEIGHTS = ("devtools", "deltas")


def check_weights(weights: str) -> str:
    if weights not in WEIGHTS:
        from ..errors import UsageError
        raise UsageError(f"weights must be one of {', '.join(WEIGHTS)}, not {weights!r}")
    return weights


def profile_from_cdp(path, d: dict, *, section: str = "nodes", source: str = "cpuprofile",
                     start_us=None, end_us=None, meta=None, notes=(), weights: str = "devtools",
                     adopt_orphans: bool = False):
    """Build a CPU Profile from a CDP Profiler.Profile dict (also used for trace ProfileChunks).
    ``adopt_orphans``: nodes naming an unknown parent hang under the root (noted) instead of an error."""
    check_weights(weights)
    notes = list(notes)
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
            refs = par.to_numpy()[has].astype(np.int64)
            if adopt_orphans:   # their parents were in trace chunks that carried no data
                known = np.isin(refs, ids)
                if not known.all():
                    notes.append((f"{section}.parent", int(np.count_nonzero(~known)),
                                  "nodes whose parent is in no chunk of the trace (chunks without data), hung "
                                  "under the root (speedscope starts their stacks there too)"))
                    refs = np.where(known, refs, ids[0])
            parent[has] = index_of_ids(path, f"{section}.parent", ids, refs, "parent")
    check_tree(path, section, parent, ids)

    cf = df["callFrame"].struct.unnest()
    # files store 0-based positions (-1 unknown); we show 1-based, 0 unknown
    line = (cf["lineNumber"].fill_null(-1).clip(-1, MAX_POSITION) + 1).clip(lower_bound=0)
    column = (cf["columnNumber"].fill_null(-1).clip(-1, MAX_POSITION) + 1).clip(lower_bound=0)
    check_positions(path, section, line, column)
    frames, frame = build_frames(path, section, {
        "function": cf["functionName"], "script_id": cf["scriptId"], "url": cf["url"],
        "line": line, "column": column})

    samples = d.get("samples", [])
    orphan = None
    if isinstance(samples, np.ndarray):
        sample_node = _map_samples(path, ids, samples)
    else:
        sample_ids = _int_array(path, "samples", samples if samples is not None else [])
        if sample_ids.dtype.kind == "f":   # ids written as floats must be whole numbers an int64 holds
            whole = (sample_ids == np.floor(sample_ids)) & (np.abs(sample_ids) < 2.0**63)
            if not whole.all():
                bad = int(np.flatnonzero(~whole)[0])
                raise FormatError(path, f"samples[{bad}]", None, f"sample node {sample_ids[bad]!r} is not a node id")
        sample_ids = sample_ids.astype(np.int64)
        orphan = ~np.isin(sample_ids, ids) if adopt_orphans and len(sample_ids) else None
        if orphan is not None and orphan.any():
            sample_node = np.full(len(sample_ids), -1, np.int64)
            sample_node[~orphan] = index_of_ids(path, "samples", ids, sample_ids[~orphan], "sample node")
        else:
            orphan = None
            sample_node = index_of_ids(path, "samples", ids, sample_ids, "sample node") if len(sample_ids) else \
                np.zeros(0, np.int64)
    meta = dict(meta or {})
    start = d.get("startTime", 0) if start_us is None else start_us
    if not _finite(start):
        raise FormatError(path, "startTime", None, "not a number")
    deltas = d.get("timeDeltas")
    if deltas is None:
        if len(sample_node):
            raise FormatError(path, "timeDeltas", None, "samples without timeDeltas")
        ts = np.zeros(0, np.float64)
    elif isinstance(deltas, np.ndarray):
        if len(deltas) != len(sample_node):
            raise FormatError(path, "timeDeltas", None,
                              f"{len(deltas)} time deltas for {len(sample_node)} samples")
        ts = deltas.view(np.float64)  # in place: 8 bytes per sample, not 16
        cumulative_time(deltas, ts, float(start))
    else:
        deltas = _int_array(path, "timeDeltas", deltas).astype(np.float64)
        if len(deltas) != len(sample_node):
            raise FormatError(path, "timeDeltas", None,
                              f"{len(deltas)} time deltas for {len(sample_node)} samples")
        ts = float(start) + np.cumsum(deltas)
        if orphan is not None:   # speedscope skips them too: the previous sample's time runs on
            notes.append(("samples", int(orphan.sum()), "samples on nodes that are in no chunk of the trace "
                          "(chunks without data), dropped"))
            ts, sample_node = ts[~orphan], sample_node[~orphan]
    # speedscope's weights follow the file's order (before the re-sort below)
    delta_w = delta_weights(sample_node, ts) if weights == "deltas" else None
    if len(ts) > 1 and not is_sorted(ts):
        o = np.argsort(ts, kind="stable")
        meta["reordered_samples"] = int(np.count_nonzero(o != np.arange(len(o))))
        notes.append(("timeDeltas", meta["reordered_samples"],
                      "samples out of time order (negative time deltas), re-sorted by time"))
        ts, sample_node = ts[o], sample_node[o]
        if delta_w is not None:
            delta_w = delta_w[o]
    else:
        meta["reordered_samples"] = 0
    end = d.get("endTime") if end_us is None else end_us
    if end is None:
        end = ts[-1] if len(ts) else start
    if not _finite(end):
        raise FormatError(path, "endTime", None, "not a number")
    if end < start:
        raise FormatError(path, "endTime", None, f"endTime {end} is before startTime {start}")

    hc = df["hitCount"]
    counted = sample_counts(sample_node, n)  # np.bincount would copy int32 ids to int64 first
    file_hits = None if hc.is_null().all() else hc.fill_null(0).to_numpy().astype(np.int64)
    if file_hits is not None and np.any(file_hits < 0):
        bad = int(np.nonzero(file_hits < 0)[0][0])
        raise FormatError(path, f"{section}[{bad}].hitCount", None, "negative hit count")
    if len(sample_node) or file_hits is None:
        hits = counted
        meta["hit_counts"] = "counted from samples"
        if file_hits is not None:
            meta["hit_count_minus_samples"] = int(file_hits.sum() - len(sample_node))
            differ = int(np.count_nonzero(file_hits != counted))
            if differ:
                notes.append((f"{section}.hitCount", differ,
                              f"nodes whose hitCount disagrees with the samples ({int(file_hits.sum()):,} hits, "
                              f"{len(sample_node):,} samples); every view counts the samples"))
    else:
        hits = file_hits
        meta["hit_counts"] = "from file (no samples)"
    total_hits = int(hits.sum())
    interval_ms = (float(end) - float(start)) / 1000.0 / total_hits if total_hits else 0.0
    meta["interval_ms"] = interval_ms
    meta["weights"] = weights
    if delta_w is not None:
        weight = delta_w / 1000.0
        self_ms = np.bincount(sample_node, weights=weight, minlength=n) if len(sample_node) else np.zeros(n)
    else:
        self_ms = hits * interval_ms
        weight = np.broadcast_to(np.float64(interval_ms), (len(sample_node),))  # one value: no memory per sample
    return finish("cpu", path, source, frames, parent, frame, ids, hits, self_ms, sample_node, ts, weight,
                  start, end, meta, notes)


_NODE_NAME = re.compile(r"(?:^|[^A-Za-z0-9])CPU\.\d{8}\.\d{6}\.(?P<pid>\d+)\.(?P<tid>\d+)\.\d+\.cpuprofile(\.gz)?$")


def file_meta(path) -> dict:
    """pid and tid from the default name of ``node --cpu-prof`` (``CPU.<date>.<time>.<pid>.<tid>.<seq>``):
    worker threads and child processes each write their own file."""
    m = _NODE_NAME.search(os.path.basename(os.fspath(path)))
    return {"pid": int(m["pid"]), "tid": int(m["tid"])} if m else {}


def read_cpuprofile(path, *, quiet: bool = False, stream: bool | None = None, weights: str = "devtools"):
    """Read a ``.cpuprofile`` (optionally gzipped) into a CPU Profile.

    ``samples`` and ``timeDeltas`` are streamed by numba kernels into compact arrays (uint32 ids, then
    int64 deltas turned into float64 times in place) and only the rest of the document (``nodes``,
    times) goes through ``json.loads``, so a 1 GB profile needs about 12 bytes per sample. A profile
    whose deltas are not integers, or in the legacy ``head`` form, falls back to ``json.loads`` of the
    whole document. ``weights``: "devtools" (default) or "deltas" (speedscope's; module docstring)."""
    check_weights(weights)
    repaired: list = []
    meta = file_meta(path)
    if stream is None or stream:
        try:
            d = stream_cdp(path, quiet=quiet, notes=repaired)
        except _Fallback:
            d = None
        if d is not None:
            return profile_from_cdp(path, d, notes=repaired, weights=weights, meta=meta)
    repaired.clear()
    d = load_json(path, "document", quiet=quiet, notes=repaired)
    if isinstance(d, dict) and "head" in d and "nodes" not in d:
        d = legacy_to_cdp(path, d, repaired)
        meta["format"] = "legacy head/timestamps"
    return profile_from_cdp(path, d, notes=repaired, weights=weights, meta=meta)


def _legacy_time(path, d: dict, key: str):
    v = d.get(key, 0)
    if not _finite(v):
        raise FormatError(path, key, None, "not a number")
    return float(v) * 1e6   # seconds in this format


def legacy_to_cdp(path, d: dict, notes: list) -> dict:
    """The legacy ``head``/``timestamps`` profile as a current Profiler.Profile dict (module docstring)."""
    head = d["head"]
    if not isinstance(head, dict):
        raise FormatError(path, "head", None, "not an object")
    nodes: list = []
    stack = [(head, None, "head")]
    while stack:
        node, parent_entry, where = stack.pop()
        if not isinstance(node, dict):
            raise FormatError(path, where, None, "node is not an object")
        kids = node.get("children", [])
        if not isinstance(kids, list):
            raise FormatError(path, where + ".children", None, "not an array")
        sid = node.get("scriptId", "")
        entry = {"id": node.get("id"),
                 "callFrame": {"functionName": node.get("functionName"), "url": node.get("url"),
                               "scriptId": str(sid) if isinstance(sid, (int, str)) and not isinstance(sid, bool)
                               else sid,
                               "lineNumber": node.get("lineNumber"), "columnNumber": node.get("columnNumber", -1)},
                 "children": []}
        if "hitCount" in node:
            entry["hitCount"] = node["hitCount"]
        if parent_entry is not None:
            parent_entry["children"].append(entry["id"])
        nodes.append(entry)
        for k in range(len(kids) - 1, -1, -1):
            stack.append((kids[k], entry, f"{where}.children[{k}]"))
    samples = d.get("samples") or []
    stamps = d.get("timestamps")
    if stamps is None:
        stamps = []
    ts = _int_array(path, "timestamps", stamps).astype(np.float64)
    if len(ts) < len(samples):
        raise FormatError(path, "timestamps", None, f"{len(ts)} timestamps for {len(samples)} samples")
    start, end = _legacy_time(path, d, "startTime"), _legacy_time(path, d, "endTime")
    if len(ts) and (start > ts[: len(samples)].min(initial=np.inf) or end < ts.max()):
        notes.append(("startTime", 1, f"startTime/endTime ({d.get('startTime')} s, {d.get('endTime')} s) do not "
                      "bracket the sample timestamps; the profile spans its first to its last timestamp"))
        start, end = float(ts.min()), float(ts.max())
    if len(ts) > len(samples):
        notes.append(("timestamps", len(ts) - len(samples), "timestamps after the last sample (the end of the "
                      "recording), not samples"))
    used = ts[: len(samples)]
    deltas = np.diff(np.concatenate([[start], used])) if len(used) else np.zeros(0)
    return {"nodes": nodes, "samples": samples, "timeDeltas": deltas.tolist(), "startTime": start, "endTime": end}


# ---- streaming -------------------------------------------------------------------------------------

# the keys of a Profiler.Profile that profile_from_cdp reads besides samples and timeDeltas
_READ_KEYS = ("nodes", "startTime", "endTime")


class _Fallback(Exception):
    """The streaming reader met something legal it does not handle (fractional deltas)."""


class _Stream(ByteStream):
    """The shared byte window (workbench/io/_stream.py) plus signed/unsigned integer arrays."""

    def value_bytes(self, section: str, limit: int | None = None, scalar_to_eof: bool = True,
                    keep: bool = True) -> bytes:
        return super().value_bytes(section, limit, scalar_to_eof, keep)

    def int_array(self, section: str, signed: bool, cap: int | None):
        self.expect("[", section, "an array")
        fixed = cap is not None
        if not fixed and not self.gz:
            # each value takes >= 2 bytes here and in the other array: (rest of the file) / 8 values
            # rarely needs growing, and the pages past the last value are never touched (not in RSS)
            guess = max(1 << 20, (self.size - self.offset()) // 8)
        else:
            guess = 1 << 20
        out = np.empty(cap if fixed else guess, np.int64 if signed else np.int32)
        limit = (1 << 53) if signed else (1 << 31) - 1
        st = np.zeros(6, np.int64)
        while True:
            status, npos = parse_ints(self.buf, self.pos, self.end, out, st, limit)
            self.pos = npos
            if status == 1:
                out = out[: st[2]]
                if not signed and len(out) and out.min() < 0:
                    bad = int(np.argmax(out < 0))
                    raise FormatError(self.path, f"{section}[{bad}]", None, "negative node id")
                return out
            if status == 2:
                if fixed:  # more values than samples: let the caller report the mismatch
                    out = np.concatenate([out, np.empty(max(len(out) // 4, 1024), out.dtype)])
                    fixed = False
                else:
                    grown = np.empty(len(out) + len(out) // 4, out.dtype)
                    grown[: len(out)] = out
                    out = grown
                continue
            if status < 0:
                if status == -4 and signed:
                    raise _Fallback()
                what = {-1: "unexpected character", -2: "negative value", -3: "number out of range",
                        -4: "not an integer"}.get(int(status), "invalid JSON")
                raise FormatError(self.path, f"{section}[{int(st[2])}]", self.offset(npos), what)
            if not self.fill():
                raise FormatError(self.path, section, self.offset(), "truncated JSON")


def stream_cdp(path, *, quiet: bool = False, notes: list | None = None) -> dict | None:
    """The document as a dict whose ``samples`` (uint32) and ``timeDeltas`` (int64) are numpy arrays."""
    import json
    import os

    size = os.path.getsize(path)
    with progress(size, f"loading {os.path.basename(os.fspath(path))}", quiet=quiet) as bar:
        s = _Stream(path, bar)
        try:
            c = s.peek()
            if c < 0:
                raise FormatError(path, "document", 0, "empty file")
            if c != ord("{"):
                raise FormatError(path, "document", s.offset(), "not a JSON object: not a .cpuprofile")
            s.pos += 1
            d: dict = {}
            arrays = {}
            if s.peek() == ord("}"):
                s.pos += 1
                if s.peek() != -1:
                    raise FormatError(path, "document", s.offset(), "invalid JSON (Extra data after the profile)")
                return d
            while True:
                k = s.read_key("document")
                s.expect(":", "document", "':'")
                if k in ("head", "timestamps"):   # the legacy form: json.loads reads it whole
                    raise _Fallback()
                if k in ("samples", "timeDeltas"):
                    other = arrays.get("timeDeltas" if k == "samples" else "samples")
                    arrays[k] = s.int_array(k, k == "timeDeltas", None if other is None else len(other))
                elif k not in _READ_KEYS:   # nothing reads it: skipped, however large
                    s.value_bytes(k, keep=False)
                else:
                    raw = s.value_bytes(k)
                    try:
                        d[k] = fix_surrogates(raw, json.loads(raw.decode("utf-8")), k, notes)
                    except (ValueError, RecursionError) as e:
                        raise FormatError(path, k, s.offset() - len(raw), f"invalid JSON ({str(e)[:200]})") from None
                c = s.peek()
                if c == ord(","):
                    s.pos += 1
                    continue
                if c == ord("}"):
                    s.pos += 1
                    if s.peek() != -1:
                        raise FormatError(path, "document", s.offset(), "invalid JSON (Extra data after the profile)")
                    break
                if c < 0:
                    raise FormatError(path, "document", s.offset(), "truncated JSON")
                raise FormatError(path, "document", s.offset(), f"expected ',' or '}}', found {chr(c)!r}")
        finally:
            s.close()
    d.update(arrays)
    return d
