"""Record the high-latency incident (issue 15) into datasets/incident/ with its MANIFEST.json.

Runs datasets/scenarios/incident/run_incident.js: an API gateway and its downstream users-service,
both instrumented with the OpenTelemetry JS SDK (instrumentation-http, instrumentation-pino, the OTLP
HTTP JSON exporter posting to a local receiver that writes one ExportTraceServiceRequest per line),
pino and pino-http logs, under an open-loop load; the gateway's new thumbnail endpoint leaks Buffers
into a cache that never evicts. npm packages are installed at build time only, into the scenario's
node_modules/ (git-ignored), at the versions package-lock.json pins: the last OpenTelemetry JS
releases that support Node 20 (0.300+ need Node >= 22.15). Those versions are recorded in the MANIFEST.

    python datasets/build_incident.py            # about two minutes
"""
from __future__ import annotations

import collections
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _manifest  # noqa: E402

SCENARIO = HERE / "scenarios" / "incident"
OUT = HERE / "incident"
GZIP = {"traces.otlp.jsonl", "gateway.log", "baseline.heapsnapshot", "target.heapsnapshot", "final.heapsnapshot",
        "gateway.cpuprofile"}
COMMAND = "node datasets/scenarios/incident/run_incident.js OUT (python datasets/build_incident.py)"


def versions() -> dict:
    lock = json.loads((SCENARIO / "package-lock.json").read_text())
    wanted = json.loads((SCENARIO / "package.json").read_text())["dependencies"]
    return {name: lock["packages"][f"node_modules/{name}"]["version"] for name in sorted(wanted)}


def raw_counts(folder: Path) -> dict:
    """Counts straight from the raw files (plain json), for the MANIFEST."""
    spans = server = 0
    routes = collections.Counter()
    for line in (folder / "traces.otlp.jsonl").read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    spans += 1
                    if sp.get("kind") == 2:
                        server += 1
                        attrs = {a["key"]: a["value"].get("stringValue") for a in sp.get("attributes", [])}
                        routes[attrs.get("http.route") or sp["name"]] += 1
    levels = collections.Counter()
    for line in (folder / "gateway.log").read_text().splitlines():
        levels[json.loads(line)["level"]] += 1
    return {"spans": spans, "server_spans": server, **{f"requests {r}": n for r, n in sorted(routes.items())},
            **{f"gateway.log level {k}": v for k, v in sorted(levels.items())}}


def main() -> int:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if not (SCENARIO / "node_modules").exists():
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=SCENARIO, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        subprocess.run(["node", str(SCENARIO / "run_incident.js"), str(run)], check=True, timeout=600)
        counts = raw_counts(run)
        phases = json.loads((run / "phases.json").read_text())
        load = json.loads((run / "load.json").read_text())
        if OUT.exists():
            shutil.rmtree(OUT)
        OUT.mkdir()
        for p in sorted(run.iterdir()):
            if p.stat().st_size == 0:
                continue
            if p.name in GZIP:
                with open(p, "rb") as f, gzip.GzipFile(OUT / (p.name + ".gz"), "wb", mtime=0, compresslevel=9) as g:
                    shutil.copyfileobj(f, g)
            else:
                shutil.copy(p, OUT / p.name)
    pk = versions()
    what = {
        "traces.otlp.jsonl.gz": ("OTLP/JSON ExportTraceServiceRequests as the receiver got them, one per line (api-gateway "
                                 "and users-service)", {k: v for k, v in counts.items() if not k.startswith("gateway.log")}),
        "gateway.log.gz": ("pino + pino-http records of the gateway, trace_id/span_id from instrumentation-pino",
                           {k.removeprefix("gateway.log "): v for k, v in counts.items() if k.startswith("gateway.log")}),
        "phases.json": ("wall-clock times (unix ms) of the run: start, incident_start, each snapshot, end", {}),
        "load.json": ("the load generator's own count of requests and answers", {}),
    }
    files = {}
    for p in sorted(OUT.iterdir()):
        if p.name == _manifest.NAME:
            continue
        note, cnt = what.get(p.name, (None, {}))
        if p.name == "final.heapsnapshot.gz":
            cnt = {"RenderedThumbnail in ThumbnailCache.entries": int(phases["snapshots"]["final"]["entries"])}
            note = "leaking class RenderedThumbnail, held by the entries Map of a ThumbnailCache"
        files[p.name] = _manifest.entry(p, COMMAND, cnt, note)
    files["load.json"]["notes"] = {"what": what["load.json"][0], "packages": pk,
                                   "phases": {k: v for k, v in phases.items() if k != "snapshots"}}
    _manifest.write(OUT, node, "python datasets/build_incident.py", files)
    print(json.dumps({"node": node, "packages": pk, "load": load}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
