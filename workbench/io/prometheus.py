"""Reader for Prometheus text exposition 0.0.4 and OpenMetrics 1.0 scrapes: one file, or a folder
of timestamped scrapes, into rows of the metrics long table.

Semantics (https://prometheus.io/docs/instrumenting/exposition_formats/ and the OpenMetrics 1.0
spec): ``# HELP``/``# TYPE``/``# UNIT`` lines describe a family; a sample line is
``name{label="value",...} value [timestamp]``; histograms are ``_bucket{le=...}`` (cumulative) plus
``_sum``/``_count``, summaries ``{quantile=...}`` plus ``_sum``/``_count``. The sample timestamp is
integer milliseconds in 0.0.4 and float seconds in OpenMetrics (a file is OpenMetrics when it has
``# EOF`` or its name says ``openmetrics``). A sample without a timestamp takes the scrape time: the
number in the file name (10 digits = unix s, 13 = unix ms, as written by the workbench datasets
and most scrape dumpers), else ``ts=`` given by the caller, else the file's mtime (noted in info).
OpenMetrics exemplars (``# {...} v [ts]`` after a sample) are ignored and counted.

prom-client writes ``nodejs_eventloop_lag_min_seconds 9223372036.854776`` and ``mean NaN`` before
the loop-delay histogram has any sample; the sentinel becomes NaN and is counted in info.
Units come from ``# UNIT`` or the name suffix (``_bytes`` B, ``_seconds`` s, ``_ratio`` 1,
``_total``/``_count``/``_bucket`` count). Lines that are none of the above are problems, with their
line numbers. The parse is vectorised (polars regex over all lines of all scrapes at once).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl

from ..errors import FormatError
from ..metrics.builder import SCHEMA, Part, empty_problems
from ._files import lines_frame, read_text
from .memory_samples import ms_to_ts

# Whitespace as the Prometheus text parser (prometheus/common expfmt) allows it: before a line,
# between the name and '{', around label names, '=' and ',' inside the braces, none needed after '}'.
SAMPLE_RE = (r'^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)'
             r'(?:[ \t]*\{(?<labels>(?:[^"}]|"(?:[^"\\]|\\.)*")*)\}[ \t]*|[ \t]+)'
             r'(?<value>[^ \t#]+)'
             r'(?:[ \t]+(?<tsv>-?[0-9][0-9.eE+-]*))?'
             r'[ \t]*(?<exemplar>#.*)?$')
META_RE = r'^#[ \t]+(?<kind>HELP|TYPE|UNIT)[ \t]+(?<fname>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:[ \t]+(?<arg>.*))?$'
SUFFIXES = ("_bucket", "_count", "_sum", "_created", "_total", "_gsum", "_gcount", "_info")
SENTINEL = 9223372036.0  # int64 max nanoseconds as seconds: prom-client's "no sample yet"
SCRAPE_EXT = {".prom", ".txt", ".metrics", ".om", ""}
NAME_TS = re.compile(r"(?<!\d)(\d{10}(?:\d{3})?)(?:\.\d+)?(?!\d)")


def _file_ts(path: Path, ts) -> tuple[float, str]:
    m = NAME_TS.search(path.name)
    if m:
        v = int(m.group(1))
        return (float(v) if len(m.group(1)) == 13 else v * 1000.0), "file name"
    if ts is not None:
        return _as_unix_ms(ts), "ts argument"
    return path.stat().st_mtime * 1000.0, "file mtime"


def _as_unix_ms(ts) -> float:
    import datetime as _dt
    if isinstance(ts, _dt.datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=_dt.timezone.utc)
        return ts.timestamp() * 1000.0
    return float(ts)


def _unit_expr(name: pl.Expr) -> pl.Expr:
    base = name.str.replace(r"(_bucket|_count|_sum|_created|_total|_gsum|_gcount)$", "")
    return (pl.when(name.str.ends_with("_bucket") | name.str.ends_with("_count")).then(pl.lit("count"))
            .when(name.str.ends_with("_created")).then(pl.lit("s"))
            .when(base.str.ends_with("_bytes")).then(pl.lit("B"))
            .when(base.str.ends_with("_seconds")).then(pl.lit("s"))
            .when(base.str.ends_with("_ratio")).then(pl.lit("1"))
            .when(name.str.ends_with("_total")).then(pl.lit("count"))
            .otherwise(pl.lit("")))


def read_prometheus(*paths, ts=None, section: str = "exposition") -> Part:
    """Read one or more scrape files (a folder expands to its scrape files, sorted by name)."""
    files: list[Path] = []
    table_source: dict[Path, str] = {}
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix in SCRAPE_EXT
                           and not q.name.startswith("."))
            if not found:
                raise FormatError(p, "folder", None, "no scrape files (*.prom, *.txt, *.metrics) in folder")
            files.extend(found)
            table_source.update({q: os.fspath(p) for q in found})
        else:
            files.append(p)
    frames, meta = [], []
    ts_origin: dict[str, int] = {}
    for i, f in enumerate(files):
        text = read_text(f, section)
        lf = lines_frame(text).with_columns(pl.lit(i, pl.Int32).alias("file"))
        fts, origin = _file_ts(f, ts)
        ts_origin[origin] = ts_origin.get(origin, 0) + 1
        is_om = ("# EOF" in text[-200:]) or ("openmetrics" in f.name.lower())
        meta.append({"file": i, "source": table_source.get(f, os.fspath(f)), "path": os.fspath(f),
                     "file_ts": fts, "om": is_om})
        frames.append(lf)
    lines = pl.concat(frames) if frames else pl.DataFrame(schema={"line": pl.Int64, "text": pl.Utf8, "file": pl.Int32})
    meta_df = pl.DataFrame(meta, schema={"file": pl.Int32, "source": pl.Utf8, "path": pl.Utf8,
                                         "file_ts": pl.Float64, "om": pl.Boolean})

    lines = lines.with_columns(pl.col("text").str.strip_chars_start(" \t"))
    t = pl.col("text")
    lines = lines.with_columns(
        blank=t.str.strip_chars() == "",
        comment=t.str.starts_with("#"),
    )
    # (other comments are ignored: only lines that start like # HELP/TYPE/UNIT get the captures)
    comments = lines.filter(pl.col("comment") & pl.col("text").str.contains(r"^#[ \t]+(HELP|TYPE|UNIT)\b"))
    md = comments.with_columns(pl.col("text").str.extract_groups(META_RE).alias("m")).unnest("m")
    types = md.filter(pl.col("kind") == "TYPE").select("file", "fname", pl.col("arg").str.strip_chars().alias("type"))
    units = md.filter(pl.col("kind") == "UNIT").select("file", "fname", pl.col("arg").str.strip_chars().alias("om_unit"))
    # '# HELP' with no metric name is a plain comment to the Prometheus parser
    bad_meta = md.filter(pl.col("kind").is_null() & ~pl.col("text").str.contains(r"^#[ \t]*EOF[ \t]*$")
                         & pl.col("text").str.contains(r"^#[ \t]+(HELP|TYPE|UNIT)[ \t]+\S"))

    body = lines.filter(~pl.col("blank") & ~pl.col("comment"))
    # the captures only for lines that are samples (polars keeps them for every row, matched or not)
    is_sample = body["text"].str.contains(SAMPLE_RE)
    unmatched = body.filter(~is_sample)
    samples = (body.filter(is_sample)
               .with_columns(pl.col("text").str.extract_groups(SAMPLE_RE).alias("m")).unnest("m"))
    value = (pl.col("value").str.to_lowercase().str.replace(r"^\+", "").cast(pl.Float64, strict=False))
    samples = samples.with_columns(v=value, tsf=pl.col("tsv").cast(pl.Float64, strict=False))
    ok = pl.col("name").is_not_null() & pl.col("v").is_not_null() & (pl.col("tsv").is_null() | pl.col("tsf").is_not_null())
    bad = samples.filter(~ok)
    good = samples.filter(ok)

    good = good.join(meta_df.drop("path"), on="file", how="left")
    # a sample's scrape-time: its own timestamp (ms in 0.0.4, s in OpenMetrics) or the file's time
    ts_ms = (pl.when(pl.col("tsf").is_null()).then(pl.col("file_ts"))
             .when(pl.col("om")).then(pl.col("tsf") * 1000.0)
             .otherwise(pl.col("tsf")))
    fam = pl.col("name").str.replace(r"(_bucket|_count|_sum|_created|_total|_gsum|_gcount|_info)$", "")
    good = good.with_columns(ts_ms=ts_ms, family=fam).with_columns(ts=ms_to_ts(pl.col("ts_ms")))
    far = good.filter(pl.col("ts").is_null())
    good = good.filter(pl.col("ts").is_not_null())
    good = (good.join(units.rename({"fname": "family"}).unique(["file", "family"]), on=["file", "family"], how="left")
                .join(units.rename({"fname": "name", "om_unit": "om_unit2"}).unique(["file", "name"]), on=["file", "name"], how="left"))
    om_unit = pl.coalesce("om_unit2", "om_unit")
    unit = (pl.when(om_unit == "bytes").then(pl.lit("B")).when(om_unit == "seconds").then(pl.lit("s"))
            .when(om_unit == "ratio").then(pl.lit("1")).otherwise(_unit_expr(pl.col("name"))))
    sentinel = (pl.col("v") >= SENTINEL) & pl.col("name").str.contains("eventloop_(lag|delay)")
    good = good.with_columns(unit=unit, sentinel=sentinel)
    n_sentinel = int(good["sentinel"].sum())
    # labels in one spelling: name="value" pairs joined by ',' (whitespace around '=' and ',' and a
    # trailing ',' dropped; the quoted values are kept byte for byte)
    pairs = pl.col("labels").str.extract_all(r'[a-zA-Z_][a-zA-Z0-9_]*[ \t]*=[ \t]*"(?:[^"\\]|\\.)*"')
    labels = (pl.when(pl.col("labels").str.contains(r'[ \t]|,$'))
              .then(pairs.list.eval(pl.element().str.replace(r'^([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*', "${1}="))
                    .list.join(","))
              .otherwise(pl.col("labels").str.strip_chars().str.strip_suffix(","))
              .fill_null(""))
    table = good.select(
        source=pl.col("source"),
        ts=pl.col("ts"),
        metric=pl.col("name"),
        value=pl.when(pl.col("sentinel")).then(float("nan")).otherwise(pl.col("v")),
        unit=pl.col("unit"),
        labels=labels,
    )
    # types: name -> type, from TYPE lines, also for the suffixed sample names of a family
    type_map = {}
    for fname, typ in types.select("fname", "type").unique().iter_rows():
        type_map[fname] = typ
    for name, family in good.select("name", "family").unique().iter_rows():
        if name not in type_map and family in type_map:
            type_map[name] = type_map[family]

    src = meta_df.select("file", pl.col("path").alias("source"))
    probs = []
    if len(unmatched):
        probs.append(unmatched.join(src, on="file").select("source", "line", pl.lit("not a sample line").alias("reason"),
                                                           "text"))
    if len(bad):
        reason = (pl.when(pl.col("name").is_null()).then(pl.lit("not a sample line"))
                  .when(pl.col("v").is_null()).then(pl.lit("value is not a number"))
                  .otherwise(pl.lit("timestamp is not a number")))
        probs.append(bad.join(src, on="file").select("source", "line", reason.alias("reason"), "text"))
    if len(far):
        probs.append(far.drop("source").join(src, on="file").select("source", "line", pl.lit("timestamp out of range").alias("reason"),
                                                     "text"))
    if len(bad_meta):
        probs.append(bad_meta.join(src, on="file").select("source", "line", pl.lit("malformed # HELP/TYPE/UNIT line").alias("reason"), "text"))
    problems = pl.concat(probs) if probs else empty_problems()
    info = {"format": "prometheus", "files": len(files), "samples": len(table), "lines": len(lines),
            "sentinels_to_nan": n_sentinel, "exemplars_ignored": int(good["exemplar"].is_not_null().sum()),
            "openmetrics_files": int(meta_df["om"].sum()), "scrape_time_from": ts_origin, "types": type_map}
    if len(table) == 0:
        first = files[0] if len(files) == 1 else files[0].parent
        raise FormatError(first, section, 0, f"no metric samples ({len(problems)} unparsed lines)")
    return Part(table=table.cast(SCHEMA), problems=problems.sort("source", "line"), info=info)
