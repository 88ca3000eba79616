"""CLI and charts, as a user sees them."""
import json
import subprocess
import sys

import pytest

import workbench as wb
from workbench.cli import main
from workbench.charts.metrics import event_loop_chart, gc_chart, memory_chart, timeline

from .conftest import DATA, GOLD


def test_cli_diagnose_json(capsys):
    assert main(["diagnose", str(DATA / "gc"), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    gold = json.loads((GOLD / "gc.json").read_text())
    assert {"category", "issues", "evidence"} <= set(d)
    assert d["category"] == gold["issueCategory"] and d["issues"] == gold["issues"]
    assert d["evidence"]["memory"]["max_blocked_ms_per_1s"] >= 100


def test_cli_metrics_csv(capsys):
    assert main(["metrics", str(DATA / "io" / "memory.jsonl"), "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("run,metric,labels,unit,quantity,samples")
    n = len((DATA / "io" / "memory.jsonl").read_text().splitlines())
    assert sorted(int(r.split(",")[5]) for r in out[1:]) == [n] * 5


def test_cli_bad_input_one_line(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("no metrics here\n")
    p = subprocess.run([sys.executable, "-m", "workbench", "metrics", str(f)], capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and p.stderr.startswith(f"workbench: error: {f}:")


def test_cli_warns_garbled_lines(tmp_path, capsys):
    f = tmp_path / "gc.log"
    f.write_text("[1:0x1]  5 ms: Scavenge 1.0 (2.0) -> 0.5 (2.0) MB, 0.5 / 0.0 ms  (average mu = 1.000, current mu = 1.000) task;\n"
                 "garbled\n")
    assert main(["metrics", str(f)]) == 0
    err = capsys.readouterr().err
    assert "1 x not a GC trace line (line 2)" in err


@pytest.mark.parametrize("name", ["leak"])
def test_charts_render(tmp_path, name):
    m = wb.load_metrics(DATA / name, quiet=True)
    t = timeline(m)
    spec = t.to_dict()
    params = spec.get("params", []) + [p for c in spec["vconcat"] for p in c.get("params", [])]
    assert any(p.get("name") == "brush" for p in params)
    titles = [c["title"]["text"] for c in spec["vconcat"]]
    assert titles[:2] == ["heap used (MB)", "RSS (MB)"] and "GC pause (ms)" in titles
    png = tmp_path / "t.png"
    t.save(str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20000
    for c in (memory_chart(m), event_loop_chart(m), gc_chart(m)):
        assert c.to_dict()
