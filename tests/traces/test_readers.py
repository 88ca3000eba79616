"""Trace readers on hand-written edge cases: spans out of order and across lines, parents missing,
several resource spans per request, 64-bit nanosecond times as strings (and as numbers), ids in
upper case, Jaeger's 16-character ids, Zipkin v2; per-route numbers against an independent count
over the raw JSON (``rawcount``)."""
from __future__ import annotations

import json
import random

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.errors import FormatError

from . import rawcount

BASE = 1_700_000_000_123_456_789   # ns: past 2^53, so a float would lose the last digits


def span(tid, sid, parent, name, kind, start, end, attrs=None, code=None, as_number=False):
    d = {"traceId": tid, "spanId": sid, "name": name, "kind": kind,
         "startTimeUnixNano": start if as_number else str(start), "endTimeUnixNano": end if as_number else str(end),
         "attributes": [{"key": k, "value": v} for k, v in (attrs or {}).items()]}
    if parent:
        d["parentSpanId"] = parent
    if code is not None:
        d["status"] = {"code": code}
    return d


def request(*resource_spans):
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
                               "scopeSpans": [{"scope": {"name": "@opentelemetry/instrumentation-http"},
                                               "spans": spans}]} for svc, spans in resource_spans]}


def make_traces(n=300, seed=7):
    """n requests over three routes, each a gateway server span, a client span and a downstream
    server span in another resource; old and stable HTTP attribute names mixed."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        tid = f"{rng.getrandbits(128):032x}"
        root, client, down = (f"{rng.getrandbits(64):016x}" for _ in range(3))
        route = rng.choice(["/api/users/:id", "/api/orders", "/internal/thumbnail/:id"])
        t0 = BASE + i * 37_000_123
        dur = int(rng.lognormvariate(17, 0.8))
        status = 503 if rng.random() < 0.05 else (404 if rng.random() < 0.05 else 200)
        old = rng.random() < 0.5
        attrs = ({"http.method": {"stringValue": "GET"}, "http.status_code": {"intValue": status}} if old else
                 {"http.request.method": {"stringValue": "GET"}, "http.response.status_code": {"intValue": str(status)}})
        attrs["http.route"] = {"stringValue": route}
        out.append(("gateway", span(tid, root, None, f"GET {route}", 2, t0, t0 + dur, attrs,
                                    2 if status >= 500 else None)))
        out.append(("gateway", span(tid, client, root, "GET", 3, t0 + 1000, t0 + dur - 1000)))
        out.append(("downstream", span(tid, down, client, "GET", 2, t0 + 2000, t0 + dur - 2000,
                                       {"http.response.status_code": {"intValue": status}})))
    return out


def write_lines(path, items, per_line=7, shuffle=True, seed=3):
    """Spans shuffled across lines (out of order, children before parents), resources per line."""
    items = list(items)
    if shuffle:
        random.Random(seed).shuffle(items)
    lines = []
    for k in range(0, len(items), per_line):
        chunk = items[k:k + per_line]
        by = {}
        for svc, sp in chunk:
            by.setdefault(svc, []).append(sp)
        lines.append(json.dumps(request(*by.items())))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_per_route_numbers_equal_an_independent_count(tmp_path):
    p = write_lines(tmp_path / "traces.otlp.jsonl", make_traces())
    t = wb.load_traces(p, quiet=True)
    raw = rawcount.per_route([p])
    got = {r["route"]: r for r in t.by_route().iter_rows(named=True)}
    # the downstream server spans have no http.route: their route is the span name "GET"
    assert set(got) == set(raw)
    for route, want in raw.items():
        assert got[route]["requests"] == want["requests"], route
        assert got[route]["errors"] == want["errors"], route
        for q in ("p50_ms", "p90_ms", "p99_ms"):
            assert got[route][q] == pytest.approx(want[q], rel=1e-12), (route, q)
    assert t.notes.is_empty()
    assert (t.spans["parent_index"] >= 0).sum() == 600    # every child found its parent, across lines


def test_out_of_order_lines_give_the_same_table(tmp_path):
    items = make_traces(60)
    a = wb.load_traces(write_lines(tmp_path / "a.otlp.jsonl", items, shuffle=False), quiet=True)
    b = wb.load_traces(write_lines(tmp_path / "b.otlp.jsonl", items, per_line=1, seed=11), quiet=True)
    cols = [c for c in a.spans.columns if c not in ("source", "parent_index")]
    key = ["trace_id", "span_id"]
    assert a.spans.select(cols).sort(key).equals(b.spans.select(cols).sort(key))
    # parent_index points at the parent's row, wherever it is
    for t in (a, b):
        s = t.spans.with_row_index("row")
        linked = s.filter(pl.col("parent_index") >= 0).join(s, left_on="parent_index", right_on="row", suffix="_p")
        assert (linked["parent_span_id"] == linked["span_id_p"]).all() and len(linked) == 120


def test_nanosecond_strings_stay_exact(tmp_path):
    tid, sid = "AB" * 16, "CD" * 8
    p = tmp_path / "ns.otlp.json"
    start, end = BASE, BASE + 1       # one ns apart: a float64 would make them equal
    p.write_text(json.dumps(request(("svc", [span(tid, sid, None, "x", 2, start, end)])), indent=2))
    t = wb.load_traces(p, quiet=True)
    row = t.spans.row(0, named=True)
    assert row["start_ns"] == start and row["end_ns"] == end and row["duration_ms"] == 1e-6
    assert row["trace_id"] == "ab" * 16 and row["span_id"] == "cd" * 8    # hex is case-insensitive
    # numbers instead of strings (the JS exporter writes intValue as a number; times may come either way)
    q = tmp_path / "num.otlp.jsonl"
    q.write_text(json.dumps(request(("svc", [span(tid, sid, None, "x", 2, start, end, as_number=True)]))) + "\n")
    assert wb.load_traces(q, quiet=True).spans["end_ns"][0] == end


def test_missing_parents_are_orphans_in_the_notes(tmp_path):
    items = make_traces(20)
    dropped = {sp["spanId"] for svc, sp in items if sp["kind"] == 3}     # lose every client span
    kept = [(s, sp) for s, sp in items if sp["spanId"] not in dropped]
    t = wb.load_traces(write_lines(tmp_path / "o.otlp.jsonl", kept), quiet=True)
    assert int(t.spans["orphan"].sum()) == 20
    note = t.notes.filter(pl.col("what").str.contains("orphans"))
    assert note["count"].sum() == 20


def test_duplicates_and_cut_lines_are_noted(tmp_path):
    items = make_traces(10)
    p = write_lines(tmp_path / "d.otlp.jsonl", items + items[:4])
    with open(p, "a") as f:
        f.write(json.dumps(request(("gateway", [items[0][1]])))[:-9] + "\n")   # a request cut short
    t = wb.load_traces(p, quiet=True)
    assert len(t.spans) == 30
    what = dict(zip(t.notes["what"], t.notes["count"]))
    assert what["spans seen more than once (kept the first)"] == 4
    assert what["lines that are not JSON requests (skipped)"] == 1


def test_bad_values_name_the_section_and_line(tmp_path):
    items = make_traces(3)
    doc = request(("gateway", [sp for _, sp in items]))
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][4]["startTimeUnixNano"] = "12.5e3"
    p = tmp_path / "bad.otlp.jsonl"
    p.write_text(json.dumps(request(("x", [items[0][1]]))) + "\n" + json.dumps(doc) + "\n")
    with pytest.raises(FormatError) as e:
        wb.load_traces(p, quiet=True)
    msg = str(e.value)
    assert "resourceSpans[0].scopeSpans[0].spans[4].startTimeUnixNano" in msg and "line 2" in msg
    assert e.value.offset == len(json.dumps(request(("x", [items[0][1]])))) + 1


def test_jaeger_and_zipkin_pad_short_ids(tmp_path):
    j = {"data": [{"traceID": "00000000000000ab", "processes": {"p1": {"serviceName": "gw"}},
                   "spans": [{"traceID": "ab", "spanID": "1", "operationName": "GET /x", "startTime": 1_700_000_000_000_000,
                              "duration": 2500, "processID": "p1", "references": [],
                              "tags": [{"key": "span.kind", "type": "string", "value": "server"},
                                       {"key": "http.route", "type": "string", "value": "/x"},
                                       {"key": "error", "type": "bool", "value": True}]},
                             {"traceID": "ab", "spanID": "2", "operationName": "db", "startTime": 1_700_000_000_000_500,
                              "duration": 1000, "processID": "p1",
                              "references": [{"refType": "CHILD_OF", "traceID": "ab", "spanID": "1"}], "tags": []}]}]}
    (tmp_path / "j.json").write_text(json.dumps(j))
    z = [{"traceId": "ab", "id": "3", "name": "get /y", "kind": "SERVER", "timestamp": 1_700_000_000_000_000,
          "duration": 4000, "localEndpoint": {"serviceName": "api"}, "tags": {"http.route": "/y", "http.status_code": "500"}},
         {"traceId": "ab", "id": "4", "parentId": "3", "name": "q", "kind": "CLIENT", "timestamp": 1_700_000_000_001_000,
          "duration": 1000}]
    (tmp_path / "z.json").write_text(json.dumps(z))
    t = wb.load_traces(tmp_path / "j.json", tmp_path / "z.json", quiet=True)
    assert t.spans["trace_id"].unique().to_list() == ["0" * 30 + "ab"]
    assert t.spans["orphan"].sum() == 0
    r = {x["route"]: x for x in t.by_route().iter_rows(named=True)}
    assert r["/x"]["errors"] == 1 and r["/x"]["p50_ms"] == 2.5
    assert r["/y"]["errors"] == 1 and r["/y"]["p50_ms"] == 4.0   # HTTP 500 on a server span


def test_sniffing_and_the_doors(tmp_path):
    p = write_lines(tmp_path / "t.jsonl", make_traces(5))
    assert type(wb.load(p, quiet=True)).__name__ == "Traces"
    with pytest.raises(FormatError, match="not a log|use workbench.load_traces"):
        wb.load_logs(p)


def test_fast_path_reads_clean_files_and_equals_the_slow_path(tmp_path, monkeypatch):
    """A clean file never needs Python's json (the fast path reads it), and both paths give the same
    spans (attribute values as text included)."""
    from workbench.io import otlp

    items = make_traces(40)
    items[0][1]["attributes"].append({"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}})
    items[0][1]["attributes"].append({"key": "sampled", "value": {"boolValue": True}})
    items[0][1]["attributes"].append({"key": "ratio", "value": {"doubleValue": 0.25}})
    items[0][1]["events"] = [{"timeUnixNano": str(BASE + 5), "name": "gc"}]
    p = write_lines(tmp_path / "clean.otlp.jsonl", items)
    fast = wb.load_traces(p, quiet=True)

    def boom(*a, **k):
        raise AssertionError("the slow path ran on a clean file")

    slow_fn = otlp._slow
    monkeypatch.setattr(otlp, "_slow", boom)
    assert len(wb.load_traces(p, quiet=True)) == 120
    monkeypatch.setattr(otlp, "_fast", lambda *a: (_ for _ in ()).throw(ValueError("forced")))
    monkeypatch.setattr(otlp, "_slow", slow_fn)
    slow = wb.load_traces(p, quiet=True)
    assert fast.spans.equals(slow.spans)
    row = fast.spans.filter(pl.col("span_id") == items[0][1]["spanId"]).row(0, named=True)
    vals = {a["key"]: a["value"] for a in row["attributes"]}
    assert vals["sampled"] == "true" and vals["ratio"] == "0.25" and json.loads(vals["tags"]) == {"values": [{"stringValue": "a"}]}
    assert row["events"] == [{"time_ns": BASE + 5, "name": "gc"}]


def test_pieces_give_the_same_spans(tmp_path, monkeypatch):
    from workbench.io import otlp

    p = write_lines(tmp_path / "p.otlp.jsonl", make_traces(50), per_line=3)
    whole = wb.load_traces(p, quiet=True)
    monkeypatch.setattr(otlp, "PIECE", 2000)
    assert wb.load_traces(p, quiet=True).spans.equals(whole.spans)
