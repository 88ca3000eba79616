"""``summarize``: every file of a fleet read on Dask workers, one task per file, into a fleet dataset.

Dask's distributed scheduler does the scheduling, the worker pool, the retries and the replacement of
dead workers; this module only chooses the cluster, submits one task per file (keyed by path, size
and mtime, so a rerun in the same session does not recompute), streams results with ``as_completed``
behind a progress bar and writes a ``files`` row for each file whose task could not finish.

Memory: a task holds one file; workers run one task at a time (one thread each). Unless given, a
local cluster's memory limit per worker is ``BASE + FACTOR x`` the largest file's decompressed size,
at least 1 GiB (measured on this machine, benchmarks/README.md: the peak RSS of ``workbench summary``
is 213 MiB on a 6 MiB snapshot, 1,031 MiB on a 568 MiB one and 5,449 MiB on a 4.45 GiB one, so a
fixed part plus under twice the file), and the number of workers is as many as fit in 80 % of the
available memory, at most one per core and one per file. The worker's Nanny restarts a worker that
goes over its limit (Dask's ``terminate`` threshold); its task is retried on another worker and after
``distributed.scheduler.allowed-failures`` deaths becomes that file's error.
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .._progress import progress
from ..errors import UsageError, WorkbenchError
from . import store
from .naming import InstancePattern
from .tasks import commit, reduce_file

BASE = 384 * 2**20     # a worker's own footprint (Python, numba, polars, distributed)
FACTOR = 2             # peak memory of one file's task per byte of (decompressed) file
MIN_LIMIT = 1 * 2**30


def expand(paths_or_globs) -> list[str]:
    """Files named by paths, globs (``**`` recursive) and folders (walked; a folder that is itself a
    metric export, a scrape folder or a Clinic Doctor recording, is one input), sorted, once each."""
    from ..io import sniff
    if isinstance(paths_or_globs, (str, os.PathLike)):
        paths_or_globs = [paths_or_globs]
    out: list[str] = []

    def add(p: str):
        if os.path.isdir(p):
            fmt = sniff.detect(p)
            if fmt is not None:
                out.append(os.path.abspath(p))
                return
            for q in sorted(os.listdir(p)):
                if not q.startswith("."):
                    add(os.path.join(p, q))
        elif os.path.isfile(p):
            out.append(os.path.abspath(p))

    for g in paths_or_globs:
        g = os.fspath(g)
        hits = sorted(glob.glob(g, recursive=True)) if glob.has_magic(g) else [g]
        if not hits or not any(os.path.exists(h) for h in hits):
            raise WorkbenchError("no such file" if not glob.has_magic(g) else "no file matches", g)
        for h in hits:
            add(h)
    return sorted(dict.fromkeys(out))


def raw_size(path: str) -> int:
    """The decompressed size of a file (gzip's ISIZE trailer for .gz), or a folder's total size."""
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(path) for n in ns)
    size = os.path.getsize(path)
    if path.endswith(".gz") and size >= 18:
        with open(path, "rb") as f:
            f.seek(-4, os.SEEK_END)
            isize = struct.unpack("<I", f.read(4))[0]
        return isize if isize >= size else size * 10   # ISIZE is mod 2^32: a wrapped one is too small
    return size


def available_memory() -> int:
    import psutil
    return int(psutil.virtual_memory().available)


def plan(paths: list[str], *, workers: int | None = None, memory_limit: int | str | None = None,
         memory: int | None = None, cpus: int | None = None) -> dict:
    """Workers and memory limit for a local cluster over ``paths`` (see the module doc)."""
    from dask.utils import parse_bytes
    largest = max((raw_size(p) for p in paths), default=0)
    need = max(MIN_LIMIT, BASE + FACTOR * largest)
    limit = parse_bytes(memory_limit) if isinstance(memory_limit, str) else (memory_limit or need)
    memory = memory or available_memory()
    cpus = cpus or os.cpu_count() or 1
    fit = max(1, int(0.8 * memory // limit))
    n = workers or max(1, min(cpus, fit, len(paths) or 1))
    return {"workers": n, "memory_limit": int(limit), "largest_file_bytes": largest,
            "estimated_peak_per_task": int(need), "available_memory": memory,
            "fits_in_memory": n * limit <= memory}


@dataclass
class Summary:
    """What one ``summarize`` run did."""
    out: Path
    files: int = 0                     # inputs named
    new: int = 0                       # summarised now (read, or failed to read: see errors)
    unchanged: int = 0                 # skipped: same path, size and mtime as a committed row
    same_content: list = field(default_factory=list)   # (path, why): sha256 already in the dataset
    errors: list = field(default_factory=list)         # (path, error)
    unmatched: list = field(default_factory=list)      # paths the --instance pattern did not match
    warnings: list = field(default_factory=list)       # about a given cluster's workers (memory, threads)
    seconds: float = 0.0
    cluster: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)           # the files rows of this run

    @property
    def dataset(self):
        return store.open_dataset(self.out)

    def __repr__(self) -> str:
        return (f"<fleet run: {self.new} new ({len(self.errors)} errors), {self.unchanged} unchanged, "
                f"{len(self.same_content)} same content, {self.seconds:.1f} s, {self.out}>")


def _committed(out: Path, redo_errors: bool) -> dict:
    """path -> (bytes, mtime_ns) of files rows that need no new task."""
    folder = out / "files"
    if not folder.is_dir():
        return {}
    df = store.open_dataset(out).files.filter(pl.col("sha256").is_not_null())
    if redo_errors:
        df = df.filter(pl.col("error").is_null())
    return {p: (b, m) for p, b, m in zip(df["path"], df["bytes"], df["mtime_ns"])}


def local_cluster(n_workers: int, memory_limit, *, quiet: bool = True):
    """A LocalCluster for fleet tasks: worker processes (memory limits are enforced only for
    processes), one thread each (a task holds one file), the dashboard on a free port, and without Dask's
    ``MALLOC_TRIM_THRESHOLD_=65536`` in the workers' environment: fixing glibc's trim threshold
    turns off its adaptive mmap threshold, and the readers' large arrays then cost page faults on
    every file (twice the time of a 90 MB snapshot on this machine, benchmarks/README.md). Workers
    run with ``WORKBENCH_CACHE=0``: each file is read once, so the readers' on-disk cache of big
    files would only cost time and disk."""
    import dask
    from distributed import LocalCluster
    env = {k: v for k, v in (dask.config.get("distributed.nanny.pre-spawn-environ") or {}).items()
           if k != "MALLOC_TRIM_THRESHOLD_"}
    env["WORKBENCH_CACHE"] = "0"   # a task reads its file once: the readers' on-disk cache would only cost disk
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                            dashboard_address=":0", silence_logs=40 if quiet else 30)


@contextlib.contextmanager
def _client(client, plan_: dict, quiet: bool):
    from distributed import Client
    if client is not None and not isinstance(client, (str, os.PathLike)):
        yield client, {"scheduler": client.scheduler.address, "workers": len(client.scheduler_info()["workers"])}
        return
    if client is not None:
        c = Client(os.fspath(client), timeout="20s")
        try:
            yield c, {"scheduler": c.scheduler.address, "workers": len(c.scheduler_info()["workers"])}
        finally:
            c.close()
        return
    cluster = local_cluster(plan_["workers"], plan_["memory_limit"], quiet=quiet)
    c = Client(cluster)
    try:
        yield c, {"scheduler": "local", **plan_}
    finally:
        c.close()
        cluster.close()


def _task_key(path: str, st: os.stat_result) -> str:
    h = hashlib.sha1(f"{path}\0{st.st_size}\0{st.st_mtime_ns}".encode("utf-8", "surrogateescape")).hexdigest()
    return f"workbench-fleet-{h}"


def summarize(paths_or_globs, *, out=None, client=None, workers: int | None = None, memory_limit=None,
              instance: str | None = None, node_version: str | None = None, quiet: bool = False,
              retries: int = 1, redo_errors: bool = False, write_on: str = "worker") -> Summary:
    """Read every file on Dask workers and write the fleet dataset ``out`` (see ``workbench.fleet``;
    None: a new folder under the system's temporary folder, ``Summary.out``).

    client: None (a local cluster sized by ``plan``: ``workers``, ``memory_limit``), a
    ``distributed.Client``, or a scheduler address (``tcp://host:8786``). instance: the pattern of
    ``InstancePattern`` (default: each file's parent folder). node_version: for every file (else the
    pattern's ``{node_version}`` field). Files already in ``out`` (same path, size and mtime; or the same
    sha256 under another path) are skipped; failed rows are retried only with ``redo_errors``.
    write_on: "worker" (tasks write their parts; ``out`` must be on a filesystem every worker sees) or
    "client" (tasks return their tables and the client writes them: for remote workers without
    shared storage)."""
    from distributed import as_completed

    if write_on not in ("worker", "client"):
        raise UsageError(f"write_on must be 'worker' or 'client', not {write_on!r}")
    t0 = time.perf_counter()
    if out is None:
        import tempfile
        out = Path(tempfile.mkdtemp(prefix="workbench-fleet-")) / "fleet.ds"
    out = Path(out).absolute()
    pattern = InstancePattern(instance)
    paths = expand(paths_or_globs)
    if not paths:
        raise WorkbenchError("no input files")
    (out / "files").mkdir(parents=True, exist_ok=True)
    res = Summary(out=out, files=len(paths))
    done = _committed(out, redo_errors)
    todo = []
    for p in paths:
        st = os.stat(p)
        if p in done and done[p] == (st.st_size, st.st_mtime_ns):
            res.unchanged += 1
            continue
        inst, fields, matched = pattern.instance(p)
        if not matched:
            res.unmatched.append(p)
        todo.append((p, st, inst, fields))
    if not todo:
        res.seconds = time.perf_counter() - t0
        return res
    the_plan = plan([p for p, *_ in todo], workers=workers, memory_limit=memory_limit)
    with _client(client, the_plan, quiet) as (c, info):
        res.cluster = info
        if client is not None:
            res.warnings += _check_workers(c, the_plan)
        futures = {}
        for p, st, inst, fields in todo:
            f = c.submit(reduce_file, p, str(out), inst, fields, label=pattern.label, node_version=node_version,
                         write=write_on == "worker", key=_task_key(p, st), retries=retries, pure=False)
            futures[f] = (p, inst, fields)
        with progress(len(futures), "summarizing files", quiet=quiet, unit="file", min_total=2) as bar:
            for f in as_completed(list(futures)):
                p, inst, fields = futures.pop(f)
                if f.status == "finished":
                    row = f.result()
                    if write_on == "client":
                        row, tables = row
                        row["part_bytes"] = commit(out, row, tables)
                else:
                    row = _failed(out, p, inst, fields, f.exception(), node_version)
                f.release()
                if "skipped" in row:
                    res.same_content.append((p, row["skipped"]))
                else:
                    res.new += 1
                    res.rows.append(row)
                    if row.get("error"):
                        res.errors.append((p, row["error"]))
                bar.update(1)
    res.seconds = time.perf_counter() - t0
    return res


def _check_workers(c, the_plan: dict) -> list[str]:
    """What a given cluster's workers lack for these files: memory for the largest, one thread each."""
    out = []
    workers = c.scheduler_info().get("workers", {})
    need = the_plan["estimated_peak_per_task"]
    small = sorted(a for a, w in workers.items() if w.get("memory_limit") and w["memory_limit"] < need)
    if small:
        out.append(f"{len(small)} of {len(workers)} workers have a memory limit under the "
                   f"{need / 2**30:.1f} GiB the largest file needs (its task may be killed and retried)")
    many = sorted({w.get("nthreads", 1) for w in workers.values() if w.get("nthreads", 1) > 1})
    if many:
        out.append(f"workers run {', '.join(map(str, many))} threads: as many files at a time each, "
                   "in one memory limit (start them with --nthreads 1)")
    return out


def _failed(out: Path, path: str, inst: str, fields: dict, exc: BaseException, node_version) -> dict:
    """The files row of a task that never returned (its worker kept dying, or the task raised)."""
    import datetime as dt
    from distributed import KilledWorker
    if isinstance(exc, KilledWorker):
        what = ("the worker died every time it read this file (out of memory or killed); "
                "rerun with a larger --memory-limit")
    else:
        what = f"task failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
    st = os.stat(path) if os.path.exists(path) else None
    row = {"path": path, "instance": inst, "fields": json.dumps(fields, sort_keys=True), "error": what,
           "node_version": node_version or fields.get("node_version"),
           "bytes": st.st_size if st else None, "mtime_ns": st.st_mtime_ns if st else None,
           "summarized_at": dt.datetime.now(dt.timezone.utc), "sha256": None}
    row["part_bytes"] = commit(out, row, {})
    return row
