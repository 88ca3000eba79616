"""Event-loop delay: percentiles per source and the windows in which the loop was blocked.

Sources, in canonical milliseconds: Doctor's per-sample ``delay`` (``max(0, elapsed - 10 ms)`` per
10 ms timer tick), monitorEventLoopDelay exports and prom-client's ``nodejs_eventloop_lag_*``
(per-window min/mean/p50/p90/p99/max of a histogram with resolution ``r``; Node's histogram records
the whole timer interval, so an idle loop reads about ``r`` — 10 ms in the datasets — not 0).
``event_loop_delay`` computes percentiles over Doctor-style samples (numpy, linear interpolation)
and, for histogram exports, reports the median of the per-window p50s and the max of maxima.
``blocked_windows`` merges consecutive samples whose delay is >= ``threshold_ms`` into windows.
"""
from __future__ import annotations

import numpy as np
import polars as pl

STATS = ("p50", "p90", "p99", "max")


def event_loop_delay(m, run=None) -> pl.DataFrame:
    """run, source, kind, samples, p50_ms, p90_ms, p99_ms, max_ms, mean_ms."""
    rows = []
    d = m.series("event_loop_delay", run=run)
    for (r, src), g in d.group_by("run", "source", maintain_order=True):
        v = g["value"].drop_nulls().to_numpy()
        if len(v) == 0:
            continue
        p = np.percentile(v, [50, 90, 99])
        rows.append({"run": r, "source": src, "kind": "samples", "samples": len(v), "p50_ms": p[0], "p90_ms": p[1],
                     "p99_ms": p[2], "max_ms": float(v.max()), "mean_ms": float(v.mean())})
    hist = {s: m.series(f"event_loop_delay_{s}", run=run) for s in STATS + ("mean",)}
    if not hist["p50"].is_empty():
        keys = hist["p50"].select("run", "source").unique(maintain_order=True)
        for r, src in keys.iter_rows():
            def pick(s, how):
                v = hist[s].filter((pl.col("run") == r) & (pl.col("source") == src))["value"].drop_nans().drop_nulls()
                return float(getattr(v, how)()) if len(v) else float("nan")
            rows.append({"run": r, "source": src, "kind": "histogram windows",
                         "samples": len(hist["p50"].filter((pl.col("run") == r) & (pl.col("source") == src))),
                         "p50_ms": pick("p50", "median"), "p90_ms": pick("p90", "median"),
                         "p99_ms": pick("p99", "median"), "max_ms": pick("max", "max"), "mean_ms": pick("mean", "mean")})
    schema = {"run": pl.Utf8, "source": pl.Utf8, "kind": pl.Utf8, "samples": pl.Int64, "p50_ms": pl.Float64,
              "p90_ms": pl.Float64, "p99_ms": pl.Float64, "max_ms": pl.Float64, "mean_ms": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def blocked_windows(m, run=None, threshold_ms: float = 100.0, quantity: str | None = None) -> pl.DataFrame:
    """Windows where the loop delay stayed >= threshold: run, source, start, end, samples, max_delay_ms.
    Uses per-sample ``event_loop_delay`` when present, else per-window ``event_loop_delay_max``."""
    q = quantity or ("event_loop_delay" if not m.series("event_loop_delay", run=run).is_empty()
                     else "event_loop_delay_max")
    s = m.series(q, run=run).sort("run", "source", "ts")
    s = s.with_columns(hot=pl.col("value") >= threshold_ms)
    s = s.with_columns(block=(pl.col("hot") != pl.col("hot").shift(1).over("run", "source")).fill_null(True)
                       .cum_sum().over("run", "source"))
    return (s.filter(pl.col("hot")).group_by("run", "source", "block", maintain_order=True)
            .agg(start=pl.col("ts").min(), end=pl.col("ts").max(), samples=pl.len(),
                 max_delay_ms=pl.col("value").max())
            .drop("block").with_columns(quantity=pl.lit(q)))
