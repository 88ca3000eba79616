"""The committed datasets against their MANIFEST.json (one shape for heap, metrics and profiles, written
by datasets/build_*.py through datasets/_manifest.py): every key there with the right type, every listed
file present with that sha256 and size, and every data file of the folder listed."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = {"heap": "build_heap.py", "metrics": "build_metrics.py", "profiles": "build_profiles.py",
            "incident": "build_incident.py"}
ENTRY_KEYS = {"sha256", "bytes", "command", "counts"}
OPTIONAL_KEYS = {"notes"}
# not data: the manifest itself, build helpers, caches, and datasets/**/large/ (git-ignored local files)
NOT_DATA_FILES = {"MANIFEST.json"}
NOT_DATA_DIRS = {"__pycache__", "large"}


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def load(name: str) -> dict:
    return json.loads((ROOT / "datasets" / name / "MANIFEST.json").read_text())


def data_files(folder: Path) -> set[str]:
    out = set()
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if not p.is_file() or NOT_DATA_DIRS & set(rel.parts[:-1]):
            continue
        if p.name in NOT_DATA_FILES or re.fullmatch(r"(build.*\.(py|sh)|_manifest\.py|.*\.pyc)", p.name):
            continue
        out.add(rel.as_posix())
    return out


def sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.mark.parametrize("name", DATASETS)
def test_manifest_schema(name):
    doc = load(name)
    assert set(doc) == {"node", "built_by", "files"}, sorted(doc)
    assert isinstance(doc["node"], str) and re.fullmatch(r"v\d+\.\d+\.\d+", doc["node"]), doc["node"]
    assert doc["built_by"] == f"python datasets/{DATASETS[name]}"
    assert (ROOT / "datasets" / DATASETS[name]).is_file()
    files = doc["files"]
    assert isinstance(files, dict) and files
    assert list(files) == sorted(files), "entries are sorted by path"
    for path, e in files.items():
        pp = PurePosixPath(path)
        assert isinstance(path, str) and path and "\\" not in path, path
        assert not pp.is_absolute() and ".." not in pp.parts and str(pp) == path, path
        assert isinstance(e, dict), path
        assert ENTRY_KEYS <= set(e) <= ENTRY_KEYS | OPTIONAL_KEYS, (path, sorted(e))
        assert isinstance(e["sha256"], str) and re.fullmatch(r"[0-9a-f]{64}", e["sha256"]), path
        assert is_int(e["bytes"]) and e["bytes"] >= 0, path
        assert isinstance(e["command"], str) and e["command"].strip(), path
        assert isinstance(e["counts"], dict), path
        for k, v in e["counts"].items():
            assert isinstance(k, str) and k and is_int(v) and v >= 0, (path, k, v)
        if "notes" in e:
            assert isinstance(e["notes"], (str, dict)) and e["notes"], path


@pytest.mark.parametrize("name", DATASETS)
def test_listed_files_have_their_sha256_and_size(name):
    folder = ROOT / "datasets" / name
    for path, e in load(name)["files"].items():
        p = folder / path
        assert p.is_file(), f"listed but missing: datasets/{name}/{path}"
        assert p.stat().st_size == e["bytes"], f"datasets/{name}/{path}"
        assert sha256(p) == e["sha256"], f"datasets/{name}/{path}"


@pytest.mark.parametrize("name", DATASETS)
def test_every_data_file_is_listed(name):
    unlisted = data_files(ROOT / "datasets" / name) - set(load(name)["files"])
    assert not unlisted, f"in datasets/{name}/ but not in its MANIFEST.json: {sorted(unlisted)}"


def test_one_profile_folder():
    # the singular folder was merged into datasets/profiles/ (with its manifest and build script)
    assert not (ROOT / "datasets").joinpath("profile").exists(), "profile datasets live in datasets/profiles/"
