"""The one format table: which reader reads a file or folder, decided by content first and by name
second. Every door (``load``, ``load_snapshot``, ``load_profile``, ``load_metrics``, ``load_hpy``,
folders of metric files) asks ``detect``; the readers themselves never guess.

Content rules look at the first 4 KiB, decompressed when the file is gzip (``_files.head``), in the
order of ``FORMATS``; a file no content rule claims is then matched by its name (``.cpuprofile``,
``.heapsnapshot``, ``.folded``, ...), so that a damaged file of a known kind still reaches its reader
and gets that reader's precise error. Folders: a Clinic.js Doctor or Flame recording, or a folder of
Prometheus scrapes (``*.prom``); other folders are walked by the metrics door.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ._files import head as read_head


@dataclass(frozen=True)
class Format:
    name: str          # the reader's format name (``load_profile(format=...)`` takes it)
    subject: str       # "heap", "profile", "metrics" or "pyheap": which model it gives
    what: str          # in words, for errors and the README
    names: tuple = ()  # file name endings that claim the format when no content rule does


FORMATS = (
    Format("heapsnapshot", "heap", "V8 heap snapshot or allocation timeline", (".heapsnapshot", ".heaptimeline")),
    Format("v8log", "profile", "node --prof isolate log or its --prof-process --preprocess JSON", (".v8.log",)),
    Format("trace", "profile", "Chrome trace with CPU profile events", (".trace.json",)),
    Format("heapprofile", "profile", "sampling heap profile (.heapprofile)", (".heapprofile",)),
    Format("cpuprofile", "profile", "V8 CPU profile (.cpuprofile)", (".cpuprofile",)),
    Format("clinic", "profile", "Clinic.js Flame recording", ("clinic-flame-samples",)),
    Format("report", "metrics", "Node diagnostic report"),
    Format("gclog", "metrics", "node --trace-gc / --trace-gc-nvp log"),
    Format("prometheus", "metrics", "Prometheus / OpenMetrics text", (".prom",)),
    Format("jsonl", "metrics", "memoryUsage / event-loop samples as JSON lines"),
    Format("csv", "metrics", "memoryUsage / event-loop samples as CSV"),
    Format("doctor", "metrics", "Clinic.js Doctor recording"),
    Format("scrapes", "metrics", "folder of timestamped Prometheus scrapes"),
    Format("folded", "profile", "folded stacks (flamegraph.pl)", (".folded", ".collapsed")),
    Format("hpy", "pyheap", "guppy3 .hpy dump", (".hpy",)),
    Format("otlp", "traces", "OTLP/JSON traces (ExportTraceServiceRequest, one per line)", (".otlp.json", ".otlp.jsonl")),
    Format("jaeger", "traces", "Jaeger JSON trace export"),
    Format("zipkin", "traces", "Zipkin v2 JSON spans"),
    Format("logs", "logs", "JSON-lines logs (pino, bunyan, winston) or Node warnings"),
)
BY_NAME = {f.name: f for f in FORMATS}
SUBJECT_WORDS = {"heap": "a heap snapshot", "profile": "a profile", "metrics": "a metric export",
                 "pyheap": "a guppy3 heap dump", "traces": "a trace export", "logs": "a log"}

_FOLDED_LINE = re.compile(rb"^[^\n]*\S \d+(\.\d*)?\s*$")
_GC_LINE = re.compile(r"^\[\d+(?::0x[0-9a-fA-F]+)?(?::\d+)?\]\s+[0-9.]+ ms: ", re.M)
_PROM_META = re.compile(r"^# (TYPE|HELP) [a-zA-Z_:][a-zA-Z0-9_:]* ", re.M)
_SAMPLE_KEYS = ("heapused", "heaptotal", "rss", "utilization", "p99", "delay", "memory.rss", "heap_used")


# ---- content predicates (also used by the readers that need them) -------------------------------
def is_raw_v8_log(head: bytes) -> bool:
    return head.lstrip().startswith(b"v8-version,")


def is_preprocessed_v8_log(head: bytes) -> bool:
    h = head.lstrip()
    return h.startswith(b"{") and b'"code"' in h[:200] and (b'"type"' in h[:2000] or b'"ticks"' in h[:2000])


def clinic_flame_samples(path) -> Path | None:
    """The samples file of a Clinic.js Flame folder (or the path itself when it is one)."""
    p = Path(path)
    if p.is_dir():
        hits = sorted(p.glob("*clinic-flame-samples")) + sorted(p.glob("*clinic-flame-samples.gz"))
        return hits[0] if hits else None
    if p.name.endswith(("clinic-flame-samples", "clinic-flame-samples.gz")):
        return p
    return None


def is_doctor_dir(path) -> bool:
    p = Path(path)
    return p.is_dir() and any(q.name.endswith(("-processstat", "-processstat.gz")) for q in p.iterdir())


def _samples_kind(head: bytes) -> str | None:
    text = head.decode("utf-8", "replace").lstrip()
    first = text.split("\n", 1)[0].lower()
    if first.startswith("{"):
        return "jsonl" if any(f'"{k}"' in first for k in ("heapused", "rss", "utilization", "p99", "mean")) else None
    cols = [c.strip().strip('"') for c in first.split(",")]
    return "csv" if "," in first and any(k in cols for k in _SAMPLE_KEYS) else None


def _after_text_lines(h: bytes, most: int = 8) -> bytes:
    """``h`` past a few plain text lines that precede a JSON object (node prints version warnings
    before ``--prof-process --preprocess`` output), or b"" when it is not such a file."""
    lines = h.split(b"\n", most + 1)
    for k in range(1, min(len(lines), most + 1)):
        if lines[k].lstrip().startswith(b"{"):
            return b"\n".join(lines[k:]) if not any(ln.lstrip()[:1] in (b"[", b"{", b'"') for ln in lines[:k]) else b""
    return b""


_NODE_WARNING = re.compile(rb"^\(node:\d+\) ")


def _traces_or_logs(h: bytes) -> str | None:
    """OTLP/JSON, Jaeger and Zipkin traces, and JSON-lines logs (a first record with a level and a
    message), or Node's stderr warnings."""
    start = h[:2000]
    if h.startswith(b"{"):
        if b'"resourceSpans"' in start:
            return "otlp"
        if b'"traceID"' in start and b'"spans"' in start:
            return "jaeger"
        first = h.split(b"\n", 1)[0]
        if b'"level"' in first and (b'"msg"' in first or b'"message"' in first):
            return "logs"
    if h.startswith(b"[") and b'"traceId"' in start and b'"ph"' not in start:
        return "zipkin"
    if _NODE_WARNING.match(h):
        return "logs"
    return None


def _by_content(head: bytes) -> str | None:
    h = head.lstrip()
    kind = _traces_or_logs(h)
    if kind:
        return kind
    if h[:1] not in (b"{", b"[") and is_preprocessed_v8_log(_after_text_lines(h)):
        return "v8log"
    if h.startswith(b"{"):
        start = h[:2000]
        if b'"snapshot"' in h[:200] and b'"meta"' in h[:400]:
            return "heapsnapshot"
        if is_preprocessed_v8_log(h):
            return "v8log"
        if b'"traceEvents"' in start:
            return "trace"
        if b'"head"' in start and b'"selfSize"' in start:
            return "heapprofile"
        if b'"nodes"' in start and b'"callFrame"' in start:
            return "cpuprofile"
        if b'"head"' in start and b'"functionName"' in start and b'"callFrame"' not in start:
            return "cpuprofile"   # the legacy head/timestamps form (v8-profiler)
        # Node 11 and 12 wrote reports before header.reportVersion existed
        if b'"header"' in start and (b'"reportVersion"' in start or b'"dumpEventTimeStamp"' in start
                                     or b'"nodejsVersion"' in start):
            return "report"
        return _samples_kind(head)
    if h.startswith(b"[") and b'"ph"' in h[:4000]:
        return "trace"
    if is_raw_v8_log(h):
        return "v8log"
    if h.startswith(b".loader:"):
        return "hpy"
    text = head.decode("utf-8", "replace")
    if _GC_LINE.search(text):
        return "gclog"
    if _PROM_META.search(text):
        return "prometheus"
    kind = _samples_kind(head)
    if kind:
        return kind
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):   # UTF-16 text with a byte order mark: folded stacks only
        head = head[2:].decode("utf-16-le" if head[:2] == b"\xff\xfe" else "utf-16-be", "replace").encode()
    first = head.split(b"\n", 1)[0]
    # folded stacks: a first line "a;b;c 12" (the ';' keeps metric lines like "up 1" out)
    if _FOLDED_LINE.match(first) and b";" in first:
        return "folded"
    return None


def _by_name(path, head: bytes) -> str | None:
    name = os.fspath(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for f in FORMATS:
        if f.names and name.endswith(f.names):
            return f.name
    if "openmetrics" in os.path.basename(name):
        return "prometheus"
    if name.endswith(".json") and head.lstrip().startswith(b"["):
        return "trace"   # a trace event array whose first events are not profile events
    return None


def detect(path, head: bytes | None = None) -> Format | None:
    """The format of ``path`` (a file or folder), or None when no rule claims it."""
    p = Path(path)
    if p.is_dir():
        if is_doctor_dir(p):
            return BY_NAME["doctor"]
        if clinic_flame_samples(p) is not None:
            return BY_NAME["clinic"]
        files = [q for q in p.iterdir() if q.is_file()]
        if files and all(q.suffix == ".prom" for q in files):
            return BY_NAME["scrapes"]
        return None
    head = read_head(p) if head is None else head
    kind = _by_content(head) or _by_name(p, head)
    return None if kind is None else BY_NAME[kind]


def describe(subject: str) -> str:
    """The formats of one subject, in words (for "not a ... workbench reads" errors)."""
    return ", ".join(f.what for f in FORMATS if f.subject == subject)
