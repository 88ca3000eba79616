"""The log reader on pino, bunyan and winston records and Node's stderr warnings: counts per level
equal a count straight over the raw lines (plain json), every line that is not a record is in the
notes with its line number, and the fields land in the right columns."""
from __future__ import annotations

import collections
import json
import random

import polars as pl
import pytest

import workbench as wb
from workbench.errors import FormatError

T0 = 1_764_590_000_000   # ms


def pino_lines(n=500, seed=5):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lvl = rng.choice([10, 20, 30, 30, 30, 40, 50, 60])
        rec = {"level": lvl, "time": T0 + i * 10, "pid": 41, "hostname": "gw-1", "msg": f"step {i}"}
        if rng.random() < 0.4:
            rec.update(req={"id": i, "method": "GET", "url": f"/api/users/{i}?x=1", "headers": {"a": "b"}},
                       res={"statusCode": rng.choice([200, 404, 503])}, responseTime=rng.random() * 100,
                       msg="request completed")
        if rng.random() < 0.5:
            rec.update(trace_id=f"{rng.getrandbits(128):032x}", span_id=f"{rng.getrandbits(64):016x}", trace_flags="01")
        if lvl >= 50 and rng.random() < 0.7:
            rec["err"] = {"type": "TimeoutError", "message": f"upstream timed out after {rng.randint(900, 1100)} ms",
                          "stack": "TimeoutError: upstream timed out\n    at Timeout._onTimeout (gateway.js:40:11)"}
        out.append(json.dumps(rec))
    return out


def test_level_counts_equal_the_raw_file(tmp_path):
    lines = pino_lines()
    junk = {7: "not a record", 90: '{"level":30,"msg":"cut', 200: "", 301: "[1,2,3]"}
    for at, text in sorted(junk.items()):
        lines.insert(at, text)
    p = tmp_path / "app.log"
    p.write_text("\n".join(lines) + "\n")
    logs = wb.load_logs(p, quiet=True)
    raw = collections.Counter()
    for ln in p.read_text().splitlines():
        try:
            o = json.loads(ln)
        except ValueError:
            continue
        if isinstance(o, dict):
            raw[o["level"]] += 1
    got = dict(zip(logs.levels()["severity"], logs.levels()["records"]))
    assert got == dict(raw)
    # the lines that are not records, by line number (1-based; the blank line is no loss)
    sections = " ".join(logs.notes["section"])
    for at, text in junk.items():
        if text:
            assert str(at + 1) in sections.replace(",", " ").split(), (at, sections)
    assert logs.notes["count"].sum() == 3


def test_pino_http_fields(tmp_path):
    rec = {"level": 30, "time": T0, "pid": 7, "hostname": "h", "req": {"id": 12, "method": "POST", "url": "/api/orders?a=1"},
           "res": {"statusCode": 503}, "responseTime": 1234.5, "msg": "request errored",
           "err": {"type": "Error", "message": "failed with status code 503", "stack": "Error: x\n    at y"},
           "trace_id": "0AF7651916CD43DD8448EB211C80319C", "span_id": "B7AD6B7169203331"}
    p = tmp_path / "p.log"
    p.write_text(json.dumps(rec) + "\n")
    r = wb.load_logs(p, quiet=True).table.row(0, named=True)
    assert (r["format"], r["level"], r["severity"], r["req_id"], r["method"], r["route"], r["status"]) == \
        ("pino", "info", 30, "12", "POST", "/api/orders", 503)
    assert r["duration_ms"] == 1234.5 and r["err_type"] == "Error" and r["err_stack"].startswith("Error: x")
    assert r["trace_id"] == "0af7651916cd43dd8448eb211c80319c" and r["span_id"] == "b7ad6b7169203331"
    assert r["ts"].timestamp() * 1000 == T0 and json.loads(r["fields"])["res"]["statusCode"] == 503


def test_bunyan_winston_and_node_warnings(tmp_path):
    text = "\n".join([
        json.dumps({"name": "api", "hostname": "h", "pid": 3, "level": 50, "msg": "boom", "time": "2025-12-01T12:00:00.250Z",
                    "v": 0, "err": {"name": "TypeError", "message": "x is undefined", "stack": "TypeError: x"},
                    "req_id": "r-9", "latency": 17}),
        json.dumps({"level": "\u001b[31merror\u001b[39m", "message": "db down", "timestamp": "2025-12-01T12:00:01Z",
                    "stack": "Error: db down\n    at q"}),
        json.dumps({"level": "http", "message": "GET /"}),
        "(node:4242) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 evict listeners "
        "added to [ThumbnailCache]. MaxListeners is 10. Use emitter.setMaxListeners() to increase limit",
        "(Use `node --trace-warnings ...` to show where the warning was created)",
        "(node:4242) [DEP0005] DeprecationWarning: Buffer() is deprecated due to security and usability issues.",
        "    at new Buffer (node:buffer:1)",
        "[UnhandledPromiseRejection: This error originated either by throwing inside of an async function without "
        "a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with "
        'the reason "oops".] {',
        "  code: 'ERR_UNHANDLED_REJECTION'",
        "}",
    ])
    p = tmp_path / "mixed.log"
    p.write_text(text + "\n")
    t = wb.load_logs(p, quiet=True).table
    assert t["format"].to_list() == ["bunyan", "winston", "winston", "node-warning", "node-warning", "node-warning"]
    assert t["level"].to_list() == ["error", "error", "http", "warn", "warn", "fatal"]
    b = t.row(0, named=True)
    assert (b["err_type"], b["req_id"], b["duration_ms"]) == ("TypeError", "r-9", 17.0)
    assert b["ts"].isoformat() == "2025-12-01T12:00:00.250000+00:00"
    assert t["err_stack"][1] == "Error: db down\n    at q"
    assert t["ts"][2] is None
    w = t.row(3, named=True)
    assert w["err_type"] == "MaxListenersExceededWarning" and w["pid"] == 4242 and "trace-warnings" in w["err_stack"]
    assert t["err_stack"][4] == "    at new Buffer (node:buffer:1)"
    assert t["err_type"][5] == "UnhandledPromiseRejection" and t["err_stack"][5].endswith("'ERR_UNHANDLED_REJECTION'\n}")
    notes = wb.load_logs(p, quiet=True).notes
    # nothing skipped; the winston record without timestamp() is kept and noted
    assert notes.rows() == [(str(p), "line 3", 1, "records without a time (kept, ts null)")]


def test_times_in_seconds_iso_and_missing(tmp_path):
    p = tmp_path / "t.log"
    p.write_text("\n".join(json.dumps(r) for r in [
        {"level": 30, "time": T0 / 1000, "msg": "unixTime"},
        {"level": 30, "time": "2025-12-01T11:53:20.000Z", "msg": "isoTime"},
        {"level": 30, "msg": "no time"}]) + "\n")
    logs = wb.load_logs(p, quiet=True)
    ts = logs.table["ts"].to_list()
    assert ts[0].timestamp() * 1000 == pytest.approx(T0) and ts[1].isoformat().startswith("2025-12-01T11:53:20")
    assert ts[2] is None and "records without a time" in logs.notes["what"].to_list()[0]


def test_at_least_and_templates(tmp_path):
    p = tmp_path / "e.log"
    p.write_text("\n".join(pino_lines(800)) + "\n")
    logs = wb.load_logs(p, quiet=True)
    raw = [json.loads(ln) for ln in pino_lines(800)]
    assert len(logs.at_least("warn")) == sum(r["level"] >= 40 for r in raw)
    tpl = logs.templates()
    timeouts = sum(1 for r in raw if "err" in r)
    row = tpl.filter(pl.col("template").str.starts_with("TimeoutError"))
    # one template for every timeout message whatever its number of ms
    assert row["records"].to_list() == [timeouts]
    assert row["template"][0] == "TimeoutError: upstream timed out after <NUM> ms"


def test_not_a_log(tmp_path):
    p = tmp_path / "x.log"
    p.write_text("hello\nworld\n")
    with pytest.raises(FormatError):
        wb.load_logs(p)
    from workbench.io.logs import read_log
    with pytest.raises(FormatError, match="no log records"):
        read_log(p)


def test_pieces_keep_line_numbers(tmp_path, monkeypatch):
    """Big files are decoded 64 MiB at a time; with tiny pieces the table is the same."""
    from workbench.io import logs as reader

    lines = pino_lines(300)
    lines.insert(50, "(node:1) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. x")
    lines.insert(51, "    at emit (node:events:1)")
    lines.insert(120, "garbage")
    lines.insert(200, '   {"level":40,"time":1764590000000,"msg":"indented"}')
    p = tmp_path / "big.log"
    p.write_text("\n".join(lines) + "\n")
    whole = wb.load_logs(p, quiet=True)
    monkeypatch.setattr(reader, "PIECE", 700)
    pieces = wb.load_logs(p, quiet=True)
    assert pieces.table.equals(whole.table) and pieces.notes.equals(whole.notes)
    assert whole.table.filter(pl.col("msg") == "indented")["line"].to_list() == [201]
    assert whole.notes["section"].to_list() == ["line 121"]
    lean = wb.load_logs(p, quiet=True, fields=False).table
    assert lean.drop("fields").equals(whole.table.drop("fields"))
    # only the warning (its code and pid) and the indented record (read on its own) keep fields
    assert lean.filter(pl.col("fields").is_not_null())["line"].to_list() == [51, 201]
