"""Reader for V8 GC traces: ``node --trace-gc`` (current, Node-guide and very old formats) and
``node --trace-gc-nvp``, into one row per collection plus rows of the metrics long table.

Formats (V8 src/heap/gc-tracer.cc ``GCTracer::Print``/``PrintNVP``; nodejs.org guide
"using-gc-traces"; research note A6):

* current:  ``[pid:isolate]  t ms: Type[ (reduce)][ (interleaved)] ub (cb) -> ua (ca) MB[, pooled: p MB],
  pause / ext ms [ (+ x ms in n steps since start of marking, biggest step y ms, walltime since start of
  marking w ms)] (average mu = a, current mu = c) gc_reason[; collector_reason]``
* Node guide (older): the same without ``pooled:`` and without ``; collector_reason``
* very old (2015): ``[pid] t ms: Type ub (cb) -> ua (ca) MB, [ext / ]pause ms [reason].`` — the
  reason is bracketed and an external time, when present, is printed *before* the pause.
* NVP: ``[pid:isolate] t ms: pause=.. mutator=.. gc=s|mms|mc|ms ...`` (key set varies per type and
  V8 version; parsed into a wide sparse table, ``%`` suffixes stripped).

``t`` is milliseconds since the isolate started; the reader keeps it as ``t_ms`` and places events on
the wall clock only when told where the isolate started (``start=`` unix ms or datetime); otherwise
ts is 1970-01-01 + t (``info['relative_time'] = True``) and ``load_metrics`` may align it to another
source of the same run. Types map to ``kind``: Scavenge/Minor Mark-Sweep/Minor Mark-Compact (nvp
``s``/``mms``) are ``minor``; Mark-sweep/Mark-Compact (nvp ``ms``/``mc``) are ``major``.

Every line is either a GC event or a problem (reason ``not a GC trace line``), with its line number.
Parsing is vectorised (polars regex over all lines).
"""
from __future__ import annotations


import polars as pl

from ..errors import FormatError
from ..metrics.builder import SCHEMA, TS, Part
from ._files import lines_frame, read_text
from .memory_samples import ms_to_ts

# Node 24 and later print a third prefix field in --trace-gc-nvp lines: [pid:isolate:0]
PREFIX = r'^\[(?<pid>\d+)(?::(?<isolate>0x[0-9a-fA-F]+))?(?::\d+)?\]\s+(?<t_ms>[0-9]+(?:\.[0-9]+)?) ms: '
TEXT_RE = (PREFIX +
           r'(?<type>[A-Z][A-Za-z]*(?:[ -][A-Za-z]+)*?)(?<reduce> \(reduce\))?(?<interleaved> \(interleaved\))?'
           r'\s+(?<used_before_mb>[0-9.]+) \((?<committed_before_mb>[0-9.]+)\) -> '
           r'(?<used_after_mb>[0-9.]+) \((?<committed_after_mb>[0-9.]+)\) MB,\s*'
           r'(?:pooled: (?<pooled_mb>[0-9.]+) MB,\s*)?'
           r'(?<n1>[0-9.]+)(?: / (?<n2>[0-9.]+))? ms'
           r'(?:\s*\(\+ (?<incremental_ms>[0-9.]+) ms in (?<incremental_steps>\d+) steps? since (?:start of marking|last GC)'
           r'(?:, biggest step (?<incremental_biggest_ms>[0-9.]+) ms)?'
           r'(?:, walltime since start of marking (?<marking_walltime_ms>[0-9.]+) ms)?\))?'
           r'(?:\s*\(average mu = (?<average_mu>[0-9.]+), current mu = (?<current_mu>[0-9.]+)\))?'
           r'\s*(?<reason>.*?)\s*$')
NVP_RE = PREFIX + r'(?<nvp>(?:pause|gc)=.*)$'
# Node 26 (V8 14) prints --trace-gc-nvp as one JSON object per collection: "GC: {...}"
JSON_RE = PREFIX + r'GC: (?<json>\{.*\})\s*$'
MINOR = {"Scavenge", "Minor Mark-Sweep", "Minor Mark-Compact", "Minor MS", "s", "mms", "mmc"}
MAJOR = {"Mark-sweep", "Mark-Compact", "Mark-Sweep", "ms", "mc"}
FLOATS = ["used_before_mb", "committed_before_mb", "used_after_mb", "committed_after_mb", "pooled_mb",
          "incremental_ms", "incremental_biggest_ms", "marking_walltime_ms", "average_mu", "current_mu"]
EVENT_SCHEMA = {"line": pl.Int64, "pid": pl.Int64, "isolate": pl.Utf8, "t_ms": pl.Float64, "ts": TS,
                "type": pl.Utf8, "kind": pl.Utf8, "reduce": pl.Boolean, "pause_ms": pl.Float64,
                "external_ms": pl.Float64}


def _kind(col: str) -> pl.Expr:
    c = pl.col(col)
    return (pl.when(c.is_in(list(MINOR))).then(pl.lit("minor"))
            .when(c.is_in(list(MAJOR))).then(pl.lit("major")).otherwise(pl.lit("other")))


def read_gclog(path, start=None) -> Part:
    src = str(path)
    text = read_text(path, "gc trace")
    lines = lines_frame(text)
    start_ms = _start_ms(start)
    # both patterns start with PREFIX: the others are problems without the 25 captures (16 bytes
    # each per line, even when they do not match: a file of short garbage lines took 50x its size)
    cand = lines.filter(pl.col("text").str.contains(PREFIX))
    parsed = cand.with_columns(pl.col("text").str.extract_groups(TEXT_RE).alias("m")).unnest("m")
    is_text = pl.col("type").is_not_null()
    nvp = (cand.with_columns(pl.col("text").str.extract_groups(NVP_RE).alias("m")).unnest("m")
           .filter(pl.col("nvp").is_not_null()))
    js = (cand.with_columns(pl.col("text").str.extract_groups(JSON_RE).alias("m")).unnest("m")
          .filter(pl.col("json").is_not_null()))
    if len(js):
        nvp = pl.concat([nvp, js.with_columns(nvp=pl.Series(_json_to_nvp(js["json"].to_list()), dtype=pl.Utf8))
                        .drop("json").filter(pl.col("nvp").is_not_null())], how="diagonal_relaxed")
    text_ev = parsed.filter(is_text)
    old_style = pl.col("reason").str.starts_with("[")
    text_ev = text_ev.with_columns(
        [pl.col(c).cast(pl.Float64, strict=False) for c in FLOATS],
        pid=pl.col("pid").cast(pl.Int64, strict=False), t_ms=pl.col("t_ms").cast(pl.Float64),
        reduce=pl.col("reduce").is_not_null(), interleaved=pl.col("interleaved").is_not_null(),
        incremental_steps=pl.col("incremental_steps").cast(pl.Int64, strict=False),
        # very old V8 printed "[external / ]pause ms"; newer ones print "pause / external ms"
        pause_ms=pl.when(old_style & pl.col("n2").is_not_null()).then(pl.col("n2")).otherwise(pl.col("n1"))
                   .cast(pl.Float64, strict=False),
        external_ms=pl.when(old_style & pl.col("n2").is_not_null()).then(pl.col("n1")).otherwise(pl.col("n2"))
                      .cast(pl.Float64, strict=False),
        gc_reason=pl.when(old_style).then(pl.col("reason").str.replace(r"^\[(.*)\]\.?$", "$1"))
                    .otherwise(pl.col("reason").str.split(";").list.get(0, null_on_oob=True)).str.strip_chars(),
        collector_reason=pl.when(old_style).then(pl.lit(None, pl.Utf8))
                           .otherwise(pl.col("reason").str.split(";").list.get(1, null_on_oob=True)).str.strip_chars().replace("", None),
        format=pl.when(old_style).then(pl.lit("trace-gc (2015)"))
                 .when(pl.col("pooled_mb").is_not_null() | pl.col("reason").str.contains(";")).then(pl.lit("trace-gc"))
                 .otherwise(pl.lit("trace-gc (node guide)")),
    ).with_columns(kind=_kind("type")).drop("n1", "n2", "reason") \
        .filter(pl.col("pause_ms").is_not_null())   # "0..0 ms" is no pause: a problem line

    if len(nvp):
        index = ("line", "pid", "isolate", "t_ms")
        pairs = (nvp.select(*index, kv=pl.col("nvp").str.extract_all(r"[^ =]+=[^ ]*"))
                 .explode("kv")
                 .with_columns(key=pl.col("kv").str.split_exact("=", 1).struct.field("field_0"),
                               val=pl.col("kv").str.split_exact("=", 1).struct.field("field_1"))
                 .drop("kv")
                 # a key named like an index column is kept under "nvp.<key>"
                 .with_columns(key=pl.when(pl.col("key").is_in(list(index))).then("nvp." + pl.col("key"))
                               .otherwise(pl.col("key"))))
        wide = pairs.pivot(on="key", index=["line", "pid", "isolate", "t_ms"], values="val", aggregate_function="first")
        keys = [c for c in wide.columns if c not in ("line", "pid", "isolate", "t_ms", "gc")]
        nvp_ev = wide.with_columns(
            [pl.col(k).str.strip_suffix("%").cast(pl.Float64, strict=False) for k in keys],
            pid=pl.col("pid").cast(pl.Int64, strict=False), t_ms=pl.col("t_ms").cast(pl.Float64),
            type=pl.col("gc") if "gc" in wide.columns else pl.lit(None, pl.Utf8),
            format=pl.lit("trace-gc-nvp"),
        ).with_columns(kind=_kind("type"), pause_ms=pl.col("pause"),
                       reduce=(pl.col("reduce_memory") == 1) if "reduce_memory" in keys else pl.lit(False))
        if "gc" in nvp_ev.columns:
            nvp_ev = nvp_ev.drop("gc")
        events = pl.concat([text_ev.drop("text"), nvp_ev], how="diagonal_relaxed")
    else:
        events = text_ev.drop("text")
    events = events.sort("line")
    # a time no clock can show (1e400 ms) is a problem of its line, not an event
    ts = ms_to_ts(pl.col("t_ms") + (start_ms or 0.0))
    far = events.filter(ts.is_null())["line"]
    events = events.filter(ts.is_not_null())
    parsed_lines = events["line"]
    problems = (lines.filter(~pl.col("line").is_in(parsed_lines.implode()))
                .select(pl.lit(src).alias("source"), "line",
                        pl.when(pl.col("line").is_in(far.implode())).then(pl.lit("time out of range"))
                        .otherwise(pl.lit("not a GC trace line")).alias("reason"), "text"))
    if len(events) == 0:
        raise FormatError(path, "gc trace", 0, f"no GC trace lines ({len(lines)} lines, none of them '[pid:isolate] t ms: ...')")
    events = events.with_columns(ts=ts)
    lead = [c for c in EVENT_SCHEMA if c in events.columns]
    events = events.select(lead + [c for c in events.columns if c not in lead])
    table = _long_rows(events, src)
    fmts = events.group_by("format").len().sort("format")
    info = {"format": "gc log", "lines": len(lines), "events": len(events), "unparsed_lines": len(problems),
            "formats": dict(fmts.iter_rows()), "relative_time": start_ms is None,
            "pause_ms_total": float(events["pause_ms"].sum())}
    return Part(table=table, problems=problems, info=info, events=events)


def _json_to_nvp(texts: list[str]) -> list[str | None]:
    """JSON GC records as name=value text, the shape of the older NVP lines (booleans 1/0, spaces in
    strings as '_'); a line that is not a JSON object stays unparsed (None: a problem line)."""
    import json
    out: list[str | None] = []
    for t in texts:
        try:
            d = json.loads(t)
        except (ValueError, RecursionError):
            d = None
        if not isinstance(d, dict) or not d:
            out.append(None)
            continue
        parts = []
        for k, v in d.items():
            if isinstance(v, bool):
                v = int(v)
            elif isinstance(v, (dict, list)) or v is None:
                continue
            parts.append(f"{str(k).replace(' ', '_').replace('=', '_')}={str(v).replace(' ', '_')}")
        out.append(" ".join(parts) if parts else None)
    return out


def _long_rows(ev: pl.DataFrame, src: str) -> pl.DataFrame:
    labels = pl.format('kind="{}",type="{}"', pl.col("kind"), pl.col("type").fill_null("?"))
    parts = [ev.select(pl.lit(src).alias("source"), "ts", pl.lit("gc_pause").alias("metric"),
                       pl.col("pause_ms").alias("value"), pl.lit("ms").alias("unit"), labels.alias("labels"))]
    if "used_after_mb" in ev.columns:
        sub = ev.filter(pl.col("used_after_mb").is_not_null())
        for col, name in (("used_before_mb", "gc_heap_used_before"), ("used_after_mb", "gc_heap_used_after"),
                          ("committed_after_mb", "gc_heap_committed_after")):
            parts.append(sub.select(pl.lit(src).alias("source"), "ts", pl.lit(name).alias("metric"),
                                    (pl.col(col) * 1024 * 1024).alias("value"), pl.lit("B").alias("unit"),
                                    labels.alias("labels")))
    if "total_size_after" in ev.columns:
        sub = ev.filter(pl.col("total_size_after").is_not_null())
        for col, name in (("total_size_before", "gc_heap_used_before"), ("total_size_after", "gc_heap_used_after")):
            parts.append(sub.select(pl.lit(src).alias("source"), "ts", pl.lit(name).alias("metric"),
                                    pl.col(col).alias("value"), pl.lit("B").alias("unit"), labels.alias("labels")))
    return pl.concat(parts).cast(SCHEMA).sort("ts", maintain_order=True)


def _start_ms(start):
    if start is None:
        return None
    import datetime as _dt
    if isinstance(start, _dt.datetime):
        if start.tzinfo is None:
            start = start.replace(tzinfo=_dt.timezone.utc)
        return start.timestamp() * 1000.0
    return float(start)
