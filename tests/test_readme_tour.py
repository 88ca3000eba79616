"""The README's tour runs as written, with ``import workbench as wb`` as its only import."""
import ast
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tour() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Tour"):text.index("\n## ", text.index("## Tour") + 1)]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_tour_imports_workbench_alone():
    imports = [n for n in ast.walk(ast.parse(_tour())) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(n) for n in imports] == ["import workbench as wb"]


def test_tour_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("WORKBENCH_QUIET", "1")
    ns: dict = {}
    exec(compile(_tour(), "README.md tour", "exec"), ns)
    wb = ns["wb"]
    # what the tour built is what it says
    assert ns["snap"].summary().columns[:2] == ["class", "class_key"]
    assert isinstance(ns["d"].functions, type(ns["snap"].summary())) and ns["d"].functions.height > 0
    assert ns["m"].notes.columns == ["source", "section", "count", "what"]
    assert {"SnapshotComparison", "FlameGraph", "profile_diff", "timeline_widget"} <= set(dir(wb))
    assert os.path.exists("datasets/profiles/sync_logging_fast.cpuprofile")
