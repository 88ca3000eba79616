"""Where the time of a trace went: self time per span (its duration minus the union of its
children's intervals, clipped to the span) and the critical path, the way Jaeger's UI computes it:
from the root, walk back from the span's end into the child that finished last before the cursor,
recurse, then move the cursor to that child's start; the gaps between are the span's own critical
time. Children that end after their parent are truncated to it; children wholly outside are
ignored; a PRODUCER's CONSUMER children are not on the path (they do not block it)."""
from __future__ import annotations

import polars as pl

from ..errors import UsageError


def self_time(traces, trace_id: str | None = None) -> pl.DataFrame:
    """Every span (or those of one trace) with ``self_ms`` and ``children``."""
    s = traces.spans.with_row_index("row")
    if trace_id is not None:
        s = s.filter(pl.col("trace_id") == trace_id.lower().rjust(32, "0"))
    par = traces.spans.with_row_index("row").select("row", p_start="start_ns", p_end="end_ns")
    ch = (s.filter(pl.col("parent_index") >= 0)
          .join(par, left_on="parent_index", right_on="row")
          .with_columns(a=pl.max_horizontal("start_ns", "p_start"), b=pl.min_horizontal("end_ns", "p_end"))
          .filter(pl.col("b") > pl.col("a"))
          .sort("parent_index", "a"))
    # union of intervals per parent: sorted by start, the part of each beyond the running max end
    ch = ch.with_columns(prev=pl.col("b").cum_max().shift(1).over("parent_index"))
    ch = ch.with_columns(cover=(pl.col("b") - pl.max_horizontal("a", pl.col("prev").fill_null(pl.col("a"))))
                         .clip(lower_bound=0))
    cov = ch.group_by("parent_index").agg(covered_ns=pl.col("cover").sum(), children=pl.len())
    out = s.join(cov, left_on="row", right_on="parent_index", how="left").with_columns(
        children=pl.col("children").fill_null(0).cast(pl.Int64),
        self_ms=(pl.col("end_ns") - pl.col("start_ns") - pl.col("covered_ns").fill_null(0)).clip(lower_bound=0) / 1e6)
    return out.drop("row", "covered_ns")


def critical_path(traces, trace_id: str) -> pl.DataFrame:
    """The spans on the critical path of one trace, root first: span_id, name, service, kind,
    duration_ms, self_ms, critical_ms (time the path spends in this span itself), depth."""
    t = self_time(traces, trace_id)
    if t.is_empty():
        raise UsageError(f"no trace {trace_id!r}")
    rows = t.to_dicts()
    by_id = {r["span_id"]: r for r in rows}
    kids: dict = {}
    for r in rows:
        p = r["parent_span_id"]
        if p in by_id and not (by_id[p]["kind"] == "producer" and r["kind"] == "consumer"):
            kids.setdefault(p, []).append(r)
    roots = [r for r in rows if r["parent_span_id"] not in by_id]
    root = max(roots, key=lambda r: (r["end_ns"] - r["start_ns"], -r["start_ns"]))
    crit: dict = {}
    order: list = []
    depth: dict = {}

    def walk(span, lo, hi, d):
        order.append(span["span_id"])
        depth[span["span_id"]] = d
        cursor = hi
        children = sorted(kids.get(span["span_id"], []), key=lambda c: c["end_ns"], reverse=True)
        own = 0
        for c in children:
            c_end = min(c["end_ns"], cursor)
            c_start = max(c["start_ns"], lo)
            if c_end <= c_start or c["start_ns"] >= cursor:
                continue
            own += cursor - c_end
            walk(c, c_start, c_end, d + 1)
            cursor = c_start
        own += max(cursor - lo, 0)
        crit[span["span_id"]] = crit.get(span["span_id"], 0) + own

    stack_limit = 10_000
    import sys
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, stack_limit))
    try:
        walk(root, root["start_ns"], root["end_ns"], 0)
    finally:
        sys.setrecursionlimit(old)
    out = pl.DataFrame({"span_id": order, "depth": [depth[s] for s in order],
                        "critical_ms": [crit[s] / 1e6 for s in order]})
    return out.join(t.select("span_id", "name", "service", "kind", "duration_ms", "self_ms", "start"),
                    on="span_id", how="left", maintain_order="left").select(
        "span_id", "name", "service", "kind", "start", "duration_ms", "self_ms", "critical_ms", "depth")


def slowest_traces(traces, n: int = 10, route: str | None = None) -> pl.DataFrame:
    """The ``n`` slowest requests (server spans that are local roots of their trace): trace_id, route,
    start, duration_ms, status, http_status, spans, and the span where most of the critical path went
    (``critical_span``, ``critical_ms``)."""
    r = traces.requests().with_row_index("row")
    r = r.filter(pl.col("parent_index").is_in(r["row"].implode()).not_())
    if route is not None:
        r = r.filter(pl.col("route") == route)
    top = r.sort("duration_ms", descending=True).head(n)
    counts = traces.spans.group_by("trace_id").agg(spans=pl.len().cast(pl.Int64))
    crit_name, crit_ms = [], []
    for tid in top["trace_id"].to_list():
        cp = critical_path(traces, tid).sort("critical_ms", descending=True)
        crit_name.append(cp["name"][0])
        crit_ms.append(cp["critical_ms"][0])
    return (top.select("trace_id", "span_id", "route", "start", "duration_ms", "status", "http_status", "error")
            .join(counts, on="trace_id", how="left", maintain_order="left")
            .with_columns(critical_span=pl.Series(crit_name, dtype=pl.Utf8),
                          critical_ms=pl.Series(crit_ms, dtype=pl.Float64)))
