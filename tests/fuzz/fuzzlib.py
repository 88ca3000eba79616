"""Hostile input for every reader: seeds, mutators and a pool of worker processes.

Seeds are the real files under ``datasets/`` (some cut smaller, so that a case costs milliseconds) and
small snapshots written with ``tests/heap/builder.py``; ``build_seeds`` makes them once and the
workers read them from a pickle. A *case* is ``(target, index)``: with the master seed it decides,
deterministically, which seed file is mutated and how (``plan_case``); a worker writes the mutated
input (``materialize``) and runs it through the target's door, and for a sample of cases through the
CLI in-process (``workbench.cli.main``).

Every case is checked for: only ``WorkbenchError`` (or success) out of the door; the seconds it
takes; and its memory: the growth of peak RSS (``VmHWM`` reset through ``/proc/self/clear_refs``:
polars and numba memory included) and the tracemalloc peak (numpy arrays included, touched or not)
must stay under ``max(64 MiB, 40 x input bytes)``, where a gzip file counts as its decompressed size
but at most 16 times its compressed size (a gzip bomb earns no budget). An address-space limit
(``RLIMIT_AS``) keeps a runaway allocation from taking the machine. Cases run in worker processes
(``Pool``), so a segfault in a numba kernel or a hang is a failed case with its name, not a dead
pytest.

Used by ``tests/fuzz`` (a bounded number of cases per reader) and ``benchmarks/fuzz_readers.py`` (the
long run); ``python -m tests.fuzz.fuzzlib --show TARGET INDEX`` writes one case and names it.
"""
from __future__ import annotations

import contextlib
import gc
import gzip
import io
import json
import os
import pickle
import random
import re
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DS = ROOT / "datasets"

MASTER_SEED = 20240611
TIME_LIMIT_S = 5.0          # per door call, plus 0.5 s per MiB of input (the CLI gets twice that)
HARD_TIMEOUT_S = 60.0       # a case still running after this is a hang: the worker is killed
MEM_FLOOR = 64 << 20
MEM_FACTOR = 40
GZ_BUDGET_RATIO = 16        # a gzip bomb counts as at most 16 x its compressed size
BOMB_BYTES = 2 << 30        # what a gzip bomb inflates to
REPEAT_BYTES = 8 << 20      # a valid start and a piece of it repeated: a big input from a small file
AS_SLACK = 3 << 30          # address space allowed above the budget (thread stacks, arenas)
MiB = 1 << 20


# ---- seeds ---------------------------------------------------------------------------------------
@dataclass
class Seed:
    """Files of one valid input: ``files`` maps a path relative to the case folder to its plain
    bytes, ``gz`` lists the ones stored gzipped, ``entry`` is what the door opens and ``mutable``
    maps the files mutators work on to (kind, weight); kind is json, jsonl, text or binary."""

    name: str
    files: dict
    entry: str
    mutable: dict
    gz: frozenset = frozenset()
    weight: float = 1.0


def _plain(p: Path) -> bytes:
    data = p.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _one(name, data, kind, gz=False, weight=1.0) -> Seed:
    return Seed(name, {name: data}, name, {name: (kind, 1.0)}, frozenset({name}) if gz else frozenset(), weight)


def _lines(data: bytes, n: int) -> bytes:
    return b"".join(data.splitlines(keepends=True)[:n])


def _v8_layout(doc: dict) -> bytes:
    """A snapshot dict written the way V8 writes it: one record per line, strings last."""
    head = doc["snapshot"]
    nf, ef = len(head["meta"]["node_fields"]), len(head["meta"]["edge_fields"])
    out = ['{"snapshot":' + json.dumps(head, separators=(",", ":")) + ",\n"]
    for key, value in doc.items():
        if key in ("snapshot", "strings"):
            continue
        if key in ("nodes", "edges"):
            w = nf if key == "nodes" else ef
            rows = [",".join(map(str, value[i:i + w])) for i in range(0, len(value), w)]
            out.append(f'"{key}":[' + "\n,".join(rows) + "],\n")
        else:
            out.append(f'"{key}":' + json.dumps(value, separators=(",", ":")) + ",\n")
    out.append('"strings":[' + "\n,".join(json.dumps(s) for s in doc["strings"]) + "]}")
    return "".join(out).encode()


def _small_graph(fields: int):
    from tests.heap.builder import rooted

    g, root = rooted(fields)
    gc_roots = 1
    a = g.node("object", "Order", 48)
    b = g.node("array", "", 64)
    c = g.node("closure", "handler", 32)
    s = g.node("string", 'quote " back \\ new\nline \u00e9 \U0001F600', 24)
    n = g.node("number", "heap number", 16)
    d = g.node("native", "system / Context", 40, detachedness=1)
    w = g.node("object", "Weak", 8)
    g.edge(root, a, "element", 2)
    g.edge(gc_roots, d, "element", 1)
    g.edge(a, b, "property", "items")
    g.edge(a, c, "property", "onDone")
    g.edge(b, s, "element", 0)
    g.edge(b, n, "element", 1)
    g.edge(c, d, "context", "ctx")
    g.edge(c, a, "shortcut", "self")
    g.edge(d, w, "internal", "slot")
    g.edge(a, w, "weak", "ref")
    g.edge(w, b, "hidden", 3)
    g.locations.append((c, 3, 10, 4))
    g.locations.append((a, 3, 1, 0))
    return g


def _timeline_doc(g) -> dict:
    doc = json.loads(g.text())
    meta = doc["snapshot"]["meta"]
    meta["trace_function_info_fields"] = ["function_id", "name", "script_name", "script_id", "line", "column"]
    meta["trace_node_fields"] = ["id", "function_info_index", "count", "size", "children"]
    meta["sample_fields"] = ["timestamp_us", "last_assigned_id"]
    doc["snapshot"]["trace_function_count"] = 2
    doc["trace_function_infos"] = [1, 1, 0, 0, 1, 1, 2, 1, 0, 3, 5, 7]
    doc["trace_tree"] = [1, 0, 0, 0, [2, 0, 1, 48, [3, 1, 2, 96, []]]]
    doc["samples"] = [1000, 5, 2000, 9, 3500, 15]
    return doc


def _cut_v8log_json(p: Path, ticks: int) -> bytes:
    d = json.loads(_plain(p))
    tk = d["ticks"][:ticks]
    used = sorted({c for t in tk for c in t["s"][0::2] if c >= 0})
    remap = {c: i for i, c in enumerate(used)}
    out_ticks = [{**t, "s": [remap.get(v, -1) if k % 2 == 0 else v for k, v in enumerate(t["s"])]} for t in tk]
    return json.dumps({"code": [d["code"][c] for c in used], "functions": d.get("functions", [])[:50],
                       "ticks": out_ticks, "scripts": []}).encode()


def _cut_processstat(data: bytes, frames: int) -> bytes:
    pos = 0
    for _ in range(frames):
        if pos + 2 > len(data):
            break
        pos += 2 + int.from_bytes(data[pos:pos + 2], "big")
    return data[:pos]


def _cut_trace_events(data: bytes, n: int) -> bytes:
    doc = json.loads(data)
    ev = doc["traceEvents"] if isinstance(doc, dict) else doc
    gcs = [e for e in ev if e.get("cat") == "v8" and str(e.get("name", "")).startswith("V8.GC")][: n // 2]
    rest = [e for e in ev if e not in gcs][: n // 2]
    return json.dumps({"traceEvents": rest + gcs}).encode()


def _hpy_seeds() -> list:
    try:
        from guppy import hpy
    except ImportError:  # pragma: no cover - guppy3 is a dependency
        return []
    hp = hpy()

    class Record:  # noqa: D401 - a class of our own in the dumps
        pass

    objs = [Record() for _ in range(20)] + [{"k": i} for i in range(30)] + [str(i) * 5 for i in range(25)]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        one, multi = Path(tmp) / "set.hpy", Path(tmp) / "multi.hpy"
        x = hp.iso(*objs)
        x.dump(str(one))
        x.dump(str(multi))
        x.bytype.dump(str(multi))
        x.byid.dump(str(multi))
        x.diff(hp.iso(*objs[:30])).dump(str(multi))
        out.append(_one("set.hpy", one.read_bytes(), "text"))
        out.append(_one("multi.hpy", multi.read_bytes(), "text"))
    return out


def _doctor(name: str, src: Path, frames: int, events: int, gz: bool) -> Seed:
    ps = next(src.glob("*-processstat*"))
    te = next(src.glob("*-traceevent*"))
    si = next(src.glob("*-systeminfo*"))
    base = f"{name}.clinic-doctor"
    files = {f"{base}/doctor.clinic-doctor-processstat" + (".gz" if gz else ""): _cut_processstat(_plain(ps), frames),
             f"{base}/doctor.clinic-doctor-systeminfo": _plain(si),
             f"{base}/doctor.clinic-doctor-traceevent" + (".gz" if gz else ""): _cut_trace_events(_plain(te), events)}
    kinds = {"processstat": ("binary", 4.0), "systeminfo": ("json", 1.0), "traceevent": ("json", 1.5)}
    mutable = {k: next(v for s, v in kinds.items() if s in k) for k in files}
    return Seed(base, files, base, mutable, frozenset(k for k in files if k.endswith(".gz")))


def _clinic(name: str, src: Path, ticks: int, gz: bool) -> Seed:
    base = f"{name}.clinic-flame"
    samples = json.loads(_plain(next(src.glob("*-samples*"))))[:ticks]
    sname = f"{base}/run.clinic-flame-samples" + (".gz" if gz else "")
    files = {sname: json.dumps(samples).encode(),
             f"{base}/run.clinic-flame-systeminfo": _plain(src / "run.clinic-flame-systeminfo"),
             f"{base}/run.clinic-flame-inlinedfunctions": _plain(src / "run.clinic-flame-inlinedfunctions")}
    return Seed(base, files, base, {sname: ("json", 4.0), f"{base}/run.clinic-flame-systeminfo": ("json", 0.5)},
                frozenset({sname}) if gz else frozenset())


def _scrapes(src: Path, n: int) -> Seed:
    files = {f"scrapes/{p.name}": p.read_bytes() for p in sorted(src.iterdir())[:n]}
    return Seed("scrapes", files, "scrapes", {k: ("text", 1.0) for k in files})


def _old_trace(cpuprofile: bytes) -> bytes:
    return json.dumps({"traceEvents": [
        {"name": "TracingStartedInPage", "ph": "I", "pid": 1, "tid": 1, "ts": 0, "args": {}},
        {"name": "CpuProfile", "ph": "I", "pid": 1, "tid": 1, "ts": 5,
         "args": {"data": {"cpuProfile": json.loads(cpuprofile)}}}]}).encode()


def _seeds_for(name: str) -> list:
    P, M = DS / "profiles", DS / "metrics"
    if name == "heapsnapshot":
        g7, g6 = _small_graph(7), _small_graph(6)
        return [_one("small.heapsnapshot", g7.text().encode(), "json", weight=3),
                _one("six.heapsnapshot", g6.text().encode(), "json", weight=2),
                _one("small.heapsnapshot.gz", g7.text().encode(), "json", gz=True, weight=2),
                _one("healthy.heapsnapshot.gz", _plain(DS / "heap/healthy/baseline.heapsnapshot.gz"), "json",
                     gz=True, weight=0.5)]
    if name == "heaptimeline":
        doc = _timeline_doc(_small_graph(7))
        return [_one("small.heaptimeline", _v8_layout(doc), "json", weight=3),
                _one("small.heaptimeline.gz", _v8_layout(doc), "json", gz=True, weight=1),
                _one("orders.heaptimeline.gz", _plain(DS / "heap/timeline/orders.heaptimeline.gz"), "json",
                     gz=True, weight=0.5)]
    if name in ("cpuprofile", "cpuprofile-json"):
        return [_one("regex.cpuprofile", (P / "regex.cpuprofile").read_bytes(), "json", weight=2),
                _one("json.cpuprofile", (P / "json.cpuprofile").read_bytes(), "json"),
                _one("worker_loop.cpuprofile.gz", (P / "worker_loop.cpuprofile").read_bytes(), "json", gz=True)]
    if name == "heapprofile":
        return [_one("regex.heapprofile", (P / "regex.heapprofile").read_bytes(), "json", weight=2),
                _one("json.heapprofile", (P / "json.heapprofile").read_bytes(), "json")]
    if name == "trace":
        return [_one("regex.trace.json.gz", _plain(P / "regex.trace.json.gz"), "json", gz=True, weight=2),
                _one("twin.trace.json", _plain(P / "trace.json.gz"), "json"),
                _one("old.trace.json", _old_trace((P / "json.cpuprofile").read_bytes()), "json")]
    if name == "v8log-json":
        cut = _cut_v8log_json(P / "sync_logging.v8log.json.gz", 600)
        return [_one("cut.v8log.json", cut, "json", weight=3),
                _one("cut.v8log.json.gz", cut, "json", gz=True, weight=2),
                _one("sync_logging.v8log.json.gz", _plain(P / "sync_logging.v8log.json.gz"), "json", gz=True,
                     weight=0.4)]
    if name == "v8log-raw":
        return [_one("cut.v8.log", _lines(_plain(P / "regex.v8.log.gz"), 1500), "text")]
    if name == "clinic":
        return [_clinic("regex", P / "regex.clinic-flame", 300, gz=True),
                _clinic("worker", P / "worker_loop.clinic-flame", 200, gz=False)]
    if name == "folded":
        return [_one("regex.folded", (P / "regex.folded").read_bytes(), "text"),
                _one("sync_logging.folded", (P / "sync_logging.folded").read_bytes(), "text")]
    if name == "prometheus":
        return [_one("final.openmetrics.txt", (M / "io/final.openmetrics.txt").read_bytes(), "text"),
                _one("1795247180021.prom", (M / "io/scrapes/1795247180021.prom").read_bytes(), "text")]
    if name == "scrapes":
        return [_scrapes(M / "io/scrapes", 3)]
    if name == "gclog":
        return [_one("gc.log", (M / "io/gc.log").read_bytes(), "text"),
                _one("blocked-gc.log", _lines((M / "blocked/gc.log").read_bytes(), 400), "text"),
                _one("leak-gc.log.gz", _lines(_plain(M / "leak/gc.log.gz"), 400), "text", gz=True)]
    if name == "gcnvp":
        nvp = _lines(_plain(M / "healthy_nvp/gc-nvp.log.gz"), 300)
        return [_one("gc-nvp.log.gz", nvp, "text", gz=True), _one("gc-nvp.log", nvp, "text")]
    if name == "jsonl":
        return [_one("memory.jsonl", _lines((M / "io/memory.jsonl").read_bytes(), 150), "jsonl"),
                _one("leak-memory.jsonl", _lines((M / "leak/memory.jsonl").read_bytes(), 100), "jsonl")]
    if name == "csv":
        return [_one("eventloop.csv", (M / "io/eventloop.csv").read_bytes(), "text"),
                _one("leak-eventloop.csv", (M / "leak/eventloop.csv").read_bytes(), "text")]
    if name == "doctor":
        return [_doctor("io", M / "io/doctor.clinic-doctor", 400, 400, gz=False),
                _doctor("leak", M / "leak/doctor.clinic-doctor", 300, 300, gz=True)]
    if name == "report":
        return [_one("report.json", (M / "io/report.json").read_bytes(), "json"),
                _one("healthy-report.json", (M / "healthy/report.json").read_bytes(), "json")]
    if name in ("otlp", "jaeger", "zipkin", "logs"):
        return _trace_log_seeds(name)
    if name == "hpy":
        return _hpy_seeds()
    raise KeyError(name)


def _trace_log_seeds(name: str) -> list:
    """Small trace exports and logs written here (OTLP with ns strings and numbers, several resources
    per request; pino, bunyan and winston records with Node warnings between them), plus a cut of
    the incident dataset when it is there."""
    import random as _r

    rng = _r.Random(name)
    inc = DS / "incident"
    if name == "otlp":
        lines = []
        for k in range(12):
            tid = f"{rng.getrandbits(128):032x}"
            root, child = f"{rng.getrandbits(64):016x}", f"{rng.getrandbits(64):016x}"
            t0 = 1_764_590_000_123_456_789 + k * 10_000_000
            sp = [{"traceId": tid, "spanId": root, "name": "GET /api/x", "kind": 2, "startTimeUnixNano": str(t0),
                   "endTimeUnixNano": str(t0 + 5_000_000), "status": {"code": 2 if k % 5 == 0 else 0},
                   "attributes": [{"key": "http.route", "value": {"stringValue": "/api/x"}},
                                  {"key": "http.response.status_code", "value": {"intValue": 500 if k % 5 == 0 else 200}},
                                  {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}}],
                   "events": [{"timeUnixNano": str(t0 + 10), "name": "e"}]},
                  {"traceId": tid, "spanId": child, "parentSpanId": root, "name": "GET", "kind": 3,
                   "startTimeUnixNano": t0 + 100, "endTimeUnixNano": t0 + 4_000_000}]
            res = lambda svc, s: {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
                                  "scopeSpans": [{"scope": {"name": "s"}, "spans": s}]}  # noqa: E731
            lines.append(json.dumps({"resourceSpans": [res("gw", sp[1:]), res("gw", sp[:1])]}))
        body = ("\n".join(lines) + "\n").encode()
        seeds = [_one("t.otlp.jsonl", body, "jsonl", weight=2), _one("one.otlp.json", json.dumps(
            json.loads(lines[0]), indent=1).encode(), "json"), _one("t.otlp.jsonl.gz", body, "jsonl", gz=True)]
        if (inc / "traces.otlp.jsonl").exists():
            seeds.append(_one("incident.otlp.jsonl", _lines((inc / "traces.otlp.jsonl").read_bytes(), 40), "jsonl"))
        return seeds
    if name == "jaeger":
        doc = {"data": [{"traceID": "ab", "processes": {"p1": {"serviceName": "gw", "tags": []}},
                         "spans": [{"traceID": "ab", "spanID": f"{i + 1:x}", "operationName": "op", "processID": "p1",
                                    "startTime": 1_764_590_000_000_000 + i, "duration": 10 + i,
                                    "references": [] if i == 0 else [{"refType": "CHILD_OF", "traceID": "ab", "spanID": "1"}],
                                    "tags": [{"key": "span.kind", "type": "string", "value": "server"},
                                             {"key": "error", "type": "bool", "value": i == 3}],
                                    "logs": [{"timestamp": 1_764_590_000_000_005, "fields": [{"key": "event", "value": "x"}]}]}
                                   for i in range(8)]}]}
        return [_one("t.jaeger.json", json.dumps(doc).encode(), "json")]
    if name == "zipkin":
        spans = [{"traceId": "ab" * 8, "id": f"{i + 1:016x}", **({"parentId": f"{1:016x}"} if i else {}), "name": "get",
                  "kind": "SERVER" if i == 0 else "CLIENT", "timestamp": 1_764_590_000_000_000 + i, "duration": 50 - i,
                  "localEndpoint": {"serviceName": "api"}, "tags": {"http.route": "/y", "http.status_code": "200"},
                  "annotations": [{"timestamp": 1_764_590_000_000_001, "value": "ws"}]} for i in range(8)]
        return [_one("t.zipkin.json", json.dumps(spans).encode(), "json"),
                _one("nested.zipkin.json", json.dumps([spans[:4], spans[4:]]).encode(), "json")]
    recs = []
    for i in range(60):
        lvl = [10, 20, 30, 30, 40, 50, 60][i % 7]
        r = {"level": lvl, "time": 1_764_590_000_000 + i, "pid": 9, "hostname": "h", "msg": f"m {i}"}
        if i % 3 == 0:
            r.update(req={"id": i, "method": "GET", "url": "/a?b=1"}, res={"statusCode": 500 if i % 9 == 0 else 200},
                     responseTime=i * 1.5, trace_id=f"{rng.getrandbits(128):032x}", span_id=f"{rng.getrandbits(64):016x}")
        if lvl >= 50:
            r["err"] = {"type": "Error", "message": f"boom {i}", "stack": "Error: boom\n    at f (a.js:1:1)"}
        recs.append(json.dumps(r))
    recs.insert(10, "(node:9) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 x listeners "
                "added to [Cache]. Use emitter.setMaxListeners() to increase limit")
    recs.insert(11, "(Use `node --trace-warnings ...` to show where the warning was created)")
    recs.insert(20, json.dumps({"name": "b", "hostname": "h", "pid": 1, "level": 40, "msg": "bunyan",
                                "time": "2025-12-01T12:00:00Z", "v": 0}))
    recs.insert(21, json.dumps({"level": "warn", "message": "winston", "timestamp": "2025-12-01T12:00:01Z"}))
    body = ("\n".join(recs) + "\n").encode()
    seeds = [_one("app.log", body, "jsonl", weight=2), _one("app.log.gz", body, "jsonl", gz=True)]
    if (inc / "gateway.log").exists():
        seeds.append(_one("incident.log", _lines((inc / "gateway.log").read_bytes(), 300), "jsonl"))
    return seeds


# ---- targets -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    name: str
    door: str                      # snapshot, profile, metrics or hpy
    fmt: str                       # the reader's name in workbench.io.READERS
    ci_cases: int = 40
    max_cases: int | None = None   # the long run's cap (raw --prof logs run node)
    door_kwargs: tuple = ()
    reader_kwargs: tuple = ()
    mutators: tuple | None = None  # None: all of MUTATORS
    cli_same_path: bool = True     # the CLI reads the file as the door does (so it must agree)
    mem_factor: int = MEM_FACTOR   # the memory budget per input byte
    mem_floor: int = MEM_FLOOR     # ... and at least this
    time_base: float = TIME_LIMIT_S

    @property
    def cli(self) -> list:
        return {"snapshot": ["summary", "--top", "3"], "profile": ["hotspots", "--top", "3"],
                "metrics": ["metrics"], "hpy": ["pyheap"], "traces": ["traces"], "logs": ["logs"]}[self.door]


TARGETS = {t.name: t for t in (
    Target("heapsnapshot", "snapshot", "heapsnapshot", 80),
    Target("heaptimeline", "snapshot", "heapsnapshot", 60),
    Target("cpuprofile", "profile", "cpuprofile", 60),
    Target("cpuprofile-json", "profile", "cpuprofile", 60, door_kwargs=(("format", "cpuprofile"), ("stream", False)),
           reader_kwargs=(("stream", False),), cli_same_path=False),
    Target("heapprofile", "profile", "heapprofile", 60),
    Target("trace", "profile", "trace", 60),
    Target("v8log-json", "profile", "v8log", 40),
    # a raw --prof log runs node --prof-process (1-4 s), whose JSON lists node's own C++ symbols as code
    # objects: ~7 MB to parse (~190 MB of Python objects) whatever the log
    Target("v8log-raw", "profile", "v8log", 6, max_cases=60, mem_floor=512 * MiB, time_base=20.0,
           mutators=("truncate", "line_ops", "bitflip", "huge_number", "byte_edit", "invalid_utf8", "nul")),
    Target("clinic", "profile", "clinic", 60),
    # folded stacks cost ~250 bytes per frame occurrence (the tree arrays and merge_siblings' table),
    # and a frame can be one byte of the file (";;;;"): linear, but not 40x
    Target("folded", "profile", "folded", 60, mem_factor=256),
    Target("prometheus", "metrics", "prometheus", 60),
    Target("scrapes", "metrics", "scrapes", 40),
    Target("gclog", "metrics", "gclog", 60),
    Target("gcnvp", "metrics", "gclog", 60),
    Target("jsonl", "metrics", "jsonl", 60),
    Target("csv", "metrics", "csv", 60),
    Target("doctor", "metrics", "doctor", 80),
    Target("report", "metrics", "report", 60),
    Target("hpy", "hpy", "hpy", 60),
    Target("otlp", "traces", "otlp", 60),
    Target("jaeger", "traces", "jaeger", 30),
    Target("zipkin", "traces", "zipkin", 30),
    Target("logs", "logs", "logs", 60),
)}


def build_seeds(path: Path, names=None) -> Path:
    """Make the seeds of the targets (all by default) and pickle them to ``path``."""
    seeds = {n: _seeds_for(n) for n in (names or TARGETS)}
    with open(path, "wb") as f:
        pickle.dump(seeds, f)
    return path


# ---- mutators ------------------------------------------------------------------------------------
TOKENS = [b'"', b"\\", b"{", b"}", b"[", b"]", b",", b":", b"-", b"0", b"9" * 25, b"-1", b"1e999", b"NaN",
          b"null", b"true", b"\n", b"\r", b"\t", b"\x00", b"\xff", b"\xc3", b"\\u", b"\\ud800", b'"\\', b"%",
          b";", b" ", b"#", b".r: ", b".loader: _load_stat\n", b"\x1f\x8b", b"\x80" * 9, b"{}", b"[]", b'""']
HUGE = [b"4294967295", b"4294967296", b"18446744073709551616", b"9223372036854775808", b"9007199254740993",
        b"-1", b"-2147483649", b"1e308", b"1e999", b"-1e999", b"NaN", b"Infinity", b"0.5", b"1" * 400,
        b"99999999999999999999", b"0", b"2147483648", b"-0", b"1e-999", b"1" * 5000]
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82"]
_NUM = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
DEEP = "\x00DEEP\x00"


@dataclass
class Ctx:
    seed: Seed
    relpath: str
    kind: str
    others: list           # plain bytes of other seed files, for splicing
    target: str


def _pos(rng, b: bytes) -> int:
    return rng.randrange(len(b) + 1)


def m_truncate(rng, b, ctx):
    r = rng.random()
    if r < 0.2:
        return b[: rng.randrange(min(len(b), 64) + 1)]
    if r < 0.4:
        return b[: max(len(b) - rng.randrange(1, 64), 0)]
    return b[: _pos(rng, b)]


def m_bitflip(rng, b, ctx):
    if not b:
        return b"\x01"
    a = bytearray(b)
    for _ in range(rng.randint(1, 16)):
        i = rng.randrange(len(a))
        a[i] ^= 1 << rng.randrange(8)
    return bytes(a)


def m_byte_edit(rng, b, ctx):
    a = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(a) + 1)
        op = rng.random()
        tok = rng.choice(TOKENS) if rng.random() < 0.7 else bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        if op < 0.4:
            a[i:i] = tok
        elif op < 0.7:
            del a[i:i + rng.randint(1, 32)]
        else:
            a[i:i + len(tok)] = tok
    return bytes(a)


def m_splice(rng, b, ctx):
    other = rng.choice(ctx.others) if ctx.others and rng.random() < 0.7 else b
    if not other:
        return b + b
    i, j = _pos(rng, b), rng.randrange(len(other))
    chunk = other[j:j + rng.randint(1, 4096)]
    return b[:i] + chunk + (b[i:] if rng.random() < 0.5 else b"")


def _replace_numbers(rng, b, count: int):
    start = _pos(rng, b) if rng.random() < 0.7 else 0
    hits = []
    for m in _NUM.finditer(b, start):
        hits.append(m.span())
        if len(hits) >= 64:
            break
    if not hits:
        return b + rng.choice(HUGE)
    out = b
    for a, z in sorted(rng.sample(hits, min(count, len(hits))), reverse=True):
        out = out[:a] + rng.choice(HUGE) + out[z:]
    return out


def m_huge_number(rng, b, ctx):
    return _replace_numbers(rng, b, rng.randint(1, 4))


def _protobuf(rng, b: bytes) -> bytes:
    """Mutations of a length-prefixed protobuf stream that keep the frames in step (mostly)."""
    frames = []
    pos = 0
    while pos + 2 <= len(b):
        n = int.from_bytes(b[pos:pos + 2], "big")
        if pos + 2 + n > len(b):
            break
        frames.append((pos, n))
        pos += 2 + n
    if not frames:
        return b + b"\xff\xff" + b"\x0a" * 8
    k = rng.randrange(len(frames))
    at, n = frames[k]
    msg = bytearray(b[at + 2:at + 2 + n])
    op = rng.randrange(9)
    huge_len = [b"\xff" * 9 + b"\x01", b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x80" * 10,
                b"\xff\xff\xff\xff\x0f", b"\x81\x80\x80\x80\x80\x80\x80\x80\x80\x01"]
    fix = rng.random() < 0.8
    if op == 0:   # frame length runs past the data
        return b[:at] + rng.choice([b"\xff\xff", b"\x00\x00", b"\x00\x01", (n + 1).to_bytes(2, "big")]) + b[at + 2:]
    if op == 1:   # a length-delimited field with a huge varint length (wraps to a negative int64)
        field_no = rng.choice([4, 7, 15, 2])
        ins = bytes([(field_no << 3) | 2]) + rng.choice(huge_len)
    elif op == 2:  # the memory sub-message's length made huge
        i = msg.find(b"\x22")
        ins = None
        if i >= 0:
            msg[i + 1:i + 2] = rng.choice(huge_len)
    elif op == 3:  # a wire type protobuf reserves (3, 4, 6, 7)
        ins = bytes([(rng.randint(1, 15) << 3) | rng.choice([3, 4, 6, 7])])
    elif op == 4:  # an unterminated varint
        ins = bytes([0x28]) + b"\xff" * rng.randint(1, 12)
    elif op == 5:  # doubles: NaN, inf, huge, negative
        ins = None
        import struct
        val = struct.pack("<d", rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, -1e308, -1.0, 1e19]))
        i = msg.find(bytes([rng.choice([0x09, 0x11, 0x19])]))
        if i >= 0 and i + 9 <= len(msg):
            msg[i + 1:i + 9] = val
    elif op == 6:  # a field cut in half
        ins = None
        del msg[rng.randrange(len(msg) + 1):]
    elif op == 7:  # 5-byte fixed32 running past the end
        ins = bytes([(9 << 3) | 5]) + b"\x01\x02"
    else:          # a required field dropped
        ins = None
        i = msg.find(bytes([rng.choice([0x09, 0x11, 0x19, 0x22, 0x28])]))
        if i >= 0:
            del msg[i:i + (2 if msg[i] == 0x28 else 9)]
    if ins is not None:
        j = rng.randrange(len(msg) + 1)
        msg[j:j] = ins
    if len(msg) > 0xFFFF:
        msg = msg[:0xFFFF]
    prefix = len(msg).to_bytes(2, "big") if fix else b[at:at + 2]
    return b[:at] + prefix + bytes(msg) + b[at + 2 + n:]


def m_declared_count(rng, b, ctx):
    """The counts a format declares up front, made huge, off by one or of the wrong type."""
    if ctx.kind == "binary":
        return _protobuf(rng, b)
    size = len(b)
    values = [b"4294967295", b"4294967296", b"1000000000000", str(size).encode(), str(size // 2).encode(),
              str(size // 14).encode(), b"0", b"-1", b"1.5", b'"7"', b"null", b"1e18", b"9" * 30]
    keys = [rb'"node_count":\s*-?\d+', rb'"edge_count":\s*-?\d+', rb'"trace_function_count":\s*-?\d+',
            rb'"root_index":\s*-?\d+', rb"\.numrows: *-?\d+", rb"\.count: *-?\d+", rb"\.size: *-?\d+",
            rb'"hitCount":\s*-?\d+', rb'"id":\s*-?\d+', rb'"selfSize":\s*-?\d+', rb'"nodeId":\s*-?\d+',
            rb'"startTime":\s*-?\d+', rb'"endTime":\s*-?\d+', rb'"tm":\s*-?\d+', rb'"ordinal":\s*-?\d+']
    hits = [m for k in keys for m in list(re.finditer(k, b[:1 << 20]))[:50]]
    if not hits:
        return _replace_numbers(rng, b, 1)
    out = b
    for m in sorted(rng.sample(hits, min(len(hits), rng.randint(1, 2))), key=lambda m: -m.start()):
        text = m.group(0)
        sep = max(text.rfind(b":"), text.rfind(b" "))
        out = out[:m.start()] + text[:sep + 1] + rng.choice(values) + out[m.end():]
    return out


def m_deep_nesting(rng, b, ctx):
    n = rng.choice([1000, 20_000, 100_000, 1_000_000])
    opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}"), (b'[{"a":', b"}]")])
    n = min(n, (2 << 20) // len(opener))
    i = _pos(rng, b)
    if ctx.kind in ("json", "jsonl") and rng.random() < 0.7:
        j = b.find(rng.choice([b":", b"[", b","]), i)
        i = j + 1 if j >= 0 else i
    tail = closer * n if rng.random() < 0.5 else b""
    if tail and opener.endswith(b":"):
        tail = b"null" + tail
    mid = opener * n + tail
    return b[:i] + mid + (b[i:] if rng.random() < 0.6 else b"")


def m_invalid_utf8(rng, b, ctx):
    a = bytearray(b)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(a) + 1)
        q = a.find(b'"', i)
        i = q + 1 if q >= 0 and rng.random() < 0.6 else i
        a[i:i] = rng.choice(BAD_UTF8)
    return bytes(a)


def m_utf16(rng, b, ctx):
    text = b.decode("utf-8", "replace")
    return text.encode(rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32"]))


def m_nul(rng, b, ctx):
    i = _pos(rng, b)
    run = b"\x00" * rng.choice([1, 7, 4096, 70_000])
    return b[:i] + run + (b[i + len(run):] if rng.random() < 0.5 else b[i:])


def _hostile_value(rng, size: int):
    return rng.choice([
        None, True, False, 0, -1, 1.5, 2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64, 10 ** 30, 10 ** 400, -10 ** 400, 1e308,
        -1e308, float("nan"), float("inf"), -float("inf"), "", "x", "\ud800", "\x00", "\u00e9" * 10, "9" * 50,
        "-1", [], {}, [None], [[]], {"": None}, [0] * 1000, list(range(-5, 5)), {"nodes": []}, DEEP,
        {"callFrame": {}}, [{"a": 1}], "x" * min(200_000, 4 * size + 10), [1e308, -1, "x", None],
    ])


def _mutate_tree(rng, doc, size):
    path = []
    cur = doc
    while isinstance(cur, (dict, list)) and cur and len(path) < 64 and rng.random() < 0.88:
        k = rng.choice(list(cur.keys())) if isinstance(cur, dict) else (
            rng.randrange(len(cur)) if rng.random() < 0.8 else rng.choice([0, len(cur) - 1]))
        path.append(k)
        cur = cur[k]
    if not path:
        return _hostile_value(rng, size)
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    k = path[-1]
    op = rng.random()
    if op < 0.6:
        parent[k] = _hostile_value(rng, size)
    elif op < 0.75:
        del parent[k]
    elif op < 0.85 and isinstance(parent, list):
        reps = min(rng.choice([2, 100, 10_000]), max(1, (1 << 21) // max(1, len(json.dumps(parent[k])))))
        parent[k:k + 1] = [parent[k]] * reps
    elif op < 0.93:
        v = parent[k]
        parent[k] = list(v.values()) if isinstance(v, dict) else ({str(i): x for i, x in enumerate(v)}
                                                                  if isinstance(v, list) else [v])
    else:
        if isinstance(parent, dict):
            parent[rng.choice(["samples", "nodes", "children", "parent", "traceEvents", "id", "__proto__",
                               "line", "ts", "header", "code", "ticks", "s"])] = _hostile_value(rng, size)
        else:
            parent.insert(k, _hostile_value(rng, size))
    return doc


def _dump_json(rng, doc) -> bytes:
    text = json.dumps(doc, ensure_ascii=rng.random() < 0.5, separators=(",", ":") if rng.random() < 0.5 else None)
    text = text.replace(json.dumps(DEEP), "[" * 50_000 + "]" * 50_000)
    return text.encode("utf-8", "surrogatepass")


def m_json_mutate(rng, b, ctx):
    if ctx.kind == "jsonl":
        lines = b.split(b"\n")
        i = rng.randrange(len(lines))
        try:
            doc = json.loads(lines[i])
        except ValueError:
            return m_byte_edit(rng, b, ctx)
        for _ in range(rng.randint(1, 3)):
            doc = _mutate_tree(rng, doc, len(lines[i]))
        lines[i] = _dump_json(rng, doc)
        return b"\n".join(lines)
    if ctx.kind != "json":
        return m_line_ops(rng, b, ctx)
    try:
        doc = json.loads(b)
    except ValueError:
        return m_byte_edit(rng, b, ctx)
    for _ in range(rng.randint(1, 3)):
        doc = _mutate_tree(rng, doc, len(b))
    return _dump_json(rng, doc)


def m_line_ops(rng, b, ctx):
    lines = b.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        if not lines:
            lines = [b""]
        op = rng.randrange(7)
        i = rng.randrange(len(lines))
        if op == 0 and len(lines) > 1:
            del lines[i:i + rng.randint(1, 20)]
        elif op == 1:
            reps = min(rng.choice([2, 100, 20_000]), max(1, (1 << 21) // (len(lines[i]) + 1)))
            lines[i:i + 1] = [lines[i]] * reps
        elif op == 2:
            w = lines[i:i + 30]
            rng.shuffle(w)
            lines[i:i + 30] = w
        elif op == 3:
            lines.insert(i, rng.choice([b"a", b"9", b";", b"{", b"#", b" "]) * rng.choice([1000, 1 << 20, 3 << 20]))
        elif op == 4:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif op == 5:
            lines.insert(i, b"")
        else:
            lines[i] = lines[i].replace(b" ", rng.choice([b"\t", b"  ", b"\r", b"\x0b", b""]))
    sep = rng.choice([b"\n", b"\n", b"\r\n", b"\r"])
    return sep.join(lines)


def m_empty(rng, b, ctx):
    return rng.choice([b"", b" ", b"\n", b"\n\n\n", b"{}", b"[]", b"null", b"0", b"\x1f\x8b"])


def m_repeat(rng, b, ctx):
    return b + (b if rng.random() < 0.5 else b[: _pos(rng, b)])


def m_bom(rng, b, ctx):
    return rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"]) + b


CONTENT = {"truncate": m_truncate, "bitflip": m_bitflip, "byte_edit": m_byte_edit, "splice": m_splice,
           "huge_number": m_huge_number, "declared_count": m_declared_count, "deep_nesting": m_deep_nesting,
           "invalid_utf8": m_invalid_utf8, "utf16": m_utf16, "nul": m_nul, "json_mutate": m_json_mutate,
           "line_ops": m_line_ops, "empty": m_empty, "repeat": m_repeat, "bom": m_bom}
RAW = ("gz_truncate", "gz_flip", "gz_trailing")
BOMBS = ("bomb_zeros", "bomb_brackets", "inflate_repeat")
FS = ("file_is_dir", "missing_file", "extra_files")
MUTATORS = tuple(CONTENT) + RAW + BOMBS + FS
# weights of the random draws after every mutator has had its turn
WEIGHTS = {"json_mutate": 5, "byte_edit": 3, "truncate": 3, "huge_number": 3, "declared_count": 4, "bitflip": 2,
           "splice": 2, "deep_nesting": 1, "line_ops": 2}


# ---- gzip bombs ----------------------------------------------------------------------------------
_MEMBERS: dict = {}


def _member(unit: bytes) -> bytes:
    """One gzip member of about 1 MiB of ``unit`` repeated (cached: bombs repeat it)."""
    if unit not in _MEMBERS:
        _MEMBERS[unit] = gzip.compress(unit * max(1, MiB // len(unit)), 6)
        if len(_MEMBERS) > 64:
            _MEMBERS.pop(next(iter(_MEMBERS)))
    return _MEMBERS[unit]


def bomb(unit: bytes, prefix: bytes = b"", total: int = BOMB_BYTES) -> bytes:
    """A valid multi-member gzip file: ``prefix`` then ``unit`` repeated to about ``total`` bytes."""
    m = _member(unit)
    reps = max(1, total // (MiB // len(unit) * len(unit)))
    return (gzip.compress(prefix, 1) if prefix else b"") + m * reps


# ---- cases ---------------------------------------------------------------------------------------
@dataclass
class Plan:
    target: str
    index: int
    seed: str
    relpath: str
    mutator: str
    rng_seed: int
    gzip_after: bool = False

    @property
    def name(self) -> str:
        gz = "+gz" if self.gzip_after else ""
        return f"{self.target}#{self.index} {self.mutator}{gz} of {self.seed}:{self.relpath.split('/')[-1]}"


def plan_case(seeds: dict, target: str, index: int, master: int = MASTER_SEED) -> Plan:
    t = TARGETS[target]
    rng = random.Random(f"{master}:{target}:{index}")
    muts = list(t.mutators or MUTATORS)
    order = list(muts)
    random.Random(f"{master}:{target}:order").shuffle(order)
    if index < len(order):
        mut = order[index]
    else:
        mut = rng.choices(muts, weights=[WEIGHTS.get(m, 1) for m in muts])[0]
    ss = seeds[target]
    seed = rng.choices(ss, weights=[s.weight for s in ss])[0]
    rels = list(seed.mutable)
    rel = rng.choices(rels, weights=[seed.mutable[r][1] for r in rels])[0]
    gzip_after = mut in CONTENT and rel not in seed.gz and rng.random() < 0.1
    return Plan(target, index, seed.name, rel, mut, rng.getrandbits(64), gzip_after)


@dataclass
class Case:
    plan: Plan
    root: Path
    entry: Path
    budget_bytes: int      # effective input size the memory budget is relative to

    @property
    def budget(self) -> int:
        t = TARGETS[self.plan.target]
        return max(t.mem_floor, t.mem_factor * self.budget_bytes)

    @property
    def seconds(self) -> float:
        return TARGETS[self.plan.target].time_base + 0.5 * self.budget_bytes / MiB


def _gz_flip(rng, raw: bytes) -> bytes:
    a = bytearray(raw)
    where = rng.random()
    for _ in range(rng.randint(1, 4)):
        if where < 0.3:
            i = rng.randrange(min(len(a), 10))           # header
        elif where < 0.6:
            i = len(a) - 1 - rng.randrange(min(len(a), 8))  # CRC / size trailer
        else:
            i = rng.randrange(len(a))
        a[i] ^= 1 << rng.randrange(8)
    return bytes(a)


def materialize(seeds: dict, plan: Plan, root: Path) -> Case:
    """Write the mutated input of ``plan`` under ``root`` (a fresh folder)."""
    seed = next(s for s in seeds[plan.target] if s.name == plan.seed)
    rng = random.Random(plan.rng_seed)
    files = dict(seed.files)
    gz = set(seed.gz)
    kind = seed.mutable[plan.relpath][0]
    rel = plan.relpath
    others = [data for ss in seeds.values() for s in ss for r, data in s.files.items() if r in s.mutable
              and len(data) < (4 << 20)]
    ctx = Ctx(seed, rel, kind, others, plan.target)
    mut = plan.mutator
    if mut in CONTENT:
        files[rel] = CONTENT[mut](rng, files[rel], ctx)
        if plan.gzip_after:
            gz.add(rel)
    root.mkdir(parents=True, exist_ok=True)
    budget = 0
    for r, data in files.items():
        p = root / r
        p.parent.mkdir(parents=True, exist_ok=True)
        if r == rel and mut in BOMBS:
            if mut == "bomb_zeros":
                raw = bomb(b"\x00")
            elif mut == "bomb_brackets":
                raw = bomb(rng.choice([b"[", b"{", b'{"a":[', b'{"snapshot":', b"[[[[{}"]))
            else:   # a valid start, then a piece of it repeated: the kind of data the reader expects
                cut = rng.randrange(len(data) + 1)
                unit = data[max(0, cut - rng.choice([1, 2, 8, 64, 256])):cut] or b"0,"
                raw = bomb(unit, data[:cut], REPEAT_BYTES)
            plain_len = BOMB_BYTES if mut != "inflate_repeat" else REPEAT_BYTES + len(data)
            p.write_bytes(raw)
            # a bomb earns no budget; a big input made small by gzip is as big as it inflates
            budget += plain_len if mut == "inflate_repeat" else min(plain_len, GZ_BUDGET_RATIO * len(raw))
            continue
        elif r in gz or (r == rel and mut in RAW):
            raw = gzip.compress(data, 1)
            plain_len = len(data)
            if r == rel and mut == "gz_truncate":
                raw = raw[: rng.randrange(len(raw) + 1)]
            elif r == rel and mut == "gz_flip":
                raw = _gz_flip(rng, raw)
            elif r == rel and mut == "gz_trailing":
                raw = raw + rng.choice([b"garbage", b"\x00" * 100, b"\x1f\x8b", raw[: len(raw) // 2], b"\x1f\x8b\x08\x00"])
        else:
            raw = data
            plain_len = len(data)
        if r == rel and mut in FS:
            budget += _fs_mutation(rng, mut, root, seed, r, raw)
            continue
        p.write_bytes(raw)
        budget += max(plain_len, len(raw))
    return Case(plan, root, root / seed.entry, budget)


def _fs_mutation(rng, mut, root: Path, seed: Seed, rel: str, raw: bytes) -> int:
    p = root / rel
    folder_seed = seed.entry != rel
    if mut == "file_is_dir" or (mut == "missing_file" and not folder_seed):
        p.mkdir(parents=True, exist_ok=True)
        if rng.random() < 0.5:
            (p / "inner").write_bytes(raw[:4096])
        if mut == "missing_file":   # the file of the entry is an empty folder, or a dangling link
            shutil.rmtree(p)
            if rng.random() < 0.5:
                p.mkdir()
            else:
                os.symlink(root / "nowhere", p)
        return 0
    if mut == "missing_file":
        return 0        # the member is simply not written
    # extra_files: the file plus junk next to it
    p.write_bytes(raw)
    junk = p.parent / rng.choice([".hidden", "zz.prom", "x.clinic-doctor-processstat", "notes.txt",
                                  p.name + ".gz", "a.clinic-flame-samples"])
    if junk != p:
        if rng.random() < 0.3:
            junk.mkdir(exist_ok=True)
        else:
            junk.write_bytes(rng.choice([b"", b"\x00" * 100, raw[: len(raw) // 3], b"\x1f\x8b\x08junk"]))
    return len(raw) * 2


# ---- running one case (in a worker) --------------------------------------------------------------
def _status() -> dict:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmSize", "VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) * 1024
    return out


def _reset_hwm():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _door(t: Target, entry: Path):
    import workbench as wb

    if t.door == "snapshot":
        return wb.load_snapshot(entry, quiet=True)
    if t.door == "profile":
        return wb.load_profile(entry, quiet=True, **dict(t.door_kwargs))
    if t.door == "metrics":
        return wb.load_metrics(entry, quiet=True)
    if t.door == "traces":
        return wb.load_traces(entry, quiet=True)
    if t.door == "logs":
        return wb.load_logs(entry, quiet=True)
    return wb.load_hpy(entry)


def _direct(t: Target, entry: Path):
    """The target's reader itself, for inputs the door does not hand to it."""
    from workbench import io as wio

    fn = wio.reader(t.fmt)
    kw = dict(t.reader_kwargs)
    if t.door == "profile":
        kw["quiet"] = True
    return fn(entry, **kw)


def _routed(t: Target, entry: Path) -> bool:
    from workbench.io import sniff

    if t.door == "hpy":
        return True
    try:
        f = sniff.detect(entry)
    except Exception:  # noqa: BLE001 - the door reports it
        return True
    if t.door == "snapshot":
        return f is None or f.name == t.fmt
    return f is not None and f.name == t.fmt


def _call(fn, t, entry) -> dict:
    import warnings

    from workbench.errors import WorkbenchError

    t0 = time.perf_counter()
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = fn(t, entry)
        out = {"outcome": "accepted"}
        del model
    except WorkbenchError as e:
        out = {"outcome": "rejected", "type": type(e).__name__, "message": str(e)[:300]}
        if entry is not None and e.path is None:
            out["no_path"] = True
    except BaseException as e:  # noqa: BLE001 - everything else is what we are looking for
        out = {"outcome": "error", "type": type(e).__name__, "message": str(e)[:300], "traceback": _tb(e)}
    out["seconds"] = time.perf_counter() - t0
    # a warning printed by workbench's own code is a line on stderr besides the CLI's one error line
    mine = [w for w in caught if "/workbench/" in w.filename and "/tests/" not in w.filename]
    if mine:
        out["warnings"] = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in mine[:3]]
    return out


def _tb(e: BaseException) -> str:
    """The frames of a traceback inside workbench (where the bug is), and the innermost one."""
    frames = traceback.extract_tb(e.__traceback__)
    keep = [f for f in frames if "/workbench/" in f.filename] or frames[-1:]
    if frames and frames[-1] not in keep:
        keep.append(frames[-1])
    return "".join(traceback.format_list(keep[-12:]))


def _cli(t: Target, entry: Path) -> dict:
    from workbench.cli import main

    args = ["--quiet", t.cli[0], str(entry), *t.cli[1:]]
    err, out = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = main(args)
        exc = None
    except BaseException as e:  # noqa: BLE001
        rc, exc = None, f"{type(e).__name__}: {e}"[:300] + "\n" + _tb(e)
    text = err.getvalue()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return {"rc": rc, "stderr": text[:2000], "lines": len(lines), "error_line": bool(lines) and lines[-1].startswith(
        "workbench: error: "), "traceback": "Traceback (most recent call last)" in text, "exception": exc,
        "seconds": time.perf_counter() - t0}


def run_case(seeds: dict, plan: Plan, workdir: Path, cli: bool) -> dict:
    t = TARGETS[plan.target]
    root = workdir / f"{plan.target}-{plan.index}"
    shutil.rmtree(root, ignore_errors=True)
    case = materialize(seeds, plan, root)
    import tracemalloc

    res = {"name": plan.name, "target": plan.target, "input": str(case.entry), "budget": case.budget,
           "limit_s": case.seconds}
    gc.collect(1)   # (a full collection takes ~50 ms here: one every 50 cases, below)
    st = _status()
    _reset_hwm()
    tracemalloc.reset_peak()
    traced0 = tracemalloc.get_traced_memory()[0]
    limit = st["VmSize"] + case.budget + AS_SLACK
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    try:
        res["door"] = _call(_door, t, case.entry)
        if not _routed(t, case.entry):
            res["direct"] = _call(_direct, t, case.entry)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    res["peak_rss"] = max(0, _status()["VmHWM"] - st["VmRSS"])
    res["peak_traced"] = max(0, tracemalloc.get_traced_memory()[1] - traced0)
    if cli:
        resource.setrlimit(resource.RLIMIT_AS, (limit + (2 << 30), resource.RLIM_INFINITY))
        try:
            res["cli"] = _cli(t, case.entry)
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    if plan.index % 50 == 49:
        gc.collect()
    res["problems"] = problems(res)
    if not res["problems"]:
        shutil.rmtree(root, ignore_errors=True)
    return res


def problems(res: dict) -> list:
    """What is wrong with the result of one case (empty: nothing)."""
    out = []
    for key in ("door", "direct"):
        r = res.get(key)
        if r is None:
            continue
        if r["outcome"] == "error":
            out.append(f"{key}: {r['type']}: {r['message']}\n{r.get('traceback', '')}")
        if r.get("no_path"):
            out.append(f"{key}: {r['type']} without the file's path: {r['message']}")
        for w in r.get("warnings", ()):
            out.append(f"{key}: warning {w}")
        if r["seconds"] > res["limit_s"]:
            out.append(f"{key}: took {r['seconds']:.1f} s (limit {res['limit_s']:.1f} s)")
    for key in ("peak_rss", "peak_traced"):
        if res.get(key, 0) > res["budget"]:
            out.append(f"{key} {res[key] / MiB:.0f} MiB over the budget {res['budget'] / MiB:.0f} MiB")
    c = res.get("cli")
    if c is not None:
        if c["exception"]:
            out.append(f"cli: exception escaped main(): {c['exception']}")
        elif c["traceback"]:
            out.append(f"cli: traceback on stderr:\n{c['stderr']}")
        elif res["door"]["outcome"] == "rejected" and TARGETS[res["target"]].cli_same_path and (
                c["rc"] != 2 or c["lines"] != 1 or not c["error_line"]):
            out.append(f"cli: rc {c['rc']} with stderr {c['stderr'][:300]!r} (want 2 and one error line)")
        elif c["rc"] not in (0, 2):
            out.append(f"cli: rc {c['rc']}, stderr {c['stderr'][:300]!r}")
        elif c["rc"] == 2 and not c["error_line"]:
            out.append(f"cli: rc 2 without an error line: {c['stderr'][:300]!r}")
        if c["seconds"] > 2 * res["limit_s"]:
            out.append(f"cli: took {c['seconds']:.1f} s")
    return out


def write_seed(seed: Seed, root: Path) -> Path:
    """The unmutated seed under ``root``; returns what the door opens."""
    for r, data in seed.files.items():
        p = root / r
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(gzip.compress(data, 1) if r in seed.gz else data)
    return root / seed.entry


def _warm(seeds: dict, workdir: Path):
    """Load every unmutated seed of every target (numba caches, polars, imports) before timing
    anything: kernels are compiled per input shape (e.g. the heap parser per field count), and on
    a machine whose numba cache is cold a first compile inside a timed case exceeded its limit."""
    for name, ss in seeds.items():
        if name == "v8log-raw" or not ss:
            continue
        for k, seed in enumerate(ss):
            root = workdir / f"warm-{os.getpid()}-{name}-{k}"
            with contextlib.suppress(Exception):
                _door(TARGETS[name], write_seed(seed, root))
            shutil.rmtree(root, ignore_errors=True)


def worker_main(workdir: str, seeds_file: str, master: int):
    import faulthandler
    import tracemalloc

    os.environ["WORKBENCH_QUIET"] = "1"
    faulthandler.enable()
    results = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    with open(seeds_file, "rb") as f:
        seeds = pickle.load(f)
    work = Path(workdir)
    _warm(seeds, work)
    tracemalloc.start()
    results.write(json.dumps({"ready": os.getpid()}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        plan = plan_case(seeds, req["target"], req["index"], master)
        try:
            res = run_case(seeds, plan, work, req.get("cli", False))
        except BaseException as e:  # noqa: BLE001 - a bug of the harness, reported as such
            res = {"name": plan.name, "problems": [f"harness: {type(e).__name__}: {e}\n{traceback.format_exc()}"]}
        res["index"] = req["index"]
        res["target"] = req["target"]
        results.write(json.dumps(res) + "\n")


# ---- the pool (in the parent) --------------------------------------------------------------------
class _Worker:
    def __init__(self, pool: "Pool", k: int):
        self.k = k
        self.err_path = pool.workdir / f"worker-{k}.stderr"
        self.err = open(self.err_path, "ab")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                   WORKBENCH_QUIET="1", PYTHONFAULTHANDLER="1")
        # polars' jemalloc keeps freed pages for reuse: then one case's peak RSS depends on the cases
        # before it. Returned at once, the peak RSS growth of each case is its own.
        env.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.fuzzlib", "--worker", str(pool.workdir), str(pool.seeds_file),
             str(pool.master)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
            env=env, start_new_session=True)
        self.buf = b""
        self.req = None
        self.started = None
        self.ready = False

    def send(self, req: dict):
        self.req = req
        self.started = time.monotonic()
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()

    def kill(self):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)   # the worker's own session: it and its node children
        self.proc.wait()
        self.err.close()

    def stderr_tail(self) -> str:
        self.err.flush()
        try:
            return self.err_path.read_bytes()[-3000:].decode(errors="replace")
        except OSError:
            return ""


class Pool:
    """Worker processes that run cases; a worker that dies or hangs is replaced and its case reported."""

    def __init__(self, workdir: Path, seeds_file: Path, n: int = 2, master: int = MASTER_SEED):
        self.workdir = Path(workdir)
        self.seeds_file = Path(seeds_file)
        self.master = master
        self.n = n
        with open(seeds_file, "rb") as f:
            self.seeds = pickle.load(f)
        self.sel = selectors.DefaultSelector()
        self.workers = []
        self._counter = 0
        for _ in range(n):
            self._spawn()

    def _spawn(self):
        w = _Worker(self, self._counter)
        self._counter += 1
        self.workers.append(w)
        self.sel.register(w.proc.stdout, selectors.EVENT_READ, w)
        return w

    def _retire(self, w: _Worker):
        self.sel.unregister(w.proc.stdout)
        self.workers.remove(w)
        w.kill()

    def close(self):
        for w in list(self.workers):
            with contextlib.suppress(Exception):
                w.proc.stdin.close()
            self._retire(w)

    def _lost(self, w: _Worker, why: str) -> dict:
        req = w.req
        plan = plan_case(self.seeds, req["target"], req["index"], self.master)
        rc = w.proc.poll()
        tail = w.stderr_tail()
        self._retire(w)
        self._spawn()
        sig = f" (signal {-rc}: {signal.Signals(-rc).name})" if rc is not None and rc < 0 else (
            f" (exit status {rc})" if rc is not None else "")
        return {"name": plan.name, "target": req["target"], "index": req["index"], "outcome": why,
                "problems": [f"{why}: the worker process {why}{sig} on this case; its stderr ends:\n{tail}"],
                "input": str(self.workdir / f"{plan.target}-{plan.index}")}

    def run(self, requests, on_result=None) -> list:
        """Run requests ({"target", "index", "cli"}) on the workers; results in completion order."""
        todo = list(requests)[::-1]
        results = []
        pending = 0
        while todo or pending:
            for w in self.workers:
                if w.ready and w.req is None and todo:
                    w.send(todo.pop())
                    pending += 1
            timeout = 1.0
            for key, _ in self.sel.select(timeout):
                w = key.data
                chunk = os.read(w.proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    if w.req is not None:
                        pending -= 1
                        res = self._lost(w, "crashed")
                        results.append(res)
                        if on_result:
                            on_result(res)
                    else:
                        tail = w.stderr_tail()
                        self._retire(w)
                        raise RuntimeError(f"a fuzz worker died before taking a case:\n{tail}")
                    continue
                w.buf += chunk
                while b"\n" in w.buf:
                    line, w.buf = w.buf.split(b"\n", 1)
                    msg = json.loads(line)
                    if "ready" in msg:
                        w.ready = True
                        continue
                    w.req = None
                    pending -= 1
                    msg.setdefault("outcome", _outcome(msg))
                    results.append(msg)
                    if on_result:
                        on_result(msg)
            now = time.monotonic()
            for w in list(self.workers):
                if w.req is not None and now - w.started > HARD_TIMEOUT_S:
                    pending -= 1
                    res = self._lost(w, "hung")
                    results.append(res)
                    if on_result:
                        on_result(res)
        return results


def _outcome(res: dict) -> str:
    d = res.get("door")
    if d is None:
        return "error"
    outs = [d["outcome"]] + ([res["direct"]["outcome"]] if "direct" in res else [])
    return "error" if "error" in outs else d["outcome"]


def requests_for(target: str, n: int, start: int = 0, cli_every: int = 4) -> list:
    return [{"target": target, "index": i, "cli": i % cli_every == 0} for i in range(start, start + n)]


def report(results: list) -> str:
    """The failures of a list of results, for an assertion message."""
    bad = [r for r in results if r.get("problems")]
    return "\n\n".join(f"{r['name']} (input {r.get('input')}):\n  " + "\n  ".join(r["problems"]) for r in bad)


def _show(target: str, index: int, master: int):
    with tempfile.TemporaryDirectory() as tmp:
        seeds_file = build_seeds(Path(tmp) / "seeds.pickle", [target])
        seeds = pickle.loads(seeds_file.read_bytes())
    plan = plan_case(seeds, target, index, master)
    out = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-{index}-"))
    case = materialize(seeds, plan, out)
    print(f"{plan.name}\n{case.entry}  (memory budget {case.budget / MiB:.0f} MiB)")


if __name__ == "__main__":
    from tests.fuzz import fuzzlib as _lib   # one module for the pickled seeds and the code

    if sys.argv[1] == "--worker":
        _lib.worker_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "--show":
        _lib._show(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else MASTER_SEED)
