"""The captures: heap snapshot, CPU profile, sampling heap profile, metric samples, three snapshots.

Each writes the same file a human would save from DevTools (or ``node --cpu-prof``/``--heap-prof``),
so the usual readers load it:

- ``take_heap_snapshot``: ``HeapProfiler.takeHeapSnapshot {reportProgress: true}``; V8 streams the
  JSON document as ``HeapProfiler.addHeapSnapshotChunk {chunk}`` events before answering (CDP
  HeapProfiler domain). Chunks go to a temporary ``.NAME.*.part`` file beside the final path
  (gzip-compressed when the name ends in ``.gz``) that is renamed to the final name only after the
  command succeeded and the document looks whole; on any failure the part file is removed, so no
  half-written file ever carries the final name. V8 runs a full GC before taking it, as for
  ``v8.writeHeapSnapshot``.
- ``cpu_profile``: ``Profiler.enable``, ``Profiler.setSamplingInterval {interval: µs}``,
  ``Profiler.start``, wait, ``Profiler.stop`` -> ``{profile}`` written as ``.cpuprofile`` JSON.
- ``sampling_heap_profile``: ``HeapProfiler.startSampling {samplingInterval: bytes}``, wait,
  ``HeapProfiler.stopSampling`` -> ``{profile}`` written as ``.heapprofile`` JSON.
- ``sample_metrics``: every ``every`` seconds one ``Runtime.evaluate`` of ``process.memoryUsage()``,
  ``performance.eventLoopUtilization()`` and ``v8.getHeapStatistics()``; written as JSON lines with
  ``ts`` (unix ms), memoryUsage's camelCase fields in bytes, ``utilization`` (the ELU of the interval
  since the previous sample: Δactive / (Δactive + Δidle), Node's own delta formula), cumulative
  ``active``/``idle`` ms, and the heap statistics as ``<name>_bytes`` (counts keep their names).
  The memory-samples reader of ``workbench.load_metrics`` reads it.
- ``three_snapshots``: baseline, target, final snapshots ``interval`` seconds apart (or after a
  ``between`` callback that drives load), memlab's three-snapshot leak method.
"""
from __future__ import annotations

import gzip
import json
import os
import time
import uuid
from pathlib import Path
from typing import Callable

from .._progress import progress
from ..errors import CaptureError, UsageError


# ---------------------------------------------------------------------------- atomic files
class AtomicFile:
    """A file written under a temporary name and renamed to ``path`` by ``commit()``; ``discard()``
    (or leaving the ``with`` block by an exception) removes it."""

    def __init__(self, path: Path, *, binary: bool = False):
        self.path = Path(path)
        if self.path.is_dir():
            raise UsageError(f"{self.path}: is a directory; give a file name")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
        raw = open(self.tmp, "wb")
        self._raw = raw
        self._gz = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=4, mtime=0) \
            if self.path.name.endswith(".gz") else None
        self.bytes_written = 0  # uncompressed

    def write(self, data: str | bytes) -> None:
        b = data.encode("utf-8") if isinstance(data, str) else data
        (self._gz or self._raw).write(b)
        self.bytes_written += len(b)

    def commit(self) -> Path:
        if self._gz is not None:
            self._gz.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        try:
            if self._gz is not None:
                self._gz.close()
        except Exception:  # noqa: BLE001
            pass
        self._raw.close()
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass

    def __enter__(self) -> "AtomicFile":
        return self

    def __exit__(self, et, ev, tb) -> None:
        if et is not None:
            self.discard()
        elif not self._raw.closed:
            self.discard()


def _write_json(path: Path, obj) -> Path:
    with AtomicFile(path) as f:
        f.write(json.dumps(obj, separators=(",", ":")))
        return f.commit()


def _path(insp, path, stem: str, ext: str) -> Path:
    return Path(path) if path is not None else insp._default_path(stem, ext)


# ---------------------------------------------------------------------------- heap snapshot
def take_heap_snapshot(insp, path=None, *, quiet: bool | None = None, expose_internals: bool = False,
                       numeric_values: bool = False, timeout: float | None = None) -> Path:
    """Stream a heap snapshot of the target to ``path`` (``.heapsnapshot`` or ``.heapsnapshot.gz``)
    with a progress bar; return the final path. On any failure nothing is left under ``path``."""
    path = _path(insp, path, "heap", ".heapsnapshot")
    quiet = insp.quiet if quiet is None else quiet
    scan = progress(None, "snapshot: scanning objects", quiet=quiet, unit="obj", min_total=0)
    stream = progress(None, f"snapshot: writing {path.name}", quiet=quiet, unit="B", min_total=0)
    state = {"head": b"", "tail": b""}

    with AtomicFile(path) as out:
        def on_event(msg: dict) -> None:
            m = msg.get("method")
            p = msg.get("params") or {}
            if m == "HeapProfiler.addHeapSnapshotChunk":
                chunk = p.get("chunk", "")
                if not isinstance(chunk, str):
                    raise CaptureError("HeapProfiler.addHeapSnapshotChunk without a text chunk")
                b = chunk.encode("utf-8")
                if len(state["head"]) < 16:
                    state["head"] += b[:16]
                state["tail"] = (state["tail"] + b)[-16:]
                out.write(b)
                stream.update(len(b))
            elif m == "HeapProfiler.reportHeapSnapshotProgress":
                done, total = p.get("done"), p.get("total")
                if isinstance(total, int) and scan.total != total:
                    scan.total = total
                if isinstance(done, int):
                    scan.n = done
                    scan.refresh()

        try:
            insp.call("HeapProfiler.enable", timeout=timeout)
            insp.call("HeapProfiler.takeHeapSnapshot",
                      {"reportProgress": True, "exposeInternals": bool(expose_internals),
                       "captureNumericValue": bool(numeric_values)},
                      timeout=timeout, on_event=on_event)
        finally:
            scan.close()
            stream.close()
        head = state["head"].lstrip()
        if not head.startswith(b'{"snapshot"') or not state["tail"].rstrip().endswith(b"}"):
            raise CaptureError(f"{path}: the target answered but the streamed snapshot is not a whole "
                               f"document ({out.bytes_written} bytes); nothing was written")
        return out.commit()


# ---------------------------------------------------------------------------- profiles
def cpu_profile(insp, seconds: float, path=None, *, interval_us: int | None = None,
                timeout: float | None = None) -> Path:
    """Record the target's CPU for ``seconds`` (sampling every ``interval_us`` µs, V8's default
    1000 µs in Node when None) and write a ``.cpuprofile``."""
    if seconds <= 0:
        raise UsageError("seconds must be > 0")
    path = _path(insp, path, "cpu", ".cpuprofile")
    insp.call("Profiler.enable", timeout=timeout)
    if interval_us is not None:
        insp.call("Profiler.setSamplingInterval", {"interval": int(interval_us)}, timeout=timeout)
    insp.call("Profiler.start", timeout=timeout)
    insp.wait(seconds, "Profiler.start (recording a CPU profile)")
    res = insp.call("Profiler.stop", timeout=timeout)
    try:
        insp.call("Profiler.disable", timeout=timeout)
    except CaptureError:
        pass  # the profile is already in hand
    prof = res.get("profile")
    if not isinstance(prof, dict) or "nodes" not in prof:
        raise CaptureError("Profiler.stop returned no profile")
    return _write_json(path, prof)


def sampling_heap_profile(insp, seconds: float, path=None, *, interval_bytes: int = 32768,
                          timeout: float | None = None) -> Path:
    """Sample allocations for ``seconds`` (one sample per ``interval_bytes`` allocated on
    average; V8's default 32 KiB) and write a ``.heapprofile``."""
    if seconds <= 0:
        raise UsageError("seconds must be > 0")
    path = _path(insp, path, "heap", ".heapprofile")
    insp.call("HeapProfiler.enable", timeout=timeout)
    insp.call("HeapProfiler.startSampling", {"samplingInterval": int(interval_bytes)}, timeout=timeout)
    insp.wait(seconds, "HeapProfiler.startSampling (sampling allocations)")
    res = insp.call("HeapProfiler.stopSampling", timeout=timeout)
    prof = res.get("profile")
    if not isinstance(prof, dict) or "head" not in prof:
        raise CaptureError("HeapProfiler.stopSampling returned no profile")
    return _write_json(path, prof)


# ---------------------------------------------------------------------------- metrics
# One expression, no state left in the target. `require` comes from the command-line API; newer
# Node also has process.getBuiltinModule.
METRICS_JS = r"""(() => {
  const v8 = (process.getBuiltinModule ? process.getBuiltinModule('v8') : require('v8'));
  const { performance } = (process.getBuiltinModule ? process.getBuiltinModule('perf_hooks') : require('perf_hooks'));
  const m = process.memoryUsage();
  const e = performance.eventLoopUtilization();
  return JSON.stringify({ ts: Date.now(), m, e: { idle: e.idle, active: e.active }, h: v8.getHeapStatistics() });
})()"""

COUNT_STATS = {"number_of_native_contexts", "number_of_detached_contexts", "does_zap_garbage"}


def sample_metrics(insp, every: float, for_: float, path=None, *, timeout: float | None = None,
                   quiet: bool | None = None) -> Path:
    """Sample memory, event-loop utilisation and V8 heap statistics every ``every`` seconds for
    ``for_`` seconds; write JSON lines (``.jsonl``) for ``workbench.load_metrics``."""
    if every <= 0 or for_ <= 0:
        raise UsageError("every and for_ must be > 0")
    path = _path(insp, path, "metrics", ".jsonl")
    n = int(for_ / every + 1e-9) + 1  # for_=1, every=0.2 -> 6 samples (1.0 // 0.2 is 4.0)
    quiet = insp.quiet if quiet is None else quiet
    bar = progress(n, "sampling metrics", quiet=quiet, unit="sample", min_total=0)
    prev = None
    start = time.monotonic()
    try:
        with AtomicFile(path) as out:
            for i in range(n):
                raw = insp.evaluate(METRICS_JS, timeout=timeout)
                try:
                    d = json.loads(raw)
                except (TypeError, ValueError):
                    raise CaptureError("Runtime.evaluate returned no metric sample") from None
                row = {"ts": d["ts"]}
                row.update(d["m"])
                e = d["e"]
                if prev is not None:
                    da, di = e["active"] - prev["active"], e["idle"] - prev["idle"]
                    row["utilization"] = da / (da + di) if da + di > 0 else 0.0
                row["active"], row["idle"] = e["active"], e["idle"]
                prev = e
                for k, v in d["h"].items():
                    if isinstance(v, (int, float)):
                        row[k if k in COUNT_STATS else f"{k}_bytes"] = v
                out.write(json.dumps(row) + "\n")
                bar.update(1)
                if i + 1 < n:
                    insp.wait(start + (i + 1) * every - time.monotonic(), "metric sampling")
            return out.commit()
    finally:
        bar.close()


# ---------------------------------------------------------------------------- leak method
def three_snapshots(insp, interval: float, directory=None, *, between: Callable[[int], None] | None = None,
                    names=("baseline", "target", "final"), gz: bool = False,
                    quiet: bool | None = None, timeout: float | None = None) -> tuple[Path, Path, Path]:
    """Baseline, target and final heap snapshots for ``workbench.find_leaks``: between two
    snapshots, call ``between(i)`` (e.g. to send the requests that leak) or, without it, let the
    target run for ``interval`` seconds. Returns the three paths."""
    if len(names) != 3:
        raise UsageError("three_snapshots needs three names")
    d = Path(directory) if directory is not None else insp.out_dir
    d.mkdir(parents=True, exist_ok=True)
    ext = ".heapsnapshot.gz" if gz else ".heapsnapshot"
    out = []
    for i, name in enumerate(names):
        if i:
            if between is not None:
                between(i)
            insp.wait(interval, f"the wait before the {name} snapshot")
        out.append(take_heap_snapshot(insp, d / f"{name}{ext}", quiet=quiet, timeout=timeout))
    return tuple(out)
