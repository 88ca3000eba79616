"""The fleet dataset on disk: one folder per table (files, classes, hotspots, stacks, metrics, trends),
one parquet part per summarised file, written atomically; and reading it back as polars frames.

Layout: ``OUT/<table>/part-<sha256>.parquet`` for a file that was read (or that failed to read: its
``files`` row carries the error), ``OUT/files/fail-<sha1 of path>.parquet`` for a file whose task
never finished (a worker that kept dying; written by the client, retried by the next run). A part is
written to a hidden temporary name in the same folder, fsync'ed and renamed (``os.replace``, atomic on
POSIX); a file's ``files`` row is written last and is its commit marker: rows of the other tables
whose sha256 has no ``files`` row (a task killed between two writes) are never read.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import polars as pl

from ..errors import WorkbenchError

UTC = pl.Datetime("us", "UTC")
KEY = {"instance": pl.String, "file": pl.String, "sha256": pl.String}
SCHEMAS = {
    "files": {"path": pl.String, "kind": pl.String, "format": pl.String, "instance": pl.String,
              "fields": pl.String, "taken_at": UTC, "taken_at_from": pl.String, "node_version": pl.String,
              "bytes": pl.Int64, "mtime_ns": pl.Int64, "nodes": pl.Int64, "sha256": pl.String,
              "seconds": pl.Float64, "error": pl.String, "notes": pl.String, "worker": pl.String,
              "summarized_at": UTC},
    "classes": {**KEY, "class": pl.String, "class_key": pl.String, "count": pl.Int64, "distance": pl.Int64,
                "self_size": pl.Int64, "retained_size": pl.Int64},
    "hotspots": {**KEY, "profile_kind": pl.String, "function": pl.String, "url": pl.String, "line": pl.Int64,
                 "column": pl.Int64, "category": pl.String, "self_samples": pl.Int64, "total_samples": pl.Int64,
                 "self_ms": pl.Float64, "total_ms": pl.Float64, "self_size": pl.Float64,
                 "total_size": pl.Float64},
    "stacks": {**KEY, "profile_kind": pl.String, "stack": pl.String, "samples": pl.Int64, "value": pl.Float64},
    "metrics": {**KEY, "source": pl.String, "ts": UTC, "metric": pl.String, "value": pl.Float64,
                "unit": pl.String, "labels": pl.String, "run": pl.String, "quantity": pl.String},
    "trends": {**KEY, "run": pl.String, "quantity": pl.String, "basis": pl.String, "source": pl.String,
               "verdict": pl.String, "slope_mb_per_hour": pl.Float64, "slope_ci_low": pl.Float64,
               "slope_ci_high": pl.Float64, "confidence": pl.Float64, "baseline_start_mb": pl.Float64,
               "baseline_end_mb": pl.Float64, "span_s": pl.Float64, "points": pl.Int64,
               "median_swing_fraction": pl.Float64, "first_half_slope_mb_per_hour": pl.Float64,
               "second_half_slope_mb_per_hour": pl.Float64},
}
TABLES = tuple(SCHEMAS)
DATA_TABLES = tuple(t for t in TABLES if t != "files")


def conform(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with exactly the table's columns and dtypes (missing columns null)."""
    schema = SCHEMAS[table]
    return df.select([(pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()])


def path_key(path: str) -> str:
    return hashlib.sha1(os.fspath(path).encode("utf-8", "surrogateescape")).hexdigest()


def write_part(out, table: str, name: str, df: pl.DataFrame) -> int:
    """Write ``df`` as ``out/table/name.parquet`` atomically; returns the bytes written."""
    folder = Path(out) / table
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{name}.parquet"
    tmp = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    try:
        conform(table, df).write_parquet(tmp, statistics=False)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    return final.stat().st_size


def has_part(out, sha256: str) -> bool:
    return (Path(out) / "files" / f"part-{sha256}.parquet").exists()


def drop_failure(out, path: str) -> None:
    """Remove the client-written failure row of ``path`` (its file has now been summarised)."""
    try:
        os.unlink(Path(out) / "files" / f"fail-{path_key(path)}.parquet")
    except FileNotFoundError:
        pass


def _read(out, table: str, pattern: str) -> pl.DataFrame:
    parts = sorted((Path(out) / table).glob(pattern))
    if not parts:
        return pl.DataFrame(schema=SCHEMAS[table])
    return pl.concat([pl.read_parquet(p) for p in parts], how="vertical_relaxed") if len(parts) < 64 else \
        pl.scan_parquet([str(p) for p in parts]).collect()


class FleetDataset:
    """A fleet dataset written by ``summarize``: ``files`` (every file, with its error if it failed)
    and, for the files that were read, ``classes``, ``hotspots``, ``stacks``, ``metrics`` and ``trends``.
    Frames are read on first use and cached."""

    def __init__(self, out):
        self.path = Path(out)
        if not (self.path / "files").is_dir():
            raise WorkbenchError("not a fleet dataset (no files/ folder): run `workbench fleet summarize` first",
                                 self.path)
        self._cache: dict[str, pl.DataFrame] = {}

    def __repr__(self) -> str:
        f = self.files
        return (f"<FleetDataset {self.path}: {len(f)} files, {f['instance'].n_unique()} instances, "
                f"{f['error'].is_not_null().sum()} errors>")

    @property
    def files(self) -> pl.DataFrame:
        if "files" not in self._cache:
            df = _read(self.path, "files", "*.parquet").sort("path", "sha256", nulls_last=True)
            # a failure row of a path that has since been read is stale (the run that read it removes it)
            ok = df.filter(pl.col("sha256").is_not_null())["path"]
            self._cache["files"] = df.filter(pl.col("sha256").is_not_null() | ~pl.col("path").is_in(ok.implode()))
        return self._cache["files"]

    def table(self, name: str) -> pl.DataFrame:
        """One table's rows, only of files whose ``files`` row was committed without an error."""
        if name not in DATA_TABLES:
            raise WorkbenchError(f"no table {name!r}; one of {', '.join(TABLES)}")
        if name not in self._cache:
            good = self.files.filter(pl.col("error").is_null() & pl.col("sha256").is_not_null())["sha256"]
            self._cache[name] = _read(self.path, name, "part-*.parquet").filter(pl.col("sha256").is_in(good.implode()))
        return self._cache[name]

    classes = property(lambda self: self.table("classes"))
    hotspots = property(lambda self: self.table("hotspots"))
    stacks = property(lambda self: self.table("stacks"))
    metrics = property(lambda self: self.table("metrics"))
    trends = property(lambda self: self.table("trends"))

    @property
    def errors(self) -> pl.DataFrame:
        return self.files.filter(pl.col("error").is_not_null()).select("path", "instance", "kind", "error")


def open_dataset(out) -> FleetDataset:
    """The fleet dataset at ``out`` (a folder written by ``summarize``)."""
    return out if isinstance(out, FleetDataset) else FleetDataset(out)
