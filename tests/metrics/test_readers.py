"""Prometheus/OpenMetrics, memoryUsage/event-loop samples, diagnostic reports, and the loader."""
import json

import polars as pl
import pytest

import workbench as wb
from workbench.errors import FormatError, WorkbenchError
from workbench.io.diagnostic_report import read_report
from workbench.io.memory_samples import read_csv, read_jsonl
from workbench.io.prometheus import read_prometheus

from .conftest import DATA


def _raw_samples(text):
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def test_scrape_folder_counts_and_times():
    d = DATA / "leak" / "scrapes"
    files = sorted(d.glob("*.prom"))
    r = read_prometheus(d)
    assert len(r.table) == sum(len(_raw_samples(f.read_text())) for f in files)
    assert r.problems.is_empty() and r.info["scrape_time_from"] == {"file name": len(files)}
    ts = r.table["ts"].unique().sort().dt.epoch("ms").to_list()
    assert ts == [int(f.stem) for f in files]
    # a value straight from the raw text of the last scrape
    last = files[-1].read_text()
    line = next(ln for ln in last.splitlines() if ln.startswith("nodejs_heap_size_used_bytes "))
    got = r.table.filter((pl.col("metric") == "nodejs_heap_size_used_bytes") & (pl.col("ts").dt.epoch("ms") == int(files[-1].stem)))
    assert got["value"].item() == float(line.split()[1]) and got["unit"].item() == "B"
    assert r.info["types"]["nodejs_gc_duration_seconds_bucket"] == "histogram"


def test_openmetrics_and_garbled(tmp_path):
    f = tmp_path / "x.openmetrics.txt"
    f.write_text('# TYPE a counter\n# UNIT a seconds\na_total{k="v"} 3 1700000000.5\n'
                 'b{x="1"} 2 # {trace_id="abc"} 1.0 1700000000\n'
                 'nodejs_eventloop_lag_min_seconds 9223372036.854776\n'
                 'broken line here\nc{x="1" 4\nd NotANumber\n# EOF\n')
    r = read_prometheus(f, ts=1_700_000_100_000)
    assert r.problems["line"].to_list() == [6, 7, 8]
    a = r.table.filter(pl.col("metric") == "a_total").row(0, named=True)
    assert a["ts"].timestamp() == pytest.approx(1700000000.5) and a["unit"] == "s" and a["labels"] == 'k="v"'
    assert r.info["exemplars_ignored"] == 1 and r.info["sentinels_to_nan"] == 1
    assert r.table.filter(pl.col("metric") == "nodejs_eventloop_lag_min_seconds")["value"].is_nan().all()


def test_prometheus_no_samples_is_an_error(tmp_path):
    f = tmp_path / "e.prom"
    f.write_text("# TYPE a gauge\n")
    with pytest.raises(FormatError):
        read_prometheus(f)


def test_memory_jsonl_and_eventloop_csv():
    f = DATA / "gc" / "memory.jsonl"
    raw = [json.loads(x) for x in f.read_text().splitlines()]
    r = read_jsonl(f)
    assert len(r.table) == 5 * len(raw) and r.problems.is_empty()
    hu = r.table.filter(pl.col("metric") == "heapUsed")
    assert hu["value"].to_list() == [float(x["heapUsed"]) for x in raw]
    e = read_csv(DATA / "gc" / "eventloop.csv")
    rows = (DATA / "gc" / "eventloop.csv").read_text().splitlines()[1:]
    assert e.table.filter(pl.col("metric") == "p99")["value"].to_list() == [float(x.split(",")[10]) for x in rows]
    assert e.table.filter(pl.col("metric") == "p99")["unit"].unique().to_list() == ["ns"]


def test_bad_sample_lines_have_line_numbers(tmp_path):
    good = (DATA / "healthy" / "memory.jsonl").read_text().splitlines()
    f = tmp_path / "m.jsonl"
    f.write_text("\n".join(good[:5] + ["{not json", "[1, 2]"] + good[5:10]) + "\n")
    r = read_jsonl(f)
    assert r.problems["line"].to_list() == [6, 7] and len(r.table) == 5 * 10
    c = tmp_path / "m.csv"
    c.write_text("ts,heapUsed,rss\n1700000000000,1,2\n1700000000100,x,2\n1700000000200,3\n1700000000300,4,5\n")
    r = read_csv(c)
    assert r.problems["line"].to_list() == [3, 4]
    assert r.table.filter(pl.col("metric") == "heapUsed")["value"].to_list() == [1.0, 4.0]


def test_report():
    f = DATA / "leak" / "report.json"
    rep = json.loads(f.read_text())
    r = read_report(f)
    used = r.table.filter(pl.col("metric") == "javascriptHeap.usedMemory")["value"].item()
    assert used == rep["javascriptHeap"]["usedMemory"]
    assert r.table["ts"][0].timestamp() * 1000 == pytest.approx(float(rep["header"]["dumpEventTimeStamp"]))
    assert rep["environmentVariables"] == {"REDACTED": "by datasets/build_metrics.py"}


def test_name_map_aligns_sources():
    m = wb.load_metrics(DATA / "leak", quiet=True)
    q = m.quantities()
    srcs = q.filter(pl.col("quantity") == "heap_used")["metric"].unique().sort().to_list()
    assert srcs == ["heapUsed", "javascriptHeap.usedMemory", "nodejs_heap_size_used_bytes"]
    lag = m.series("event_loop_delay_p99")
    assert set(lag["unit"].unique()) == {"ms"}
    # the ns export and the seconds scrape describe the same histogram windows: same magnitude
    by = lag.filter(~pl.col("source").str.contains("final")).group_by("source").agg(pl.col("value").median())
    assert len(by) == 2
    vals = sorted(by["value"].to_list())
    assert vals[-1] / vals[0] < 1.5


def test_otel_names(tmp_path):
    f = tmp_path / "otel.prom"
    f.write_text('# TYPE v8js_memory_heap_used_bytes gauge\n'
                 'v8js_memory_heap_used_bytes{v8js_heap_space_name="new_space"} 100\n'
                 'v8js_memory_heap_used_bytes{v8js_heap_space_name="old_space"} 900\n'
                 'nodejs_eventloop_delay_p99_seconds 0.02\nnodejs_eventloop_utilization_ratio 0.5\n')
    m = wb.load_metrics(f, ts=1_700_000_000_000, quiet=True)
    assert m.series("heap_used")["value"].to_list() == [1000.0]
    assert m.series("event_loop_delay_p99")["value"].to_list() == [20.0]
    assert m.series("event_loop_utilization")["value"].to_list() == [0.5]


def test_loader_errors(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("just some notes\n")
    with pytest.raises(FormatError):
        wb.load_metrics(f, quiet=True)
    with pytest.raises(WorkbenchError):
        wb.load_metrics(tmp_path / "missing.prom", quiet=True)
    d = tmp_path / "run"
    d.mkdir()
    (d / "memory.jsonl").write_text((DATA / "io" / "memory.jsonl").read_text())
    (d / "notes.txt").write_text("hello\n")
    m = wb.load_metrics(d, quiet=True)
    assert m.problems["reason"].to_list() == ["skipped: not a metric export"]
    assert m.runs == ["run"]
    assert wb.load(DATA / "io" / "memory.jsonl").runs == ["io"]
