"""The high-latency incident dataset (datasets/incident, recorded by datasets/build_incident.py) and
notebook 7: per-route counts, errors and percentiles equal an independent count over the raw OTLP
JSON; log records per level equal the raw file's; every record written inside a span joins to it;
the p99 change point falls in the window where the post-GC floor and the GC pause time rose; the
notebook says so and names the leaking class and its holder (wb.find_leaks)."""
from __future__ import annotations

import collections
import gzip
import json
import re
from pathlib import Path

import polars as pl
import pytest

import workbench as wb
from tests.notebooks.test_notebooks import _text
from tests.test_datasets import ENTRY_KEYS, OPTIONAL_KEYS, data_files, sha256
from workbench.report import execute

from . import rawcount

ROOT = Path(__file__).resolve().parents[2]
DS = ROOT / "datasets" / "incident"
NOTEBOOK = ROOT / "notebooks" / "07_high_latency_incident.ipynb"


def _lines(p: Path) -> list[str]:
    raw = p.read_bytes()
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode().splitlines()


def test_manifest_lists_every_file():
    doc = json.loads((DS / "MANIFEST.json").read_text())
    assert set(doc) == {"node", "built_by", "files"} and doc["built_by"] == "python datasets/build_incident.py"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", doc["node"])
    assert set(doc["files"]) == data_files(DS)
    for name, e in doc["files"].items():
        assert ENTRY_KEYS <= set(e) <= ENTRY_KEYS | OPTIONAL_KEYS
        assert (DS / name).stat().st_size == e["bytes"] and sha256(DS / name) == e["sha256"], name
    pk = doc["files"]["load.json"]["notes"]["packages"]
    assert pk["@opentelemetry/instrumentation-http"] and pk["pino"]


@pytest.fixture(scope="module")
def models():
    tr = wb.load_traces(DS / "traces.otlp.jsonl.gz", quiet=True)
    lg = wb.load_logs(DS / "gateway.log.gz", DS / "gateway.stderr.log", DS / "users-service.log", quiet=True)
    m = wb.load_metrics(DS, quiet=True)
    return tr, lg, m


def test_routes_equal_the_raw_otlp(models):
    tr, _, _ = models
    raw = rawcount.per_route([DS / "traces.otlp.jsonl.gz"])
    got = {r["route"]: r for r in tr.by_route().iter_rows(named=True)}
    assert set(got) == set(raw) and len(raw) >= 5
    for route, want in raw.items():
        for k in ("requests", "errors"):
            assert got[route][k] == want[k], (route, k)
        for q in ("p50_ms", "p99_ms"):
            assert got[route][q] == pytest.approx(want[q], rel=1e-9), (route, q)
    assert tr.notes.is_empty()     # no orphan, no duplicate, nothing skipped


def test_log_levels_equal_the_raw_file_and_records_join(models):
    tr, lg, _ = models
    raw = collections.Counter(json.loads(ln)["level"] for ln in _lines(DS / "gateway.log.gz"))
    got = lg.table.filter(pl.col("source").str.ends_with("gateway.log.gz")).group_by("severity").len()
    assert dict(got.iter_rows()) == dict(raw)
    traced = lg.table.filter(pl.col("trace_id").is_not_null())
    assert len(traced) > 1000
    j = wb.join_logs_traces(lg, tr)
    assert len(j) == len(traced) and j["joined"].all()
    warn = lg.table.filter(pl.col("format") == "node-warning")
    assert warn["err_type"].to_list() == ["MaxListenersExceededWarning"]


def test_p99_changes_when_the_heap_floor_and_gc_pauses_rise(models):
    tr, lg, m = models
    g = wb.incident_grid(m, tr, lg, every="5s")
    ch = wb.incident_changes(g)
    start, end = wb.incident_window(ch)
    p99 = ch.filter(pl.col("signal") == "latency_p99_ms").sort("ts")
    assert len(p99) and p99["ratio"][0] > 2
    assert start <= p99["ts"][0] <= end
    # all of it when the thumbnail endpoint went live (a change point names the first bucket of the
    # new segment; its window starts one 5 s bucket earlier), not in the healthy phase before
    phases = json.loads((DS / "phases.json").read_text())
    t_ms = p99["ts"][0].timestamp() * 1000
    assert phases["incident_start"] - 5000 <= t_ms <= phases["end"]
    assert start.timestamp() * 1000 >= phases["incident_start"] - 10000


@pytest.fixture(scope="module")
def executed():
    return execute(NOTEBOOK, quiet=True, timeout=600)


def test_notebook_concludes(executed):
    nb = executed
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    text = _text(nb)
    assert re.search(r"p99 latency changed at \d\d:\d\d:\d\d", text)
    assert "the p99 change point falls within that window" in text
    assert "Leaking class: RenderedThumbnail" in text
    assert re.search(r"Held by: [^\n]*ThumbnailCache[^\n]*\.entries Map", text)
    # the finding is at the top of the report (filled in by the last cell through its display id)
    first = next(o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                 if "text/markdown" in (o.get("data") or {}))
    assert first.startswith("**What happened.**") and "changed within the window" in first
    assert "`RenderedThumbnail`" in first and "ThumbnailCache" in first


def test_report_without_code(executed):
    """workbench report --no-input: the page shows the findings, not the code that made them."""
    from workbench.cli import build_parser
    from workbench.report import to_html

    with_code, without = to_html(executed), to_html(executed, no_input=True)
    for page in (with_code, without):
        assert "What happened." in page and "RenderedThumbnail" in page
    # (code is highlighted span by span: look for the input editor, and for a name of the code)
    editor = "jp-InputArea-editor\" data-type=\"inline\""   # a code cell (the CSS names the class too)
    assert editor in with_code and editor not in without
    assert ">load_traces<" in with_code and ">load_traces<" not in without
    args = build_parser().parse_args(["report", str(NOTEBOOK), "-o", "x.html", "--no-input"])
    assert args.no_input is True
