"""Reader for CSV / JSONL exports of in-process samples: ``process.memoryUsage()``,
``perf_hooks.monitorEventLoopDelay()`` histograms and ``performance.eventLoopUtilization()``.

Units follow Node's API (research note A3-A5): memoryUsage fields (rss, heapTotal, heapUsed, external,
arrayBuffers) are bytes; monitorEventLoopDelay fields (min, max, mean, stddev, p50/p90/p99/..., and
``percentile_*``) are nanoseconds, ``count``/``exceeds`` are counts; eventLoopUtilization's
``idle``/``active`` are milliseconds and ``utilization`` a ratio. Doctor's CSV fixtures
(``memory.rss``, ``delay`` ms, ``cpu`` ratio, ``handles``) and snake_case spellings are accepted too.
The time column is the first of ts/timestamp/time/t/date: unix ms (values >= 1e11), unix s, or
ISO-8601 text. Unknown numeric columns are kept with an empty unit.

Bad input is never dropped silently: a JSONL line that is not a JSON object, or a CSV row with the
wrong number of fields or a non-numeric value, is a problem with its line number. CSV is split on
commas without quoting (these exports are numeric). Both paths are vectorised (polars).
"""
from __future__ import annotations

import json
import re

import polars as pl

from ..errors import FormatError
from ..metrics.builder import SCHEMA, TS, Part
from ._files import lines_frame, read_text

TIME_COLS = ("ts", "timestamp", "time", "t", "date", "datetime")
NS = {"min", "max", "mean", "stddev", "p50", "p75", "p90", "p95", "p99", "p999"}
UNIT = {"rss": "B", "heaptotal": "B", "heapused": "B", "external": "B", "arraybuffers": "B",
        "heap_total": "B", "heap_used": "B", "array_buffers": "B",
        "utilization": "1", "elu": "1", "active": "ms", "idle": "ms",
        "count": "count", "exceeds": "count", "delay": "ms", "cpu": "1", "handles": "count", "interval": "ms"}


def unit_for(col: str) -> str:
    c = col.lower()
    leaf = c.rsplit(".", 1)[-1]
    if leaf in UNIT:
        return UNIT[leaf]
    if leaf in NS or leaf.startswith("percentile") or re.fullmatch(r"p\d+(_\d+)?", leaf):
        return "ns"
    for suf, u in (("_bytes", "B"), ("_ns", "ns"), ("_ms", "ms"), ("_seconds", "s"), ("_s", "s")):
        if leaf.endswith(suf):
            return u
    return ""


def _time_expr(col: str, dtype) -> pl.Expr:
    c = pl.col(col)
    if dtype == pl.Utf8:
        num = c.cast(pl.Float64, strict=False)
        iso = c.str.to_datetime(time_zone="UTC", strict=False, time_unit="us")
        return pl.when(num.is_not_null()).then(_num_to_ts(num)).otherwise(iso)
    return _num_to_ts(c.cast(pl.Float64))


def _num_to_ts(num: pl.Expr) -> pl.Expr:
    ms = pl.when(num >= 1e11).then(num).otherwise(num * 1000.0)
    return (ms * 1000.0).round(0).cast(pl.Int64).cast(TS)


def _to_long(df: pl.DataFrame, src: str, tcol: str) -> pl.DataFrame:
    value_cols = [c for c in df.columns if c not in (tcol, "line") and df.schema[c].is_numeric()]
    if not value_cols:
        return pl.DataFrame(schema=SCHEMA)
    long = df.select("ts", *value_cols).unpivot(index="ts", variable_name="metric", value_name="value")
    units = pl.DataFrame({"metric": value_cols, "unit": [unit_for(c) for c in value_cols]})
    return (long.join(units, on="metric", how="left")
            .with_columns(source=pl.lit(src), labels=pl.lit(""), value=pl.col("value").cast(pl.Float64))
            .select(list(SCHEMA)).cast(SCHEMA))


def read_jsonl(path) -> Part:
    src = str(path)
    lines = lines_frame(read_text(path, "jsonl")).filter(pl.col("text").str.strip_chars() != "")
    try:
        rows = pl.DataFrame({"line": lines["line"]}).with_columns(
            lines["text"].str.json_decode(infer_schema_length=None).alias("o"))
        if rows.schema["o"] != pl.Struct or rows["o"].null_count():
            raise ValueError
        bad_lines: list[int] = []
    except Exception:
        # slow path only on bad input: find the offending lines one by one
        good, bad_lines = [], []
        for ln, t in lines.iter_rows():
            try:
                o = json.loads(t)
                if not isinstance(o, dict):
                    raise ValueError
                good.append(ln)
            except ValueError:
                bad_lines.append(ln)
        ok = lines.filter(pl.col("line").is_in(good))
        if not len(ok):
            raise FormatError(path, "jsonl", 0, f"no JSON object lines ({len(bad_lines)} unparsed)")
        rows = pl.DataFrame({"line": ok["line"]}).with_columns(
            ok["text"].str.json_decode(infer_schema_length=None).alias("o"))
    df = rows.unnest("o")
    problems = (lines.filter(pl.col("line").is_in(bad_lines))
                .select(pl.lit(src).alias("source"), "line", pl.lit("not a JSON object").alias("reason"), "text"))
    return _finish(df, src, path, problems, "jsonl")


def read_csv(path) -> Part:
    src = str(path)
    lines = lines_frame(read_text(path, "csv")).filter(pl.col("text").str.strip_chars() != "")
    if not len(lines):
        raise FormatError(path, "csv", 0, "empty file")
    header = [h.strip().strip('"') for h in lines["text"][0].split(",")]
    body = lines.slice(1).with_columns(f=pl.col("text").str.split(","))
    body = body.with_columns(n=pl.col("f").list.len())
    wrong = body.filter(pl.col("n") != len(header))
    body = body.filter(pl.col("n") == len(header))
    cols = {h: body["f"].list.get(i).str.strip_chars().str.strip_chars('"') for i, h in enumerate(header)}
    df = pl.DataFrame({"line": body["line"], **cols})
    tcol = _tcol(header)
    probs = [wrong.select(pl.lit(src).alias("source"), "line",
                          pl.format("{} fields, header has " + str(len(header)), "n").alias("reason"), "text")]
    # cast every non-time column; a non-empty cell that does not parse is a problem of its row
    casts = {}
    bad_mask = pl.lit(False)
    for h in header:
        if h == tcol:
            continue
        num = pl.col(h).cast(pl.Float64, strict=False)
        casts[h] = num
        bad_mask = bad_mask | (num.is_null() & (pl.col(h) != "") & (pl.col(h).str.to_lowercase() != "nan"))
    numeric_cols = [h for h in header if h != tcol and df[h].cast(pl.Float64, strict=False).null_count() < len(df)]
    bad_rows = df.filter(bad_mask) if numeric_cols else df.clear()
    bad_rows = bad_rows.select(pl.col("line")).join(body.select("line", "text"), on="line")
    probs.append(bad_rows.select(pl.lit(src).alias("source"), "line", pl.lit("a value is not a number").alias("reason"), "text"))
    df = df.filter(~bad_mask) if numeric_cols else df
    df = df.with_columns([casts[h] for h in numeric_cols]).drop([h for h in header if h != tcol and h not in numeric_cols])
    problems = pl.concat(probs).sort("line")
    return _finish(df, src, path, problems, "csv")


def _tcol(cols) -> str | None:
    lower = {c.lower(): c for c in cols}
    for t in TIME_COLS:
        if t in lower:
            return lower[t]
    return None


def _finish(df: pl.DataFrame, src: str, path, problems: pl.DataFrame, section: str) -> Part:
    tcol = _tcol(df.columns)
    if tcol is None:
        raise FormatError(path, section, 0, f"no time column (one of {', '.join(TIME_COLS)})")
    df = df.with_columns(_time_expr(tcol, df.schema[tcol]).alias("ts"))
    bad_ts = df.filter(pl.col("ts").is_null())
    if len(bad_ts):
        problems = pl.concat([problems, bad_ts.select(pl.lit(src).alias("source"), "line",
                                                      pl.lit("time is not a timestamp").alias("reason"),
                                                      pl.col(tcol).cast(pl.Utf8).alias("text"))])
        df = df.filter(pl.col("ts").is_not_null())
    # nested objects (e.g. {"memory": {...}}) become dotted columns
    while any(isinstance(df.schema[c], pl.Struct) for c in df.columns):
        for c in df.columns:
            if isinstance(df.schema[c], pl.Struct):
                df = df.with_columns(pl.col(c).name.prefix_fields(c + ".")).unnest(c)
    table = _to_long(df, src, tcol)
    if len(table) == 0:
        raise FormatError(path, section, 0, "no numeric sample columns")
    info = {"format": f"samples ({section})", "rows": len(df), "columns": sorted(set(table["metric"].unique())),
            "unparsed_lines": len(problems)}
    return Part(table=table, problems=problems.sort("line"), info=info)
