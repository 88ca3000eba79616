"""Leak trend: the baseline of post-GC minima of the heap and its slope, with a confidence interval.

A generalisation of the seeds' ``MemoryLeakDetector`` (poll ``process.memoryUsage()``, warn when heap
used keeps rising): a GC'd heap is a sawtooth, so the raw samples say little; what leaks is the floor
the sawtooth returns to. Method:

1. Baseline points. When the run has a GC log (--trace-gc or -nvp) the floor is known exactly: the heap
   used after each *full* (major, Mark-Compact) collection. With >= 3 of them they are the points; with
   fewer the verdict is ``inconclusive`` (a heap that was never fully collected may rise on garbage
   alone). Without a GC log: one quantity (default ``heap_used``; memoryUsage samples, prom-client
   scrapes or Doctor samples) is cut into windows (``window_s``; default span/20, at least 1 s and
   2 samples) and each window's minimum — the post-GC trough — is a point. Young-generation troughs
   still carry old-space garbage between full GCs, so short sample-only runs overstate growth; the
   ``basis`` column says which method was used.
3. Ordinary least squares of trough vs time; slope in MB/hour (MB = 2^20 bytes, as V8's GC trace) with
   a two-sided ``confidence`` (default 95 %) Student-t interval, df = windows - 2.
4. Verdict: ``growth`` when the interval excludes zero and the fitted rise over the span is at least
   ``min_growth_fraction`` (default 5 %) of the mean baseline; ``plateau`` when the first half grows
   that way and the second half does not (growth that stopped: a cache filling up); otherwise
   ``sawtooth`` when the raw series swings well above its troughs (median swing > 10 % of the
   baseline: GC at work, no leak) or ``flat``.
"""
from __future__ import annotations

import math

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _kernels as K

MB = 1024 * 1024


def t_quantile(p: float, df: float) -> float:
    lo, hi = -1e3, 1e3
    for _ in range(200):
        mid = (lo + hi) / 2
        if K.t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _fit(t_h: np.ndarray, y_mb: np.ndarray, confidence: float):
    n = len(t_h)
    if n < 3:
        return math.nan, math.nan, math.nan, math.nan
    tm, ym = t_h.mean(), y_mb.mean()
    sxx = ((t_h - tm) ** 2).sum()
    if sxx == 0:
        return math.nan, math.nan, math.nan, math.nan
    slope = ((t_h - tm) * (y_mb - ym)).sum() / sxx
    icept = ym - slope * tm
    resid = y_mb - (icept + slope * t_h)
    se = math.sqrt((resid ** 2).sum() / (n - 2) / sxx)
    q = t_quantile(0.5 + confidence / 2, n - 2)
    return slope, slope - q * se, slope + q * se, icept


def baseline(m, run=None, quantity="heap_used", source=None, window_s=None) -> pl.DataFrame:
    """Per-window troughs: window_start, ts (time of the trough), baseline_bytes, samples."""
    s = m.series(quantity, run=run, source=source)
    if s.is_empty():
        raise UsageError(f"no {quantity} series" + (f" in run {run!r}" if run else ""))
    if s["source"].n_unique() > 1 and source is None:
        # prefer the densest source (samples beat scrapes beat reports)
        best = s.group_by("source").len().sort("len", descending=True)["source"][0]
        s = s.filter(pl.col("source") == best)
    s = s.sort("ts")
    span = (s["ts"].max() - s["ts"].min()).total_seconds()
    if window_s is None:
        per = span / max(len(s) - 1, 1)
        window_s = max(span / 20.0, 1.0, 2 * per)
    every = f"{int(window_s * 1e6)}us"
    return (s.group_by_dynamic("ts", every=every, label="left", start_by="datapoint")
            .agg(trough_ts=pl.col("ts").get(pl.col("value").arg_min()), baseline_bytes=pl.col("value").min(),
                 peak_bytes=pl.col("value").max(), samples=pl.len())
            .rename({"ts": "window_start"}).rename({"trough_ts": "ts"})
            .with_columns(source=pl.lit(s["source"][0])))


def major_gc_baseline(m, run) -> pl.DataFrame | None:
    """Heap used after each full GC of the run's GC log (None when the run has no GC log)."""
    ev = m.gc_events.filter(pl.col("run") == run)
    col = "used_after_mb" if "used_after_mb" in ev.columns else None
    if "total_size_after" in ev.columns:
        ev = ev.with_columns(used_after_mb=pl.coalesce(*( [pl.col("used_after_mb")] if col else []),
                                                       pl.col("total_size_after") / MB))
    elif col is None:
        return None
    ev = ev.filter(pl.col("used_after_mb").is_not_null())
    if ev.is_empty():
        return None
    maj = ev.filter(pl.col("kind") == "major").sort("ts")
    return maj.select("ts", baseline_bytes=pl.col("used_after_mb") * MB, source=pl.col("source"))


def leak_trend(m, run=None, quantity="heap_used", source=None, window_s=None, confidence=0.95,
               min_growth_fraction=0.05, use_gc_log=True) -> pl.DataFrame:
    """One row per run: verdict (growth / plateau / sawtooth / flat / inconclusive), slope_mb_per_hour
    with its confidence interval, baseline start/end, points, basis and source."""
    runs = [run] if run else m.runs
    rows = []
    for r in runs:
        gcb = major_gc_baseline(m, r) if (use_gc_log and source is None) else None
        try:
            samples = baseline(m, r, quantity, source, window_s)
        except UsageError:
            samples = None
            if gcb is None:
                if run:
                    raise
                continue
        swing = float(((samples["peak_bytes"] - samples["baseline_bytes"]) / samples["baseline_bytes"]).median() or 0.0) \
            if samples is not None else math.nan
        if gcb is not None:
            b, basis = gcb, "heap used after full GCs (GC log)"
        else:
            b, basis = samples, "window minima of samples"
        t0 = b["ts"].min()
        t_h = ((b["ts"] - t0).dt.total_microseconds() / 3.6e9).to_numpy() if len(b) else np.zeros(0)
        y = (b["baseline_bytes"] / MB).to_numpy()
        slope, lo, hi, icept = _fit(t_h, y, confidence)
        span_h = float(t_h.max()) if len(t_h) else 0.0
        base_mean = float(y.mean()) if len(y) else math.nan
        rise = slope * span_h if not math.isnan(slope) else 0.0

        def grows(sl, l, sp):
            return (not math.isnan(l)) and l > 0 and sl * sp >= min_growth_fraction * base_mean
        half = len(t_h) // 2
        s1 = _fit(t_h[:half], y[:half], confidence) if half >= 3 else (math.nan,) * 4
        s2 = _fit(t_h[half:], y[half:], confidence) if len(t_h) - half >= 3 else (math.nan,) * 4
        if gcb is not None and len(b) < 3:
            verdict = "inconclusive"
        elif grows(slope, lo, span_h) and not (grows(s1[0], s1[1], span_h / 2) and not grows(s2[0], s2[1], span_h / 2)
                                              and s2[0] < 0.25 * s1[0]):
            verdict = "growth"
        elif grows(s1[0], s1[1], span_h / 2) and not grows(s2[0], s2[1], span_h / 2):
            verdict = "plateau"
        elif swing > 0.10:
            verdict = "sawtooth"
        else:
            verdict = "flat"
        rows.append({"run": r, "quantity": quantity, "basis": basis,
                     "source": b["source"][0] if len(b) else None, "verdict": verdict,
                     "slope_mb_per_hour": slope, "slope_ci_low": lo, "slope_ci_high": hi,
                     "confidence": confidence, "baseline_start_mb": float(icept),
                     "baseline_end_mb": float(icept + rise), "span_s": span_h * 3600, "points": len(b),
                     "median_swing_fraction": swing,
                     "first_half_slope_mb_per_hour": s1[0], "second_half_slope_mb_per_hour": s2[0]})
    if not rows:
        raise UsageError(f"no {quantity} series to fit")
    return pl.DataFrame(rows)


def trend_line(m, run=None) -> tuple[dict, pl.DataFrame | None]:
    """The leak trend of one run (``leak_trend``'s row, as a dict) and, when it has a slope, the
    baseline points with the fitted line (ts, mb, fit; MB), as ``memory_chart`` draws them."""
    run = run or m.runs[0]
    lt = leak_trend(m, run=run).row(0, named=True)
    if lt["slope_mb_per_hour"] != lt["slope_mb_per_hour"]:   # NaN: too few points for a line
        return lt, None
    b = major_gc_baseline(m, run)
    if b is None or len(b) < 3:
        b = baseline(m, run)
    b = b.with_columns(mb=pl.col("baseline_bytes") / MB).sort("ts")
    hrs = (b["ts"] - b["ts"].min()).dt.total_microseconds() / 3.6e9
    return lt, b.with_columns(fit=lt["baseline_start_mb"] + lt["slope_mb_per_hour"] * hrs).select("ts", "mb", "fit")
