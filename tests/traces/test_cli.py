"""workbench traces / logs / timeline on the incident dataset: the numbers printed equal the raw
files' (an independent count), the timeline writes a self-contained page with its brush, and bad
input is one error line with exit status 2."""
from __future__ import annotations

import collections
import gzip
import json
from pathlib import Path

import pytest

from workbench.cli import main

from . import rawcount

DS = Path(__file__).resolve().parents[2] / "datasets" / "incident"


def run(capsys, *args):
    rc = main(["--quiet", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_traces_by_route_json(capsys):
    rc, out, _ = run(capsys, "traces", DS / "traces.otlp.jsonl.gz", "--format", "json")
    assert rc == 0
    got = {r["route"]: r for r in json.loads(out)}
    for route, want in rawcount.per_route([DS / "traces.otlp.jsonl.gz"]).items():
        assert (got[route]["requests"], got[route]["errors"]) == (want["requests"], want["errors"])
        assert got[route]["p99_ms"] == pytest.approx(want["p99_ms"], rel=1e-9)


def test_traces_slowest_and_by_service(capsys):
    rc, out, _ = run(capsys, "traces", DS, "--slowest", "3", "--format", "json")
    rows = json.loads(out)
    assert rc == 0 and len(rows) == 3
    assert rows[0]["duration_ms"] >= rows[1]["duration_ms"] >= rows[2]["duration_ms"]
    rc, out, _ = run(capsys, "traces", DS, "--by", "service", "--format", "csv")
    assert rc == 0 and out.splitlines()[0].startswith("service,requests,errors")


def test_logs_levels_and_level_filter(capsys):
    log = DS / "gateway.log.gz"
    raw = collections.Counter(json.loads(ln)["level"] for ln in gzip.decompress(log.read_bytes()).decode().splitlines())
    rc, out, _ = run(capsys, "logs", log, "--format", "json")
    assert rc == 0 and {r["severity"]: r["records"] for r in json.loads(out)} == dict(raw)
    rc, out, _ = run(capsys, "logs", log, "--level", "warn", "--format", "json")
    assert len(json.loads(out)) == sum(n for lvl, n in raw.items() if lvl >= 40)
    rc, out, _ = run(capsys, "logs", log, "--templates", "--format", "json")
    tpl = {r["template"]: r["records"] for r in json.loads(out)}
    assert rc == 0 and tpl.get("Error: upstream timed out after <NUM> ms", 0) > 0


def test_timeline_html(capsys, tmp_path):
    out = tmp_path / "timeline.html"
    rc, _, err = run(capsys, "timeline", DS, "-o", out, "--snapshot", "final=2026-12-01T13:17:00Z")
    assert rc == 0, err
    html = out.read_text()
    assert '"brush"' in html and "latency_p99_ms" in html and "heap_floor_mb" in html and "gc_pause_ms" in html


def test_errors_are_one_line(capsys, tmp_path):
    bad = tmp_path / "x.log"
    bad.write_text("nothing here\n")
    for args in (("logs", bad), ("traces", DS / "gateway.log.gz"), ("timeline", bad, "-o", tmp_path / "t.html")):
        rc, _, err = run(capsys, *args)
        assert rc == 2 and len(err.strip().splitlines()) == 1 and err.startswith("workbench: error: "), (args, err)
