"""Make the Comparison goldens from DevTools' own code (heap-snapshot-toolkit@1.1.3's diff()).

For every scenario in datasets/heap/MANIFEST.json with baseline/target/final snapshots, runs
diff_dump.mjs (installs the toolkit into .peers/heap first, like ../make_goldens.py) and writes
  tests/golden/heap/diff/<scenario>.json   Comparison rows per pair (without ids), the
                                           allocated-between Summaries, DevTools' Retainers of a few new objects
  tests/golden/heap/diff/<scenario>.npz    per pair: added and deleted ids, with the row of each

    python tests/golden/heap/diff/make_diff_goldens.py [scenario ...]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
sys.path.insert(0, str(HERE.parent))
from make_goldens import PEER, TOOLKIT, ensure_peer  # noqa: E402


def main(argv) -> None:
    ensure_peer()
    manifest = json.loads((ROOT / "datasets" / "heap" / "MANIFEST.json").read_text())
    scenarios: dict[str, dict[str, str]] = {}
    for rel, e in manifest["files"].items():   # keys are relative to datasets/heap/: <scenario>/<name>
        e = {**e, "file": f"datasets/heap/{rel}"}
        scenarios.setdefault(Path(rel).parent.name, {})[Path(rel).name.split(".")[0]] = e
    env = dict(os.environ, PEER_DIR=str(PEER))
    for sc, files in sorted(scenarios.items()):
        if argv and sc not in argv:
            continue
        if not all(n in files for n in ("baseline", "target", "final")):
            continue
        print(f"diff golden {sc}", flush=True)
        paths = [str(ROOT / files[n]["file"]) for n in ("baseline", "target", "final")]
        res = subprocess.run(["node", "--max-old-space-size=8192", str(HERE / "diff_dump.mjs"), *paths],
                             capture_output=True, env=env, check=True)
        d = json.loads(res.stdout)
        arrays = {}
        for p in d["pairs"]:
            tag = f"{p['before']}__{p['after']}"
            for side in ("added", "deleted"):
                row, ids = [], []
                for i, r in enumerate(p["rows"]):
                    vals = r.pop(f"{side}Ids")
                    row.extend([i] * len(vals))
                    ids.extend(vals)
                arrays[f"{tag}__{side}_row"] = np.asarray(row, dtype=np.int32)
                arrays[f"{tag}__{side}_id"] = np.asarray(ids, dtype=np.uint32)
        np.savez_compressed(HERE / f"{sc}.npz", **arrays)
        d["source"] = {"files": [files[n]["file"] for n in ("baseline", "target", "final")],
                       "sha256": [files[n]["sha256"] for n in ("baseline", "target", "final")], "peer": TOOLKIT}
        (HERE / f"{sc}.json").write_text(json.dumps(d, indent=0) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
