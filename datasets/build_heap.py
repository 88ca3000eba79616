"""Regenerate the heap datasets: run each datasets/scenarios/heap_*.js with the machine's node,
gzip the snapshots it writes into datasets/heap/<scenario>/, and write datasets/heap/MANIFEST.json
(node version, command line, sha256 of the gzip and of the raw snapshot, node and edge counts).

    python datasets/build_heap.py            # all scenarios
    python datasets/build_heap.py sessions   # one
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
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


def build(name: str, node: str = "node") -> list[dict]:
    script = SCENARIOS / f"heap_{name}.js"
    dest = OUT / name
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [node, "--expose-gc", str(script.relative_to(HERE.parent)), tmp]
        subprocess.run(cmd, check=True, cwd=HERE.parent, timeout=600)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        entries = []
        for f in sorted(Path(tmp).iterdir()):
            raw = f.read_bytes()
            gz = dest / (f.name + ".gz")
            # mtime=0 keeps the gzip bytes reproducible for the same snapshot.
            with open(gz, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as g:
                g.write(raw)
            entries.append({
                "file": str(gz.relative_to(HERE.parent)),
                "scenario": name,
                "command": " ".join(["node", *cmd[1:3], "<outdir>"]),
                "bytes": len(raw),
                "sha256_raw": hashlib.sha256(raw).hexdigest(),
                "sha256": hashlib.sha256(gz.read_bytes()).hexdigest(),
                **header_counts(raw),
            })
        return entries


def main(argv: list[str]) -> None:
    names = argv or sorted(p.stem[len("heap_"):] for p in SCENARIOS.glob("heap_*.js"))
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    manifest_path = OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"files": []}
    keep = [e for e in manifest.get("files", []) if e["scenario"] not in names]
    for name in names:
        print(f"building {name} ...", flush=True)
        keep.extend(build(name))
    manifest = {"node_version": version, "files": sorted(keep, key=lambda e: e["file"])}
    OUT.mkdir(exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
