"""Goldens for cons strings by value (issue 11, point 5) from Chrome DevTools' own code
(heap-snapshot-toolkit@1.1.3, installed by make_goldens.ensure_peer): for every snapshot under
datasets/heap/versions/, the name DevTools displays for each concatenated string and the nodes its
'duplicatedStrings' filter selects, in tests/golden/heap/versions/<name>.cons.json.gz.

    python tests/golden/heap/make_cons_goldens.py
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_goldens import PEER, ROOT, TOOLKIT, ensure_peer  # noqa: E402


def main() -> None:
    ensure_peer()
    manifest = json.loads((ROOT / "datasets" / "heap" / "MANIFEST.json").read_text())
    env = dict(os.environ, PEER_DIR=str(PEER))
    for rel, entry in manifest["files"].items():
        if not rel.startswith("versions/"):
            continue
        src = ROOT / "datasets" / "heap" / rel
        print(f"cons golden {rel}", flush=True)
        res = subprocess.run(["node", "--max-old-space-size=8192", str(HERE / "cons_dump.mjs"), str(src)],
                             capture_output=True, env=env, check=True)
        d = json.loads(res.stdout)
        d["source"] = {"file": f"datasets/heap/{rel}", "sha256": entry["sha256"], "peer": TOOLKIT}
        out = HERE / "versions" / (src.name.split(".")[0] + ".cons.json.gz")
        with open(out, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as g:
            g.write((json.dumps(d, ensure_ascii=True) + "\n").encode())


if __name__ == "__main__":
    main()
