"""GC pauses per type: count, total, p99 and share of wall time, from GC logs (--trace-gc / -nvp)
or Doctor's blocking GC trace events. Wall time is the span of the run's loaded samples (or the
Metrics window), so ``share_of_wall`` is the fraction of that span spent paused in this GC type."""
from __future__ import annotations

import polars as pl


def gc_pauses(m, run=None, source=None) -> pl.DataFrame:
    """run, source, type, kind, count, total_ms, mean_ms, p50_ms, p99_ms, max_ms, wall_s, share_of_wall."""
    ev = m.gc_events.filter(pl.col("pause_ms").is_not_null())
    if run is not None:
        ev = ev.filter(pl.col("run") == run)
    if source is not None:
        ev = ev.filter(pl.col("source").str.contains(source, literal=True))
    if m.window_range is not None:
        lo, hi = m.window_range
        wall = pl.DataFrame({"run": ev["run"].unique(), "wall_s": (hi - lo).total_seconds()})
    else:
        wall = (m.table.group_by("run").agg(wall_s=(pl.col("ts").max() - pl.col("ts").min()).dt.total_microseconds() / 1e6))
    out = (ev.group_by("run", "source", "type", "kind")
           .agg(count=pl.len(), total_ms=pl.col("pause_ms").sum(), mean_ms=pl.col("pause_ms").mean(),
                p50_ms=pl.col("pause_ms").quantile(0.5, "linear"), p99_ms=pl.col("pause_ms").quantile(0.99, "linear"),
                max_ms=pl.col("pause_ms").max())
           .join(wall, on="run", how="left")
           .with_columns(share_of_wall=pl.col("total_ms") / 1000.0 / pl.col("wall_s"))
           .sort("run", "source", "total_ms", descending=[False, False, True]))
    return out
