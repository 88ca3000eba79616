"""Analyses of traces on hand-built trees whose answers are known: self time (children's union,
clipped to the parent), the critical path (Jaeger's walk), rates and percentiles per time bucket
against numpy, change points of a planted step, and logs joined to their spans."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.traces.changes import change_points

from .test_readers import BASE, request, span

MS = 1_000_000


def tree(tmp_path):
    """root 0-100 ms; a 10-40 and b 30-70 (overlapping), c 60-120 (ends after the root: clipped to
    100), a1 15-25 inside a; d 200-210 outside the root (ignored by the path, self 10)."""
    T = "1" * 32
    s = lambda sid, parent, name, a, b, kind=1: span(T, sid, parent, name, kind, BASE + a * MS, BASE + b * MS)  # noqa: E731
    spans = [s("00000000000000aa", None, "root", 0, 100, 2), s("00000000000000a1", "00000000000000aa", "a", 10, 40),
             s("00000000000000b1", "00000000000000aa", "b", 30, 70), s("00000000000000c1", "00000000000000aa", "c", 60, 120),
             s("00000000000000a2", "00000000000000a1", "a1", 15, 25), s("00000000000000d1", "00000000000000aa", "d", 200, 210)]
    p = tmp_path / "tree.otlp.json"
    p.write_text(json.dumps(request(("svc", spans[::-1]))))
    return wb.load_traces(p, quiet=True), T


def test_self_time_is_duration_minus_the_union_of_children(tmp_path):
    t, _ = tree(tmp_path)
    st = dict(zip(t.self_time()["name"], t.self_time()["self_ms"]))
    # root: children cover 10-100 within it (a ∪ b ∪ c clipped; d is outside) -> 10 ms of its own
    assert st == pytest.approx({"root": 10.0, "a": 20.0, "b": 40.0, "c": 60.0, "a1": 10.0, "d": 10.0})


def test_critical_path_walks_back_from_the_end(tmp_path):
    t, tid = tree(tmp_path)
    cp = t.critical_path(tid)
    crit = dict(zip(cp["name"], cp["critical_ms"]))
    # from 100 back: c (clipped 60-100) -> 40; then b ends at 70 > cursor 60: b's part 30-60 -> 30;
    # then a (ends 40 > 30): a's part 10-30, inside it a1 15-25 (10), a's own 10; root's own 0-10
    assert cp["name"].to_list() == ["root", "c", "b", "a", "a1"]
    assert crit == pytest.approx({"root": 10.0, "c": 40.0, "b": 30.0, "a": 10.0, "a1": 10.0})
    assert sum(crit.values()) == pytest.approx(100.0)   # the path covers the root exactly


def test_over_time_matches_numpy(tmp_path):
    rng = np.random.default_rng(3)
    spans, durs = [], []
    for i in range(400):
        start = BASE + i * 50 * MS                      # 20 per second
        d = float(rng.lognormal(3, 0.5))
        durs.append((i * 50 // 10_000, d, i % 37 == 0))  # 10 s buckets from the first start
        spans.append(span(f"{i + 1:032x}", f"{i + 1:016x}", None, "GET /x", 2, start, start + int(d * MS),
                          {"http.route": {"stringValue": "/x"}, "http.response.status_code": {"intValue": 500 if i % 37 == 0 else 200}}))
    p = tmp_path / "o.otlp.json"
    p.write_text(json.dumps(request(("svc", spans))))
    t = wb.load_traces(p, quiet=True)
    ot = t.over_time(every="10s")
    # bucket boundaries are epoch-aligned; BASE is 0.123 s past a multiple of 10 s
    offset = (BASE // MS) % 10_000
    got = {r["ts"]: r for r in ot.iter_rows(named=True)}
    buckets = {}
    for i, (_, d, err) in enumerate(durs):
        k = (offset + i * 50) // 10_000
        buckets.setdefault(k, []).append((d, err))
    assert len(got) == len(buckets)
    for row, (k, xs) in zip(sorted(got.values(), key=lambda r: r["ts"]), sorted(buckets.items())):
        d = np.array([x[0] for x in xs])
        assert row["requests"] == len(xs) and row["errors"] == sum(x[1] for x in xs)
        assert row["p99_ms"] == pytest.approx(np.percentile(d, 99), rel=1e-6)
        assert row["rate_per_s"] == pytest.approx(len(xs) / 10)


def test_change_point_of_a_planted_step():
    rng = np.random.default_rng(11)
    ts = [dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=5 * i) for i in range(80)]
    for at in (20, 47, 61):
        y = np.r_[rng.lognormal(np.log(30), 0.25, at), rng.lognormal(np.log(300), 0.25, 80 - at)]
        cp = change_points(pl.DataFrame({"ts": ts, "p99": y}), "p99")
        assert cp["index"].to_list() == [at], at
        assert cp["ts"][0] == ts[at] and 8 < cp["ratio"][0] < 12
    flat = change_points(pl.DataFrame({"ts": ts, "p99": rng.lognormal(np.log(30), 0.25, 80)}), "p99")
    assert flat.is_empty()


def test_logs_join_their_spans(tmp_path):
    t, tid = tree(tmp_path)
    lines = [{"level": 30, "time": 1_700_000_000_200, "msg": "in a", "trace_id": tid, "span_id": "00000000000000A1"},
             {"level": 50, "time": 1_700_000_000_210, "msg": "in root", "trace_id": tid, "span_id": "00000000000000aa"},
             {"level": 30, "time": 1_700_000_000_220, "msg": "lost", "trace_id": tid, "span_id": "00000000000000ff"},
             {"level": 30, "time": 1_700_000_000_230, "msg": "no trace"}]
    p = tmp_path / "app.log"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    j = wb.join_logs_traces(wb.load_logs(p, quiet=True), t)
    assert j["msg"].to_list() == ["in a", "in root", "lost"]
    assert j["span_name"].to_list() == ["a", "root", None] and j["joined"].to_list() == [True, True, False]
    assert j["request_route"].to_list() == ["root"] * 3 and j["request_duration_ms"][0] == pytest.approx(100.0)
