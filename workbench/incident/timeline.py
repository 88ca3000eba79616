"""Every signal of an incident on one time grid (``every``, default 5 s; buckets aligned to the
epoch, as polars' ``group_by_dynamic`` does):

- from traces: ``latency_p50_ms``, ``latency_p99_ms`` (server spans that *start* in the bucket; null
  below ``min_requests``), ``requests_per_s``, ``error_rate`` (``Traces.requests``' definition);
- from metrics: ``heap_used_mb`` (mean), ``heap_floor_mb`` (the post-GC floor: heap used after each
  full GC of the GC log, mean per bucket, null where no full GC ran), ``gc_pause_ms`` (sum of GC
  pauses in the bucket, 0 where none), ``event_loop_delay_ms`` (max);
- from logs: ``log_errors`` (records of level error or worse, or with an HTTP status >= 500).

``correlate`` gives Pearson and Spearman correlations of one column (default p99 latency) against
the others over the buckets where both exist; ``changes`` the change points of each column
(``workbench.traces.changes``: PELT, L1 cost on log values), and ``incident_window`` the span in
which the chosen signals (by default the heap floor and the GC pause time) first rose.
"""
from __future__ import annotations

import polars as pl

from ..errors import UsageError
from ..logs.analyses import error_records
from ..metrics.leak import MB, major_gc_baseline
from ..traces.changes import change_points
from ..traces.latency import latency_over_time

TS = pl.Datetime("us", "UTC")
SIGNALS = ("latency_p50_ms", "latency_p99_ms", "requests_per_s", "error_rate", "heap_used_mb", "heap_floor_mb",
           "gc_pause_ms", "event_loop_delay_ms", "log_errors")


def _bucket(df: pl.DataFrame, every: str, **aggs) -> pl.DataFrame:
    df = df.with_columns(pl.col("ts").cast(TS)).sort("ts")
    return df.group_by_dynamic("ts", every=every, label="left").agg(**aggs)


def _run(metrics, run):
    if run is not None or metrics is None:
        return run
    runs = metrics.runs
    return runs[0] if runs else None


def grid(metrics=None, traces=None, logs=None, run: str | None = None, every: str = "5s",
         min_requests: int = 5) -> pl.DataFrame:
    """One row per time bucket, one column per signal (see the module doc); missing models give no
    columns."""
    cols = []
    if traces is not None:
        lat = latency_over_time(traces, every=every, min_requests=min_requests)
        cols.append(lat.select(pl.col("ts").cast(TS), latency_p50_ms="p50_ms", latency_p99_ms="p99_ms",
                               requests_per_s="rate_per_s", error_rate="error_rate"))
    if metrics is not None:
        run = _run(metrics, run)
        heap = metrics.series("heap_used", run=run)
        if not heap.is_empty():
            best = heap.group_by("source").len().sort("len", descending=True)["source"][0]
            cols.append(_bucket(heap.filter(pl.col("source") == best), every,
                                heap_used_mb=pl.col("value").mean() / MB))
        floor = major_gc_baseline(metrics, run) if run is not None else None
        if floor is not None and len(floor):
            cols.append(_bucket(floor, every, heap_floor_mb=pl.col("baseline_bytes").mean() / MB))
        gc = metrics.gc_events.filter(pl.col("pause_ms").is_not_null())
        if run is not None:
            gc = gc.filter(pl.col("run") == run)
        if len(gc):
            best = gc.group_by("source").len().sort("len", descending=True)["source"][0]
            cols.append(_bucket(gc.filter(pl.col("source") == best), every, gc_pause_ms=pl.col("pause_ms").sum(),
                                gc_count=pl.len().cast(pl.Int64)))
        eld = metrics.series("event_loop_delay", run=run)
        if eld.is_empty():
            eld = metrics.series("event_loop_delay_max", run=run)
        if not eld.is_empty():
            best = eld.group_by("source").len().sort("len", descending=True)["source"][0]
            cols.append(_bucket(eld.filter(pl.col("source") == best), every,
                                event_loop_delay_ms=pl.col("value").max()))
    if logs is not None:
        e = error_records(logs).filter(pl.col("ts").is_not_null())
        if len(e):
            cols.append(_bucket(e, every, log_errors=pl.len().cast(pl.Int64)))
    if not cols:
        raise UsageError("nothing to put on the timeline: pass metrics, traces or logs")
    out = cols[0]
    for c in cols[1:]:
        out = out.join(c, on="ts", how="full", coalesce=True)
    out = out.sort("ts")
    lo, hi = out["ts"].min(), out["ts"].max()
    full = pl.DataFrame({"ts": pl.datetime_range(lo, hi, every, eager=True, time_zone="UTC").cast(TS)})
    out = full.join(out, on="ts", how="left")
    fills = {c: pl.col(c).fill_null(0) for c in ("gc_pause_ms", "gc_count", "log_errors") if c in out.columns}
    return out.with_columns(**fills)


def correlate(g: pl.DataFrame, target: str = "latency_p99_ms") -> pl.DataFrame:
    """target, other, n, pearson, spearman: ``target`` against every other column of a grid."""
    if target not in g.columns:
        raise UsageError(f"no column {target!r} on this timeline (have: {', '.join(g.columns[1:])})")
    rows = []
    for c in g.columns:
        if c in ("ts", target):
            continue
        pair = g.select(pl.col(target).cast(pl.Float64), pl.col(c).cast(pl.Float64)).drop_nulls().drop_nans()
        n = len(pair)
        if n < 3 or not pair[c].std() or not pair[target].std():
            rows.append({"target": target, "other": c, "n": n, "pearson": None, "spearman": None})
            continue
        rows.append({"target": target, "other": c, "n": n, "pearson": pair.select(pl.corr(target, c)).item(),
                     "spearman": pair.select(pl.corr(target, c, method="spearman")).item()})
    return pl.DataFrame(rows, schema={"target": pl.Utf8, "other": pl.Utf8, "n": pl.Int64, "pearson": pl.Float64,
                                      "spearman": pl.Float64}).sort("spearman", descending=True, nulls_last=True)


def changes(g: pl.DataFrame, signals=("latency_p99_ms", "heap_floor_mb", "gc_pause_ms", "event_loop_delay_ms",
                                       "error_rate"), **kw) -> pl.DataFrame:
    """Change points of each signal of a grid: signal, ts, window_start, window_end, before, after,
    ratio (``change_points``' columns). GC pause time and error rate are not logged (they are 0 in
    quiet buckets)."""
    frames = []
    for s in signals:
        if s not in g.columns:
            continue
        log = s not in ("gc_pause_ms", "error_rate", "log_errors")
        cp = change_points(g, s, log=log, **kw)
        frames.append(cp.with_columns(signal=pl.lit(s)))
    if not frames:
        raise UsageError("none of these signals is on the timeline")
    out = pl.concat(frames, how="vertical_relaxed")
    return out.select("signal", "ts", "window_start", "window_end", "before", "after", "ratio")


def first_rise(ch: pl.DataFrame, signal: str, min_ratio: float = 1.0):
    """The first upward change point of ``signal`` (a row dict), or None."""
    r = ch.filter((pl.col("signal") == signal) & (pl.col("ratio") > min_ratio)).sort("ts")
    return r.row(0, named=True) if len(r) else None


def incident_window(ch: pl.DataFrame, signals=("heap_floor_mb", "gc_pause_ms"), min_ratio: float = 1.0):
    """(start, end): from the earliest to the latest bucket of the first rises of ``signals``
    (each rise spans the bucket before its change point and the bucket of it); None when one of
    them never rose."""
    rises = [first_rise(ch, s, min_ratio) for s in signals]
    if any(r is None for r in rises):
        return None
    return min(r["window_start"] for r in rises), max(r["window_end"] for r in rises)
