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
# # Live capture: a leaking Node service, three snapshots and a CPU profile
#
# We start a real Node service as a child process (`datasets/scenarios/capture_leaky_service.js`:
# an HTTP login service that keeps every `Session` in a module-level `Map` and drives its own
# traffic), attach to it over the V8 inspector protocol by **pid** (SIGUSR1 opens its inspector, as
# `node --inspect` would), and capture what a post-mortem needs: baseline/target/final heap
# snapshots for the leak method, a CPU profile and a few metric samples. The files land in
# `out_dir` and go straight into the usual analyses.

# %% tags=["parameters"]
load_every_ms = 2        # the service sends itself one request every N ms
interval_s = 2.0         # time between the three snapshots
cpu_seconds = 2.0        # length of the CPU profile
out_dir = ""               # "" = a fresh temporary directory

# %%
import json
import subprocess
import tempfile
from pathlib import Path

import polars as pl

import workbench as wb

root = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "datasets" / "scenarios").is_dir())
scenario = root / "datasets" / "scenarios" / "capture_leaky_service.js"
out = Path(out_dir or tempfile.mkdtemp(prefix="workbench-live-"))
out.mkdir(parents=True, exist_ok=True)

# --inspect-port=0: when SIGUSR1 arrives, listen on a free loopback port instead of 9229.
proc = subprocess.Popen(["node", "--inspect-port=0", str(scenario), "--load", str(load_every_ms)],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
info = json.loads(proc.stdout.readline())
info

# %% [markdown]
# ## Attach and capture
# `wb.attach(pid=...)` finds the port the process opened (from `/proc`), refuses anything but
# loopback, and closes the connection at the end of the `with` block. Snapshots stream to a
# temporary file that is renamed only when complete.

# %%
try:
    with wb.attach(pid=proc.pid, out_dir=out, quiet=True) as s:
        baseline, target, final = s.three_snapshots(interval_s, out)
        cpu = s.cpu_profile(cpu_seconds, out / "service.cpuprofile")
        metrics = s.sample_metrics(0.25, 1.5, out / "service.jsonl")
finally:
    proc.kill()
    proc.wait()
sorted(p.name for p in out.iterdir())

# %% [markdown]
# ## The leak: memlab's three-snapshot method on the captured files

# %%
report = wb.find_leaks(baseline, target, final, quiet=True)
report

# %%
report.suspects.select("class", "name", "count", "retained_size", "serious", "holder").head(5)

# %%
report.path(0)

# %% [markdown]
# ## Growth between baseline and target (DevTools' Comparison)

# %%
before, after = wb.load_snapshot(baseline, quiet=True), wb.load_snapshot(target, quiet=True)
wb.compare(before, after).head(8)

# %% [markdown]
# ## Where the CPU went

# %%
prof = wb.load_profile(cpu)
prof.functions().select("function", "url", "self_ms", "total_ms", "self_pct").head(10)

# %%
m = wb.load_metrics(metrics)
m.series("heap_used").select("ts", "value").with_columns((pl.col("value") / 2**20).alias("heap_used_mb"))
