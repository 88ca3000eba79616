"""diagnose() against Clinic.js Doctor's own analysis of the same recordings (goldens made by
datasets/scenarios/metrics_doctor_analyse.js running @clinic/doctor 11.0.0's analysis/index.js)."""
import json

import numpy as np
import pytest

import workbench as wb
from workbench.errors import FormatError
from workbench.io.clinic_doctor import read_doctor
import importlib

D = importlib.import_module("workbench.metrics.diagnose")

from .conftest import DATA, GOLD, SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_diagnose_equals_doctor(name):
    gold = json.loads((GOLD / f"{name}.json").read_text())
    m = wb.load_metrics(DATA / name / "doctor.clinic-doctor", quiet=True)
    d = wb.diagnose(m)
    assert d["category"] == gold["issueCategory"]
    assert d["issues"] == gold["issues"]
    assert d["interval"]["index"] == gold["details"]["interval_index"]
    assert d["interval"]["unix_ms"] == gold["interval"]


def test_goldens_cover_every_category_we_planted():
    cats = {n: json.loads((GOLD / f"{n}.json").read_text())["issueCategory"] for n in SCENARIOS}
    assert cats == {"healthy": "none", "blocked": "event-loop", "io": "io", "gc": "gc", "leak": "none"}


@pytest.mark.parametrize("name", SCENARIOS)
def test_decoded_counts_equal_doctor(name):
    gold = json.loads((GOLD / f"{name}.json").read_text())["details"]
    r = read_doctor(DATA / name / "doctor.clinic-doctor")
    assert len(r.info["doctor"]["process_stat"]) == gold["process_stat_count"]
    assert r.info["trace_events_gc"] == gold["trace_event_gc_count"]
    assert r.info["blocking_gc_events"] == gold["blocking_gc_count"]
    assert r.info["doctor"]["process_stat"]["timestamp"][0] == gold["first_timestamp"]


def test_issue_category_table():
    mem = {"external": "none", "rss": "none", "heapTotal": "none", "heapUsed": "none"}
    base = {"delay": "none", "cpu": "none", "memory": mem, "handles": "none", "loopUtilization": "none"}
    assert D.issue_category(base) == "none"
    assert D.issue_category(dict(base, delay="performance")) == "event-loop"
    assert D.issue_category(dict(base, loopUtilization="performance")) == "event-loop"
    assert D.issue_category(dict(base, cpu="performance")) == "io"
    assert D.issue_category(dict(base, memory=dict(mem, heapUsed="performance"))) == "gc"
    assert D.issue_category(dict(base, memory=dict(mem, heapTotal="data"))) == "data"
    assert D.issue_category(dict(base, delay="performance", cpu="performance")) == "unknown"


def test_quartile_is_summary_semantics():
    x = np.array([4.0, 1.0, 3.0, 2.0])
    assert D.quartile(x, 0.5) == 2.5          # even: mean of the two middle values
    assert D.quartile(x, 0.9) == 4.0          # ceil(3.6) - 1 -> index 3
    assert D.quartile(np.array([5.0, 1.0, 3.0]), 0.5) == 3.0


def test_memory_rule_windows():
    # 3 x 40 ms of scavenges in one second: 120 ms >= 100 -> heapUsed (new space dominates)
    s = np.array([1000.0, 1100.0, 1200.0])
    res, ev = D.analyse_memory(s, s + 40, np.array([True, True, True]))
    assert res["heapUsed"] == "performance" and res["heapTotal"] == "none"
    assert ev["max_blocked_ms_per_1s"] == pytest.approx(120)
    # the same spread over three seconds: no issue
    s = np.array([1000.0, 2000.0, 3000.0])
    res, _ = D.analyse_memory(s, s + 40, np.array([True, False, True]))
    assert res["heapUsed"] == "none" and res["heapTotal"] == "none"


def test_window_replaces_interval_guess():
    m = wb.load_metrics(DATA / "blocked" / "doctor.clinic-doctor", quiet=True)
    ps = m.doctor["blocked"]["process_stat"]
    t = ps["timestamp"].to_numpy()
    w = m.window(t[0], t[100])
    d = wb.diagnose(w)
    assert d["interval"]["how"] == "window" and d["evidence"]["samples"] == 101


def test_truncated_and_corrupt_processstat(tmp_path):
    src = DATA / "io" / "doctor.clinic-doctor"
    for name in ("truncated", "corrupt"):
        d = tmp_path / name / "x.clinic-doctor"
        d.mkdir(parents=True)
        for f in src.iterdir():
            (d / f.name.replace("doctor.", "x.")).write_bytes(f.read_bytes())
    ps = tmp_path / "truncated" / "x.clinic-doctor" / "x.clinic-doctor-processstat"
    data = ps.read_bytes()
    ps.write_bytes(data[:-7])
    r = read_doctor(ps.parent)
    assert len(r.problems) == 1 and "truncated" in r.problems["reason"][0]
    assert len(r.info["doctor"]["process_stat"]) == json.loads((GOLD / "io.json").read_text())["details"]["process_stat_count"] - 1
    ps = tmp_path / "corrupt" / "x.clinic-doctor" / "x.clinic-doctor-processstat"
    bad = bytearray(data)
    bad[2 + 80 * 3] = 0x07   # a field tag with wire type 7 inside message 4
    ps.write_bytes(bytes(bad))
    with pytest.raises(FormatError) as e:
        read_doctor(ps.parent)
    assert e.value.section == "processstat" and e.value.offset is not None


@pytest.mark.parametrize("name,expected", [("blocked", "event-loop"), ("io", "io"), ("gc", "gc")])
def test_approximate_diagnosis_without_doctor(name, expected):
    # the same rules on prom scrapes + event-loop CSV + gc.log of the same run (no Doctor folder)
    files = [p for p in (DATA / name).iterdir() if "doctor" not in p.name]
    d = wb.diagnose(wb.load_metrics(*files, quiet=True))
    assert d["basis"].startswith("approximation") and d["category"] == expected
