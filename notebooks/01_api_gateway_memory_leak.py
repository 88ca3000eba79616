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
# # 1. An API gateway whose memory climbs in a sawtooth
#
# **Incident.** The gateway's heap goes up and down with every garbage collection, but each trough
# is higher than the last. We follow it from the **metrics** (is the floor rising, and how fast?),
# to **three heap snapshots** (memlab's method: objects allocated between *baseline* and *target*
# that are still alive in *final*), to the **class** that leaks and the **retainer path** that
# holds it.
#
# The defaults are the bundled recordings (`datasets/metrics/leak`, the real
# `datasets/scenarios/heap_api_gateway.js` service). To investigate your own service, change the
# cell below, or run `workbench report notebooks/01_api_gateway_memory_leak.ipynb -p baseline
# a.heapsnapshot -p target b.heapsnapshot -p final c.heapsnapshot -o report.html`.

# %% tags=["parameters"]
baseline = "datasets/heap/api_gateway/baseline.heapsnapshot.gz"
target = "datasets/heap/api_gateway/target.heapsnapshot.gz"
final = "datasets/heap/api_gateway/final.heapsnapshot.gz"
metrics = "datasets/metrics/leak"   # metric files or folders, comma separated (empty: none)
profile = ""                        # a CPU profile taken during the incident (optional)

# %%
import polars as pl
from IPython.display import Markdown, display, update_display

import workbench as wb
from workbench.report import as_list, find_file, use_offline_charts

use_offline_charts()   # charts and widgets draw without a network
pl.Config.set_tbl_rows(20)
pl.Config.set_fmt_str_lengths(90)
# the post-mortem's finding: written here at the top of the report, filled in by the last cell
display(Markdown("**Finding:** _(filled in when the investigation below has run)_"), display_id="finding")

# %% [markdown]
# ## 1. The metrics: is the post-GC floor rising?
# `leak_trend` fits a line through the heap's minima after full GCs (the floor of the sawtooth),
# with a confidence interval on the slope; `verdict` says growth, plateau or sawtooth.

# %%
metric_files = as_list(metrics)
if metric_files:
    m = wb.load_metrics(*metric_files, quiet=True)
    trend = m.leak_trend()
    display(trend)
    display(m.timeline())
else:
    trend = None
    display(Markdown("_No metrics given: skipping this step._"))

# %% [markdown]
# ## 2. Three snapshots
# DevTools' Statistics of each snapshot: where the bytes are (V8 heap vs native memory such as
# `Buffer` contents).

# %%
snaps = {name: wb.load_snapshot(find_file(path), quiet=True)
         for name, path in (("baseline", baseline), ("target", target), ("final", final))}
stats = pl.DataFrame([{"snapshot": name, "nodes": s.node_count, "total_bytes": st["total"],
                       "v8_heap_bytes": st["v8heap"]["total"], "native_bytes": st["native"]["total"],
                       "typed_array_bytes": st["native"]["typed_arrays"]}
                      for name, s in snaps.items() for st in [s.statistics()]])
stats

# %% [markdown]
# ## 3. What leaks: objects new in *target* and still alive in *final*
# `find_leaks` keeps those objects, groups them by their retainer trace and allocation site and ranks
# the groups by retained size. `holder` is the object the group hangs from; `status` says whether the
# group still gains members in the last window (`growing`) or stopped (`plateau`: a warm-up, not a
# leak); `kind` and `explanation` say which Node leak it is (timer, listener, map, list, promise,
# stream, closure, array) with the evidence from the heap. Pass four or more snapshots to check the
# growth in every window.

# %%
leaks = wb.find_leaks(snaps["baseline"], snaps["target"], snaps["final"], quiet=True)
suspects = leaks.suspects.select("class", "count", "retained_size", "status", "kind", "serious", "holder")
suspects.head(10)

# %%
if leaks.suspects.height:
    top = leaks.suspects.row(0, named=True)
    leak_class, holder = top["class"], top["holder"]
    retains = ", ".join(wb.md_text(r["class"] if isinstance(r, dict) else r) for r in (top["retains"] or [])[:4])
    slope = ""
    if trend is not None and trend.height and "slope_mb_per_hour" in trend.columns:
        slope = f" The heap floor rises by **{trend['slope_mb_per_hour'][0]:,.0f} MB/hour** in the metrics."
    # names come from the heap (the service's own data): wb.md_code/md_text keep them text
    display(Markdown(
        f"**Leaking class: {wb.md_code(leak_class)}** — {top['count']:,} objects new in *target* and alive in *final*, "
        f"retaining **{wb.human_bytes(top['retained_size'])}**" + (f" (with {retains})" if retains else "")
        + f".\n\n**Held by:** {wb.md_code(holder)}.\n\n**In Node's terms** ({wb.md_text(top['kind'])}): "
        + wb.md_text(top["explanation"]) + "." + slope))
else:
    leak_class = holder = None
    display(Markdown("**No leak found**: nothing allocated between baseline and target survives into final."))

# %% [markdown]
# ## 4. The retainer path of one leaked object
# From a GC root to a representative object of the group (the `leaked` column marks objects
# allocated in the leak window).

# %%
path = leaks.path(0).select("step", "edge", "class", "name", "node_id", "retained_size", "leaked") \
    if leaks.suspects.height else None
path

# %% [markdown]
# ## 5. Explore: the Comparison view and the Retainers panel
# `SnapshotComparison` is DevTools' Comparison (*target* against *baseline*), filtered to the
# leaking class: pick a class, then one of its new objects to see its retainer paths.
# `RetainerExplorer` opens the representative object's retainers in *final*; expand a row to go
# one level up. (In an HTML report there is no kernel: the widgets show the state they were left
# in, and step 4 above holds the retainer path.)

# %%
comparison = wb.SnapshotComparison(snaps["baseline"], snaps["target"])
if leak_class:
    # pre-selected on the finding, so a static report shows the class, its objects and a path
    comparison.filter(leak_class)
    objs = comparison.select_class(leak_class)
    rep = int(top["representative_id"])
    if objs.height:
        comparison.select_object(rep if rep in objs["node_id"].to_list() else int(objs["node_id"][0]))
comparison

# %%
wb.RetainerExplorer(snaps["final"], leaks.suspects["representative_id"][0]) if leaks.suspects.height else None

# %% [markdown]
# ## 6. Growth by class (DevTools' Comparison, largest size delta first)

# %%
wb.compare(snaps["baseline"], snaps["target"]).select(
    "class", "new_count", "deleted_count", "delta_count", "size_delta").head(10)

# %% [markdown]
# ## 7. What the process was doing (only if a CPU profile was given)

# %%
if find_file(profile, must_exist=False) is not None:
    prof = wb.load_profile(find_file(profile), quiet=True)
    display(prof.hotspots().select("function", "url", "category", "self_ms", "self_pct").head(10))
    display(prof.flame())
else:
    display(Markdown("_No CPU profile given._"))

# %% [markdown]
# ## 8. The finding (also at the top of the report)

# %%
if leak_class:
    growth = "still growing" if top["status"] == "growing" else "no longer growing (a plateau)"
    parts = [f"**What happened.** The heap grows: {top['count']:,} {wb.md_code(leak_class)} objects allocated between "
             f"*baseline* and *target* are still alive in *final*, retaining {wb.human_bytes(top['retained_size'])} "
             f"({growth})."]
    if slope:
        parts.append(f"**Evidence.** {slope.strip()}")
    parts.append(f"**Cause.** {wb.md_text(top['explanation'])}; held by {wb.md_code(holder)}.")
    finding = " ".join(parts)
else:
    finding = "**What happened.** No object allocated between *baseline* and *target* survives into *final*: no leak."
display(Markdown(finding))
update_display(Markdown(finding), display_id="finding")
