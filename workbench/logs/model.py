"""The Logs model: one long table of log records from every loaded file (pino, bunyan, winston JSON
lines, Node's stderr warnings), plus the loss report ``notes``.

``table`` columns (one row per record, in file order):
source (file), line (1-based line of the record's first line), format (pino, bunyan, winston, json,
node-warning), ts (UTC datetime; null where the producer wrote none: winston without timestamp(),
stderr warnings), level (trace, debug, info, warn, error, fatal; winston's http, verbose, silly; a
custom pino number as "level N"), severity (pino's scale, higher = more severe: trace 10 ... fatal 60;
winston's names mapped onto it), level_raw (as written), msg, trace_id (32 lowercase hex) and span_id
(16), req_id, method, route, status (HTTP status), duration_ms (pino-http responseTime, bunyan
latency), err_type, err_message, err_stack, pid, hostname, fields (the whole record as JSON text, so
no key is lost; for a stderr warning its code and pid).
"""
from __future__ import annotations

import polars as pl

from .._notes import notes_frame
from ..errors import UsageError

TS = pl.Datetime("us", "UTC")
COLUMNS = {"source": pl.Utf8, "line": pl.Int64, "format": pl.Utf8, "ts": TS, "level": pl.Utf8,
           "severity": pl.Int64, "level_raw": pl.Utf8, "msg": pl.Utf8, "trace_id": pl.Utf8, "span_id": pl.Utf8,
           "req_id": pl.Utf8, "method": pl.Utf8, "route": pl.Utf8, "status": pl.Int64, "duration_ms": pl.Float64,
           "err_type": pl.Utf8, "err_message": pl.Utf8, "err_stack": pl.Utf8, "pid": pl.Int64,
           "hostname": pl.Utf8, "fields": pl.Utf8}
SEVERITY = {"trace": 10, "debug": 20, "info": 30, "warn": 40, "error": 50, "fatal": 60}


class Logs:
    def __init__(self, table: pl.DataFrame, notes: pl.DataFrame | None = None, window: tuple | None = None):
        self.table = table
        self._notes = notes if notes is not None else notes_frame()
        self.window_range = window

    def __repr__(self) -> str:
        return (f"<Logs {len(self.table)} records from {self.table['source'].n_unique()} files, "
                f"{self.table['trace_id'].drop_nulls().n_unique()} traces, {len(self._notes)} notes>")

    def __len__(self) -> int:
        return len(self.table)

    @property
    def notes(self) -> pl.DataFrame:
        """The lossy steps of the reader (lines that are not records, with their line numbers)."""
        return self._notes

    def at_least(self, level: str | int) -> "Logs":
        """Records of this level or more severe (``"warn"``, ``"error"``, or a pino number)."""
        sev = SEVERITY.get(str(level).lower()) if not isinstance(level, int) else level
        if sev is None:
            raise UsageError(f"unknown level {level!r}; one of {', '.join(SEVERITY)}")
        return Logs(self.table.filter(pl.col("severity") >= sev), self._notes, self.window_range)

    def window(self, start, end=None) -> "Logs":
        """Records with ts in [start, end] (datetimes, unix ms, ISO text, or an altair brush dict)."""
        from .._time import bounds
        lo, hi = bounds(start, end)
        return Logs(self.table.filter(pl.col("ts").is_between(lo, hi)), self._notes, (lo, hi))

    # ---- analyses (delegating) ----------------------------------------------------------------
    def levels(self, **kw) -> pl.DataFrame:
        from .analyses import level_counts
        return level_counts(self, **kw)

    def templates(self, **kw) -> pl.DataFrame:
        from .analyses import error_templates
        return error_templates(self, **kw)

    def over_time(self, **kw) -> pl.DataFrame:
        from .analyses import counts_over_time
        return counts_over_time(self, **kw)
