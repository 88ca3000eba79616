"""Readers, one module per format, and the doors that choose one through the format table
(``sniff.py``): ``load`` (any file), ``load_snapshot``, ``load_profile``, ``load_profiles`` (every
profile of a file: the threads of a trace), ``load_metrics`` (files and folders), ``load_hpy``,
``load_traces`` and ``load_logs`` (files and folders). A reader knows the bytes of its format and builds its model through
the model's builder; nothing here analyses or draws.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

from ..errors import FormatError, UsageError, WorkbenchError
from . import sniff

# format name -> (module, function) of its reader
READERS = {
    "heapsnapshot": ("heapsnapshot", "read_heapsnapshot"),
    "cpuprofile": ("cpuprofile", "read_cpuprofile"),
    "heapprofile": ("heapprofile", "read_heapprofile"),
    "trace": ("trace_events", "read_trace"),
    "v8log": ("v8log", "read_v8log"),
    "clinic": ("clinic_flame", "read_clinic_flame"),
    "folded": ("folded", "read_folded"),
    "doctor": ("clinic_doctor", "read_doctor"),
    "scrapes": ("prometheus", "read_prometheus"),
    "prometheus": ("prometheus", "read_prometheus"),
    "gclog": ("gclog", "read_gclog"),
    "report": ("diagnostic_report", "read_report"),
    "jsonl": ("memory_samples", "read_jsonl"),
    "csv": ("memory_samples", "read_csv"),
    "hpy": ("hpy", "load_hpy"),
    "otlp": ("otlp", "read_otlp"),
    "jaeger": ("jaeger", "read_jaeger"),
    "zipkin": ("zipkin", "read_zipkin"),
    "logs": ("logs", "read_log"),
}


DOORS = {"heap": "load_snapshot", "profile": "load_profile", "metrics": "load_metrics", "pyheap": "load_hpy",
         "traces": "load_traces", "logs": "load_logs"}


def reader(fmt: str):
    """The reader function of a format name of the table."""
    module, func = READERS[fmt]
    return getattr(importlib.import_module(f"{__name__}.{module}"), func)


def _exists(path) -> str:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise WorkbenchError("no such file", path)
    return path


def _not_a(path, fmt, subject: str):
    """The error for a file of another subject, or of no known format."""
    want = sniff.SUBJECT_WORDS[subject]
    if fmt is None:
        return FormatError(path, "header", 0, f"not {want} workbench reads ({sniff.describe(subject)})")
    return FormatError(path, "header", 0, f"this is a {fmt.what}, not {want}; use workbench.{DOORS[fmt.subject]}")


def load(path, **kw):
    """Sniff the format of ``path`` and return the model its reader produces."""
    path = _exists(path)
    fmt = sniff.detect(path)
    if fmt is None:
        raise FormatError(path, "header", 0, "not a heap snapshot, profile, metric export, trace export or log "
                          "workbench can read")
    door = {"heap": load_snapshot, "profile": load_profile, "metrics": load_metrics, "pyheap": load_hpy,
            "traces": load_traces, "logs": load_logs}[fmt.subject]
    return door(path, **kw)


def load_snapshot(path, *, quiet: bool = False, cache: bool | None = None):
    """A V8 ``.heapsnapshot`` / ``.heaptimeline`` (optionally gzipped) as a HeapSnapshot. Files no
    rule recognises go to the heap reader too, which names what is wrong with them. ``cache``: the
    on-disk cache for re-opening (``workbench.io.cache``; None: on for files of 32 MiB and more,
    False: off, True: on for any size)."""
    path = _exists(path)
    fmt = sniff.detect(path)
    if fmt is not None and fmt.subject != "heap":
        raise _not_a(path, fmt, "heap")
    return reader("heapsnapshot")(path, quiet=quiet, cache=cache)


_TIMED = ("cpuprofile", "trace", "v8log")   # formats with sample times (``weights=`` applies)


def _profile_format(path, format):
    path = _exists(path)
    fmt = sniff.BY_NAME.get(format) if format else sniff.detect(path)
    if format and (fmt is None or fmt.subject != "profile"):
        raise WorkbenchError(f"unknown profile format {format!r}; one of "
                             + ", ".join(f.name for f in sniff.FORMATS if f.subject == "profile"), path)
    if fmt is None or fmt.subject != "profile":
        raise _not_a(path, fmt, "profile")
    return path, fmt


def _weights_kw(path, fmt, weights) -> dict:
    if weights is None:
        return {}
    if fmt.name in _TIMED:
        return {"weights": weights}
    if weights != "devtools":
        raise UsageError(f"weights={weights!r} needs sample times; a {fmt.what} has none", path)
    return {}


def _thread_of(p) -> str:
    m = p.meta
    return ", ".join(f"{k} {m[k]}" for k in ("pid", "tid", "thread_name") if m.get(k) is not None) or "no thread"


def load_profile(path, *, format: str | None = None, quiet: bool = False, thread=None, weights: str | None = None,
                 **kw):
    """A profile in any format of the table. ``format`` ("cpuprofile", "heapprofile", "trace",
    "v8log", "clinic", "folded") skips sniffing. ``thread``: which profile of a trace with several (its
    tid, its thread name or "pid:id"; default: the main thread's); for other files it must match the
    file's own thread (``node --cpu-prof`` names carry pid and tid). ``weights``: "devtools" (default: a
    sample weighs the mean interval) or "deltas" (speedscope's: the time to the next sample), for files
    with sample times (``workbench.io.cpuprofile``). Trace files also take ``profile="pid:id"``; folded
    files ``kind`` and ``interval_ms``; clinic folders ``interval_ms``. A raw ``node --prof`` log needs
    ``node`` on PATH. ``load_profiles`` returns every profile of a file."""
    path, fmt = _profile_format(path, format)
    kw.update(_weights_kw(path, fmt, weights))
    if fmt.name == "trace":
        return reader("trace")(path, quiet=quiet, thread=thread, **kw)
    p = reader(fmt.name)(path, quiet=quiet, **kw)
    if thread is not None and str(thread) not in (str(p.meta.get("tid")), str(p.meta.get("thread_name")),
                                                  f"{p.meta.get('pid')}:{p.meta.get('tid')}"):
        raise UsageError(f"no thread {thread!r} in this file: it holds one profile ({_thread_of(p)})", path)
    return p


def load_profiles(path, *, format: str | None = None, quiet: bool = False, weights: str | None = None,
                  **kw) -> list:
    """Every profile in a file, as a list: one per thread or process of a Chrome trace (in the order they
    start, with ``meta`` ``pid``, ``tid``, ``thread_name``, ``process_name``), else the file's one
    profile. Arguments as ``load_profile``'s."""
    path, fmt = _profile_format(path, format)
    kw.update(_weights_kw(path, fmt, weights))
    if fmt.name == "trace":
        from .trace_events import read_traces
        return read_traces(path, quiet=quiet, **kw)
    return [reader(fmt.name)(path, quiet=quiet, **kw)]


def load_hpy(path, *, index: int = -1):
    """A guppy3 ``.hpy`` dump as a PyHeap (see ``workbench.io.hpy``)."""
    from .hpy import load_hpy as _load
    return _load(_exists(path), index=index)


# ---- metrics: files and folders ------------------------------------------------------------------
def _metric_format(path: Path):
    fmt = sniff.detect(path)
    return fmt if fmt is not None and fmt.subject == "metrics" else None


def _expand(paths) -> tuple[list[tuple[str, Path, str]], list]:
    """(format, path, run) for every input; folders are walked one level (two for scenario folders)."""
    out, skipped = [], []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise WorkbenchError("no such file", p)
        fmt = _metric_format(p)
        if fmt is not None:
            run = (p.parent.name if fmt.name in ("doctor", "scrapes") or p.is_file() else p.name) or "run"
            out.append((fmt.name, p, run))
            continue
        if p.is_file():
            raise FormatError(p, "header", 0, "not a metric export workbench can read "
                              "(Prometheus/OpenMetrics, memoryUsage CSV/JSONL, GC log, Doctor folder, diagnostic report)")
        found = _walk(p, out, skipped, depth=2)
        if not found:
            raise FormatError(p, "folder", None, "no metric exports in this folder")
    return out, skipped


def _walk(p: Path, out: list, skipped: list, depth: int) -> int:
    """Recognised exports in folder p (run = the folder's name); sub-folders up to ``depth`` levels."""
    found = 0
    for q in sorted(p.iterdir()):
        if q.name.startswith("."):
            continue
        fmt = _metric_format(q)
        if fmt is None and q.is_dir() and depth > 1:
            n = _walk(q, out, skipped, depth - 1)
            found += n
            if n:
                continue
        if fmt is None:
            skipped.append(q)
            continue
        out.append((fmt.name, q, p.name))
        found += 1
    return found


def load_metrics(*paths, quiet: bool = False, run: str | None = None, start=None, ts=None):
    """Metric exports as one Metrics table.

    paths: files or folders: Prometheus/OpenMetrics scrapes (a file or a folder of timestamped
    scrapes), memoryUsage/event-loop CSV or JSONL samples, ``--trace-gc`` and ``--trace-gc-nvp`` logs,
    Clinic.js Doctor folders and Node diagnostic reports. A folder that is none of these is walked one
    level deep (two for a folder of scenario folders); files in it that are not metric exports are
    listed in ``m.problems`` (reason ``skipped: not a metric export``), while a file named explicitly
    that is not a metric export is a one-line FormatError. run: one run name for everything (default:
    the folder each file is in). start: where the isolate of a GC log started (unix ms/datetime);
    without it GC logs are aligned to a Doctor recording or ``process_start_time_seconds`` of the same
    run when there is one. ts: scrape time for Prometheus files whose names carry none.
    """
    from .._progress import progress
    from ..metrics.builder import combine

    if not paths:
        raise WorkbenchError("no input files")
    items, skipped = _expand(paths)
    extra = {"scrapes": {"ts": ts}, "prometheus": {"ts": ts}, "gclog": {"start": start}}
    parts = []
    with progress(len(items), "loading metrics", quiet=quiet) as bar:
        for fmt, path, r in items:
            parts.append((fmt, path, r, reader(fmt)(path, **extra.get(fmt, {}))))
            bar.update(1)
    return combine(parts, skipped, run=run)


# ---- traces and logs: files and folders ----------------------------------------------------------
def _subject_files(paths, subject: str) -> list[tuple[str, Path]]:
    """(format, path) of every input of one subject; a folder contributes its files of that subject
    (one level; others are left alone: a dataset folder holds metrics and snapshots too)."""
    out = []
    for p in paths:
        p = Path(_exists(p))
        if p.is_dir():
            found = [(f.name, q) for q in sorted(p.iterdir()) if q.is_file() and not q.name.startswith(".")
                     for f in [sniff.detect(q)] if f is not None and f.subject == subject]
            if not found:
                raise FormatError(p, "folder", None, f"no {sniff.SUBJECT_WORDS[subject].split(' ', 1)[1]} files "
                                  f"in this folder ({sniff.describe(subject)})")
            out += found
            continue
        fmt = sniff.detect(p)
        if fmt is None or fmt.subject != subject:
            raise _not_a(p, fmt, subject)
        out.append((fmt.name, p))
    return out


def load_traces(*paths, quiet: bool = False):
    """Trace exports as one Traces model: OTLP/JSON (one ExportTraceServiceRequest per line, as the
    Collector's file exporter writes; or one document), Jaeger JSON, Zipkin v2 JSON; files or folders
    (their trace files). Spans from all files are linked into trees after everything is read."""
    from .._progress import progress
    from ..traces.builder import build
    from .jaeger import parse_jaeger
    from .otlp import parse_otlp
    from .zipkin import parse_zipkin

    if not paths:
        raise WorkbenchError("no input files")
    parse = {"otlp": parse_otlp, "jaeger": parse_jaeger, "zipkin": parse_zipkin}
    items = _subject_files(paths, "traces")
    parts = []
    with progress(len(items), "loading traces", quiet=quiet, unit="file", min_total=4) as bar:
        for fmt, p in items:
            parts.append(parse[fmt](p))
            bar.update(1)
    return build(parts)


def load_logs(*paths, quiet: bool = False, fields: bool = True):
    """Log files as one Logs model: JSON lines from pino, bunyan and winston, and Node's stderr
    warnings (``workbench.io.logs``); files or folders (their log files). ``fields=False`` leaves out
    each record's whole JSON text (the ``fields`` column is null): half the memory on big files."""
    from .._progress import progress
    from ..logs.builder import build, records
    from .logs import parse_logs

    if not paths:
        raise WorkbenchError("no input files")
    items = _subject_files(paths, "logs")
    parts = []
    with progress(len(items), "loading logs", quiet=quiet, unit="file", min_total=4) as bar:
        for _, p in items:
            raw, notes = parse_logs(p, fields)
            parts.append((records(raw), notes))
            bar.update(1)
    return build(parts)
