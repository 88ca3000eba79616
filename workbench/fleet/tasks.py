"""The one task per file that Dask workers run: read the file with the ordinary doors, reduce it to
the fleet tables (Summary, hotspots, folded stacks, metric samples, leak trend), write them.

A task holds one file at a time and returns only its ``files`` row (a few hundred bytes). Any
failure to read becomes that row's ``error`` (one line) instead of an exception, so one bad file
never stops the run; only a worker that dies (out of memory, killed) leaves a task for Dask to retry.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import socket
import time

import polars as pl

from ..errors import WorkbenchError
from . import store

BLOCK = 1 << 20


def sha256_of(path) -> str:
    h = hashlib.sha256()
    if os.path.isdir(path):   # a metric export folder (scrapes, Clinic Doctor): its files, by name
        for root, dirs, names in os.walk(path):
            dirs.sort()
            for n in sorted(names):
                p = os.path.join(root, n)
                h.update(os.path.relpath(p, path).encode("utf-8", "surrogateescape") + b"\0")
                h.update(sha256_of(p).encode())
        return h.hexdigest()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def one_line(e: BaseException) -> str:
    if isinstance(e, WorkbenchError):
        return e.message if e.path else e.one_line()
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _key(df: pl.DataFrame, instance: str, path: str, sha: str) -> pl.DataFrame:
    return df.with_columns(pl.lit(instance).alias("instance"), pl.lit(path).alias("file"), pl.lit(sha).alias("sha256"))


def _heap(path, instance, sha, row):
    from ..io import load_snapshot
    snap = load_snapshot(path, quiet=True)
    row["nodes"] = snap.node_count
    notes = snap.notes
    if len(notes):
        row["notes"] = "; ".join(f"{n} x {w}" for n, w in zip(notes["count"], notes["what"]))
    return {"classes": _key(snap.summary(), instance, path, sha)}


def _profile(path, instance, sha, row):
    from ..io import load_profile
    from ..profile.export import folded_lines
    p = load_profile(path, quiet=True)
    row["nodes"] = p.n_nodes
    hs = p.hotspots(top=None)
    hs = _key(hs, instance, path, sha).with_columns(pl.lit(p.kind).alias("profile_kind"))
    hits = folded_lines(p, value="hits").rename({"count": "samples"})
    vals = folded_lines(p, value="self").rename({"count": "value"})
    st = hits.join(vals, on="stack", how="full", coalesce=True).fill_null(0)
    st = _key(st, instance, path, sha).with_columns(pl.lit(p.kind).alias("profile_kind"))
    if len(p.notes):
        row["notes"] = "; ".join(f"{n} x {w}" for n, w in zip(p.notes["count"], p.notes["what"]))
    return {"hotspots": hs, "stacks": st}


def _metrics(path, instance, sha, row, label):
    from ..io import load_metrics
    m = load_metrics(path, quiet=True, run=instance)
    t = m.table
    if label:   # one export of many instances (a federated scrape): the label names each row's instance
        got = t["labels"].str.extract(f'(?:^|,)\\s*{re.escape(label)}="([^"]*)"', 1)
        t = t.with_columns(pl.coalesce(got, pl.lit(instance)).alias("run"))
        m = type(m)(t, m.gc_events, m.problems, m.sources, m.doctor, m.types)
    row["nodes"] = len(t)
    if len(t):
        row["taken_at"], row["taken_at_from"] = t["ts"].min(), "samples"
    out = {"metrics": t.with_columns(pl.col("run").alias("instance"), pl.lit(path).alias("file"),
                                     pl.lit(sha).alias("sha256"))}
    notes = []
    try:
        out["trends"] = m.leak_trend().with_columns(pl.col("run").alias("instance"), pl.lit(path).alias("file"),
                                                    pl.lit(sha).alias("sha256"))
    except WorkbenchError as e:
        notes.append(f"no leak trend: {one_line(e)}")
    notes += [f"{n} x {w}" for n, w in zip(m.notes["count"], m.notes["what"])]
    if notes:
        row["notes"] = "; ".join(notes)
    return out


def reduce_file(path: str, out: str | None, instance: str, fields: dict, *, label: str | None = None,
                node_version: str | None = None, write: bool = True):
    """Summarise one file into the fleet tables under ``out``. Returns its ``files`` row (a dict);
    with ``write=False`` returns (row, tables) and writes nothing (the client writes)."""
    t0 = time.perf_counter()
    from ..io import sniff
    from .naming import taken_at
    row = {"path": path, "instance": instance, "fields": json.dumps(fields, sort_keys=True),
           "node_version": node_version or fields.get("node_version"), "error": None, "notes": None,
           "worker": f"{socket.gethostname()}:{os.getpid()}",
           "summarized_at": dt.datetime.now(dt.timezone.utc)}
    tables: dict[str, pl.DataFrame] = {}
    try:
        st = os.stat(path)
        row["bytes"], row["mtime_ns"] = st.st_size, st.st_mtime_ns
        row["taken_at"], row["taken_at_from"] = taken_at(path)
        sha = row["sha256"] = sha256_of(path)
        if write and out is not None and store.has_part(out, sha):
            prev = pl.read_parquet(os.path.join(out, "files", f"part-{sha}.parquet"))
            return {"path": path, "sha256": sha, "skipped": f"same content as {prev['path'][0]}"}
        fmt = sniff.detect(path)
        row["format"] = fmt.name if fmt is not None else None
        kind = fmt.subject if fmt is not None else "heap"   # the heap reader names what is wrong
        row["kind"] = kind
        if kind == "heap":
            tables = _heap(path, instance, sha, row)
        elif kind == "profile":
            tables = _profile(path, instance, sha, row)
        elif kind == "metrics":
            tables = _metrics(path, instance, sha, row, label)
        else:
            raise WorkbenchError(f"a {fmt.what}: fleet reads Node heap snapshots, profiles and metric exports")
    except Exception as e:   # noqa: BLE001 - every failure is the file's one-line error, the run goes on
        row["error"] = one_line(e)
        tables = {}
    row["seconds"] = time.perf_counter() - t0
    if not write:
        return row, {k: store.conform(k, v) for k, v in tables.items()}
    row["part_bytes"] = commit(out, row, tables)
    return row


def commit(out, row: dict, tables: dict) -> int:
    """Write a file's parts, the ``files`` row last (the commit marker). Returns the bytes written."""
    files_row = {k: row.get(k) for k in store.SCHEMAS["files"]}
    n = 0
    if row.get("sha256") is None:   # never read (could not even be opened): keyed by its path
        return store.write_part(out, "files", f"fail-{store.path_key(row['path'])}", pl.DataFrame([files_row]))
    for name, df in tables.items():
        if len(df):
            n += store.write_part(out, name, f"part-{row['sha256']}", df)
    n += store.write_part(out, "files", f"part-{row['sha256']}", pl.DataFrame([files_row],
                                                                         schema=store.SCHEMAS["files"]))
    store.drop_failure(out, row["path"])
    return n
