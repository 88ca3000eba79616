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
from polars.exceptions import PanicException

from ..errors import FormatError
from ..metrics.builder import SCHEMA, TS, Part
from ._files import lines_frame, read_text

TIME_COLS = ("ts", "timestamp", "time", "t", "date", "datetime")
MAX_COLUMNS = 4096   # a samples export has tens
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


# |unix ms| beyond this is no time (year ~250000; polars cannot format such datetimes)
MAX_UNIX_MS = 8e15


def ms_to_ts(ms: pl.Expr) -> pl.Expr:
    """Unix milliseconds (float) as the table's timestamp; NaN, infinite or absurd times are null."""
    us = (ms * 1000.0).round(0)
    return pl.when(ms.abs() <= MAX_UNIX_MS).then(us).otherwise(None).cast(pl.Int64, strict=False).cast(TS)


def _num_to_ts(num: pl.Expr) -> pl.Expr:
    return ms_to_ts(pl.when(num >= 1e11).then(num).otherwise(num * 1000.0))


MAX_NAME = 256   # a column name is a metric name on every row of the long table


def _to_long(df: pl.DataFrame, src: str, tcol: str) -> pl.DataFrame:
    value_cols = [c for c in df.columns if c not in (tcol, "line") and df.schema[c].is_numeric()]
    if not value_cols:
        return pl.DataFrame(schema=SCHEMA)
    long = df.select("ts", *value_cols).unpivot(index="ts", variable_name="metric", value_name="value")
    units = pl.DataFrame({"metric": value_cols, "unit": [unit_for(c) for c in value_cols]})
    return (long.join(units, on="metric", how="left")
            .with_columns(source=pl.lit(src), labels=pl.lit(""), value=pl.col("value").cast(pl.Float64))
            .select(list(SCHEMA)).cast(SCHEMA))


def _json_object_line(text: str, strict: bool = True) -> bool:
    """A line the table can hold: a JSON object without NaN/Infinity, 1e999 or integers past int64
    (``strict=False``: the caller knows the line has none of them)."""
    if not strict:
        try:
            return isinstance(json.loads(text), dict)
        except (ValueError, RecursionError):
            return False

    def bad_constant(name):
        raise ValueError(name)

    def int64(digits):
        v = int(digits)
        if not -2**63 <= v < 2**63:
            raise ValueError(digits)
        return v

    def finite(digits):
        v = float(digits)
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(digits)
        return v

    try:
        o = json.loads(text, parse_constant=bad_constant, parse_int=int64, parse_float=finite)
    except (ValueError, RecursionError):
        return False
    return isinstance(o, dict)


def _decode(path, lines: pl.DataFrame) -> pl.DataFrame:
    rows = pl.DataFrame({"line": lines["line"]}).with_columns(
        lines["text"].str.json_decode(infer_schema_length=None).alias("o"))
    if rows.schema["o"] != pl.Struct:
        raise ValueError("not objects")
    fields = [f.name for f in rows.schema["o"].fields]
    if "line" in fields:  # our line-number column: the export's own "line" becomes "_line"
        rows = rows.with_columns(pl.col("o").struct.rename_fields(["_line" if f == "line" else f for f in fields]))
    return rows


def read_jsonl(path) -> Part:
    src = str(path)
    lines = lines_frame(read_text(path, "jsonl")).filter(pl.col("text").str.strip_chars() != "")
    try:
        rows = _decode(path, lines)
        if rows["o"].null_count():
            raise ValueError
        bad_mask = pl.zeros(len(lines), dtype=pl.Boolean, eager=True)
    except (Exception, PanicException):
        # slow path only on bad input: find the offending lines. A line polars does not read as JSON, or that does not start with '{', is no object: no need
        # to parse it in Python (masks, not Python lists: a file may hold millions of such lines);
        # only lines that may hold NaN, Infinity or numbers past int64/float need the strict check
        t = lines["text"].str.strip_chars()
        try:
            maybe = t.str.starts_with("{") & t.str.json_path_match("$").is_not_null()
        except (Exception, PanicException):  # noqa: BLE001 - then every such line is parsed
            maybe = t.str.starts_with("{")
        del t
        cand = lines.filter(maybe)
        odd = cand["text"].str.contains(r"NaN|Infinity|[0-9]{19}|[eE][+]?[0-9]{3}").to_list()
        fine = pl.Series([_json_object_line(text, strict) for text, strict in zip(cand["text"], odd)], dtype=pl.Boolean)
        good = lines["line"].is_in(cand["line"].filter(fine).implode())
        ok = lines.filter(good)
        bad_mask = ~good
        if not len(ok):
            raise FormatError(path, "jsonl", 0, f"no JSON object lines ({int(bad_mask.sum())} unparsed)")
        try:
            rows = _decode(path, ok)
        except (Exception, PanicException) as e:  # noqa: BLE001 - polars raises several types for foreign data
            raise FormatError(path, "jsonl", None, "the JSON objects do not make one table "
                              f"({str(e).splitlines()[0][:120] if str(e) else type(e).__name__})") from None
    df = rows.unnest("o")
    problems = (lines.filter(bad_mask)
                .select(pl.lit(src).alias("source"), "line", pl.lit("not a JSON object").alias("reason"), "text"))
    return _finish(df, src, path, problems, "jsonl")


def read_csv(path) -> Part:
    src = str(path)
    lines = lines_frame(read_text(path, "csv")).filter(pl.col("text").str.strip_chars() != "")
    if not len(lines):
        raise FormatError(path, "csv", 0, "empty file")
    names = lines["text"][0].split(",")
    if len(names) > MAX_COLUMNS:
        raise FormatError(path, "csv", 0, f"the header has {len(names)} columns: not a samples export "
                          f"(at most {MAX_COLUMNS})")
    header, seen = [], set()
    for h in (h.strip().strip('"') for h in names):
        h = "_line" if h == "line" else h   # "line" is our line-number column
        while h in seen:                    # a repeated column name gets a suffix
            h += "_"
        seen.add(h)
        header.append(h)
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
    dt = df.schema[tcol]
    if not (dt == pl.Utf8 or dt.is_numeric() or dt == pl.Boolean or dt == pl.Null):
        raise FormatError(path, section, None, f"the time column '{tcol}' holds {dt} values, not times")
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
    long = next((c for c in df.columns if len(c) > MAX_NAME), None)
    if long is not None:
        raise FormatError(path, section, None, f"a column name of {len(long)} characters ({long[:40]!r}...): "
                          f"not a samples export (at most {MAX_NAME})")
    table = _to_long(df, src, tcol)
    if len(table) == 0:
        raise FormatError(path, section, 0, "no numeric sample columns")
    info = {"format": f"samples ({section})", "rows": len(df), "columns": sorted(set(table["metric"].unique())),
            "unparsed_lines": len(problems)}
    return Part(table=table, problems=problems.sort("line"), info=info)
