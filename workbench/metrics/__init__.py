"""Metric exports, GC logs and Doctor recordings as one long table, with leak, event-loop and GC
analyses and a Clinic.js-Doctor-compatible ``diagnose``.

``load_metrics(*paths)`` accepts files and folders: Prometheus/OpenMetrics scrapes (a file or a
folder of timestamped scrapes), memoryUsage/event-loop CSV or JSONL samples, ``--trace-gc`` and
``--trace-gc-nvp`` logs, Clinic.js Doctor folders and Node diagnostic reports. A folder that is none
of these is walked one level deep; files in it that are not metric exports are listed in
``m.problems`` (reason ``skipped: not a metric export``), while a file named explicitly that is not
a metric export is a one-line FormatError.
"""
from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from .._progress import progress
from ..errors import FormatError, WorkbenchError
from ..io._metrics_common import PROBLEMS_SCHEMA, ReadResult, empty_problems, problems_frame
from . import names
from .model import Metrics

__all__ = ["load_metrics", "sniff_metrics", "Metrics", "diagnose"]


from .diagnose import diagnose  # noqa: E402  (the function shadows the submodule name on purpose)


def _head(path: Path) -> bytes:
    from ..io import read_head
    return read_head(path)


def _kind(path: Path, head: bytes | None = None) -> str | None:
    """Which reader handles ``path`` (a file or folder), or None."""
    from ..io import clinic_doctor, diagnostic_report, gclog, memory_samples, prometheus
    if path.is_dir():
        if clinic_doctor.is_doctor_dir(path):
            return "doctor"
        files = [q for q in path.iterdir() if q.is_file()]
        if files and all(q.suffix == ".prom" for q in files):
            return "scrapes"
        return None
    head = _head(path) if head is None else head
    if diagnostic_report.sniff(head):
        return "report"
    if gclog.sniff(head):
        return "gclog"
    if prometheus.sniff(head):
        return "prometheus"
    name = path.name.lower().removesuffix(".gz")
    if memory_samples.sniff(head, name):
        return "jsonl" if head.lstrip().startswith(b"{") else "csv"
    if name.endswith(".prom") or "openmetrics" in name:
        return "prometheus"
    return None


def sniff_metrics(path, head: bytes) -> bool:
    return _kind(Path(path), head) is not None


def _read(kind: str, path: Path, kw: dict) -> ReadResult:
    from ..io import clinic_doctor, diagnostic_report, gclog, memory_samples, prometheus
    if kind == "doctor":
        return clinic_doctor.read_doctor(path)
    if kind in ("scrapes", "prometheus"):
        return prometheus.read_prometheus(path, ts=kw.get("ts"))
    if kind == "gclog":
        return gclog.read_gclog(path, start=kw.get("start"))
    if kind == "report":
        return diagnostic_report.read_report(path)
    if kind == "jsonl":
        return memory_samples.read_jsonl(path)
    return memory_samples.read_csv(path)


def _expand(paths) -> tuple[list[tuple[str, Path, str]], list]:
    """(kind, path, run) for every input; folders are walked one level (two for scenario folders)."""
    out, skipped = [], []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise WorkbenchError("no such file", p)
        k = _kind(p)
        if k is not None:
            run = (p.parent.name if k in ("doctor", "scrapes") or p.is_file() else p.name) or "run"
            out.append((k, p, run))
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
        kq = _kind(q)
        if kq is None and q.is_dir() and depth > 1:
            n = _walk(q, out, skipped, depth - 1)
            found += n
            if n:
                continue
        if kq is None:
            skipped.append(q)
            continue
        out.append((kq, q, p.name))
        found += 1
    return found


def load_metrics(*paths, quiet: bool = False, run: str | None = None, start=None, ts=None) -> Metrics:
    """Load metric exports into one Metrics table.

    paths: files or folders (see the module docstring). run: one run name for everything (default:
    the folder each file is in). start: where the isolate of a GC log started (unix ms/datetime);
    without it GC logs are aligned to a Doctor recording or ``process_start_time_seconds`` of the
    same run when there is one. ts: scrape time for Prometheus files whose names carry none.
    """
    if not paths:
        raise WorkbenchError("no input files")
    items, skipped = _expand(paths)
    tables, events, probs, srcs, doctor, types = [], [], [], [], {}, {}
    kw = {"start": start, "ts": ts}
    bar = progress(len(items), "loading metrics", quiet=quiet)
    for kind, path, r in items:
        r = run or r
        res = _read(kind, path, kw)
        tables.append(res.table.with_columns(run=pl.lit(r)))
        if res.events is not None and len(res.events):
            events.append(res.events.with_columns(run=pl.lit(r), source=pl.lit(str(path))))
        probs.append(res.problems)
        if kind == "doctor":
            doctor[r] = res.info["doctor"]
        types.update(res.info.get("types", {}))
        srcs.append({"run": r, "source": str(path), "format": res.info.get("format", kind),
                     "rows": len(res.table), "unparsed": len(res.problems),
                     "relative_time": bool(res.info.get("relative_time", False))})
        bar.update(1)
    bar.close()
    if skipped:
        probs.append(problems_frame("", [0] * len(skipped), "skipped: not a metric export", [str(s) for s in skipped])
                     .with_columns(source=pl.Series([str(s) for s in skipped])))
    table = pl.concat(tables, how="vertical_relaxed")
    gc_events = pl.concat(events, how="diagonal_relaxed") if events else pl.DataFrame(
        schema={"run": pl.Utf8, "source": pl.Utf8, "ts": table.schema["ts"], "type": pl.Utf8, "kind": pl.Utf8,
                "pause_ms": pl.Float64})
    sources = pl.DataFrame(srcs)
    table, gc_events, sources = _align_gc_logs(table, gc_events, sources)
    mp = names.mapping(table.select("metric", "unit").unique())
    table = table.join(mp.select("metric", "unit", "quantity"), on=["metric", "unit"], how="left", nulls_equal=True)
    problems = pl.concat([p.select(list(PROBLEMS_SCHEMA)) for p in probs]) if probs else empty_problems()
    return Metrics(table.sort("run", "source", "ts", maintain_order=True), gc_events.sort("run", "ts"), problems, sources, doctor, types)


def _align_gc_logs(table, gc_events, sources):
    """Put relative-time GC logs on the wall clock: match their collections one to one with the
    blocking GC trace events of a Doctor recording of the same run (Scavenge <-> V8.GCScavenger), or
    else use process_start_time_seconds from a scrape of the same run."""
    rel = sources.filter(pl.col("relative_time"))
    if rel.is_empty():
        return table, gc_events, sources
    offsets = {}
    for run, src in rel.select("run", "source").iter_rows():
        log = gc_events.filter((pl.col("source") == src) & (pl.col("kind") == "minor")).sort("t_ms")
        doc = gc_events.filter((pl.col("run") == run) & (pl.col("type") == "V8.GCScavenger")).sort("ts")
        how = None
        if len(log) and len(log) == len(doc):
            off = (doc["start_ms"] - log["t_ms"]).median()
            how = "doctor trace events"
        else:
            st = table.filter((pl.col("run") == run) & (pl.col("metric") == "process_start_time_seconds"))
            if len(st):
                off = float(st["value"][0]) * 1000.0
                how = "process_start_time_seconds"
        if how is not None:
            offsets[src] = (off, how)
    if not offsets:
        return table, gc_events, sources
    shift = pl.DataFrame({"source": list(offsets), "shift_us": [int(round(v[0] * 1000)) for v in offsets.values()]})

    def apply(df):
        df = df.join(shift, on="source", how="left")
        return df.with_columns(ts=pl.when(pl.col("shift_us").is_not_null())
                               .then((pl.col("ts").cast(pl.Int64) + pl.col("shift_us")).cast(df.schema["ts"]))
                               .otherwise(pl.col("ts"))).drop("shift_us")
    sources = sources.with_columns(
        relative_time=pl.col("relative_time") & ~pl.col("source").is_in(list(offsets)),
        aligned_by=pl.col("source").replace_strict({k: v[1] for k, v in offsets.items()}, default=None))
    return apply(table), apply(gc_events), sources
