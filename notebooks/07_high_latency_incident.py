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
# # 7. Diagnosing high latency: an API gateway, end to end
#
# **The page.** P99 latency of the API gateway jumped, the error rate rose, memory grows and the
# event loop lags, while the request rate is normal (the mock incident "Diagnosing High Latency" of
# the production-incident guide). We walk the guide's playbook through all three pillars:
# **assess** (traces: which routes, how slow, how many errors), **gather** (one timeline of
# latency, errors, heap, GC pauses, event-loop delay and error logs), **localise** (the slow
# requests' critical paths and what they logged), **hypothesise** (did p99 change when the heap
# floor and the GC pauses rose?) and **root cause** (three heap snapshots: the class that leaks and
# what holds it).
#
# The defaults are the bundled recording `datasets/incident` (`datasets/scenarios/incident/`: a
# gateway and its users-service instrumented with the OpenTelemetry JS SDK and pino, under load).
# Point the parameters at your own service's files to investigate it.

# %% tags=["parameters"]
traces = "datasets/incident/traces.otlp.jsonl.gz"      # OTLP/JSON, Jaeger or Zipkin files, comma separated
logs = "datasets/incident/gateway.log.gz,datasets/incident/gateway.stderr.log,datasets/incident/users-service.log"
metrics = "datasets/incident"                          # metric files or folders (GC log, memoryUsage, event loop)
baseline = "datasets/incident/baseline.heapsnapshot.gz"
target = "datasets/incident/target.heapsnapshot.gz"
final = "datasets/incident/final.heapsnapshot.gz"
phases = "datasets/incident/phases.json"               # snapshot times (optional)
profile = "datasets/incident/gateway.cpuprofile.gz"    # a CPU profile of the incident (optional)
service = "api-gateway"                                # the service that paged
every = "5s"                                           # the timeline's bucket

# %%
import datetime as dt
import json

import polars as pl
from IPython.display import Markdown, display, update_display

import workbench as wb
from workbench.report import as_list, find_file, use_offline_charts

use_offline_charts()
pl.Config.set_tbl_rows(15)
pl.Config.set_fmt_str_lengths(80)
hms = lambda t: t.strftime("%H:%M:%S")  # noqa: E731
# the post-mortem's finding: written here at the top, filled in by the last cell once it is known
display(Markdown("**Finding:** _(filled in when the investigation below has run)_"), display_id="finding")

# %% [markdown]
# ## 1. Assess: which routes, how slow, how many errors
# One row per route of the paging service (server spans): requests, errors (span status error or
# HTTP status ≥ 500: a server's 4xx is the client's fault), and p50/p90/p99 in ms.

# %%
tr = wb.load_traces(*as_list(traces), quiet=True)
lg = wb.load_logs(*as_list(logs), quiet=True)
m = wb.load_metrics(*as_list(metrics), quiet=True)
routes = tr.by_route(service=service)
routes

# %% [markdown]
# ## 2. Gather: everything on one time axis
# Latency percentiles and error rate from the traces, the heap and its post-GC floor, GC pause
# time and event-loop delay from the metrics, error records from the logs; dashed rules mark the heap
# snapshots, the red rule the change point of p99. Drag on the top panel to zoom every panel; the
# brush's value narrows the models (`tr.window(...)`, `m.window(...)`, `lg.window(...)`).

# %%
snapshot_times = {}
if find_file(phases, must_exist=False) is not None:
    ph = json.loads(find_file(phases).read_text())
    snapshot_times = {k: dt.datetime.fromtimestamp(v["start"] / 1000, dt.timezone.utc)
                      for k, v in ph.get("snapshots", {}).items()}
grid = wb.incident_grid(m, tr, lg, every=every)
wb.incident_timeline(m, tr, lg, snapshots=snapshot_times, every=every)

# %% [markdown]
# What the logs say: records per level (all files), and the errors grouped by message template
# (Drain, via drain3: numbers, ids and addresses masked, so one template per kind of failure).

# %%
display(lg.levels())
templates = lg.templates()
templates.select("template", "records", "first_ts", "last_ts", "levels")

# %% [markdown]
# ## 3. Hypothesise: did latency change when the heap floor and the GC pauses rose?
# Change points of each signal (PELT with an L1 cost on log values, `workbench.traces.changes`),
# the window in which the heap's post-GC floor and the GC pause time first rose, and the
# correlation of p99 with every other signal per bucket.

# %%
changes = wb.incident_changes(grid)
window = wb.incident_window(changes)
p99 = changes.filter(pl.col("signal") == "latency_p99_ms").sort("ts")
display(changes)
display(wb.correlate(m, tr, lg, every=every))

# %%
if len(p99) and window is not None:
    cp = p99.row(0, named=True)
    inside = window[0] <= cp["ts"] <= window[1]
    display(Markdown(
        f"**p99 latency changed at {hms(cp['ts'])}** (from {cp['before']:,.0f} ms to {cp['after']:,.0f} ms, "
        f"×{cp['ratio']:,.1f}). The heap's post-GC floor and the GC pause time rose between "
        f"**{hms(window[0])} and {hms(window[1])}**: the p99 change point falls "
        + ("**within** that window." if inside else "**outside** that window.")
        + "".join(f" Then at {hms(r['ts'])} it went from {r['before']:,.0f} ms to {r['after']:,.0f} ms (×{r['ratio']:,.1f})."
                  for r in p99.slice(1).iter_rows(named=True))))
else:
    display(Markdown("_No change point of p99, or the heap floor and GC pauses did not rise._"))

# %% [markdown]
# ## 4. Localise: where did the slow requests spend their time?
# p99 per route before and after the change, the slowest requests with the span where most of their
# critical path went, and the critical path of the slowest one (Jaeger's method: self time on the
# path, span by span).

# %%
if len(p99):
    t_change = p99["ts"][0]
    before = tr.window(tr.spans["start"].min(), t_change).by_route(service=service).select("route", "requests", "p99_ms")
    after = tr.window(t_change, tr.spans["end"].max()).by_route(service=service).select("route", "requests", "errors", "p99_ms")
    display(before.join(after, on="route", suffix="_after").sort("p99_ms_after", descending=True))
slow = tr.slowest(n=8)
slow.select("route", "start", "duration_ms", "http_status", "spans", "critical_span", "critical_ms")

# %%
tr.critical_path(slow["trace_id"][0])

# %% [markdown]
# What the slowest requests logged, joined by trace id (every record written inside a span carries
# its `trace_id`): the timeouts waiting for users-service are the gateway's own event loop being
# late, not the downstream (its server spans stay fast).

# %%
joined = wb.join_logs_traces(lg, tr)
display(Markdown(f"{joined['joined'].sum():,} of {len(joined):,} log records with a trace id join to their span."))
joined.filter(pl.col("severity") >= 50).select("ts", "msg", "err_type", "err_message", "request_route",
                                               "request_duration_ms").head(8)

# %% [markdown]
# ## 5. Root cause: what grows in the heap?
# Three snapshots (before the incident, during it, at its end): memlab's method keeps the objects
# allocated between *baseline* and *target* that are still alive in *final* and ranks their groups by
# retained size.

# %%
snaps = [wb.load_snapshot(find_file(p), quiet=True) for p in (baseline, target, final)]
leaks = wb.find_leaks(*snaps, quiet=True)
leaks.suspects.select("class", "count", "retained_size", "status", "kind", "holder").head(6)

# %%
if leaks.suspects.height:
    top = leaks.suspects.row(0, named=True)
    leak_class, holder = top["class"], top["holder"]
    thumbs = routes.filter(pl.col("route").str.contains("thumbnail", literal=True))
    slowed = after.filter(~pl.col("route").str.contains("thumbnail", literal=True)) if len(p99) else None
    lines = [f"**Leaking class: {wb.md_code(leak_class)}** — {top['count']:,} objects new in *target* and alive in "
             f"*final*, retaining **{top['retained_size'] / 2**20:,.1f} MiB**.",
             f"**Held by:** {wb.md_code(holder)}.",
             f"**In Node's terms** ({wb.md_text(top['kind'])}): {wb.md_text(top['explanation'])}."]
    if slowed is not None and len(slowed):
        worst = slowed.sort("p99_ms", descending=True).row(0, named=True)
        lines.append(f"**The requests it slowed:** every route waits behind it; {wb.md_code(worst['route'])} went to "
                     f"a p99 of {worst['p99_ms']:,.0f} ms with {worst['errors']:,} errors after the change point.")
    display(Markdown("\n\n".join(lines)))
else:
    leak_class = holder = None
    display(Markdown("**No leak found** in the snapshots."))

# %% [markdown]
# ## 6. What the gateway's CPU did (if a profile was given)

# %%
if find_file(profile, must_exist=False) is not None:
    prof = wb.load_profile(find_file(profile), quiet=True)
    display(prof.hotspots().select("function", "url", "category", "self_ms", "self_pct").head(8))
else:
    display(Markdown("_No CPU profile given._"))

# %% [markdown]
# ## 7. The finding (also at the top of the report)

# %%
parts = ["**What happened.**"]
if len(p99) and window is not None:
    cp = p99.row(0, named=True)
    worst = p99.sort("after", descending=True).row(0, named=True)
    parts.append(f"From {hms(cp['ts'])} the gateway's p99 latency rose from {cp['before']:,.0f} ms to "
                 f"{worst['after']:,.0f} ms and its error rate to "
                 f"{changes.filter(pl.col('signal') == 'error_rate')['after'].max() or 0:.1%}.")
    by_service = tr.window(cp["ts"], tr.spans["end"].max()).by_route(by="service")
    others = by_service.filter(pl.col("service") != service)
    if len(others):
        o = others.row(0, named=True)
        parts.append(f"Downstream, {wb.md_code(o['service'])}'s own server spans kept a p99 of {o['p99_ms']:,.0f} ms "
                     "in that time: the gateway itself is slow.")
    parts.append(f"**Evidence.** p99 changed {'within' if window[0] <= cp['ts'] <= window[1] else 'outside'} "
                 f"the window in which the heap's post-GC floor and the GC pause time rose "
                 f"({hms(window[0])}–{hms(window[1])}); p99 follows the event-loop delay and the GC pauses "
                 f"bucket by bucket (table in step 3).")
if leak_class:
    parts.append(f"**Cause.** {wb.md_code(leak_class)} objects accumulate, held by {wb.md_code(holder)}; "
                 f"every request of every route waits behind the work and the garbage collections they cause.")
finding = " ".join(parts)
display(Markdown(finding))
update_display(Markdown(finding), display_id="finding")

