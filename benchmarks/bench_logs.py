"""Logs and traces at scale (issue 15): a generated 1 GB JSON-lines log (pino-http records, trace ids,
errors with stacks, a few Node warnings between them) and a 1 GB OTLP/JSON file (one
ExportTraceServiceRequest per line, two resources per request, as the JS exporter sends them); load
time and peak RSS of ``workbench.load_logs`` / ``load_traces`` against the obvious peer, ``json.loads``
per line into a pandas DataFrame (for traces: every span flattened to a row with its attributes as a
dict). Each measurement runs in a fresh process; wall time and peak RSS come from ``wait4``. Not in CI.

    python benchmarks/bench_logs.py [--gb 1] [--peer-gb 1] [--repeat 2]

``--peer-gb`` cuts the peer's input to the first N GB of each file (whole lines) when the machine
cannot hold the peer's Python objects for the whole file; the table says which size each row read.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
GB = 1 << 30


def gen_logs(path: Path, size: int, seed: int = 1) -> int:
    """pino + pino-http records (with trace ids), errors with stacks, and a Node warning now and then."""
    rng = random.Random(seed)
    routes = ["/api/users/%d", "/api/orders?page=%d", "/internal/thumbnail/%d"]
    n = 0
    t = 1_764_590_000_000
    with open(path, "w") as f:
        written = 0
        buf = []
        while written < size:
            t += rng.randint(0, 3)
            n += 1
            r = rng.random()
            if r < 0.0005:
                line = ("(node:4242) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. "
                        "11 evict listeners added to [ThumbnailCache]. MaxListeners is 10. Use emitter.setMaxListeners() to increase limit")
            elif r < 0.03:
                line = json.dumps({"level": 50, "time": t, "pid": 4242, "hostname": "gateway-1",
                                   "req": {"id": n, "method": "GET", "url": routes[0] % rng.randint(1, 99999)},
                                   "err": {"type": "Error", "message": f"upstream timed out after {rng.randint(250, 400)} ms",
                                           "stack": "Error: upstream timed out\n    at ClientRequest.<anonymous> (gateway.js:92:15)\n    at ClientRequest.emit (node:events:519:28)"},
                                   "trace_id": f"{rng.getrandbits(128):032x}", "span_id": f"{rng.getrandbits(64):016x}",
                                   "trace_flags": "01", "msg": "upstream request failed"}, separators=(",", ":"))
            else:
                status = 200 if rng.random() < 0.98 else rng.choice([404, 500, 504])
                line = json.dumps({"level": 30 if status < 400 else 40 if status < 500 else 50, "time": t, "pid": 4242,
                                   "hostname": "gateway-1",
                                   "req": {"id": n, "method": "GET", "url": rng.choice(routes) % rng.randint(1, 99999),
                                           "headers": {"authorization": "Bearer t0ken", "host": "127.0.0.1:43183",
                                                       "connection": "keep-alive"},
                                           "remoteAddress": "127.0.0.1", "remotePort": rng.randint(30000, 60000)},
                                   "trace_id": f"{rng.getrandbits(128):032x}", "span_id": f"{rng.getrandbits(64):016x}",
                                   "trace_flags": "01", "res": {"statusCode": status, "headers": {}},
                                   "responseTime": rng.randint(1, 900), "msg": "request completed"}, separators=(",", ":"))
            buf.append(line)
            written += len(line) + 1
            if len(buf) >= 10_000:
                f.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            f.write("\n".join(buf) + "\n")
    return n


def gen_otlp(path: Path, size: int, seed: int = 2) -> int:
    """Requests of 20 traces each: a gateway server span, its client span, the downstream server span."""
    rng = random.Random(seed)
    t = 1_764_590_000_000_000_000
    spans = 0
    kv = lambda k, v: {"key": k, "value": {"stringValue": v} if isinstance(v, str) else {"intValue": v}}  # noqa: E731
    res = lambda svc, s: {"resource": {"attributes": [kv("service.name", svc), kv("telemetry.sdk.language", "nodejs")]},  # noqa: E731
                          "scopeSpans": [{"scope": {"name": "@opentelemetry/instrumentation-http", "version": "0.223.0"},
                                          "spans": s}]}
    with open(path, "w") as f:
        written = 0
        while written < size:
            gw, down = [], []
            for _ in range(20):
                tid = f"{rng.getrandbits(128):032x}"
                a, b, c = (f"{rng.getrandbits(64):016x}" for _ in range(3))
                t += rng.randint(1, 50) * 1_000_000
                d = rng.randint(2, 900) * 1_000_000
                status = 200 if rng.random() < 0.98 else 504
                route = rng.choice(["/api/users/:id", "/api/orders"])
                gw.append({"traceId": tid, "spanId": a, "name": f"GET {route}", "kind": 2,
                           "startTimeUnixNano": str(t), "endTimeUnixNano": str(t + d),
                           "attributes": [kv("http.request.method", "GET"), kv("url.path", "/api/users/12"),
                                          kv("http.route", route), kv("http.response.status_code", status),
                                          kv("server.address", "127.0.0.1"), kv("network.protocol.version", "1.1")],
                           "droppedAttributesCount": 0, "events": [], "droppedEventsCount": 0,
                           "status": {"code": 2 if status >= 500 else 0}, "links": [], "droppedLinksCount": 0, "flags": 257})
                gw.append({"traceId": tid, "spanId": b, "parentSpanId": a, "name": "GET", "kind": 3,
                           "startTimeUnixNano": str(t + 1000), "endTimeUnixNano": str(t + d - 1000),
                           "attributes": [kv("http.request.method", "GET"), kv("http.response.status_code", status)],
                           "events": [], "status": {"code": 0}, "links": [], "flags": 257})
                down.append({"traceId": tid, "spanId": c, "parentSpanId": b, "name": "GET /users/:id", "kind": 2,
                             "startTimeUnixNano": str(t + 2000), "endTimeUnixNano": str(t + d // 10),
                             "attributes": [kv("http.route", "/users/:id"), kv("http.response.status_code", 200)],
                             "events": [], "status": {"code": 0}, "links": [], "flags": 769})
                spans += 3
            line = json.dumps({"resourceSpans": [res("api-gateway", gw), res("users-service", down)]},
                              separators=(",", ":"))
            f.write(line + "\n")
            written += len(line) + 1
    return spans


WORKBENCH = """
import sys, time, workbench as wb
t0 = time.perf_counter()
m = wb.load_{kind}(sys.argv[1], quiet=True{extra})
n = len(m)
print(n, time.perf_counter() - t0)
"""

PEER_LOGS = """
import json, sys, time
import pandas as pd
t0 = time.perf_counter()
rows = []
with open(sys.argv[1]) as f:
    for line in f:
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict):
            rows.append(o)
df = pd.DataFrame(rows)
print(len(df), time.perf_counter() - t0)
"""

PEER_TRACES = """
import json, sys, time
import pandas as pd
t0 = time.perf_counter()
rows = []
with open(sys.argv[1]) as f:
    for line in f:
        for rs in json.loads(line)["resourceSpans"]:
            svc = next((a["value"].get("stringValue") for a in rs["resource"]["attributes"] if a["key"] == "service.name"), None)
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    sp["service"] = svc
                    sp["attributes"] = {a["key"]: next(iter(a["value"].values())) for a in sp.get("attributes", [])}
                    rows.append(sp)
df = pd.DataFrame(rows)
df["startTimeUnixNano"] = df["startTimeUnixNano"].astype("int64")
df["endTimeUnixNano"] = df["endTimeUnixNano"].astype("int64")
print(len(df), time.perf_counter() - t0)
"""


def measure(code: str, path: Path) -> dict:
    env = dict(os.environ, WORKBENCH_QUIET="1")
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, cwd=ROOT)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out, err = p.stdout.read().decode(), p.stderr.read().decode()
    if status != 0:
        return {"error": err.strip().splitlines()[-1] if err.strip() else f"status {status}", "wall_s": wall,
                "peak_rss_mib": ru.ru_maxrss / 1024}
    n, inner = out.split()
    return {"rows": int(n), "load_s": float(inner), "wall_s": wall, "peak_rss_mib": ru.ru_maxrss / 1024}


def cut(path: Path, size: int) -> Path:
    if size >= path.stat().st_size:
        return path
    out = path.with_name(path.stem + f".first{size / GB:g}gb" + path.suffix)
    if not out.exists() or out.stat().st_size > size:
        with open(path, "rb") as f, open(out, "wb") as g:
            g.write(f.read(size).rsplit(b"\n", 1)[0] + b"\n")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--peer-gb", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    size = int(a.gb * GB)
    files = {"logs": DATA / f"bench_{a.gb:g}gb.log", "traces": DATA / f"bench_{a.gb:g}gb.otlp.jsonl"}
    for kind, gen in (("logs", gen_logs), ("traces", gen_otlp)):
        if not files[kind].exists():
            t0 = time.perf_counter()
            n = gen(files[kind], size)
            print(f"generated {files[kind].name}: {files[kind].stat().st_size / GB:.2f} GB, {n:,} records/spans "
                  f"in {time.perf_counter() - t0:.0f} s", flush=True)
    rows = []
    print(f"load average before the runs: {os.getloadavg()}", flush=True)
    for kind in ("logs", "traces"):
        f = files[kind]
        mib = f.stat().st_size / (1 << 20)
        variants = [("workbench", "")] + ([("workbench, fields=False", ", fields=False")] if kind == "logs" else [])
        for tool, extra in variants:
            for r in range(a.repeat):
                res = measure(WORKBENCH.format(kind=kind, extra=extra), f)
                rows.append({"what": kind, "tool": tool, "input_mib": mib, **res})
                print(json.dumps(rows[-1]), flush=True)
        pf = cut(f, int(a.peer_gb * GB))
        res = measure(PEER_LOGS if kind == "logs" else PEER_TRACES, pf)
        rows.append({"what": kind, "tool": "json.loads per line + pandas", "input_mib": pf.stat().st_size / (1 << 20), **res})
        print(json.dumps(rows[-1]), flush=True)
    print("\n| input | tool | input (MiB) | rows | load (s) | peak RSS (MiB) | RSS / input |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['what']} | {r['tool']} | {r['input_mib']:,.0f} | failed: {r['error'][:60]} | | {r['peak_rss_mib']:,.0f} | |")
            continue
        print(f"| {r['what']} | {r['tool']} | {r['input_mib']:,.0f} | {r['rows']:,} | {r['load_s']:.1f} | "
              f"{r['peak_rss_mib']:,.0f} | {r['peak_rss_mib'] / r['input_mib']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
