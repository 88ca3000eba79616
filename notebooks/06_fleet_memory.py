# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. Fleet memory: which instance leaks?
#
# **Question.** A service runs as many instances, and memory climbs across the fleet. Every instance
# left a heap snapshot, a CPU profile, `process.memoryUsage()` samples and a GC log. Which classes
# hold the memory across the fleet, which instance is the outlier, and what holds its objects?
#
# One machine does not read 500 snapshots in a loop: `workbench.fleet.summarize` reads every file on
# **Dask** workers (one task per file, a local cluster unless a scheduler address is given) and reduces
# each to small tables (the DevTools Summary, hotspots, folded stacks, metric samples, leak trends) in
# a parquet dataset. The fleet questions are then polars over that dataset, and the outlier is opened
# with the single-instance tools.
#
# Defaults: a fleet generated here by `datasets/build_fleet.py` (instances of
# `datasets/scenarios/fleet_service.js` run with the local node; instance `leaking` files every
# `ThumbnailJob` in a Map that is never evicted; the others keep 40 in an LRU). Give `fleet_dir` to
# read collected files instead, and `scheduler` (`tcp://host:8786`) to use a running cluster.

# %% tags=["parameters"]
fleet_dir = ""              # a folder of collected files; "" generates a fleet into a scratch folder
instance_pattern = "{version}/{host}/{pid}"
instances = 5               # generated instances
leaking = 2                 # the generated instance that leaks
run_ms = 2500               # how long each generated instance serves requests
scheduler = ""              # a running dask scheduler's address; "" starts a local cluster
workers = 2                 # workers of the local cluster
dataset = ""                # where the fleet dataset goes; "" a scratch folder
min_ratio = 5               # a suspect class has at least this many times the fleet's median count

# %%
import importlib.util
import tempfile
from pathlib import Path

import polars as pl
from IPython.display import Markdown, display

import workbench as wb
from workbench.report import find_file, use_offline_charts

use_offline_charts()
pl.Config.set_fmt_str_lengths(60);
scratch = Path(tempfile.mkdtemp(prefix="fleet-"))

# %% [markdown]
# ## 1. The fleet

# %%
if fleet_dir:
    root, planted = find_file(fleet_dir), None
else:
    spec = importlib.util.spec_from_file_location("build_fleet", find_file("datasets/build_fleet.py"))
    build_fleet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_fleet)
    root = scratch / "fleet"
    planted = pl.DataFrame(build_fleet.generate(root, instances=instances, leaking=(leaking,), ms=run_ms, jobs=2))
    display(planted.select("instance", "version", "leaking", "planted_ThumbnailJob"))
sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())[:8]

# %% [markdown]
# ## 2. Summarise every file on Dask
# One task per file; a file that cannot be read becomes a row of `files` with its error and the rest
# finish; rerunning on the same dataset adds only new files.

# %%
out = Path(dataset) if dataset else scratch / "fleet.ds"
run = wb.fleet.summarize([str(root / "**" / "*")], out=out, instance=instance_pattern,
                         client=scheduler or None, workers=None if scheduler else workers, quiet=True)
ds = run.dataset
display(Markdown(f"{run.new} files summarised in {run.seconds:.1f} s on "
                 f"{run.cluster.get('workers')} workers; {len(run.errors)} could not be read."))
wb.fleet.instances(ds)

# %% [markdown]
# ## 3. Which classes hold the memory across the fleet?
# One snapshot per instance (its latest); `median_*`/`max_*` are over instances.

# %%
wb.fleet.top_classes(ds, by="retained_size", top=10)

# %% [markdown]
# ## 4. The outlier instances
# For each class, the robust z-score of each instance's value over the fleet (`0.6745 (x − median) /
# MAD`; with MAD 0, the mean absolute deviation scaled by 1.2533). Outliers are above the median with
# z > 3.5, listed by their excess over the median (bytes of shallow size).

# %%
flagged = wb.fleet.outliers(ds, by="self_size")
flagged.head(10)

# %%
# the instance furthest above the fleet (summed excess of its outlying classes), and its classes
# whose count is far above the fleet's
by_instance = wb.fleet.outlier_instances(ds)
suspect = by_instance["instance"][0]
display(by_instance.head(5))
candidates = wb.fleet.outliers(ds, by="count").filter(
    (pl.col("instance") == suspect) & ((pl.col("ratio") >= min_ratio) | pl.col("ratio").is_null()))
display(Markdown(f"**Suspect instance:** {wb.md_code(suspect)}, an outlier in {by_instance['classes'][0]} classes, "
                 f"{by_instance['excess'][0] / 2**20:,.2f} MiB above the fleet's medians; {candidates.height} of "
                 f"them with at least {min_ratio} times the median count."))
candidates

# %% [markdown]
# ## 5. Whose post-GC floor rises?
# Per instance the leak trend of its GC log (heap used after full collections); warm-up makes every
# short run rise a little, so `slope_z` says how far each slope is from the fleet's.

# %%
rising = wb.fleet.rising_floor(ds, all=True)
if rising.height:
    r = rising.row(0, named=True)
    display(Markdown(f"**Steepest floor: {wb.md_code(r['instance'])}**, {r['slope_mb_per_hour']:,.0f} MB/hour "
                     f"(slope z {r['slope_z']:.1f})."))
rising.select("instance", "verdict", "slope_mb_per_hour", "slope_z", "points", "basis")

# %% [markdown]
# ## 6. Open the outlier with the single-instance tools
# Its snapshot: which of the outlying classes hold the others (dominator tree), the fleet's view of
# that class, and the retainer path from a GC root to one of its objects.

# %%
snap_path = wb.fleet.latest_snapshots(ds).filter(pl.col("instance") == suspect)["path"][0]
snap = wb.load_snapshot(snap_path, quiet=True)
holding = wb.fleet.holding_classes(snap, candidates["class"])
leak_class = holding["class"][0]
holding

# %%
by_count = wb.fleet.outliers(ds, by="count", cls=leak_class)
top = by_count.row(0, named=True)
display(Markdown(
    f"**Outlier instance: {wb.md_code(top['instance'])}** — {wb.md_code(leak_class)} count "
    f"**{top['value']:,}**, {top['ratio']:,.1f} times the fleet median of {top['median']:,.0f} "
    f"(robust z {top['robust_z']:.1f}, {top['instances']} instances); its other outlying classes are held by it."))
by_count

# %%
obj = snap.nodes.filter(pl.col("class") == leak_class).sort("distance", descending=True)["id"][0]
path = snap.retainer_paths(int(obj), k=1)
holder = path.filter(pl.col("edge_type").is_in(["context", "property"]) & (pl.col("class") != leak_class))
if holder.height:
    h = holder.row(-1, named=True)
    display(Markdown(f"**Held by:** the {wb.md_code(h['class'])} in {wb.md_text(h['edge_type'])} "
                     f"variable {wb.md_code(h['edge_name'])} of {wb.md_code(Path(snap_path).name)}."))
path.select("step", "edge", "edge_type", "class", "name", "retained_size")

# %% [markdown]
# ## 7. CPU across the fleet, and between the two deploy versions
# Hotspots summed over every profile of each version, then the fleet differential flame graph
# (each version's summed profile normalised to its own total).

# %%
wb.fleet.hotspots(ds, group_by="version", top=5).select("version", "function", "category", "profiles",
                                                         "self_ms", "self_pct")

# %%
d = wb.fleet.flame_diff(ds, "version", "v1", "v2")
change = d.functions.sort(pl.col("self_delta_pct").abs(), descending=True).filter(pl.col("category") == "app")
if change.height:
    c = change.row(0, named=True)
    display(Markdown(f"**Largest change in app code from v1 to v2:** {wb.md_code(c['function'])} ({c['status']}), "
                     f"self {c['self_pct_before']:.1f}% → {c['self_pct_after']:.1f}%."))
d.flame()
