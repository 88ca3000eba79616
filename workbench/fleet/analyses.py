"""Fleet analyses over a fleet dataset (``workbench.fleet.open_dataset``): top classes, outlier
instances per class, fleet hotspots, fleet flame graphs and their difference between two groups,
instances whose post-GC floor rises. Plain polars over the reduced tables (a few rows per class,
function or stack per file), which fit in memory for thousands of files.

Heap questions use one snapshot per instance: its latest (by ``taken_at``, then path), since a fleet
question is about the state instances are in; classes of the same name (DevTools keeps classes of
one name from different scripts apart) are added up per instance. An instance where a class is absent
counts 0 for it.

Outliers: for each class, the values of all instances (count, self_size or retained_size), their
median and MAD (median absolute deviation). An instance's robust z-score is ``0.6745 (x - median) /
MAD`` (Iglewicz and Hoaglin's modified z-score); when MAD is 0 (more than half the instances have the
same value) the scale is ``1.253314 x`` the mean absolute deviation instead (IBM's rule); when that is
0 too every instance is at the median and z is 0. An outlier is above the median with z above the
threshold (default 3.5, Iglewicz and Hoaglin's). Outliers are listed by their excess over the median.
"""
from __future__ import annotations

import os
import tempfile

import polars as pl

from ..errors import UsageError
from .store import FleetDataset, open_dataset

MEASURES = ("count", "self_size", "retained_size")
Z_THRESHOLD = 3.5
GC_BASIS = "heap used after full GCs"


def _ds(ds) -> FleetDataset:
    return open_dataset(ds)


def field_expr(files: pl.DataFrame, name: str) -> pl.Expr:
    """A column of ``files`` (kind, format, instance, node_version, ...) or a field of the instance
    pattern (``{version}`` -> "version")."""
    if name in files.columns and name != "fields":
        return pl.col(name).cast(pl.String)
    return pl.col("fields").str.json_path_match(f"$.{name}")


def with_field(ds, df: pl.DataFrame, name: str) -> pl.DataFrame:
    """``df`` (rows keyed by sha256) with the file's ``name`` (see ``field_expr``) as a column."""
    files = _ds(ds).files
    f = files.select("sha256", field_expr(files, name).alias(name)).unique("sha256")
    if f[name].is_null().all():
        raise UsageError(f"no file has a field {name!r}: use a column of files "
                         f"({', '.join(c for c in files.columns if c != 'fields')}) or a {{field}} of --instance")
    return df.drop(name, strict=False).join(f, on="sha256", how="left")


def latest_snapshots(ds) -> pl.DataFrame:
    """The files rows of each instance's latest heap snapshot that was read."""
    f = _ds(ds).files.filter((pl.col("kind") == "heap") & pl.col("error").is_null())
    return f.sort("taken_at", "path").group_by("instance", maintain_order=True).last()


def class_grid(ds, by: str) -> pl.DataFrame:
    """(instance, class, count, self_size, retained_size) for every heap instance x class, zeros where
    a class is absent; from each instance's latest snapshot."""
    if by not in MEASURES:
        raise UsageError(f"by must be one of {', '.join(MEASURES)}, not {by!r}")
    d = _ds(ds)
    snaps = latest_snapshots(d)
    c = d.classes.filter(pl.col("sha256").is_in(snaps["sha256"].implode()))
    per = c.group_by("instance", "class").agg(pl.col(m).sum() for m in MEASURES)
    grid = snaps.select("instance").join(per.select("class").unique(), how="cross")
    return grid.join(per, on=["instance", "class"], how="left").fill_null(0)


def top_classes(ds, *, by: str = "retained_size", top: int | None = 25) -> pl.DataFrame:
    """Classes by their total over the fleet: instances present (count > 0), the totals of count,
    self_size and retained_size, and per instance of ``by`` the median, the max and the instance of
    the max. One snapshot per instance (its latest)."""
    g = class_grid(ds, by)
    out = (g.group_by("class").agg(
        (pl.col("count") > 0).sum().alias("instances"),
        pl.len().alias("of_instances"),
        pl.col("count").sum().alias("total_count"),
        pl.col("self_size").sum().alias("total_self_size"),
        pl.col("retained_size").sum().alias("total_retained_size"),
        pl.col(by).median().alias(f"median_{by}"),
        pl.col(by).max().alias(f"max_{by}"),
        pl.col("instance").sort_by(by).last().alias("max_instance"))
        .sort(f"total_{by}", "class", descending=[True, False]))
    return out.head(top) if top else out


def robust_z(g: pl.DataFrame, by: str) -> pl.DataFrame:
    """``g`` (instance, class, by) with median, mad and robust_z per class (the rule of the module doc)."""
    x = pl.col(by).cast(pl.Float64)
    med = x.median().over("class")
    dev = (x - med).abs()
    mad = dev.median().over("class")
    mean_ad = dev.mean().over("class")
    scale = pl.when(mad > 0).then(mad / 0.6745).when(mean_ad > 0).then(1.253314 * mean_ad).otherwise(None)
    return g.with_columns(med.alias("median"), mad.alias("mad"),
                          pl.when(scale.is_null()).then(0.0).otherwise((x - med) / scale).alias("robust_z"))


def outliers(ds, *, by: str = "self_size", threshold: float = Z_THRESHOLD, cls: str | None = None,
             top: int | None = None, min_instances: int = 3) -> pl.DataFrame:
    """Outlier instances per class (robust z-score over instances; the rule is in the module doc):
    class, instance, value (of ``by``), median, ratio (value / median), robust_z, excess (value -
    median), instances. Rows with z above ``threshold`` and above the median, by excess; with
    ``cls``, every instance of that class by z (the first is its top outlier, flagged or not)."""
    g = class_grid(ds, by)
    n = g["instance"].n_unique()
    if n < min_instances:
        raise UsageError(f"outliers need at least {min_instances} instances with a heap snapshot; this fleet has {n}")
    z = robust_z(g.select("instance", "class", by), by)
    z = z.with_columns(pl.col(by).alias("value"),
                       pl.when(pl.col("median") > 0).then(pl.col(by) / pl.col("median")).otherwise(None).alias("ratio"),
                       (pl.col(by) - pl.col("median")).alias("excess"),
                       pl.lit(n).alias("instances"),
                       ((pl.col("robust_z") > threshold) & (pl.col(by) > pl.col("median"))).alias("outlier"))
    cols = ["class", "instance", "value", "median", "ratio", "robust_z", "excess", "instances", "outlier"]
    if cls is not None:
        z = z.filter(pl.col("class") == cls)
        if not len(z):
            raise UsageError(f"no class {cls!r} in the fleet's snapshots")
        out = z.sort(["robust_z", "instance"], descending=[True, False]).select(cols)
    else:
        out = z.filter(pl.col("outlier")).sort(["excess", "class", "instance"],
                                               descending=[True, False, False]).select(cols)
    return out.head(top) if top else out


def outlier_instances(ds, *, by: str = "self_size", threshold: float = Z_THRESHOLD) -> pl.DataFrame:
    """Instances by how far their outlying classes are above the fleet: per instance the classes
    where it is an outlier (``outliers``), their summed excess over the median (bytes for self_size
    and retained_size), and the class of the largest excess; the instance with the largest excess
    first. (Counting flagged classes instead would favour any instance with a few extra small
    objects of many shapes.)"""
    z = outliers(ds, by=by, threshold=threshold)
    return (z.sort("excess", descending=True)
            .group_by("instance", maintain_order=True)
            .agg(pl.len().alias("classes"), pl.col("excess").sum().alias("excess"),
                 pl.col("class").first().alias("top_class"), pl.col("excess").first().alias("top_class_excess"))
            .sort(["excess", "instance"], descending=[True, False]))


def holding_classes(snap, classes, *, depth: int = 12) -> pl.DataFrame:
    """Which of ``classes`` (say, an outlier instance's outlying classes) hold the others, in one
    snapshot: per class its objects and the share of them dominated (within ``depth`` dominator
    steps) by an object of another of the classes. The class held by none of the others is where
    the excess hangs from: a leak's own class, not the parts its objects own."""
    classes = list(dict.fromkeys(classes))
    if not classes:
        raise UsageError("no classes given")
    nodes = snap.nodes.select("id", "class", "dominator_id")
    cand = pl.Series(classes, dtype=pl.String).implode()
    cur = (nodes.filter(pl.col("class").is_in(cand))
           .select("id", "class", pl.col("dominator_id").alias("anc"), pl.lit(False).alias("held")))
    up = nodes.select(pl.col("id").alias("anc"), pl.col("class").alias("anc_class"),
                      pl.col("dominator_id").alias("next"))
    for _ in range(depth):
        cur = cur.join(up, on="anc", how="left").with_columns(
            (pl.col("held") | (pl.col("anc_class").is_in(cand) & (pl.col("anc_class") != pl.col("class"))))
            .fill_null(pl.col("held")).alias("held"),
            pl.when(pl.col("next") == pl.col("anc")).then(None).otherwise(pl.col("next")).alias("anc"),
        ).drop("anc_class", "next")
    return (cur.group_by("class").agg(pl.len().alias("objects"), pl.col("held").mean().alias("held_by_others"))
            .sort(["held_by_others", "objects"], descending=[False, True]))


def hotspots(ds, *, group_by: str | None = None, top: int | None = None, kind: str = "cpu") -> pl.DataFrame:
    """Functions over every profile of ``kind`` ("cpu"; "alloc" for heap profiles), summed: profiles
    and instances they appear in, self/total samples, self/total ms (bytes for alloc), self_pct of
    the group's total. With ``group_by`` (a files column or an --instance field) one ranking per group."""
    d = _ds(ds)
    hs = d.hotspots.filter(pl.col("profile_kind") == kind)
    if not len(hs):
        raise UsageError(f"no {kind} profiles in this fleet dataset")
    sv, tv = ("self_ms", "total_ms") if kind == "cpu" else ("self_size", "total_size")
    keys = ["function", "url", "line", "column", "category"]
    if group_by:
        hs = with_field(d, hs, group_by)
        keys = [group_by] + keys
    out = hs.group_by(keys).agg(pl.col("sha256").n_unique().alias("profiles"),
                                pl.col("instance").n_unique().alias("instances"),
                                pl.col("self_samples").sum(), pl.col("total_samples").sum(),
                                pl.col(sv).sum(), pl.col(tv).sum())
    whole = pl.col(sv).sum().over(group_by) if group_by else pl.col(sv).sum()
    out = out.with_columns((100 * pl.col(sv) / whole).alias("self_pct"))
    order = ([group_by] if group_by else []) + [sv, "function", "url", "line"]
    out = out.sort(order, descending=[False] * bool(group_by) + [True, False, False, False], nulls_last=True)
    if top:
        out = out.group_by(group_by, maintain_order=True).head(top) if group_by else out.head(top)
    return out


def fleet_stacks(ds, *, where: dict | None = None, kind: str = "cpu") -> pl.DataFrame:
    """Folded stacks summed over the fleet's profiles of ``kind`` (stack, samples, value, profiles),
    only of files whose fields match ``where`` ({field: value})."""
    d = _ds(ds)
    st = d.stacks.filter(pl.col("profile_kind") == kind)
    for k, v in (where or {}).items():
        st = with_field(d, st, k).filter(pl.col(k) == str(v))
    if not len(st):
        raise UsageError(f"no {kind} profile matches {where or 'the fleet'}")
    return (st.group_by("stack").agg(pl.col("samples").sum(), pl.col("value").sum(),
                                     pl.col("sha256").n_unique().alias("profiles"))
            .sort("samples", "stack", descending=[True, False]))


def flame(ds, *, where: dict | None = None, kind: str = "cpu"):
    """The fleet flame graph: a Profile of the summed folded stacks (``p.flame()`` draws it,
    ``p.hotspots()`` ranks it). A sample weighs the fleet's mean interval (summed ms / samples)."""
    from ..io import load_profile
    st = fleet_stacks(ds, where=where, kind=kind).filter(pl.col("samples") > 0)
    interval = float(st["value"].sum() / st["samples"].sum()) if kind == "cpu" else 1.0
    fd, tmp = tempfile.mkstemp(suffix=".folded")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for s, n in zip(st["stack"].to_list(), st["samples"].to_list()):
                fh.write(f"{s} {n}\n")
        p = load_profile(tmp, format="folded", quiet=True, kind=kind, interval_ms=interval)
    finally:
        os.unlink(tmp)
    label = "fleet" + ("" if not where else " " + ", ".join(f"{k}={v}" for k, v in where.items()))
    return p.derive(source=label, path=None, meta={**p.meta, "profiles": int(st["profiles"].max() or 0),
                                                   "where": dict(where or {})})


def flame_diff(ds, field: str, a: str, b: str, *, kind: str = "cpu"):
    """The fleet differential flame graph from group ``field=a`` to ``field=b`` (each group's
    summed profile normalised to its own total): a ``ProfileDiff`` (``.flame()``, ``.functions``)."""
    from ..profile.diff import diff
    return diff(flame(ds, where={field: a}, kind=kind), flame(ds, where={field: b}, kind=kind))


def rising_floor(ds, *, all: bool = False) -> pl.DataFrame:  # noqa: A002 - the CLI's --all
    """Instances whose post-GC floor rises (leak trend verdict ``growth``), steepest first. Per instance
    the trend of its best evidence: a GC log's heap after full GCs before window minima of samples,
    then the fit with the most points. ``slope_z`` is the robust z-score of the instance's slope among
    the fleet's (warm-up makes every short run rise a little; a leak rises far more than the others).
    ``all=True`` lists every instance with its verdict."""
    t = _ds(ds).trends
    if not len(t):
        raise UsageError("no leak trends in this fleet dataset (no metric exports with heap samples or GC logs)")
    best = (t.with_columns(pl.col("basis").str.starts_with(GC_BASIS).alias("_gc"))
            .sort(["instance", "_gc", "points", "file"], descending=[False, True, True, False])
            .group_by("instance", maintain_order=True).first().drop("_gc"))
    # how far each instance's slope is from the fleet's (the robust z-score of the module doc)
    best = robust_z(best.with_columns(pl.lit("slope").alias("class"),
                                      pl.col("slope_mb_per_hour").fill_nan(None).alias("slope")), "slope")
    best = best.rename({"robust_z": "slope_z"}).drop("class", "slope", "median", "mad")
    if not all:
        best = best.filter(pl.col("verdict") == "growth")
    return best.sort("slope_mb_per_hour", descending=True, nulls_last=True).select(
        "instance", "verdict", "slope_mb_per_hour", "slope_z", "slope_ci_low", "slope_ci_high", "baseline_start_mb",
        "baseline_end_mb", "span_s", "points", "basis", "file")


def instances(ds) -> pl.DataFrame:
    """One row per instance: files of each kind, errors, first and last taken_at."""
    f = _ds(ds).files
    return (f.group_by("instance").agg(
        pl.len().alias("files"),
        (pl.col("kind") == "heap").sum().alias("snapshots"),
        (pl.col("kind") == "profile").sum().alias("profiles"),
        (pl.col("kind") == "metrics").sum().alias("metric_exports"),
        pl.col("error").is_not_null().sum().alias("errors"),
        pl.col("taken_at").min().alias("first"), pl.col("taken_at").max().alias("last"))
        .sort("instance"))


