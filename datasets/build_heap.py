"""Regenerate the heap datasets: run each datasets/scenarios/heap_*.js with the machine's node,
gzip the snapshots it writes into datasets/heap/<scenario>/, and write datasets/heap/MANIFEST.json
(the shape of datasets/_manifest.py: node version, command line, sha256 and size of the gzip, node and
edge counts; the raw snapshot's sha256 and size as notes). A scenario's ``// planted: <class> <count>``
line (the leak it plants per phase: objects of that class, or of that function's name, new in the
target snapshot and alive in the final one) is recorded as ``counts.planted`` and
``notes.planted_class`` of each of its files, also for scenarios not rebuilt.

    python datasets/build_heap.py            # all scenarios
    python datasets/build_heap.py sessions   # one
"""
from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _manifest  # noqa: E402

SCENARIOS = HERE / "scenarios"
OUT = HERE / "heap"


def header_counts(raw: bytes) -> dict:
    head = raw[:4096].decode("utf-8", "replace")
    out = {}
    for key in ("node_count", "edge_count", "trace_function_count"):
        m = re.search(rf'"{key}":(\d+)', head)
        if m:
            out[key] = int(m.group(1))
    return out


def build(name: str, node: str = "node") -> dict[str, dict]:
    """Record one scenario; its manifest entries keyed by path relative to datasets/heap/."""
    script = SCENARIOS / f"heap_{name}.js"
    dest = OUT / name
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [node, "--expose-gc", str(script.relative_to(HERE.parent)), tmp]
        subprocess.run(cmd, check=True, cwd=HERE.parent, timeout=600)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        entries = {}
        for f in sorted(Path(tmp).iterdir()):
            raw = f.read_bytes()
            gz = dest / (f.name + ".gz")
            # mtime=0 keeps the gzip bytes reproducible for the same snapshot.
            with open(gz, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as g:
                g.write(raw)
            entries[gz.relative_to(OUT).as_posix()] = _manifest.entry(
                gz, " ".join(["node", *cmd[1:3], "<outdir>"]), header_counts(raw),
                {"sha256_raw": hashlib.sha256(raw).hexdigest(), "bytes_raw": len(raw)})
        return entries


def planted(name: str) -> tuple[str, int] | None:
    m = re.search(r"^// planted: (\S+) (\d+)\s*$", (SCENARIOS / f"heap_{name}.js").read_text(), re.M)
    return (m.group(1), int(m.group(2))) if m else None


def with_planted(key: str, e: dict) -> dict:
    name = key.split("/", 1)[0]
    script = SCENARIOS / f"heap_{name}.js"
    p = planted(name) if script.exists() else None
    if p is None:
        return e
    e = dict(e)
    e["counts"] = {**e.get("counts", {}), "planted": p[1]}
    notes = e.get("notes") if isinstance(e.get("notes"), dict) else {}
    e["notes"] = {**notes, "planted_class": p[0]}
    return e


def main(argv: list[str]) -> None:
    names = argv or sorted(p.stem[len("heap_"):] for p in SCENARIOS.glob("heap_*.js"))
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    # a partial rebuild keeps the other scenarios' entries (the scenario is the first path component)
    files = {k: e for k, e in _manifest.load(OUT).items() if k.split("/", 1)[0] not in names}
    for name in names:
        print(f"building {name} ...", flush=True)
        files.update(build(name))
    OUT.mkdir(exist_ok=True)
    files = {k: with_planted(k, e) for k, e in files.items()}
    _manifest.write(OUT, version, "python datasets/build_heap.py", files)


if __name__ == "__main__":
    main(sys.argv[1:])
