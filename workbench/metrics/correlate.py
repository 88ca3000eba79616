"""Correlation of latency with GC and heap: every quantity is resampled onto a common time grid
(``every``, default 1 s; mean per bin, GC pause summed per bin) and Pearson and Spearman
correlations of ``target`` (default: request latency p99 from a prom-client histogram when
present, else event-loop delay) against each other quantity are returned."""
from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import UsageError


def latency_p99(m, run, every):
    """p99 of http_request_duration_seconds per scrape interval, from bucket deltas (ms)."""
    t = m.table.filter(pl.col("metric").str.ends_with("_duration_seconds_bucket") &
                       ~pl.col("metric").str.starts_with("nodejs_gc"))
    if run:
        t = t.filter(pl.col("run") == run)
    if t.is_empty():
        return None
    t = t.with_columns(le=pl.col("labels").str.extract(r'le="([^"]*)"').str.replace(r"^\+", "").cast(pl.Float64, strict=False))
    t = t.filter(pl.col("source").str.contains("scrapes") | (pl.col("source").n_unique() == 1))
    t = t.group_by("ts", "le").agg(pl.col("value").sum()).sort("le", "ts")
    t = t.with_columns(d=pl.col("value").diff().over("le")).drop_nulls("d")
    rows = []
    for (ts,), g in t.group_by("ts", maintain_order=True):
        g = g.sort("le")
        tot = g["d"].max()
        if tot is None or tot <= 0:
            continue
        idx = int(np.searchsorted(g["d"].to_numpy(), 0.99 * tot))
        le = g["le"].to_numpy()[min(idx, len(g) - 1)]
        rows.append((ts, float(le) * 1000.0))
    if not rows:
        return None
    return pl.DataFrame(rows, schema={"ts": t.schema["ts"], "value": pl.Float64}, orient="row").sort("ts")


def resample(m, run=None, every="1s") -> pl.DataFrame:
    """Wide frame: ts bin, then one column per quantity (canonical units)."""
    cols = {}
    lat = latency_p99(m, run, every)
    if lat is not None:
        cols["latency_p99_ms"] = lat
    for q in ("heap_used", "rss", "event_loop_delay", "event_loop_delay_p99", "event_loop_delay_max", "cpu",
              "event_loop_utilization", "handles"):
        s = m.series(q, run=run)
        if not s.is_empty():
            best = s.group_by("source").len().sort("len", descending=True)["source"][0]
            cols[q] = s.filter(pl.col("source") == best).select("ts", "value")
    gc = m.gc_events if run is None else m.gc_events.filter(pl.col("run") == run)
    gc = gc.filter(pl.col("pause_ms").is_not_null())
    if len(gc):
        best = gc.group_by("source").len().sort("len", descending=True)["source"][0]
        cols["gc_pause_ms_per_bin"] = gc.filter(pl.col("source") == best).select("ts", value=pl.col("pause_ms"))
    if not cols:
        raise UsageError("nothing to correlate")
    out = None
    for name, s in cols.items():
        agg = pl.col("value").sum() if name.startswith("gc_") else pl.col("value").mean()
        b = s.sort("ts").group_by_dynamic("ts", every=every).agg(agg.alias(name))
        out = b if out is None else out.join(b, on="ts", how="full", coalesce=True)
    out = out.sort("ts")
    if "gc_pause_ms_per_bin" in out.columns:
        out = out.with_columns(pl.col("gc_pause_ms_per_bin").fill_null(0.0))
    return out


def correlate(m, run=None, target: str | None = None, every="1s") -> pl.DataFrame:
    """target, other, n, pearson, spearman — over bins where both are present."""
    w = resample(m, run, every)
    if target is None:
        target = next((c for c in ("latency_p99_ms", "event_loop_delay_p99", "event_loop_delay") if c in w.columns), None)
    if target is None or target not in w.columns:
        raise UsageError(f"no target series {target!r} (have: {', '.join(w.columns[1:])})")
    rows = []
    for c in w.columns:
        if c in ("ts", target):
            continue
        pair = w.select(target, c).drop_nulls().drop_nans()
        n = len(pair)
        if n < 3 or pair[c].std() == 0 or pair[target].std() == 0:
            rows.append({"target": target, "other": c, "n": n, "pearson": None, "spearman": None})
            continue
        rows.append({"target": target, "other": c, "n": n,
                     "pearson": pair.select(pl.corr(target, c)).item(),
                     "spearman": pair.select(pl.corr(target, c, method="spearman")).item()})
    return pl.DataFrame(rows, schema={"target": pl.Utf8, "other": pl.Utf8, "n": pl.Int64,
                                      "pearson": pl.Float64, "spearman": pl.Float64})
