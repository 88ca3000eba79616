"""Metric-format files written by other projects (tests/corpus/metrics/MANIFEST.json): Node
diagnostic reports from Node 11/12 (before header.reportVersion) and Windows, Prometheus exposition
test files, V8 GC traces from Node 18 to 26; each loads through workbench.load and gives its answer."""
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

import workbench as wb

HERE = Path(__file__).resolve().parent / "metrics"
MANIFEST = json.loads((HERE / "MANIFEST.json").read_text())
FILES = sorted(MANIFEST["files"])


def test_manifest_lists_every_file_with_its_provenance():
    on_disk = {p.name for p in HERE.iterdir() if p.name != "MANIFEST.json"}
    assert on_disk == set(FILES)
    for name, e in MANIFEST["files"].items():
        p = HERE / name
        assert hashlib.sha256(p.read_bytes()).hexdigest() == e["sha256"] and p.stat().st_size == e["bytes"]
        assert e["licence"] and e["format"] and e["answer"] and e["answer_source"] and e["repo"]
    assert all(x["why"] for x in MANIFEST["left_out"])
    kinds = {n.split("_")[0].split("-node")[0] for n in FILES}
    assert kinds == {"report-toolkit", "prometheus-common", "openmetrics", "v8"}


@pytest.mark.parametrize("name", [n for n in FILES if n.startswith("report-toolkit")])
def test_diagnostic_reports(name):
    a = MANIFEST["files"][name]["answer"]
    m = wb.load(HERE / name)
    t = m.table
    heap = t.filter(pl.col("metric") == "javascriptHeap.totalMemory")
    assert heap["value"].to_list() == [a["javascriptHeap.totalMemory"]]
    assert int(heap["ts"].cast(pl.Int64)[0]) // 1000 == a["dumpEventTimeStamp"]   # us -> ms
    assert int(t.filter(pl.col("metric") == "libuv_handles")["value"].sum()) == a["libuv_handles"]
    spaces = t.filter(pl.col("metric").str.starts_with("heap_space_"))["labels"].n_unique()
    assert spaces == a["heap_spaces"]


def test_corpus_covers_old_and_windows_reports():
    answers = [e["answer"] for n, e in MANIFEST["files"].items() if n.startswith("report-toolkit")]
    assert any(a["reportVersion"] is None and a["nodejsVersion"].startswith("v11.") for a in answers)
    assert any(a["reportVersion"] is None and a["nodejsVersion"].startswith("v12.") for a in answers)
    assert any(a["platform"] == "win32" for a in answers)


@pytest.mark.parametrize("name", [n for n in FILES if n.startswith("prometheus-common")])
def test_prometheus_exposition(name):
    a = MANIFEST["files"][name]["answer"]
    m = wb.load(HERE / name)
    assert len(m.table) == a["samples"]
    assert len(m.problems) == 0


@pytest.mark.parametrize("name", [n for n in FILES if n.startswith("v8-node")])
def test_gc_traces(name):
    a = MANIFEST["files"][name]["answer"]
    m = wb.load(HERE / name)
    pauses = m.table.filter(pl.col("metric") == "gc_pause")
    assert len(pauses) == a["gc_events"]
    assert (pauses["value"] >= 0).all()


@pytest.mark.parametrize("name", [n for n in FILES if n.startswith("openmetrics_")])
def test_openmetrics_conformance_suite(name):
    """Every case the OpenMetrics suite says should parse loads; a sample line is either a row or a
    counted problem (only a timestamp no clock can show, 1.2e19 s, is one)."""
    a = MANIFEST["files"][name]["answer"]
    assert a["shouldParse"] is True
    m = wb.load(HERE / name)
    assert len(m.table) + len(m.problems) == a["samples"]
    assert set(m.problems["reason"].to_list()) <= {"timestamp out of range"}
