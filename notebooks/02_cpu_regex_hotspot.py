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
# # 2. A service at 100% CPU
#
# **Incident.** A signup service pins one core and its latency explodes. We load its CPU profile
# (`node --cpu-prof`, DevTools or the inspector: any format workbench reads), find the **hotspots**
# (self time, bottom-up), look at the **flame graph**, and follow the hottest frame to **the
# application function that calls it**.
#
# The default is `datasets/profiles/regex.cpuprofile`, recorded from
# `datasets/scenarios/cpu_regex.js`: an e-mail validator whose regular expression backtracks
# catastrophically on addresses that almost match.

# %% tags=["parameters"]
profile = "datasets/profiles/regex.cpuprofile"
fixed_profile = "datasets/profiles/regex_fast.cpuprofile"   # the same load after the fix (optional)

# %%
import polars as pl
from IPython.display import Markdown, display, update_display

import workbench as wb
from workbench.report import find_file, use_offline_charts

use_offline_charts()   # charts and widgets draw without a network
pl.Config.set_fmt_str_lengths(70)
# the post-mortem's finding: written here at the top of the report, filled in by the last cell
display(Markdown("**Finding:** _(filled in when the investigation below has run)_"), display_id="finding")

prof = wb.load_profile(find_file(profile), quiet=True)
prof

# %% [markdown]
# ## 1. Hotspots: where the samples land (self time)

# %%
hot = prof.hotspots()
hot.select("function", "category", "url", "line", "self_ms", "self_pct", "total_pct").head(10)

# %% [markdown]
# ## 2. Who calls the hottest frame
# Regular expressions and native calls have no source location of their own; the sandwich view
# of the hottest frame shows which function called it. Among its callers, the first frame of
# our own code (category `app`) is the one to fix.

# %%
culprit = hot.row(0, named=True)
sw = prof.sandwich(culprit["function"])
callers = sw.callers.select("caller", "url", "line", "category", "total_ms", "total_pct")
callers

# %%
app_callers = callers.filter(pl.col("category") == "app")
caller = app_callers.row(0, named=True) if app_callers.height else (callers.row(0, named=True) if callers.height else None)
where = (f" in {wb.md_code(caller['caller'])} ({wb.md_text(caller['url'].rsplit('/', 1)[-1])}:{caller['line']})"
         if caller else "")
display(Markdown(
    f"**The CPU goes to {wb.md_code(culprit['function'])}** ({culprit['category']}): "
    f"{culprit['self_pct']:.1f}% of all samples are spent in it{where}."
    + (" It is a regular expression: check it for nested quantifiers such as `(a+)+`, which backtrack "
       "exponentially on inputs that almost match." if culprit["function"].startswith("RegExp:") else "")))

# %% [markdown]
# ## 3. The flame graph
# Click a frame to zoom into it; the breadcrumbs lead back up, **Reset** returns to the root,
# and **search** highlights matching frames with their share of the view.

# %%
wb.FlameGraph(prof, width=900)   # 900 px fits a JupyterLab output area

# %% [markdown]
# ## 4. The call tree (top-down), the main paths only

# %%
prof.calltree(min_pct=1.0).head(15)

# %% [markdown]
# ## 5. After the fix (only if a second profile was given)
# Gregg's differential flame graph of the fixed profile's shape: each profile normalised to its own
# total; red grew, blue shrank, new frames outlined in purple.

# %%
fixed = find_file(fixed_profile, must_exist=False)
if fixed is not None and fixed.exists():   # the default ships with the checkout, not the wheel
    d = wb.profile_diff(prof, wb.load_profile(fixed, quiet=True))
    display(d.functions.head(10))
    display(d.flame())
else:
    d = None
    display(Markdown("_No second profile given._"))

# %% [markdown]
# ## 6. The finding (also at the top of the report)

# %%
span = prof.duration_ms if hasattr(prof, "duration_ms") else None
parts = [f"**What happened.** The process spends {culprit['self_pct']:.1f}% of its CPU samples"
         + (f" ({wb.human_ms(culprit['self_ms'])} of {wb.human_ms(span)} profiled)" if span else
            f" ({wb.human_ms(culprit['self_ms'])})")
         + f" in {wb.md_code(culprit['function'])}{where}."]
if culprit["function"].startswith("RegExp:"):
    parts.append("**Cause.** A regular expression with nested quantifiers backtracks on inputs that almost match.")
if d is not None:
    gone = d.functions.filter(pl.col("function") == culprit["function"])
    if gone.height:
        g = gone.row(0, named=True)
        parts.append(f"**After the fix** its share is {g['self_pct_after']:.1f}% (was {g['self_pct_before']:.1f}%).")
finding = " ".join(parts)
display(Markdown(finding))
update_display(Markdown(finding), display_id="finding")
