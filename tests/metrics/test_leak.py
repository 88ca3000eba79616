"""Leak trend: the slow-leak scenario grows at its planted rate; healthy and GC-heavy do not."""
import pytest

import workbench as wb

from .conftest import DATA, ROOT

PLANTED_MB_PER_HOUR = 500 * 1024 * 3600 / 2**20   # metrics_leak.js LEAK_BYTES_PER_S, in MB (2^20) / h


def test_planted_rate_is_what_the_scenario_says():
    src = (ROOT / "datasets" / "scenarios" / "metrics_leak.js").read_text()
    assert "const LEAK_BYTES_PER_S = 500 * 1024" in src


def test_leak_is_growth_at_the_planted_rate():
    t = wb.load_metrics(DATA / "leak", quiet=True).leak_trend().row(0, named=True)
    assert t["verdict"] == "growth"
    assert t["basis"].startswith("heap used after full GCs")
    assert abs(t["slope_mb_per_hour"] - PLANTED_MB_PER_HOUR) / PLANTED_MB_PER_HOUR < 0.20
    assert t["slope_ci_low"] > 0


@pytest.mark.parametrize("name", ["healthy", "gc"])
def test_stable_runs_are_not_growth(name):
    t = wb.load_metrics(DATA / name, quiet=True).leak_trend().row(0, named=True)
    assert t["verdict"] in ("sawtooth", "plateau", "flat")
    assert t["median_swing_fraction"] > 0.10   # the heap does saw up and down


def test_gc_scenario_is_a_plateau_once_warm():
    # the cache fills at start-up, then the floor stays put: in the load window the trend is flat
    m = wb.load_metrics(DATA / "gc", quiet=True)
    assert m.leak_trend().row(0, named=True)["verdict"] == "plateau"
    ts = m.gc_events.filter(m.gc_events["kind"] == "major")["ts"]
    t = m.window(ts[2], ts[-1]).leak_trend().row(0, named=True)
    assert t["slope_ci_low"] < 0 < t["slope_ci_high"]


def test_sample_only_trend_on_leak():
    # without the GC log, window minima of memoryUsage samples still see the leak
    t = wb.load_metrics(DATA / "leak" / "memory.jsonl", quiet=True).leak_trend().row(0, named=True)
    assert t["basis"] == "window minima of samples" and t["verdict"] == "growth"
    assert t["slope_mb_per_hour"] > 0.8 * PLANTED_MB_PER_HOUR
