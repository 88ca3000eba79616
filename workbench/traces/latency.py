"""Request latency and rates from server spans: per route (count, errors, p50/p90/p99) and over time
(per time bucket, optionally per route). Percentiles are linear interpolation between order
statistics (numpy's default, ``polars quantile(..., "linear")``); a request is an error when its
span status is error or its HTTP status is >= 500 (``Traces.requests``)."""
from __future__ import annotations

import polars as pl

from ..errors import UsageError

BY = {"route": "route", "name": "name", "service": "service", "span": "name"}


def _group(by):
    if by is None:
        return []
    cols = [by] if isinstance(by, str) else list(by)
    bad = [c for c in cols if c not in BY and c not in ("http_method", "http_status", "status")]
    if bad:
        raise UsageError(f"cannot group requests by {bad[0]!r}; one of route, name, service, http_method")
    return [BY.get(c, c) for c in cols]


def _stats():
    d = pl.col("duration_ms")
    return [pl.len().cast(pl.Int64).alias("requests"), pl.col("error").sum().cast(pl.Int64).alias("errors"),
            (pl.col("error").sum() / pl.len()).alias("error_rate"),
            d.quantile(0.5, "linear").alias("p50_ms"), d.quantile(0.9, "linear").alias("p90_ms"),
            d.quantile(0.99, "linear").alias("p99_ms"), d.max().alias("max_ms"), d.mean().alias("mean_ms")]


def route_stats(traces, by="route", service: str | None = None) -> pl.DataFrame:
    """One row per route (or span name, service): requests, errors, error_rate, p50_ms, p90_ms,
    p99_ms, max_ms, mean_ms; most requests first."""
    r = traces.requests()
    if service is not None:
        r = r.filter(pl.col("service") == service)
    keys = _group(by) or ["route"]
    return r.group_by(keys).agg(_stats()).sort(["requests", *keys], descending=[True] + [False] * len(keys))


def latency_over_time(traces, every: str = "10s", by=None, service: str | None = None,
                      min_requests: int = 1) -> pl.DataFrame:
    """Requests per time bucket (by start time): ts (bucket start), [by], requests, errors,
    error_rate, rate_per_s, p50_ms, p90_ms, p99_ms, max_ms, mean_ms. Buckets with fewer than
    ``min_requests`` requests get null percentiles (a p99 of three requests is noise)."""
    r = traces.requests()
    if service is not None:
        r = r.filter(pl.col("service") == service)
    keys = _group(by)
    if r.is_empty():
        raise UsageError("no server spans (requests) in these traces")
    r = r.sort("start")
    out = r.group_by_dynamic("start", every=every, group_by=keys or None, label="left").agg(_stats())
    secs = pl.duration(**_duration_kw(every)).dt.total_microseconds() / 1e6
    few = pl.col("requests") < min_requests
    out = out.rename({"start": "ts"}).with_columns(
        rate_per_s=pl.col("requests") / secs,
        **{c: pl.when(few).then(None).otherwise(pl.col(c)) for c in ("p50_ms", "p90_ms", "p99_ms")})
    return out.sort([*keys, "ts"])


def _duration_kw(every: str) -> dict:
    import re
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", every)
    if not m:
        raise UsageError(f"bucket size {every!r}: use e.g. 500ms, 10s, 1m, 1h")
    n, u = int(m.group(1)), m.group(2)
    return {{"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours"}[u]: n}
