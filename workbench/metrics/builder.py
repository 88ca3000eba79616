"""Building a Metrics model from what the metric readers parsed.

Every metrics reader in ``workbench/io`` returns a ``Part`` for one file or folder: rows of the one
long table (``source, ts, metric, value, unit, labels``; ``run`` is added here), optional per-event
rows (one row per GC for GC logs and Doctor trace events), the lines it could not parse
(``problems``: source, line, reason, text; nothing is dropped silently) and a small ``info`` dict of
counts. ``combine`` joins the parts of one load into the model: it names runs, puts relative-time GC
logs on the wall clock, and attaches each metric's quantity from the name map.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from . import names
from .model import Metrics

TS = pl.Datetime("us", "UTC")
SCHEMA = {"source": pl.Utf8, "ts": TS, "metric": pl.Utf8, "value": pl.Float64,
          "unit": pl.Utf8, "labels": pl.Utf8}
PROBLEMS_SCHEMA = {"source": pl.Utf8, "line": pl.Int64, "reason": pl.Utf8, "text": pl.Utf8}
# Unit strings used in the table: B (bytes), s, ms, ns, 1 (ratio), % (percent), count, "" (unknown).


@dataclass
class Part:
    table: pl.DataFrame
    problems: pl.DataFrame
    info: dict = field(default_factory=dict)
    events: pl.DataFrame | None = None   # GC events: one row per collection


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEMS_SCHEMA)


def problems_frame(source: str, lines, reason, texts) -> pl.DataFrame:
    lines = list(lines) if not isinstance(lines, pl.Series) else lines
    n = len(lines)
    reasons = [reason] * n if isinstance(reason, str) else reason
    return pl.DataFrame({"source": [source] * n, "line": lines, "reason": reasons,
                         "text": texts}, schema=PROBLEMS_SCHEMA)


def combine(items, skipped=(), run: str | None = None) -> Metrics:
    """One Metrics from ``(kind, path, run, Part)`` items (``run`` overrides every item's run) and the
    paths a folder walk skipped (recorded as problems: ``skipped: not a metric export``)."""
    tables, events, probs, srcs, doctor, types = [], [], [], [], {}, {}
    for kind, path, r, res in items:
        r = run or r
        tables.append(res.table.with_columns(run=pl.lit(r)))
        if res.events is not None and len(res.events):
            events.append(res.events.with_columns(run=pl.lit(r), source=pl.lit(str(path))))
        probs.append(res.problems)
        if kind == "doctor":
            doctor[r] = res.info["doctor"]
        types.update(res.info.get("types", {}))
        srcs.append({"run": r, "source": str(path), "format": res.info.get("format", kind),
                     "rows": len(res.table), "unparsed": len(res.problems),
                     "relative_time": bool(res.info.get("relative_time", False))})
    if skipped:
        probs.append(problems_frame("", [0] * len(skipped), "skipped: not a metric export", [str(s) for s in skipped])
                     .with_columns(source=pl.Series([str(s) for s in skipped])))
    table = pl.concat(tables, how="vertical_relaxed")
    gc_events = pl.concat(events, how="diagonal_relaxed") if events else pl.DataFrame(
        schema={"run": pl.Utf8, "source": pl.Utf8, "ts": table.schema["ts"], "type": pl.Utf8, "kind": pl.Utf8,
                "pause_ms": pl.Float64})
    sources = pl.DataFrame(srcs)
    table, gc_events, sources = _align_gc_logs(table, gc_events, sources)
    mp = names.mapping(table.select("metric", "unit").unique())
    table = table.join(mp.select("metric", "unit", "quantity"), on=["metric", "unit"], how="left", nulls_equal=True)
    problems = pl.concat([p.select(list(PROBLEMS_SCHEMA)) for p in probs]) if probs else empty_problems()
    return Metrics(table.sort("run", "source", "ts", maintain_order=True), gc_events.sort("run", "ts"), problems,
                   sources, doctor, types)


def _align_gc_logs(table, gc_events, sources):
    """Put relative-time GC logs on the wall clock: match their collections one to one with the
    blocking GC trace events of a Doctor recording of the same run (Scavenge <-> V8.GCScavenger), or
    else use process_start_time_seconds from a scrape of the same run."""
    rel = sources.filter(pl.col("relative_time"))
    if rel.is_empty():
        return table, gc_events, sources
    offsets = {}
    for run, src in rel.select("run", "source").iter_rows():
        log = gc_events.filter((pl.col("source") == src) & (pl.col("kind") == "minor")).sort("t_ms")
        doc = gc_events.filter((pl.col("run") == run) & (pl.col("type") == "V8.GCScavenger")).sort("ts")
        how = None
        if len(log) and len(log) == len(doc):
            off = (doc["start_ms"] - log["t_ms"]).median()
            how = "doctor trace events"
        else:
            st = table.filter((pl.col("run") == run) & (pl.col("metric") == "process_start_time_seconds"))
            if len(st):
                off = float(st["value"][0]) * 1000.0
                how = "process_start_time_seconds"
        if how is not None:
            offsets[src] = (off, how)
    if not offsets:
        return table, gc_events, sources
    shift = pl.DataFrame({"source": list(offsets), "shift_us": [int(round(v[0] * 1000)) for v in offsets.values()]})

    def apply(df):
        df = df.join(shift, on="source", how="left")
        return df.with_columns(ts=pl.when(pl.col("shift_us").is_not_null())
                               .then((pl.col("ts").cast(pl.Int64) + pl.col("shift_us")).cast(df.schema["ts"]))
                               .otherwise(pl.col("ts"))).drop("shift_us")
    sources = sources.with_columns(
        relative_time=pl.col("relative_time") & ~pl.col("source").is_in(list(offsets)),
        aligned_by=pl.col("source").replace_strict({k: v[1] for k, v in offsets.items()}, default=None))
    return apply(table), apply(gc_events), sources
