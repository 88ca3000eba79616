import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "datasets" / "metrics"
GOLD = ROOT / "tests" / "golden" / "metrics" / "doctor"
SCENARIOS = ["healthy", "blocked", "io", "gc", "leak"]


@pytest.fixture(scope="session")
def manifest():
    return json.loads((DATA / "MANIFEST.json").read_text())


def gc_log(name):
    return next((DATA / name).glob("gc*.log*"))
