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
from ._files import read_bytes

UNITS = {"delay": "ms", "cpu": "1", "rss": "B", "heapTotal": "B", "heapUsed": "B", "external": "B",
         "arrayBuffers": "B", "handles": "count", "loopUtilization": "%"}
BLOCKING_NEW = ("V8.GCScavenger",)
BLOCKING_OLD = ("V8.GCFinalizeMC", "V8.GCIncrementalMarkingFinalize")


def _find(d: Path, suffix: str) -> Path | None:
    for q in sorted(d.iterdir()):
        if q.name.endswith(suffix) or q.name.endswith(suffix + ".gz"):
            return q
    return None


def decode_processstat(path) -> tuple[pl.DataFrame, pl.DataFrame]:
    buf = np.frombuffer(read_bytes(path), dtype=np.uint8)
    n, used = K.count_frames(buf)
    out = np.full((n, len(K.COLS)), np.nan)
    offsets = np.zeros(n, np.int64)
    status, off, done = K.decode(buf, n, out, offsets)
    if status != K.OK:
        raise FormatError(path, "processstat", int(off), f"{K.MESSAGES[status]} (message {done + 1})")
    problems = empty_problems()
    if used != buf.shape[0]:
        problems = problems_frame(str(path), [int(used)], "truncated final frame (byte offset in 'line')",
                                  [f"{buf.shape[0] - used} trailing bytes"])
    df = pl.DataFrame({c: out[:, j] for j, c in enumerate(K.COLS)})
    df = df.with_columns(pl.col("handles").cast(pl.Int64), offset=pl.Series(offsets))
    return df, problems


def read_systeminfo(path) -> dict:
    try:
        info = json.loads(read_bytes(path))
        hr = info["clock"]["hrtime"]
        info["clockOffset"] = info["clock"]["unixtime"] - (hr[0] * 1e3 + hr[1] * 1e-6)
        info["nodeVersion"] = info["nodeVersions"]["node"]
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise FormatError(path, "systeminfo", 0, f"not Doctor system info JSON ({e})") from None
    return info


def read_traceevents(path, clock_offset: float) -> pl.DataFrame:
    data = read_bytes(path)
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise FormatError(path, "traceevent", getattr(e, "pos", 0), f"not trace-event JSON ({e.msg if hasattr(e, 'msg') else e})") from None
    events = doc.get("traceEvents") if isinstance(doc, dict) else doc
    if not isinstance(events, list):
        raise FormatError(path, "traceevent", 0, "no traceEvents array")
    schema = {"cat": pl.Utf8, "name": pl.Utf8, "ts": pl.Float64, "dur": pl.Float64, "ph": pl.Utf8}
    df = pl.from_dicts(events, schema=schema) if events else pl.DataFrame(schema=schema)
    df = df.filter((pl.col("cat") == "v8") & pl.col("name").str.starts_with("V8.GC"))
    return df.with_columns(
        start_ms=pl.col("ts") * 1e-3 + clock_offset,
        end_ms=(pl.col("ts") + pl.col("dur")) * 1e-3 + clock_offset,
    ).with_columns(duration_ms=pl.col("end_ms") - pl.col("start_ms"))


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
