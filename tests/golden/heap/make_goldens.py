"""Make the heap goldens from Chrome DevTools' own code (heap-snapshot-toolkit@1.1.3 from npm).

Installs the toolkit into .peers/heap (ignored by git), runs devtools_dump.mjs on every snapshot
listed in datasets/heap/MANIFEST.json, and writes per snapshot
  tests/golden/heap/<scenario>/<name>.npz   per-node arrays (self_size, retained_size, distance, dominator, id, class_index)
  tests/golden/heap/<scenario>/<name>.json  class names, Summary aggregates, Statistics

    python tests/golden/heap/make_goldens.py
"""
from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PEER = ROOT / ".peers" / "heap"
TOOLKIT = "heap-snapshot-toolkit@1.1.3"


def ensure_peer() -> None:
    if (PEER / "node_modules" / "heap-snapshot-toolkit").exists():
        return
    PEER.mkdir(parents=True, exist_ok=True)
    if not (PEER / "package.json").exists():
        (PEER / "package.json").write_text('{"name": "peers-heap", "private": true}\n')
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", TOOLKIT], cwd=PEER, check=True)


def devtools_readable_copy(snapshot: Path, tmpdir: str) -> Path:
    """Node 20 writes trace_function_count before serialising the trace, and functions added in
    between make the header undercount trace_function_infos (51 declared, 53 written in our
    timeline). DevTools sizes its array from the header and then crashes in AllocationProfile, so
    for DevTools only we feed a copy whose header states the true count. Nodes, edges and strings
    are untouched, so every golden number is DevTools' own on the same graph."""
    raw = gzip.decompress(snapshot.read_bytes()) if snapshot.suffix == ".gz" else snapshot.read_bytes()
    doc = json.loads(raw)
    nfields = len(doc["snapshot"]["meta"].get("trace_function_info_fields", [])) or 1
    true_count = len(doc.get("trace_function_infos", [])) // nfields
    declared = doc["snapshot"].get("trace_function_count", 0)
    if declared == true_count:
        return snapshot
    fixed = re.sub(rb'"trace_function_count":\d+', b'"trace_function_count":%d' % true_count, raw, count=1)
    out = Path(tmpdir) / (snapshot.name.removesuffix(".gz"))
    out.write_bytes(fixed)
    return out


def dump(snapshot: Path) -> dict:
    env = dict(os.environ, PEER_DIR=str(PEER))
    with tempfile.TemporaryDirectory() as tmp:
        return _dump(devtools_readable_copy(snapshot, tmp), env)


def _dump(snapshot: Path, env) -> dict:
    res = subprocess.run(["node", "--max-old-space-size=8192", str(HERE / "devtools_dump.mjs"), str(snapshot)],
                         capture_output=True, env=env, check=True)
    return json.loads(res.stdout)


def main(argv) -> None:
    ensure_peer()
    manifest = json.loads((ROOT / "datasets" / "heap" / "MANIFEST.json").read_text())
    for rel, entry in manifest["files"].items():
        file = f"datasets/heap/{rel}"        # keys are relative to datasets/heap/; goldens name the repo path
        src = ROOT / file
        scenario = src.parent.name
        if argv and scenario not in argv:
            continue
        name = src.name.split(".")[0]
        dest = HERE / scenario
        dest.mkdir(exist_ok=True)
        print(f"golden {file}", flush=True)
        d = dump(src)
        np.savez_compressed(
            dest / f"{name}.npz",
            id=np.asarray(d["id"], dtype=np.uint32),
            self_size=np.asarray(d["self_size"], dtype=np.int64),
            retained_size=np.asarray(d["retained_size"], dtype=np.float64),
            distance=np.asarray(d["distance"], dtype=np.int32),
            dominator=np.asarray(d["dominator"], dtype=np.uint32),
            class_index=np.asarray(d["class_index"], dtype=np.int32),
        )
        meta = {k: d[k] for k in ("node_count", "class_names", "summary", "statistics", "total_size", "max_js_node_id")}
        meta["source"] = {"file": file, "sha256": entry["sha256"], "peer": TOOLKIT}
        (dest / f"{name}.json").write_text(json.dumps(meta, indent=0, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
