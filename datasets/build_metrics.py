"""Regenerate the metrics datasets (datasets/metrics/) and Doctor's goldens (tests/golden/metrics/doctor/).

Each scenario in datasets/scenarios/metrics_<name>.js is run once, with the machine's ``node``, under
Clinic.js Doctor's programmatic ``collect`` with ``--trace-gc``; that one run yields the Doctor
recording, the --trace-gc log (stdout), prom-client scrapes, process.memoryUsage() samples,
event-loop samples and a diagnostic report. Doctor's own analysis of the recording is then saved
as the golden. A short extra run of the healthy scenario records a ``--trace-gc-nvp`` log.

Writes datasets/metrics/MANIFEST.json in the shape of datasets/_manifest.py: one entry per file, keyed
``<scenario>/<path>``; the gc logs' counts (lines, GC lines per type) come from the raw log by plain
string splitting, their pause totals are notes.

Needs npm peers in .peers/doctor (``npm install @clinic/doctor@11 prom-client@15`` there).
usage: python datasets/build_metrics.py [--only NAME ...]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "datasets"))
import _manifest  # noqa: E402

SCEN = ROOT / "datasets" / "scenarios"
OUT = ROOT / "datasets" / "metrics"
GOLD = ROOT / "tests" / "golden" / "metrics" / "doctor"
DOCTOR = ROOT / ".peers" / "doctor"
SCENARIOS = ["healthy", "blocked", "io", "gc", "leak"]
GZIP_OVER = 200_000
NVP_COMMAND = "WB_LOAD_MS=3000 node --trace-gc-nvp datasets/scenarios/metrics_healthy.js > gc-nvp.log (a separate, short run)"
REDACTED = "environmentVariables, header.networkInterfaces and header.host redacted by datasets/build_metrics.py"


def read_text(p: Path) -> str:
    raw = p.read_bytes()
    return (gzip.decompress(raw) if p.name.endswith(".gz") else raw).decode()


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


def build(name: str, node: str) -> None:
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
    docdir = dest / "doctor.clinic-doctor"
    golden = subprocess.run([node, str(SCEN / "metrics_doctor_analyse.js"), str(DOCTOR), str(docdir)],
                            capture_output=True, check=True, text=True).stdout
    GOLD.mkdir(parents=True, exist_ok=True)
    (GOLD / f"{name}.json").write_text(golden)
    redact_report(dest / "report.json")
    nvp_file = OUT / "healthy_nvp" / "gc-nvp.log"
    for p in list(dest.rglob("*")) + ([nvp_file] if name == "healthy" and nvp_file.exists() else []):
        if p.is_file() and p.stat().st_size > GZIP_OVER or p == nvp_file:
            gz(p)


def entries(name: str, doctor_version: str, prom_version: str) -> dict[str, dict]:
    """The manifest entries of one recorded scenario, keyed by path relative to datasets/metrics/
    (for healthy also the separate --trace-gc-nvp run in healthy_nvp/)."""
    dest = OUT / name
    command = (f"cd $TMP && node datasets/scenarios/metrics_doctor_collect.js .peers/doctor "
               f"datasets/scenarios/metrics_{name}.js $TMP/out > gc.log  (collect runs: node --trace-gc metrics_{name}.js)")
    out = {}
    for p in sorted(dest.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(dest).as_posix()
        counts, notes = {}, None
        if rel.startswith("doctor.clinic-doctor/"):
            notes = {"clinic_doctor": doctor_version}
        elif rel.startswith("scrapes/") or rel == "final.openmetrics.txt":
            notes = {"prom_client": prom_version}
        elif rel == "memory.jsonl":
            counts = {"samples": len(p.read_text().splitlines())}
        elif rel == "report.json":
            notes = REDACTED
        elif p.name.startswith("gc.log"):
            g = raw_gc_counts(read_text(p))
            counts = {"lines": g["lines"], "gc_lines": g["gc_lines"], "other_lines": g["other_lines"],
                      **{f"by_type:{t}": n for t, n in sorted(g["by_type"].items())}}
            notes = {"pause_ms_by_type": g["pause_ms_by_type"]}
        out[f"{name}/{rel}"] = _manifest.entry(p, command, counts, notes)
    nvp_gz = OUT / "healthy_nvp" / "gc-nvp.log.gz"
    if name == "healthy" and nvp_gz.exists():
        t = read_text(nvp_gz).splitlines()
        nvp = [x.split(" ms: ", 1)[1] for x in t if " ms: pause=" in x]
        out["healthy_nvp/gc-nvp.log.gz"] = _manifest.entry(
            nvp_gz, NVP_COMMAND, {"lines": len(t), "nvp_lines": len(nvp)},
            {"pause_ms_total": round(sum(float(x.split()[0].split("=")[1]) for x in nvp), 6)})
    return out


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
    # a partial rebuild (--only) keeps the other scenarios' entries; healthy_nvp/ belongs to healthy
    redo = {*args.only, *(["healthy_nvp"] if "healthy" in args.only else [])}
    files = {k: e for k, e in _manifest.load(OUT).items() if k.split("/", 1)[0] not in redo}
    for name in args.only:
        print(f"recording {name} ...", file=sys.stderr)
        build(name, node)
        files.update(entries(name, doctor_version, prom_version))
    OUT.mkdir(parents=True, exist_ok=True)
    _manifest.write(OUT, version, "python datasets/build_metrics.py", files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
