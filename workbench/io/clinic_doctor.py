"""Reader for Clinic.js Doctor data folders (``<id>.clinic-doctor/``), as written by @clinic/doctor 11.

* ``<id>.clinic-doctor-processstat``: uint16 big-endian length-prefixed protobuf ``ProcessStat``
  messages (format/abstract-decoder.js, format/process-stat.proto): timestamp (unix ms), delay (ms;
  ``max(0, elapsed - sampleInterval)``), cpu (fraction of one core), memory {rss, heapTotal, heapUsed,
  external, arrayBuffers?} (bytes), handles (``process._getActiveHandles().length``),
  loopUtilization (int32, ELU*100 *since process start*, absent = NaN). Decoded by a numba kernel.
  Doctor's decoder ignores a trailing partial frame; here it is reported as a problem (byte offset).
* ``<id>.clinic-doctor-systeminfo``: JSON ``{clock: {hrtime, unixtime}, nodeVersions}``;
  clockOffset = unixtime - (hrtime[0]*1e3 + hrtime[1]*1e-6) (format/system-info-decoder.js).
* ``<id>.clinic-doctor-traceevent`` (optionally .gz): Chrome trace-event JSON; like Doctor's
  trace-event-decoder.js only events with ``cat == 'v8'`` whose name starts with ``V8.GC`` are kept,
  with startTimestamp = ts*1e-3 + clockOffset and endTimestamp = (ts+dur)*1e-3 + clockOffset (unix ms).

``read_doctor`` returns the long-table rows plus ``info['doctor']`` holding the raw arrays the
diagnosis needs (``process_stat`` frame, ``gc_events`` frame, node version).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from ..errors import FormatError
from . import _doctor_kernels as K
from ..metrics.builder import SCHEMA, TS, Part, empty_problems, problems_frame
from ._files import JsonGuard, Stop, read_bytes
from ._jsonfile import fix_surrogates
from .cpuprofile import first_nested
from .memory_samples import MAX_UNIX_MS

UNITS = {"delay": "ms", "cpu": "1", "rss": "B", "heapTotal": "B", "heapUsed": "B", "external": "B",
         "arrayBuffers": "B", "handles": "count", "loopUtilization": "%"}
BLOCKING_NEW = ("V8.GCScavenger",)
BLOCKING_OLD = ("V8.GCFinalizeMC", "V8.GCIncrementalMarkingFinalize")


def _find(d: Path, suffix: str) -> Path | None:
    for q in sorted(d.iterdir()):
        if q.name.endswith(suffix) or q.name.endswith(suffix + ".gz"):
            return q
    return None


class _FrameGuard:
    """While a gzip processstat inflates, its complete frames are decoded as they arrive: the first
    that does not decode stops the inflation there (a gzip bomb is refused after its first frames;
    the decoder then reports that message as it would on the whole stream)."""

    def __init__(self):
        self.carry = b""       # an incomplete frame at the end of the last piece

    def feed(self, piece: bytes, offset: int):
        buf = self.carry + piece if self.carry else piece
        base = offset - len(self.carry)
        arr = np.frombuffer(buf, dtype=np.uint8)
        n, used, short = K.count_frames(arr)
        if short >= 0:
            n = short + 1
        if n:
            out = np.empty((n, len(K.COLS)))
            offsets = np.zeros(n, np.int64)
            status, _, done = K.decode(arr, n, out, offsets)
            if status != K.OK:
                at = int(offsets[done])
                raise Stop(base + at + 2 + ((int(arr[at]) << 8) | int(arr[at + 1])))
        self.carry = buf[used:]


def decode_processstat(path) -> tuple[pl.DataFrame, pl.DataFrame]:
    buf = np.frombuffer(read_bytes(path, _FrameGuard()), dtype=np.uint8)
    n, used, short = K.count_frames(buf)
    if short >= 0:    # that frame cannot decode: the decoder stops there at the latest
        n = short + 1
    out = np.full((n, len(K.COLS)), np.nan)
    offsets = np.zeros(n, np.int64)
    status, off, done = K.decode(buf, n, out, offsets)
    if status != K.OK:
        raise FormatError(path, "processstat", int(off), f"{K.MESSAGES[status]} (message {done + 1})")
    t = out[:, 0]
    far = ~(np.abs(t) <= MAX_UNIX_MS)
    if far.any():
        i = int(np.flatnonzero(far)[0])
        raise FormatError(path, "processstat", int(offsets[i]), f"timestamp {t[i]!r} is not a unix time in ms "
                          f"(message {i + 1})")
    problems = empty_problems()
    if used != buf.shape[0]:
        problems = problems_frame(str(path), [int(used)], "truncated final frame (byte offset in 'line')",
                                  [f"{buf.shape[0] - used} trailing bytes"])
    df = pl.DataFrame({c: out[:, j] for j, c in enumerate(K.COLS)})
    df = df.with_columns(pl.col("handles").cast(pl.Int64), offset=pl.Series(offsets))
    return df, problems


def read_systeminfo(path) -> dict:
    try:
        raw = read_bytes(path, JsonGuard(path, "systeminfo"))
        info = fix_surrogates(raw, json.loads(raw.decode("utf-8-sig")))
        hr = info["clock"]["hrtime"]
        info["clockOffset"] = info["clock"]["unixtime"] - (hr[0] * 1e3 + hr[1] * 1e-6)
        info["nodeVersion"] = info["nodeVersions"]["node"]
    except (ValueError, KeyError, TypeError, IndexError, RecursionError, OverflowError) as e:
        raise FormatError(path, "systeminfo", 0, f"not Doctor system info JSON ({str(e)[:200]})") from None
    if not (isinstance(info["clockOffset"], float) and abs(info["clockOffset"]) <= MAX_UNIX_MS):
        raise FormatError(path, "systeminfo", 0, "clock.unixtime/hrtime do not give a clock offset in ms")
    if not isinstance(info["nodeVersion"], str):
        raise FormatError(path, "systeminfo", 0, "nodeVersions.node is not a version string")
    return info


def read_traceevents(path, clock_offset: float) -> pl.DataFrame:
    data = read_bytes(path, JsonGuard(path, "traceevent"))
    try:
        doc = fix_surrogates(data, json.loads(data.decode("utf-8-sig")))
    except ValueError as e:
        raise FormatError(path, "traceevent", getattr(e, "pos", 0), f"not trace-event JSON ({e.msg if hasattr(e, 'msg') else e})") from None
    except RecursionError:
        raise FormatError(path, "traceevent", None, "JSON nested too deeply") from None
    events = doc.get("traceEvents") if isinstance(doc, dict) else doc
    if not isinstance(events, list):
        raise FormatError(path, "traceevent", 0, "no traceEvents array")
    bad = next((i for i, e in enumerate(events) if not isinstance(e, dict)), None)
    if bad is not None:
        raise FormatError(path, f"traceevent[{bad}]", None, "event is not an object")
    schema = {"cat": pl.Utf8, "name": pl.Utf8, "ts": pl.Float64, "dur": pl.Float64, "ph": pl.Utf8}
    # like Doctor's decoder, only V8.GC events of category v8 are read: other events may hold anything
    gc = [e for e in events if e.get("cat") == "v8" and isinstance(e.get("name"), str) and e["name"].startswith("V8.GC")]
    for e in gc:   # ts and dur (µs) may be absent, as Doctor's decoder allows, but not anything else
        if not all(_time_us(e.get(k), clock_offset) for k in ("ts", "dur")):
            i = next(i for i, x in enumerate(events) if x is e)
            raise FormatError(path, f"traceevent[{i}]", None, "V8.GC event whose ts or dur is not a time in µs")
    bad = first_nested(gc, schema)
    if bad is not None:
        i = next(i for i, x in enumerate(events) if x is gc[bad])
        raise FormatError(path, f"traceevent[{i}]", None, "V8.GC event with a nested value where a number or "
                          "string belongs")
    df = pl.from_dicts(gc, schema=schema, strict=False) if gc else pl.DataFrame(schema=schema)
    return df.with_columns(
        start_ms=pl.col("ts") * 1e-3 + clock_offset,
        end_ms=(pl.col("ts") + pl.col("dur")) * 1e-3 + clock_offset,
    ).with_columns(duration_ms=pl.col("end_ms") - pl.col("start_ms"))


def _time_us(v, clock_offset: float) -> bool:
    if v is None:
        return True
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return abs(float(v) * 1e-3) + abs(clock_offset) <= MAX_UNIX_MS
    except OverflowError:
        return False


def read_doctor(path) -> Part:
    d = Path(path)
    ps_path, si_path, te_path = _find(d, "-processstat"), _find(d, "-systeminfo"), _find(d, "-traceevent")
    if ps_path is None or si_path is None:
        raise FormatError(d, "folder", None, "not a Clinic.js Doctor folder (needs -processstat and -systeminfo)")
    si = read_systeminfo(si_path)
    ps, problems = decode_processstat(ps_path)
    te = read_traceevents(te_path, si["clockOffset"]) if te_path is not None else pl.DataFrame(
        schema={"cat": pl.Utf8, "name": pl.Utf8, "ts": pl.Float64, "dur": pl.Float64, "ph": pl.Utf8,
                "start_ms": pl.Float64, "end_ms": pl.Float64, "duration_ms": pl.Float64})
    src = str(d)
    ts = (pl.col("timestamp") * 1000.0).round(0).cast(pl.Int64).cast(TS)
    parts = [ps.select(pl.lit(src).alias("source"), ts.alias("ts"), pl.lit(c).alias("metric"),
                       pl.col(c).cast(pl.Float64).alias("value"), pl.lit(u).alias("unit"), pl.lit("").alias("labels"))
             for c, u in UNITS.items()]
    gc = te.filter(pl.col("name").is_in(BLOCKING_NEW + BLOCKING_OLD))
    kind = pl.when(pl.col("name").is_in(BLOCKING_NEW)).then(pl.lit("minor")).otherwise(pl.lit("major"))
    events = gc.select(ts=(pl.col("start_ms") * 1000).round(0).cast(pl.Int64).cast(TS), type=pl.col("name"),
                       kind=kind, pause_ms=pl.col("duration_ms"), start_ms="start_ms", end_ms="end_ms")
    parts.append(events.select(pl.lit(src).alias("source"), "ts", pl.lit("gc_pause").alias("metric"),
                               pl.col("pause_ms").alias("value"), pl.lit("ms").alias("unit"),
                               pl.format('kind="{}",type="{}"', "kind", "type").alias("labels")))
    table = pl.concat(parts).cast(SCHEMA)
    info = {"format": "clinic doctor", "process_stat": len(ps), "trace_events_gc": len(te),
            "blocking_gc_events": len(gc), "node": si["nodeVersion"],
            "doctor": {"process_stat": ps, "trace_events": te, "system_info": si}}
    if len(ps) == 0 and len(te) == 0:
        raise FormatError(ps_path, "processstat", 0, "empty recording: no samples")
    return Part(table=table, problems=problems, info=info, events=events)
