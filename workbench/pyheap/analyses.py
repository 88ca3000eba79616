"""Analyses over PyHeap models: Summary, Comparison, the three-heap leak filter, and writing
guppy3 ``.hpy`` packages. Semantics are in ``model.py``'s docstring; all are vectorised polars.

``find_leaks(baseline, target, final)`` is memlab's three-snapshot filter (the V8 side's
``find_leaks``) on Python objects: objects allocated between baseline and target (in target, not
in baseline, by (address, kind)) that are still alive in final, grouped by class.
"""
from __future__ import annotations

import os
import time

import polars as pl

from ..errors import UsageError

SUMMARY_SCHEMA = {"class": pl.Utf8, "class_key": pl.Utf8, "count": pl.Int64, "distance": pl.Int64,
                  "self_size": pl.Int64, "retained_size": pl.Int64}
COMPARISON_SCHEMA = {"class": pl.Utf8, "class_key": pl.Utf8, "new_count": pl.Int64, "deleted_count": pl.Int64,
                     "delta_count": pl.Int64, "alloc_size": pl.Int64, "freed_size": pl.Int64,
                     "size_delta": pl.Int64}


def _totals(h) -> pl.DataFrame:
    return pl.DataFrame({"class": pl.Series(h.kinds, dtype=pl.Utf8), "count": h.counts, "self_size": h.sizes})


def summary(h, *, top: int | None = None) -> pl.DataFrame:
    df = (_totals(h).group_by("class").agg(pl.col("count").sum(), pl.col("self_size").sum())
          .with_columns(class_key=pl.col("class"), distance=pl.lit(None, pl.Int64),
                        retained_size=pl.lit(None, pl.Int64))
          .select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA)
          .sort(["self_size", "count", "class"], descending=[True, True, False]))
    return df.head(top) if top else df


def _objects(h) -> pl.DataFrame:
    return pl.DataFrame({"id": h.ids, "class": pl.Series(h.kinds, dtype=pl.Utf8)[h.kind_of],
                         "self_size": h.obj_sizes})


def _check_pair(before, after) -> None:
    if before.format == "DiffFormat" or after.format == "DiffFormat":
        raise UsageError("a guppy DiffFormat package is already a difference; compare two heaps instead")


def compare(before, after) -> pl.DataFrame:
    """Comparison of ``after`` against ``before`` (see model.py); largest |size_delta| first."""
    _check_pair(before, after)
    tb = _totals(before).group_by("class").agg(pl.col("count").sum().alias("count_b"),
                                               pl.col("self_size").sum().alias("size_b"))
    ta = _totals(after).group_by("class").agg(pl.col("count").sum().alias("count_a"),
                                              pl.col("self_size").sum().alias("size_a"))
    df = ta.join(tb, on="class", how="full", coalesce=True).fill_null(0).with_columns(
        delta_count=pl.col("count_a") - pl.col("count_b"),
        size_delta=pl.col("size_a") - pl.col("size_b"))
    if before.has_objects and after.has_objects:
        ob, oa = _objects(before), _objects(after)
        new = oa.join(ob, on=["id", "class"], how="anti").group_by("class").agg(
            new_count=pl.len().cast(pl.Int64), alloc_size=pl.col("self_size").sum())
        gone = ob.join(oa, on=["id", "class"], how="anti").group_by("class").agg(
            deleted_count=pl.len().cast(pl.Int64), freed_size=pl.col("self_size").sum())
        df = (df.join(new, on="class", how="left").join(gone, on="class", how="left")
              .with_columns(pl.col("new_count", "alloc_size", "deleted_count", "freed_size").fill_null(0)))
    else:
        df = df.with_columns(new_count=pl.lit(None, pl.Int64), deleted_count=pl.lit(None, pl.Int64),
                             alloc_size=pl.lit(None, pl.Int64), freed_size=pl.lit(None, pl.Int64))
    df = df.filter((pl.col("delta_count") != 0) | (pl.col("size_delta") != 0)
                   | (pl.col("new_count").fill_null(0) != 0) | (pl.col("deleted_count").fill_null(0) != 0))
    df = df.with_columns(class_key=pl.col("class"))
    return (df.select(list(COMPARISON_SCHEMA)).cast(COMPARISON_SCHEMA)
            .sort([pl.col("size_delta").abs(), pl.col("class")], descending=[True, False]))


def find_leaks(baseline, target, final) -> pl.DataFrame:
    """class, count, self_size of objects allocated between baseline and target that survive in
    final; largest self_size first. Needs three live heaps (per-object data)."""
    for name, h in (("baseline", baseline), ("target", target), ("final", final)):
        if not h.has_objects:
            raise UsageError(f"find_leaks needs per-object heaps; the {name} ({h.source}) holds totals only")
    ob, ot, of = _objects(baseline), _objects(target), _objects(final)
    leaked = ot.join(ob, on=["id", "class"], how="anti").join(of.select("id", "class"), on=["id", "class"],
                                                              how="semi")
    return (leaked.group_by("class").agg(count=pl.len().cast(pl.Int64), self_size=pl.col("self_size").sum())
            .sort(["self_size", "class"], descending=[True, False]))


def write_hpy(h, path, *, mode: str = "w") -> None:
    """One guppy3 SetFormat package with this heap's totals per kind (largest size first, as
    guppy orders rows), appended when ``mode='a'``."""
    if h.format == "DiffFormat":
        raise UsageError("writing DiffFormat packages is not supported")
    df = _totals(h).group_by("class", maintain_order=True).agg(pl.col("count").sum(), pl.col("self_size").sum())
    df = df.filter(pl.col("count") > 0).sort(["self_size", "class"], descending=[True, False])
    lines = [".loader: _load_stat", ".format: SetFormat", f".timemade: {h.timemade or time.time():f}",
             f".count: {int(df['count'].sum())}", f".size: {int(df['self_size'].sum())}", ".kindname: ",
             f".kindheader: {h.by or 'Kind (class / dict of class)'}", f".numrows: {len(df)}"]
    lines += [f".r: {c} {s} {k}" for k, c, s in df.iter_rows()]
    lines.append(".end: .loader: _load_stat")
    with open(os.fspath(path), mode, encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def _need_objects(*heaps) -> None:
    for h in heaps:
        if not h.has_objects:
            raise UsageError(f"{h.source}: a {h.format} dump holds totals per kind, not objects")


def new_objects(before, after, cls: str) -> pl.DataFrame:
    """Objects of class ``cls`` in ``after`` and not in ``before`` (by address and kind): id, class,
    self_size, largest first. Live heaps only."""
    _need_objects(before, after)
    mine = _objects(after).filter(pl.col("class") == cls)
    old = _objects(before).filter(pl.col("class") == cls)
    return (mine.join(old, on=["id", "class"], how="anti")
            .sort(["self_size", "id"], descending=[True, False]))


def comparison_objects(before, after, class_key: str | None = None, which: str = "new") -> pl.DataFrame:
    """The objects behind Comparison rows, as the V8 side gives them: node_id (the address), class,
    name (= class), self_size, retained_size and distance (null), status, class_key; largest first.
    ``which``: "new" (in ``after`` only), "deleted" (in ``before`` only) or "both"."""
    if which not in ("new", "deleted", "both"):
        raise UsageError(f"which must be 'new', 'deleted' or 'both', not {which!r}")
    _need_objects(before, after)
    ob, oa = _objects(before), _objects(after)
    parts = []
    for side in (("new", "deleted") if which == "both" else (which,)):
        mine, other = (oa, ob) if side == "new" else (ob, oa)
        df = mine.join(other, on=["id", "class"], how="anti")
        if class_key is not None:
            df = df.filter(pl.col("class") == class_key)
        parts.append(df.with_columns(status=pl.lit(side)))
    df = pl.concat(parts)
    return df.select(
        pl.col("id").cast(pl.Int64).alias("node_id"), "class", pl.col("class").alias("name"), "self_size",
        pl.lit(None, pl.Int64).alias("retained_size"), pl.lit(None, pl.Int64).alias("distance"), "status",
        pl.col("class").alias("class_key"),
    ).sort(["self_size", "node_id"], descending=[True, False])
