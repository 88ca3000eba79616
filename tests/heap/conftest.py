import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((ROOT / "datasets" / "heap" / "MANIFEST.json").read_text())
DATASET_FILES = [ROOT / "datasets" / "heap" / name for name in MANIFEST["files"]]


def golden_base(path: Path) -> Path:
    return ROOT / "tests" / "golden" / "heap" / path.parent.name / path.name.split(".")[0]


@pytest.fixture(scope="session")
def snapshots():
    """Each dataset snapshot loaded once per test session."""
    import workbench as wb
    cache = {}

    def get(path):
        path = Path(path)
        if path not in cache:
            cache[path] = wb.load_snapshot(path)
        return cache[path]
    return get
