"""Benchmark: workbench's diagnose vs Clinic.js Doctor's own analysis on the same recording, and GC-log
parsing throughput. Each side runs in a fresh process (best of N); peak RSS from getrusage.

usage: python benchmarks/bench_metrics.py [--repeat 3] [--scale 20]
  --scale: the leak recording's processstat/traceevent are concatenated `scale` times in time
           (shifted timestamps) to make a long recording (Doctor's interval guess is O(n^2)).
Needs .peers/doctor (see datasets/build_metrics.py).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCTOR = ROOT / ".peers" / "doctor"
SRC = ROOT / "datasets" / "metrics" / "leak" / "doctor.clinic-doctor"

PY = r"""
import resource, sys, time, json
t0 = time.perf_counter()
import workbench as wb
t1 = time.perf_counter()
m = wb.load_metrics(sys.argv[1], quiet=True)
t2 = time.perf_counter()
d = wb.diagnose(m)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "diagnose": t3 - t2, "category": d["category"],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
PYGC = r"""
import resource, sys, time, json
from workbench.io.gclog import read_gclog
t = time.perf_counter(); r = read_gclog(sys.argv[1]); t = time.perf_counter() - t
print(json.dumps({"parse": t, "events": len(r.events), "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_big(dst: Path, scale: int) -> int:
    """A long recording: the leak recording repeated `scale` times, timestamps shifted."""
    sys.path.insert(0, str(ROOT))
    from workbench.io._files import read_bytes
    ps_path = next(SRC.glob("*-processstat*"))
    ps = read_bytes(ps_path)
    sysinfo = json.loads((SRC / "doctor.clinic-doctor-systeminfo").read_text())
    te = json.loads(gzip.decompress((SRC / "doctor.clinic-doctor-traceevent.gz").read_bytes()))
    sys.path.insert(0, str(ROOT))
    from workbench.io.clinic_doctor import decode_processstat
    df, _ = decode_processstat(ps_path)
    span = float(df["timestamp"].max() - df["timestamp"].min()) + 10.0
    # re-frame: shift the timestamp double (field 1, tag 0x09 right after the 2-byte prefix)
    out = bytearray()
    for k in range(scale):
        pos = 0
        while pos + 2 <= len(ps):
            n = struct.unpack(">H", ps[pos:pos + 2])[0]
            msg = bytearray(ps[pos + 2:pos + 2 + n])
            assert msg[0] == 0x09
            ts = struct.unpack("<d", msg[1:9])[0] + k * span
            msg[1:9] = struct.pack("<d", ts)
            out += struct.pack(">H", n) + msg
            pos += 2 + n
    events = []
    for k in range(scale):
        for e in te["traceEvents"]:
            if "ts" in e:
                e2 = dict(e)
                e2["ts"] = e["ts"] + k * span * 1000
                events.append(e2)
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "big.clinic-doctor-processstat").write_bytes(bytes(out))
    (dst / "big.clinic-doctor-systeminfo").write_text(json.dumps(sysinfo))
    (dst / "big.clinic-doctor-traceevent").write_text(json.dumps({"traceEvents": events}, separators=(",", ":")))
    return len(df) * scale


def run_json(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rec = tmp / "big.clinic-doctor"
        n = make_big(rec, args.scale)
        print(f"recording: {n} process samples ({args.scale} x the leak recording)")
        # Doctor: time its analysis (the analyse script) in a fresh node process; RSS via /usr/bin/time-less getrusage
        node_js = tmp / "t.js"
        node_js.write_text(
            "const t=process.hrtime.bigint();process.on('exit',()=>{const r=process.resourceUsage();"
            "console.error(JSON.stringify({total:Number(process.hrtime.bigint()-t)/1e9,rss_mb:r.maxRSS/1024}))});"
            f"process.argv=[process.argv[0],'x',{json.dumps(str(DOCTOR))},{json.dumps(str(rec))}];"
            f"require({json.dumps(str(ROOT / 'datasets' / 'scenarios' / 'metrics_doctor_analyse.js'))})")
        best_doc, best_wb = None, None
        for _ in range(args.repeat):
            p = subprocess.run(["node", str(node_js)], capture_output=True, text=True)
            if p.returncode:
                sys.exit("Doctor failed: " + p.stderr[-2000:])
            doc = json.loads(p.stderr.strip().splitlines()[-1])
            doc["category"] = json.loads(p.stdout)["issueCategory"]
            best_doc = doc if best_doc is None or doc["total"] < best_doc["total"] else best_doc
            w = run_json([sys.executable, "-c", PY, str(rec)])
            w["total"] = w["load"] + w["diagnose"]
            best_wb = w if best_wb is None or w["total"] < best_wb["total"] else best_wb
        print(f"Doctor analysis (node, incl. require+decode): {best_doc['total']:.2f} s, peak RSS {best_doc['rss_mb']:.0f} MiB, category {best_doc['category']}")
        print(f"workbench load+diagnose: {best_wb['total']:.2f} s (load {best_wb['load']:.2f}, diagnose {best_wb['diagnose']:.2f}; "
              f"import {best_wb['import']:.2f} not counted), peak RSS {best_wb['rss_mb']:.0f} MiB, category {best_wb['category']}")
        print(f"ratio workbench/Doctor: {best_wb['total'] / best_doc['total']:.2f}")
        # GC log throughput: the gc scenario's log repeated
        text = gzip.decompress((ROOT / "datasets" / "metrics" / "leak" / "gc.log.gz").read_bytes()).decode()
        big = tmp / "gc.log"
        big.write_text(text * 50)
        g = min((run_json([sys.executable, "-c", PYGC, str(big)]) for _ in range(args.repeat)), key=lambda r: r["parse"])
        mb = big.stat().st_size / 2**20
        print(f"GC log: {g['events']} lines, {mb:.1f} MiB parsed in {g['parse']:.2f} s ({mb / g['parse']:.0f} MiB/s), peak RSS {g['rss_mb']:.0f} MiB")


if __name__ == "__main__":
    main()
