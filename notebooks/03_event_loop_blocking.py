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
# # 3. Event-loop blocking in payment processing
#
# **Incident.** Payments time out under load although the CPU is not saturated by other work.
# We read the **event-loop delay** from the service's metric exports, ask for **Clinic.js Doctor's
# diagnosis** (same rules and thresholds as Doctor), then open a CPU profile of the payment handler
# to find the **synchronous call** that blocks the loop.
#
# Defaults: `datasets/metrics/blocked` (a recording of a service doing 25 ms of synchronous work
# per request: Doctor data, prom-client scrapes, `monitorEventLoopDelay` CSV, `--trace-gc` log) and
# `datasets/profiles/sync_logging.cpuprofile` (`datasets/scenarios/cpu_sync_logging.js`, a payment
# handler that logs every step with `fs.appendFileSync`).

# %% tags=["parameters"]
metrics = "datasets/metrics/blocked"                 # metric files or folders, comma separated
profile = "datasets/profiles/sync_logging.cpuprofile"   # a CPU profile of the service (optional)
threshold_ms = 100.0                                 # a delay above this is a blocked loop

# %%
import polars as pl
from IPython.display import Markdown, display, update_display

import workbench as wb
from workbench.report import as_list, find_file, use_offline_charts

use_offline_charts()   # charts and widgets draw without a network
pl.Config.set_fmt_str_lengths(70)
# the post-mortem's finding: written here at the top of the report, filled in by the last cell
display(Markdown("**Finding:** _(filled in when the investigation below has run)_"), display_id="finding")

m = wb.load_metrics(*as_list(metrics), quiet=True)
m

# %% [markdown]
# ## 1. Event-loop delay, per source
# Percentiles of the loop delay from each export (Doctor's samples, the histogram windows of
# `monitorEventLoopDelay` and of prom-client's `nodejs_eventloop_lag_*`).

# %%
m.event_loop().select("source", "kind", "samples", "p50_ms", "p90_ms", "p99_ms", "max_ms")

# %% [markdown]
# Windows in which the delay stayed above `threshold_ms` (none means the loop was slowed on every
# tick rather than frozen for long stretches):

# %%
m.blocked_windows(threshold_ms=threshold_ms)

# %%
m.timeline()

# %% [markdown]
# ## 2. Doctor's diagnosis
# `category` is Doctor's verdict (`event-loop`, `gc`, `io`, `data` or `none`); `issues` gives the
# verdict of each signal and `evidence` the numbers behind it.

# %%
dx = wb.diagnose(m)
issues = pl.DataFrame([{"signal": k, "verdict": v if isinstance(v, str) else ", ".join(f"{a}: {b}" for a, b in v.items())}
                       for k, v in dx["issues"].items()])
display(Markdown(f"**Doctor's verdict: {wb.md_code(dx['category'])}** (basis: {wb.md_text(dx['basis'])})"))
issues

# %%
pl.DataFrame([{"signal": k, "evidence": ", ".join(f"{a}={b}" for a, b in v.items() if not isinstance(b, (list, dict)))}
              for k, v in dx["evidence"].items() if isinstance(v, dict)])

# %% [markdown]
# ## 3. The synchronous call behind it
# In the CPU profile, a blocked loop shows up as a `*Sync` function (or a long native call) with a
# large total time. We take the heaviest one and walk up its callers to our own code.

# %%
prof_path = find_file(profile, must_exist=False)
culprit = None
if prof_path is not None:
    prof = wb.load_profile(prof_path, quiet=True)
    hot = prof.hotspots()
    sync = hot.filter(pl.col("function").str.ends_with("Sync")).sort("total_ms", descending=True)
    display(hot.select("function", "category", "url", "line", "self_ms", "self_pct", "total_pct").head(8))
    if sync.height:
        culprit = sync.row(0, named=True)
        chain = [culprit["function"]]
        fn = culprit["function"]
        for _ in range(8):   # up the callers until the first frame of the application
            callers = prof.sandwich(fn).callers.sort("total_ms", descending=True)
            if not callers.height:
                break
            top = callers.row(0, named=True)
            chain.append(top["caller"])
            fn = top["caller"]
            if top["category"] == "app":
                app = top
                break
        else:
            app = None
        display(Markdown(
            f"**The loop blocks in {wb.md_code(culprit['function'])}**: {culprit['total_pct']:.1f}% of the profile, "
            f"called as {' ← '.join(wb.md_code(c) for c in chain)}"
            + (f" ({wb.md_text(app['url'].rsplit('/', 1)[-1])}:{app['line']})." if app else ".")
            + " Buffer the writes or use the asynchronous API (`fs.promises.appendFile`, a write stream)."))
    else:
        display(Markdown("_No `*Sync` call in this profile; look at the hotspots above._"))
else:
    display(Markdown("_No CPU profile given._"))

# %% [markdown]
# ## 4. The flame graph around it

# %%
if culprit is not None:
    display(prof.callers(culprit["function"]).flame(title=f"who calls {culprit['function']}"))

# %% [markdown]
# ## 5. The finding (also at the top of the report)

# %%
loop = m.event_loop()
worst = loop.sort("p99_ms", descending=True).row(0, named=True) if loop.height else None
parts = [f"**What happened.** Doctor's verdict is {wb.md_code(dx['category'])}"
         + (f": the event loop's delay reached p99 {wb.human_ms(worst['p99_ms'])} (max {wb.human_ms(worst['max_ms'])}, "
            f"{wb.md_text(str(worst['source']).rsplit('/', 1)[-1])})." if worst else ".")]
if culprit is not None:
    parts.append(f"**Cause.** The loop blocks in {wb.md_code(culprit['function'])}, "
                 f"{culprit['total_pct']:.1f}% of the CPU profile ({wb.human_ms(culprit['total_ms'])}), called as "
                 f"{' ← '.join(wb.md_code(c) for c in chain)}.")
finding = " ".join(parts)
display(Markdown(finding))
update_display(Markdown(finding), display_id="finding")
