"""Building a Traces model from the span rows the trace readers parsed (``RAW``: ids as written,
times as unix ns, kind and status as OTLP's integers, attributes as {key, value-text}): ids are
lowercased and padded, HTTP attributes of both semantic-convention generations are read, spans seen
twice are kept once, and the trees are linked after everything is read, so spans may arrive in any
order, across lines and files; a span whose parent is in no file is an orphan (counted in notes)."""
from __future__ import annotations

import polars as pl

from .._notes import concat, notes_frame
from .model import ATTR, EVENTS, KINDS, STATUS, Traces, finish

RAW = {"source": pl.Utf8, "trace_id": pl.Utf8, "span_id": pl.Utf8, "parent_span_id": pl.Utf8,
       "service": pl.Utf8, "scope": pl.Utf8, "name": pl.Utf8, "kind": pl.Int64, "start_ns": pl.Int64,
       "end_ns": pl.Int64, "status_code": pl.Int64, "status_message": pl.Utf8, "attributes": ATTR,
       "events": EVENTS}

# (column, attribute names in order of preference: stable first, then the old v1.7.0 names)
HTTP = {"http_method": ("http.request.method_original", "http.request.method", "http.method"),
        "http_route": ("http.route",),
        "http_status": ("http.response.status_code", "http.status_code"),
        "url_path": ("url.path",)}


def empty_raw() -> pl.DataFrame:
    return pl.DataFrame(schema=RAW)


def _attr(name: str) -> pl.Expr:
    return pl.col("attributes").list.eval(
        pl.element().filter(pl.element().struct.field("key") == name).struct.field("value")).list.first()


def norm_id(e: pl.Expr, width: int) -> pl.Expr:
    s = e.str.strip_chars().str.to_lowercase()
    s = pl.when(s == "").then(None).otherwise(s)
    return s.str.pad_start(width, "0")


def prepare(raw: pl.DataFrame) -> pl.DataFrame:
    """The per-span columns of the model from raw rows (ids normalised, names of kind and status,
    times, HTTP attributes of both generations); row by row, so a reader may prepare each piece of a
    big file as it goes (``build`` prepares what is not prepared yet)."""
    target = _attr("http.target")
    return raw.select(list(RAW)).cast(RAW).with_columns(
        trace_id=norm_id(pl.col("trace_id"), 32), span_id=norm_id(pl.col("span_id"), 16),
        parent_span_id=norm_id(pl.col("parent_span_id"), 16),
        kind=pl.col("kind").fill_null(0).replace_strict(KINDS, default="unspecified", return_dtype=pl.Utf8),
        status=pl.col("status_code").fill_null(0).replace_strict(STATUS, default="unset", return_dtype=pl.Utf8),
        start=pl.col("start_ns").cast(pl.Datetime("ns", "UTC")),
        end=pl.max_horizontal("start_ns", "end_ns").cast(pl.Datetime("ns", "UTC")),
        duration_ms=(pl.max_horizontal(pl.col("end_ns") - pl.col("start_ns"), pl.lit(0))).cast(pl.Float64) / 1e6,
        http_method=pl.coalesce([_attr(a) for a in HTTP["http_method"]]),
        http_route=_attr("http.route"),
        http_status=pl.coalesce([_attr(a) for a in HTTP["http_status"]]).cast(pl.Float64, strict=False)
        .cast(pl.Int64, strict=False),
        url_path=pl.coalesce(_attr("url.path"), target.str.replace(r"\?.*$", "")),
    ).drop("status_code")


def build(parts) -> Traces:
    """One Traces from (raw or prepared span frame, notes) pairs, one per file."""
    frames = [r if "http_status" in r.columns else prepare(r) for r, _ in parts if len(r)]
    df = pl.concat(frames, rechunk=False) if frames else prepare(empty_raw())
    del frames
    notes = [n for _, n in parts]
    extra = []
    # (a filter copies the whole table: only when there is something to drop)
    noid = df.filter(pl.col("trace_id").is_null() | pl.col("span_id").is_null())
    for (src,), g in noid.group_by("source", maintain_order=True):
        extra.append((src, "spans", len(g), "spans without a trace or span id (skipped)"))
    if len(noid):
        df = df.filter(pl.col("trace_id").is_not_null() & pl.col("span_id").is_not_null())
    del noid
    is_dup = df.select(pl.struct("trace_id", "span_id").is_duplicated()).to_series()
    dup = df.filter(is_dup) if is_dup.any() else df.clear()
    del is_dup
    if len(dup):
        n = len(dup) - dup.select("trace_id", "span_id").n_unique()
        extra.append((dup["source"][0], "spans", n, "spans seen more than once (kept the first)"))
        df = df.unique(["trace_id", "span_id"], keep="first", maintain_order=True)
    bad_time = df.filter(pl.col("start_ns").is_null() | pl.col("end_ns").is_null())
    if len(bad_time):
        extra.append((bad_time["source"][0], "spans", len(bad_time), "spans without a start or end time (skipped)"))
        df = df.filter(pl.col("start_ns").is_not_null() & pl.col("end_ns").is_not_null())
    neg = int((df["end_ns"] < df["start_ns"]).sum()) if len(df) else 0
    if neg:
        extra.append((None, "spans", neg, "spans that end before they start (duration set to 0)"))
    spans = finish(df)
    del df
    orphans = spans.filter(pl.col("orphan"))
    for (src,), g in orphans.group_by("source", maintain_order=True):
        extra.append((src, "spans", len(g), "spans whose parent is in no file (orphans: roots of their own tree)"))
    return Traces(spans, concat(notes + [notes_frame(extra)]))
