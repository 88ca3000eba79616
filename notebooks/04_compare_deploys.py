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
# # 4. Comparing two deploys
#
# **Question.** Release *after* replaced release *before*: where did the CPU time move, and what
# does its heap hold that the old one did not?
#
# - **CPU**: Brendan Gregg's differential flame graph. Each profile is normalised to its own total,
#   so two recordings of different lengths compare. The *after* graph has the new release's shape,
#   each frame coloured by the change in its self share (red grew, blue shrank, new frames outlined
#   in purple); the *before* graph has the old release's shape, so what the change removed stays
#   visible (gone frames outlined in dark blue), coloured by the change in total share.
# - **Heap**: two deploys are two processes, and V8 object ids are only comparable within one
#   process, so we compare the DevTools **Summary** of each snapshot class by class (count, shallow
#   and retained size). For two snapshots of *one* process, `wb.compare(a, b)` gives DevTools'
#   id-based Comparison instead; the last cell uses it when the snapshots allow.
#
# Defaults: `sync_logging` before and after its fix (buffered log writes), and the final snapshots
# of the healthy service and of the leaking API gateway.

# %% tags=["parameters"]
before_profile = "datasets/profiles/sync_logging.cpuprofile"
after_profile = "datasets/profiles/sync_logging_fast.cpuprofile"
before_snapshot = "datasets/heap/healthy/final.heapsnapshot.gz"
after_snapshot = "datasets/heap/api_gateway/final.heapsnapshot.gz"

# %%
import polars as pl
from IPython.display import Markdown, display, update_display

import workbench as wb
from workbench.report import find_file, use_offline_charts

use_offline_charts()   # charts and widgets draw without a network
pl.Config.set_fmt_str_lengths(70)
# the post-mortem's finding: written here at the top of the report, filled in by the last cell
display(Markdown("**Finding:** _(filled in when the investigation below has run)_"), display_id="finding")

# %% [markdown]
# ## 1. CPU: per function, in percentage points of each profile

# %%
before, after = (wb.load_profile(find_file(p), quiet=True) for p in (before_profile, after_profile))
d = wb.profile_diff(before, after)
d.functions.select("function", "category", "status", "self_pct_before", "self_pct_after", "self_delta_pct").head(12)

# %%
d.flame(shape="after")

# %%
d.flame(shape="before", color_by="total", table=False)

# %%
top = d.functions.sort(pl.col("self_delta_pct").abs(), descending=True).row(0, named=True)
display(Markdown(f"**Largest change:** {wb.md_code(top['function'])} ({top['status']}), self time "
                 f"{top['self_pct_before']:.1f}% → {top['self_pct_after']:.1f}% of the profile."))

# %% [markdown]
# ## 2. Heap: the Summary of each deploy, class by class

# %%
a, b = (wb.load_snapshot(find_file(p), quiet=True) for p in (before_snapshot, after_snapshot))
key = ["class"]
sa = a.summary().group_by(key).agg(pl.col("count").sum(), pl.col("self_size").sum(), pl.col("retained_size").max())
sb = b.summary().group_by(key).agg(pl.col("count").sum(), pl.col("self_size").sum(), pl.col("retained_size").max())
by_class = (sa.join(sb, on=key, how="full", coalesce=True, suffix="_after")
            .fill_null(0)
            .with_columns((pl.col("count_after") - pl.col("count")).alias("count_delta"),
                          (pl.col("self_size_after") - pl.col("self_size")).alias("self_size_delta"))
            .rename({"count": "count_before", "self_size": "self_size_before",
                     "retained_size": "max_retained_before", "retained_size_after": "max_retained_after"})
            .sort("self_size_delta", descending=True))
by_class.select("class", "count_before", "count_after", "count_delta", "self_size_before",
                "self_size_after", "self_size_delta").head(12)

# %%
tot = pl.DataFrame([{"deploy": n, "nodes": s.node_count, "total_bytes": st["total"],
                     "v8_heap_bytes": st["v8heap"]["total"], "native_bytes": st["native"]["total"]}
                    for n, s in (("before", a), ("after", b)) for st in [s.statistics()]])
tot

# %%
grew = by_class.row(0, named=True)
display(Markdown(f"**Class that grew most:** {wb.md_code(grew['class'])}: {grew['count_before']:,} → {grew['count_after']:,} "
                 f"objects, {'+' if grew['self_size_delta'] >= 0 else ''}{wb.human_bytes(grew['self_size_delta'])} shallow."))

# %% [markdown]
# ## 3. One process? Then DevTools' Comparison

# %%
try:
    display(wb.compare(a, b).head(10))
except wb.UsageError as e:
    display(Markdown(f"_Not one process, so no id-based Comparison:_ {wb.md_text(e.message)}"))

# %% [markdown]
# ## 4. The finding (also at the top of the report)

# %%
finding = (f"**What changed.** CPU: the largest change is {wb.md_code(top['function'])} ({top['status']}), "
           f"{top['self_pct_before']:.1f}% → {top['self_pct_after']:.1f}% of the samples. Heap: "
           f"{wb.md_code(grew['class'])} grew most, {grew['count_before']:,} → {grew['count_after']:,} objects "
           f"({'+' if grew['self_size_delta'] >= 0 else ''}{wb.human_bytes(grew['self_size_delta'])} shallow).")
display(Markdown(finding))
update_display(Markdown(finding), display_id="finding")
