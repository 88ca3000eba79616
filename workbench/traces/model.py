"""The Traces model: one span table from every loaded file (OTLP/JSON, Jaeger, Zipkin), the trace
trees over it, and the loss report ``notes``.

``spans`` columns (one row per span, in the order read: file by file, line by line; ``trace()``
returns one trace in start order):
source (file), trace_id (32 lowercase hex; Jaeger's and Zipkin's 16-character ids left-padded),
span_id (16 hex), parent_span_id (null for a root), service (``service.name`` of the resource),
scope (instrumentation scope name), name, kind (unspecified, internal, server, client, producer,
consumer), start and end (UTC datetimes, ns), start_ns and end_ns (unix ns, exact: OTLP's 64-bit
strings), duration_ms, status (unset, ok, error), status_message, http_method, http_route,
http_status (old and stable HTTP semantic-convention names both read: ``http.method`` /
``http.request.method``, ``http.status_code`` / ``http.response.status_code``; ``http.route``),
url_path (``url.path``, or ``http.target`` without its query), attributes (list of {key, value}
with every value as text), events (list of {time_ns, name}), parent_index (row of the parent span
in this table, -1 for roots and orphans), orphan (the parent span is not in the files).

A *request* is a span of kind server; it is an error when its status is error or its HTTP status is
500 or more (semantic conventions: a server's 4xx is not an error of the server).
"""
from __future__ import annotations

import polars as pl

from .._notes import notes_frame

TS = pl.Datetime("ns", "UTC")
KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS = {0: "unset", 1: "ok", 2: "error"}
ATTR = pl.List(pl.Struct({"key": pl.Utf8, "value": pl.Utf8}))
EVENTS = pl.List(pl.Struct({"time_ns": pl.Int64, "name": pl.Utf8}))
COLUMNS = {"source": pl.Utf8, "trace_id": pl.Utf8, "span_id": pl.Utf8, "parent_span_id": pl.Utf8,
           "service": pl.Utf8, "scope": pl.Utf8, "name": pl.Utf8, "kind": pl.Utf8, "start": TS, "end": TS,
           "start_ns": pl.Int64, "end_ns": pl.Int64, "duration_ms": pl.Float64, "status": pl.Utf8,
           "status_message": pl.Utf8, "http_method": pl.Utf8, "http_route": pl.Utf8, "http_status": pl.Int64,
           "url_path": pl.Utf8, "attributes": ATTR, "events": EVENTS, "parent_index": pl.Int64,
           "orphan": pl.Boolean}


class Traces:
    def __init__(self, spans: pl.DataFrame, notes: pl.DataFrame | None = None, window: tuple | None = None):
        self.spans = spans
        self._notes = notes if notes is not None else notes_frame()
        self.window_range = window

    def __repr__(self) -> str:
        return (f"<Traces {len(self.spans)} spans in {self.spans['trace_id'].n_unique()} traces, "
                f"{int(self.spans['orphan'].sum())} orphans, {len(self._notes)} notes>")

    def __len__(self) -> int:
        return len(self.spans)

    @property
    def notes(self) -> pl.DataFrame:
        return self._notes

    def requests(self) -> pl.DataFrame:
        """Server spans (one per request a service handled) with ``route`` (http.route, else the span
        name) and ``error`` (status error or HTTP status >= 500)."""
        s = self.spans.filter(pl.col("kind") == "server")
        return s.with_columns(route=pl.coalesce("http_route", "name"),
                              error=(pl.col("status") == "error") | (pl.col("http_status").fill_null(0) >= 500))

    def trace(self, trace_id: str) -> pl.DataFrame:
        """The spans of one trace, in start order, with ``depth`` (0 for its roots)."""
        t = self.spans.filter(pl.col("trace_id") == trace_id.lower().rjust(32, "0"))
        ids = dict(zip(t["span_id"].to_list(), t["parent_span_id"].to_list()))
        depth = []
        for sid in t["span_id"].to_list():
            d, p, seen = 0, ids.get(sid), {sid}
            while p is not None and p in ids and p not in seen:
                seen.add(p)
                d += 1
                p = ids[p]
            depth.append(d)
        return t.with_columns(depth=pl.Series(depth, dtype=pl.Int64)).sort("start_ns")

    def window(self, start, end=None) -> "Traces":
        """Spans that start within [start, end] (datetimes, unix ms, ISO text, or a brush dict)."""
        from .._time import bounds
        lo, hi = bounds(start, end)
        keep = self.spans.filter(pl.col("start").is_between(lo, hi))
        return Traces(finish(keep.drop("parent_index", "orphan")), self._notes, (lo, hi))

    # ---- analyses (delegating) ----------------------------------------------------------------
    def by_route(self, **kw) -> pl.DataFrame:
        from .latency import route_stats
        return route_stats(self, **kw)

    def over_time(self, **kw) -> pl.DataFrame:
        from .latency import latency_over_time
        return latency_over_time(self, **kw)

    def slowest(self, **kw) -> pl.DataFrame:
        from .critical import slowest_traces
        return slowest_traces(self, **kw)

    def critical_path(self, trace_id: str) -> pl.DataFrame:
        from .critical import critical_path
        return critical_path(self, trace_id)

    def self_time(self, **kw) -> pl.DataFrame:
        from .critical import self_time
        return self_time(self, **kw)


def finish(df: pl.DataFrame) -> pl.DataFrame:
    """Link parents (``parent_index``, ``orphan``); the join runs on the id columns only, and the
    table keeps the order the spans were read in (sorting a wide table of millions of spans would
    copy it, with the sort keys on top)."""
    ids = df.select("trace_id", "span_id", "parent_span_id").with_row_index("_row")
    parents = ids.select("trace_id", pl.col("span_id").alias("parent_span_id"), pl.col("_row").alias("parent_index"))
    linked = ids.select("trace_id", "parent_span_id").join(parents, on=["trace_id", "parent_span_id"], how="left",
                                                            maintain_order="left")["parent_index"]
    df = df.with_columns(parent_index=linked.cast(pl.Int64)).with_columns(
        orphan=pl.col("parent_span_id").is_not_null() & pl.col("parent_index").is_null(),
        parent_index=pl.col("parent_index").fill_null(-1))
    return df.select(list(COLUMNS)).cast(COLUMNS)
