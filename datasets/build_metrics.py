"""Regenerate the metrics datasets (datasets/metrics/) and Doctor's goldens (tests/golden/metrics/doctor/).

Each scenario in datasets/scenarios/metrics_<name>.js is run once, with the machine's ``node``, under
Clinic.js Doctor's programmatic ``collect`` with ``--trace-gc``; that one run yields the Doctor
recording, the --trace-gc log (stdout), prom-client scrapes, process.memoryUsage() samples,
event-loop samples and a diagnostic report. Doctor's own analysis of the recording is then saved
as the golden. A short extra run of the healthy scenario records a ``--trace-gc-nvp`` log.

Needs npm peers in .peers/doctor (``npm install @clinic/doctor@11 prom-client@15`` there).
usage: python datasets/build_metrics.py [--only NAME ...]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "datasets" / "scenarios"
OUT = ROOT / "datasets" / "metrics"
GOLD = ROOT / "tests" / "golden" / "metrics" / "doctor"
DOCTOR = ROOT / ".peers" / "doctor"
SCENARIOS = ["healthy", "blocked", "io", "gc", "leak"]
GZIP_OVER = 200_000


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def raw_gc_counts(text: str) -> dict:
    """Counts straight from the raw log, by plain string splitting (independent of the reader's regex)."""
    out = {"lines": 0, "gc_lines": 0, "other_lines": 0, "by_type": {}, "pause_ms_by_type": {}}
    for line in text.splitlines():
        out["lines"] += 1
        if " ms: " in line and line.startswith("["):
            rest = line.split(" ms: ", 1)[1]
            kind = rest.split(" ", 1)[0]
            if kind == "Mark-Compact" and rest.startswith("Mark-Compact (reduce)"):
                kind = "Mark-Compact (reduce)"
            pause = float(rest.split(" MB, ", 1)[1].split(" / ", 1)[0])
            out["gc_lines"] += 1
            out["by_type"][kind] = out["by_type"].get(kind, 0) + 1
            out["pause_ms_by_type"][kind] = round(out["pause_ms_by_type"].get(kind, 0.0) + pause, 6)
        else:
            out["other_lines"] += 1
    return out


def redact_report(p: Path) -> None:
    # A diagnostic report embeds the environment and the network interfaces of the machine it was
    # written on; they are no part of the dataset.
    rep = json.loads(p.read_text())
    rep["environmentVariables"] = {"REDACTED": "by datasets/build_metrics.py"}
    rep.get("header", {})["networkInterfaces"] = []
    rep.get("header", {})["host"] = "redacted"
    p.write_text(json.dumps(rep, indent=2) + "\n")


def gz(p: Path) -> Path:
    q = p.with_name(p.name + ".gz")
    with open(p, "rb") as f, gzip.GzipFile(q, "wb", mtime=0) as g:
        shutil.copyfileobj(f, g)
    p.unlink()
    return q


def build(name: str, node: str) -> dict:
    dest = OUT / name
    if dest.exists():
        shutil.rmtree(dest)
    with tempfile.TemporaryDirectory(prefix=f"wb-metrics-{name}-") as tmp:
        tmp = Path(tmp)
        rec = tmp / "out"
        cmd = [node, str(SCEN / "metrics_doctor_collect.js"), str(DOCTOR), str(SCEN / f"metrics_{name}.js"), str(rec)]
        with open(tmp / "gc.log", "wb") as log:
            subprocess.run(cmd, cwd=tmp, stdout=log, check=True)
        shutil.copytree(rec, dest)
        shutil.copy(tmp / "gc.log", dest / "gc.log")
        extra = {}
        if name == "healthy":
            nvp = tmp / "nvp"
            nvp.mkdir()
            env = dict(os.environ, WB_OUT=str(nvp / "out"), WB_LOAD_MS="3000",
                       WB_PROM_CLIENT=str(DOCTOR / "node_modules" / "prom-client"))
            nvp_dest = OUT / "healthy_nvp"
            nvp_dest.mkdir(parents=True, exist_ok=True)
            with open(nvp_dest / "gc-nvp.log", "wb") as log:
                subprocess.run([node, "--trace-gc-nvp", str(SCEN / "metrics_healthy.js")], cwd=nvp,
                               stdout=log, env=env, check=True)
            extra["gc-nvp.log"] = {"command": f"WB_LOAD_MS=3000 node --trace-gc-nvp datasets/scenarios/metrics_healthy.js"}
    docdir = dest / "doctor.clinic-doctor"
    golden = subprocess.run([node, str(SCEN / "metrics_doctor_analyse.js"), str(DOCTOR), str(docdir)],
                            capture_output=True, check=True, text=True).stdout
    GOLD.mkdir(parents=True, exist_ok=True)
    (GOLD / f"{name}.json").write_text(golden)
    redact_report(dest / "report.json")
    gc_counts = raw_gc_counts((dest / "gc.log").read_text())
    nvp_lines = None
    nvp_file = OUT / "healthy_nvp" / "gc-nvp.log"
    if name == "healthy" and nvp_file.exists():
        t = nvp_file.read_text().splitlines()
        nvp = [x.split(" ms: ", 1)[1] for x in t if " ms: pause=" in x]
        nvp_lines = {"lines": len(t), "nvp_lines": len(nvp),
                     "pause_ms_total": round(sum(float(x.split()[0].split("=")[1]) for x in nvp), 6)}
    for p in list(dest.rglob("*")) + ([nvp_file] if name == "healthy" and nvp_file.exists() else []):
        if p.is_file() and p.stat().st_size > GZIP_OVER or p == nvp_file:
            gz(p)
    mem = (dest / "memory.jsonl").read_text().splitlines()
    files = {str(p.relative_to(dest)): {"sha256": sha256(p), "bytes": p.stat().st_size}
             for p in sorted(dest.rglob("*")) if p.is_file()}
    return {
        "command": f"cd $TMP && node datasets/scenarios/metrics_doctor_collect.js .peers/doctor "
                   f"datasets/scenarios/metrics_{name}.js $TMP/out > gc.log  (collect runs: node --trace-gc metrics_{name}.js)",
        "memory_samples": len(mem),
        "scrapes": len(list((dest / "scrapes").glob("*.prom"))),
        "gc_log": gc_counts,
        "gc_nvp_log (datasets/metrics/healthy_nvp)": nvp_lines,
        "files": files,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=SCENARIOS)
    args = ap.parse_args(argv)
    node = shutil.which("node")
    if not node or not (DOCTOR / "node_modules" / "@clinic" / "doctor").exists():
        print("needs node and .peers/doctor (npm install @clinic/doctor@11 prom-client@15)", file=sys.stderr)
        return 2
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    doctor_version = json.loads((DOCTOR / "node_modules" / "@clinic" / "doctor" / "package.json").read_text())["version"]
    prom_version = json.loads((DOCTOR / "node_modules" / "prom-client" / "package.json").read_text())["version"]
    man_path = OUT / "MANIFEST.json"
    manifest = json.loads(man_path.read_text()) if man_path.exists() else {"scenarios": {}}
    manifest.update({"node": version, "clinic_doctor": doctor_version, "prom_client": prom_version,
                     "builder": "python datasets/build_metrics.py"})
    for name in args.only:
        print(f"recording {name} ...", file=sys.stderr)
        manifest["scenarios"][name] = build(name, node)
    OUT.mkdir(parents=True, exist_ok=True)
    man_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
