"""Logs joined to traces: a pino record written inside an active span carries ``trace_id`` and
``span_id`` (OpenTelemetry's pino instrumentation; lowercase hex), so each such record joins to its
span, and through the trace to the request (the server span that is the trace's local root)."""
from __future__ import annotations

import polars as pl


def join_logs_traces(logs, traces) -> pl.DataFrame:
    """Every log record with a trace id, with its span (``span_name``, ``span_kind``, ``service``,
    ``span_duration_ms``; null when the span is in no trace file) and its request (``request_route``,
    ``request_duration_ms``, ``request_status``, ``request_error``: the earliest server span of the
    trace). ``joined`` says whether the span was found."""
    lg = logs.table.filter(pl.col("trace_id").is_not_null())
    sp = traces.spans.select("trace_id", "span_id", span_name="name", span_kind="kind", service="service",
                             span_duration_ms="duration_ms")
    req = (traces.requests().sort("start_ns").group_by("trace_id", maintain_order=True).first()
           .select("trace_id", request_route="route", request_duration_ms="duration_ms",
                   request_status="http_status", request_error="error"))
    out = lg.join(sp, on=["trace_id", "span_id"], how="left", maintain_order="left")
    out = out.with_columns(joined=pl.col("span_name").is_not_null())
    return out.join(req, on="trace_id", how="left", maintain_order="left")


def slow_requests_logs(logs, traces, n: int = 10) -> pl.DataFrame:
    """The log records of the ``n`` slowest requests (what they logged while they were slow)."""
    j = join_logs_traces(logs, traces)
    top = traces.requests().sort("duration_ms", descending=True).head(n).select("trace_id")
    return j.join(top, on="trace_id", how="semi").sort("request_duration_ms", "line", descending=[True, False])
