"""Change points of a time series (when did p99 jump?), with ``ruptures`` (Truong, Oudre, Vayatis,
"Selective review of offline change point detection methods", 2020).

Method (the research note's §3.2): the series is bucketed already (``latency_over_time``: buckets
with too few requests have a null p99 and are dropped, so sparse buckets add no noise); values are
taken as log (a latency jump is a ratio); PELT, the exact penalised search, with the L1 cost (a
shift of the median, robust to one slow bucket) and ``min_size`` buckets per segment finds the
change points. The penalty is scaled to the data, ``pen = pen_scale * sigma * ln(n)``, where sigma is
the noise of the log series estimated from first differences (median absolute deviation / 0.6745 /
sqrt 2, unaffected by the steps themselves); ``pen_scale`` (default 3) trades sensitivity for false
alarms. ``n_bkps=k`` asks instead for exactly k change points (binary segmentation, same cost).
ruptures returns segment *ends* (the last is n); each is reported as the ts of the first bucket of
the new segment, with the medians before and after."""
from __future__ import annotations

import math

import numpy as np
import polars as pl

from ..errors import UsageError


def noise(y: np.ndarray) -> float:
    d = np.diff(y)
    if len(d) == 0:
        return 0.0
    return float(np.median(np.abs(d - np.median(d))) / 0.6745 / math.sqrt(2))


def change_points(series: pl.DataFrame, column: str, ts: str = "ts", *, log: bool = True, min_size: int = 3,
                  pen_scale: float = 3.0, n_bkps: int | None = None) -> pl.DataFrame:
    """Change points of ``column`` over ``ts``: ts (first bucket of the new segment), index (its row
    among the non-null buckets), before and after (segment medians), ratio (after / before),
    window_start and window_end (the bucket before and the bucket of the change: the change happened
    between them)."""
    import ruptures as rpt

    s = series.select(ts, column).drop_nulls().filter(pl.col(column).is_finite()).sort(ts)
    if log:
        s = s.filter(pl.col(column) > 0)
    y = s[column].to_numpy().astype(float)
    schema = {"ts": s.schema[ts], "index": pl.Int64, "before": pl.Float64, "after": pl.Float64,
              "ratio": pl.Float64, "window_start": s.schema[ts], "window_end": s.schema[ts]}
    if len(y) < 2 * min_size:
        return pl.DataFrame(schema=schema)
    z = np.log(y) if log else y
    if n_bkps is not None:
        if n_bkps < 1:
            raise UsageError("n_bkps must be at least 1")
        ends = rpt.Binseg(model="l1", min_size=min_size, jump=1).fit(z.reshape(-1, 1)).predict(n_bkps=n_bkps)
    else:
        sigma = noise(z) or (float(np.std(z)) or 1.0)
        pen = pen_scale * sigma * math.log(len(z))
        ends = rpt.Pelt(model="l1", min_size=min_size, jump=1).fit(z.reshape(-1, 1)).predict(pen=pen)
    bounds = [0, *ends]
    rows = []
    times = s[ts].to_list()
    for k in range(1, len(bounds) - 1):
        a, b, c = bounds[k - 1], bounds[k], bounds[k + 1]
        before, after = float(np.median(y[a:b])), float(np.median(y[b:c]))
        rows.append({"ts": times[b], "index": b, "before": before, "after": after,
                     "ratio": after / before if before else math.inf,
                     "window_start": times[b - 1], "window_end": times[b]})
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def p99_change_points(traces, every: str = "10s", route: str | None = None, min_requests: int = 5,
                      **kw) -> pl.DataFrame:
    """Change points of request p99 latency (all requests, or one route's)."""
    from .latency import latency_over_time

    lat = latency_over_time(traces, every=every, by="route" if route else None, min_requests=min_requests)
    if route:
        lat = lat.filter(pl.col("route") == route)
    return change_points(lat, "p99_ms", **kw)
