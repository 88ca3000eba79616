"""The one MANIFEST.json shape of datasets/heap/, datasets/metrics/ and datasets/profiles/ (used by the
three build_*.py scripts; tests/test_datasets.py checks the committed manifests against their folders):

    {"node": "v20.20.2",                                   # node --version that recorded the files
     "built_by": "python datasets/build_X.py",
     "files": {"<path relative to the manifest's folder>": {
         "sha256": "<hex of the file's bytes>", "bytes": <file size>,
         "command": "<the command that recorded it>",
         "counts": {"<name>": <int>, ...},                 # may be empty
         "notes": "<string>" | {...}}}}                     # optional: other facts about the file

Every data file of the folder (recursively) is listed, one entry per regular file, sorted by path.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

NAME = "MANIFEST.json"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def entry(path: Path, command: str, counts: dict | None = None, notes: str | dict | None = None) -> dict:
    """The manifest entry of one recorded file (sha256 and size read from disk now)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    counts = dict(counts or {})
    bad = {k: v for k, v in counts.items() if not isinstance(k, str) or type(v) is not int}
    if bad:
        raise TypeError(f"{path}: counts must be str -> int, got {bad}")
    e = {"sha256": sha256(path), "bytes": path.stat().st_size, "command": command, "counts": counts}
    if notes not in (None, "", {}):
        e["notes"] = notes
    return e


def load(folder: Path) -> dict:
    """The manifest's files (an empty dict when there is no manifest yet)."""
    p = Path(folder) / NAME
    if not p.exists():
        return {}
    files = json.loads(p.read_text()).get("files", {})
    return files if isinstance(files, dict) else {}


def write(folder: Path, node: str, built_by: str, files: dict) -> Path:
    """Write ``folder``/MANIFEST.json: entries sorted by path, keys relative to ``folder``."""
    folder = Path(folder)
    for name in files:
        if Path(name).is_absolute() or ".." in Path(name).parts or "\\" in name:
            raise ValueError(f"manifest key must be a relative posix path inside {folder}: {name}")
    doc = {"node": node, "built_by": built_by, "files": {k: files[k] for k in sorted(files)}}
    p = folder / NAME
    p.write_text(json.dumps(doc, indent=1) + "\n")
    return p
