"""GC-log parsing: every line of each dataset log is an event or a counted problem; counts and pause
totals per type equal the MANIFEST's, which build_metrics.py took from the raw log by plain string
splitting (an independent parse)."""
import gzip

import polars as pl
import pytest

import workbench as wb
from workbench.errors import FormatError
from workbench.io.gclog import read_gclog

from .conftest import DATA, SCENARIOS, gc_log


@pytest.mark.parametrize("name", SCENARIOS)
def test_dataset_logs(name, manifest):
    entry = manifest["files"][gc_log(name).relative_to(DATA).as_posix()]
    raw = entry["counts"]
    raw_by_type = {k.removeprefix("by_type:"): n for k, n in raw.items() if k.startswith("by_type:")}
    r = read_gclog(gc_log(name))
    assert r.info["lines"] == raw["lines"]
    assert len(r.events) + len(r.problems) == raw["lines"]
    assert len(r.events) == raw["gc_lines"] and len(r.problems) == raw["other_lines"]
    by = r.events.group_by("type").agg(n=pl.len(), p=pl.col("pause_ms").sum())
    assert {t: n for t, n, _ in by.iter_rows()} == raw_by_type
    for t, _, p in by.iter_rows():
        assert p == pytest.approx(entry["notes"]["pause_ms_by_type"][t], abs=1e-6)


def test_nvp_log(manifest):
    entry = manifest["files"]["healthy_nvp/gc-nvp.log.gz"]
    raw = entry["counts"]
    r = read_gclog(DATA / "healthy_nvp" / "gc-nvp.log.gz")
    assert len(r.events) == raw["nvp_lines"] and len(r.problems) == raw["lines"] - raw["nvp_lines"]
    assert r.events["pause_ms"].sum() == pytest.approx(entry["notes"]["pause_ms_total"], abs=1e-6)
    assert set(r.events["kind"].unique()) <= {"minor", "major"}
    assert r.events["total_size_after"].null_count() == 0
    assert (r.events["promotion_ratio"] >= 0).all()     # '%' suffix stripped


def test_gc_log_matches_doctor_trace_events():
    # the same process: each Scavenge line is one V8.GCScavenger trace event; pauses agree to 1 %
    m = wb.load_metrics(DATA / "gc", quiet=True)
    p = m.gc_pauses()
    log = p.filter(pl.col("type") == "Scavenge").row(0, named=True)
    te = p.filter(pl.col("type") == "V8.GCScavenger").row(0, named=True)
    assert log["count"] == te["count"]
    assert log["total_ms"] == pytest.approx(te["total_ms"], rel=0.01)
    src = m.sources.filter(pl.col("format") == "gc log").row(0, named=True)
    assert src["aligned_by"] == "doctor trace events"


FORMATS = """\
[39067:0x158008000]  2297 ms: Scavenge 117.5 (135.8) -> 102.2 (135.8) MB, 0.8 / 0.0 ms  (average mu = 0.994, current mu = 0.994) allocation failure
[24851] 852 ms: Scavenge 26.8 (57.2) -> 20.8 (58.2) MB, 3.1 ms [allocation failure].
[24851]     9180 ms: Mark-sweep 85.8 (119.0) -> 76.1 (119.0) MB, 1.5 / 12.3 ms (+ 10.1 ms in 23 steps since start of marking, biggest step 1.2 ms) [GC interrupt] [GC in old space requested].
[7:0x5a8e]   120 ms: Mark-Compact (reduce) 30.1 (40.0) -> 20.0 (35.0) MB, pooled: 1.0 MB, 5.25 / 0.10 ms  (+ 2.0 ms in 3 steps since start of marking, biggest step 1.0 ms, walltime since start of marking 9 ms) (average mu = 0.900, current mu = 0.800) finalize incremental marking via stack guard; GC in old space requested
this is not a gc line
[7:0x5a8e]   121 ms: Scavenge 30.1 (40.0) -> garbled
"""


def test_formats_of_older_and_newer_nodes(tmp_path):
    f = tmp_path / "mixed.log"
    f.write_text(FORMATS)
    r = read_gclog(f)
    e = r.events
    assert len(e) == 4 and r.problems["line"].to_list() == [5, 6]
    assert e["pause_ms"].to_list() == [0.8, 3.1, 12.3, 5.25]        # old format: "external / pause"
    assert e["external_ms"].to_list()[2:] == [1.5, 0.10]
    assert e["kind"].to_list() == ["minor", "minor", "major", "major"]
    assert e["reduce"].to_list() == [False, False, False, True]
    assert e["pooled_mb"].to_list()[3] == 1.0
    assert e["gc_reason"].to_list() == ["allocation failure", "allocation failure", "GC interrupt] [GC in old space requested",
                                         "finalize incremental marking via stack guard"]
    assert e["collector_reason"].to_list()[3] == "GC in old space requested"
    assert e["isolate"].to_list()[1] is None and e["pid"].to_list()[1] == 24851
    assert e["format"].to_list() == ["trace-gc (node guide)", "trace-gc (2015)", "trace-gc (2015)", "trace-gc"]


def test_garbled_dataset_lines_are_reported(tmp_path):
    lines = gzip.decompress(gc_log("healthy").read_bytes()).decode().splitlines()
    lines[9] = lines[9][:25]
    lines.insert(100, "GARBAGE")
    f = tmp_path / "gc.log"
    f.write_text("\n".join(lines) + "\n")
    r = read_gclog(f)
    assert r.problems["line"].to_list() == [10, 101]
    assert len(r.events) == len(lines) - 2


def test_not_a_gc_log(tmp_path):
    f = tmp_path / "x.log"
    f.write_text("hello\nworld\n")
    with pytest.raises(FormatError):
        read_gclog(f)
