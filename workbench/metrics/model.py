"""The Metrics model: one long table of samples from every loaded export, plus GC events, the
lines that could not be parsed, and the raw Doctor recordings the diagnosis needs.

``table`` columns: source (file), ts (UTC datetime), metric (name as exported), value, unit (as
exported: B, s, ms, ns, 1, %, count), labels (``k="v",...``), run (one process/recording; by default
the folder the file is in), quantity (the name map's word for it, or null; see names.py).
``gc_events``: one row per collection (run, source, ts, type, kind minor/major, pause_ms, ...).
``problems``: source, line (byte offset for binary files), reason, text — every unparsed line;
``notes`` sums them up in the one loss-report shape of every model (``workbench._notes``).
"""
from __future__ import annotations

import polars as pl

from .._notes import notes_frame
from . import names


class Metrics:
    def __init__(self, table: pl.DataFrame, gc_events: pl.DataFrame, problems: pl.DataFrame,
                 sources: pl.DataFrame, doctor: dict | None = None, types: dict | None = None,
                 window: tuple | None = None):
        self.table = table
        self.gc_events = gc_events
        self.problems = problems
        self.sources = sources
        self.doctor = doctor or {}
        self.types = types or {}
        self.window_range = window

    def __repr__(self) -> str:
        runs = self.table["run"].unique().sort().to_list()
        return (f"<Metrics {len(self.table)} samples, {self.table['metric'].n_unique()} metrics, "
                f"{len(self.gc_events)} GC events, runs={runs}, {len(self.problems)} unparsed lines>")

    @property
    def notes(self) -> pl.DataFrame:
        """The lossy steps of the readers, one row per (source, reason): section lists the first
        line numbers (``file`` for skipped files), count how many lines (or files)."""
        rows = []
        for (src, reason), g in self.problems.group_by("source", "reason", maintain_order=True):
            lines = g["line"].to_list()
            section = "file" if reason.startswith("skipped") else \
                "line " + ", ".join(str(x) for x in lines[:10]) + (" ..." if len(lines) > 10 else "")
            rows.append((src, section, len(lines), reason))
        return notes_frame(rows)

    # ---- access -------------------------------------------------------------------------------
    @property
    def runs(self) -> list[str]:
        return self.table["run"].unique().sort().to_list()

    def quantities(self) -> pl.DataFrame:
        """Which quantities are present, from which sources (run, quantity, metric, source, samples)."""
        return (self.table.filter(pl.col("quantity").is_not_null())
                .group_by("run", "quantity", "metric", "source").agg(samples=pl.len())
                .sort("run", "quantity", "source"))

    def series(self, quantity: str, run: str | None = None, source: str | None = None) -> pl.DataFrame:
        """One quantity in canonical units (B, ms, 1, count): columns run, source, metric, ts, value, unit.
        Quantities spread over labels in OpenTelemetry (heap used per space) are summed per scrape."""
        t = self.table.filter(pl.col("quantity") == quantity)
        if run is not None:
            t = t.filter(pl.col("run") == run)
        if source is not None:
            t = t.filter(pl.col("source").str.contains(source, literal=True))
        if t.is_empty():
            return pl.DataFrame(schema={"run": pl.Utf8, "source": pl.Utf8, "metric": pl.Utf8, "ts": t.schema["ts"],
                                        "value": pl.Float64, "unit": pl.Utf8})
        m = names.mapping(t.select("metric", "unit").unique())
        t = t.join(m.drop("quantity"), on=["metric", "unit"], how="left").with_columns(
            value=pl.col("value") * pl.col("factor"), unit=pl.col("canonical_unit"))
        summed = t.filter(pl.col("agg") == "sum").group_by("run", "source", "metric", "ts", "unit").agg(pl.col("value").sum())
        plain = t.filter(pl.col("agg") != "sum").select("run", "source", "metric", "ts", "value", "unit")
        return pl.concat([plain, summed.select(plain.columns)]).sort("run", "source", "ts")

    def summary(self) -> pl.DataFrame:
        """One row per (run, metric, labels): samples, first/last time, min, mean, max, last value."""
        return (self.table.sort("ts").group_by("run", "metric", "labels", "unit", maintain_order=True)
                .agg(quantity=pl.col("quantity").first(), samples=pl.len(), first_ts=pl.col("ts").min(),
                     last_ts=pl.col("ts").max(), min=pl.col("value").min(), mean=pl.col("value").mean(),
                     max=pl.col("value").max(), last=pl.col("value").last())
                .sort("run", "metric", "labels"))

    def window(self, start, end) -> "Metrics":
        """The same data restricted to [start, end] (datetimes, unix ms, or an altair brush dict)."""
        from .._time import bounds
        lo, hi = bounds(start, end, key="ts")
        f = pl.col("ts").is_between(lo, hi)
        doctor = {}
        for run, d in self.doctor.items():
            ps = d["process_stat"]
            lo_ms, hi_ms = lo.timestamp() * 1000, hi.timestamp() * 1000
            doctor[run] = dict(d, process_stat=ps.filter(pl.col("timestamp").is_between(lo_ms, hi_ms)),
                               trace_events=d["trace_events"].filter((pl.col("start_ms") >= lo_ms) & (pl.col("end_ms") <= hi_ms)),
                               window=(lo_ms, hi_ms))
        return Metrics(self.table.filter(f), self.gc_events.filter(f), self.problems, self.sources,
                       doctor, self.types, (lo, hi))

    # ---- analyses (delegating) ----------------------------------------------------------------
    def leak_trend(self, **kw):
        from .leak import leak_trend
        return leak_trend(self, **kw)

    def event_loop(self, **kw):
        from .eventloop import event_loop_delay
        return event_loop_delay(self, **kw)

    def blocked_windows(self, **kw):
        from .eventloop import blocked_windows
        return blocked_windows(self, **kw)

    def gc_pauses(self, **kw):
        from .gc import gc_pauses
        return gc_pauses(self, **kw)

    def correlate(self, **kw):
        from .correlate import correlate
        return correlate(self, **kw)

    def diagnose(self, **kw):
        from .diagnose import diagnose
        return diagnose(self, **kw)

    def timeline(self, **kw):
        """Every loaded series of one run on one time axis (altair; ``workbench.charts.metrics``)."""
        from ..charts.metrics import timeline
        return timeline(self, **kw)
