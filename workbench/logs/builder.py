"""Building a Logs model from what the log reader parsed: the reader hands over one frame of raw
columns per file (strings as the producers wrote them); here they become the typed record table
(``model.COLUMNS``): levels named on one scale, times on the wall clock, ids lowercased."""
from __future__ import annotations

import polars as pl

from .._notes import concat, notes_frame
from .model import COLUMNS, Logs

# pino's (and bunyan's) numbers; winston's npm names mapped onto the same scale (higher = more severe)
PINO_LEVELS = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}
NAMED_SEVERITY = {"trace": 10, "silly": 10, "verbose": 15, "debug": 20, "http": 25, "info": 30, "notice": 35,
                  "warn": 40, "warning": 40, "error": 50, "err": 50, "crit": 55, "critical": 55, "alert": 58,
                  "emerg": 60, "fatal": 60, "panic": 60}
TS = pl.Datetime("us", "UTC")
MAX_UNIX_MS = 8e15
_ANSI = r"\x1b\[[0-9;]*m"


def level_exprs(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(level name, severity) from the raw level text: pino/bunyan numbers, or names (winston's,
    pino's labels; ANSI colour codes from winston's colorize() removed)."""
    clean = raw.str.replace_all(_ANSI, "").str.strip_chars().str.to_lowercase()
    num = clean.cast(pl.Float64, strict=False)
    num_int = pl.when(num.is_not_null() & (num == num.round(0)) & (num.abs() < 1e9)).then(num).cast(pl.Int64, strict=False)
    by_num = num_int.replace_strict(PINO_LEVELS, default=None, return_dtype=pl.Utf8)
    name = (pl.when(num_int.is_not_null()).then(pl.coalesce(by_num, pl.lit("level ") + num_int.cast(pl.Utf8)))
            .otherwise(clean))
    sev = pl.when(num_int.is_not_null()).then(num_int).otherwise(
        clean.replace_strict(NAMED_SEVERITY, default=None, return_dtype=pl.Int64))
    return name, sev.cast(pl.Int64)


def time_expr(raw: pl.Expr) -> pl.Expr:
    """The record time: unix ms (pino's default), unix s (values below 1e11: pino's unixTime), or
    ISO-8601 text (bunyan, winston's timestamp(), pino's isoTime)."""
    num = raw.cast(pl.Float64, strict=False)
    ms = pl.when(num.abs() >= 1e11).then(num).otherwise(num * 1000.0)
    from_num = pl.when(ms.abs() <= MAX_UNIX_MS).then((ms * 1000.0).round(0)).otherwise(None) \
        .cast(pl.Int64, strict=False).cast(TS)
    iso = raw.str.to_datetime(time_zone="UTC", strict=False, time_unit="us", format=None)
    return pl.when(num.is_not_null()).then(from_num).otherwise(iso)


def _numeric_time(raw: pl.Expr) -> pl.Expr:
    num = raw.cast(pl.Float64, strict=False)
    ms = pl.when(num.abs() >= 1e11).then(num).otherwise(num * 1000.0)
    return pl.when(ms.abs() <= MAX_UNIX_MS).then((ms * 1000.0).round(0)).otherwise(None) \
        .cast(pl.Int64, strict=False).cast(TS)


def _hex_id(raw: pl.Expr) -> pl.Expr:
    s = raw.str.strip_chars().str.to_lowercase()
    return pl.when(s.str.contains(r"^[0-9a-f]+$") & (s.str.len_chars() <= 32)).then(s).otherwise(None)


def records(raw: pl.DataFrame) -> pl.DataFrame:
    """Typed records from the reader's raw string columns (``RAW_COLUMNS`` of ``workbench.io.logs``);
    records typed already (a reader may type each piece of a big file as it goes) pass through."""
    if "severity" in raw.columns:
        return raw
    level, severity = level_exprs(pl.col("level_raw"))
    t = pl.col("time_raw")
    # ISO parsing with format inference is the costly part: only when some time is not a number
    texty = raw.select((t.is_not_null() & t.cast(pl.Float64, strict=False).is_null()).any()).item()
    return raw.with_columns(
        ts=time_expr(t) if texty else _numeric_time(t),
        level=level, severity=severity,
        trace_id=_hex_id(pl.col("trace_id")).str.pad_start(32, "0"),
        span_id=_hex_id(pl.col("span_id")).str.pad_start(16, "0"),
        status=pl.col("status").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False),
        duration_ms=pl.col("duration_ms").cast(pl.Float64, strict=False),
        pid=pl.col("pid").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False),
    ).select(list(COLUMNS)).cast(COLUMNS)


def build(parts, quiet: bool = True) -> Logs:
    """One Logs model from (records frame, notes frame) per file, in file order."""
    tables = [r for r, _ in parts]
    table = pl.concat(tables, how="vertical", rechunk=False) if tables else pl.DataFrame(schema=COLUMNS)
    notes = concat([n for _, n in parts])
    untimed = table.filter(pl.col("ts").is_null() & (pl.col("format") != "node-warning"))
    extra = []
    for (src,), g in untimed.group_by("source", maintain_order=True):
        lines = g["line"].head(10).to_list()
        extra.append((src, "line " + ", ".join(map(str, lines)) + (" ..." if len(g) > 10 else ""), len(g),
                      "records without a time (kept, ts null)"))
    return Logs(table, concat([notes, notes_frame(extra)]))
