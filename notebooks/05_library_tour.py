# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. A tour of workbench for new users
#
# workbench turns the files a Node.js post-mortem produces into **polars frames** (`.to_pandas()`
# is one call away), **altair charts** and **widgets**. Three typed doors load them:
#
# | door | files |
# |---|---|
# | `wb.load_snapshot(path)` | `.heapsnapshot`, `.heaptimeline` (gzipped or not) |
# | `wb.load_profile(path)` | `.cpuprofile`, Chrome traces, `node --prof` logs, `.heapprofile`, folded stacks, Clinic Flame |
# | `wb.load_metrics(*paths)` | Prometheus/OpenMetrics scrapes, `memoryUsage` CSV/JSONL, `--trace-gc` logs, Clinic Doctor, diagnostic reports |
#
# `wb.load(path)` sniffs the format. The same analyses are on the command line: `workbench --help`.

# %% tags=["parameters"]
snapshot = "datasets/heap/api_gateway/final.heapsnapshot.gz"
profile = "datasets/profiles/json.cpuprofile"
metrics = "datasets/metrics/gc"

# %%
import polars as pl

import workbench as wb
from workbench.report import find_file, use_offline_charts

use_offline_charts()   # charts and widgets draw without a network
pl.Config.set_fmt_str_lengths(60);

# %% [markdown]
# ## Heap snapshots
# The numbers are DevTools' own: Summary (by class: count, distance, shallow `self_size` and
# `retained_size` in bytes) and Statistics.

# %%
snap = wb.load_snapshot(find_file(snapshot), quiet=True)
snap

# %%
snap.summary().head(8)

# %%
snap.statistics()

# %% [markdown]
# Every object and every reference is a row, so any question is a polars query. Here: the ten
# largest objects by retained size, and what the biggest one holds (its dominator subtree).

# %%
big = snap.nodes.sort("retained_size", descending=True).head(10)
big.select("id", "type", "class", "name", "self_size", "retained_size", "distance")

# %%
snap.retainer_paths(int(big.filter(pl.col("type") == "object")["id"][0]), k=1) \
    .select("step", "edge", "class", "name", "retained_size")

# %%
snap.duplicate_strings(top=5)

# %% [markdown]
# ## CPU profiles
# `hotspots()` is the bottom-up view (self time), `calltree()` the top-down one, `sandwich(f)` the
# callers and callees of one function; `filter(categories=["app"])` keeps your own code.

# %%
prof = wb.load_profile(find_file(profile), quiet=True)
prof.hotspots().select("function", "category", "self_ms", "self_pct", "total_pct").head(8)

# %%
prof.filter(categories=["app"]).hotspots().select("function", "url", "line", "self_ms", "total_ms").head(5)

# %%
prof.flame()

# %% [markdown]
# ## Metrics
# One long table (`source, ts, metric, value, unit, labels, run`), the same quantity from every
# source with `series`, and analyses: leak trend, event-loop delay, GC pauses, Doctor's diagnosis.

# %%
m = wb.load_metrics(find_file(metrics), quiet=True)
m.table.head(5)

# %%
m.gc_pauses().head(5)

# %%
wb.diagnose(m)["category"]

# %%
m.timeline()

# %% [markdown]
# ## Where next
# - `01_api_gateway_memory_leak`: metrics → three snapshots → leaking class → retainer path.
# - `02_cpu_regex_hotspot`: hotspots, flame graph, the regex behind a pinned CPU.
# - `03_event_loop_blocking`: delay metrics, Doctor's diagnosis, the synchronous write.
# - `04_compare_deploys`: a differential flame graph and two heaps side by side.
# - `workbench report NOTEBOOK -p name value -o out.html` re-runs any of them on your files.
