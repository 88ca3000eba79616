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
# # Heap leak widgets: Comparison and Retainers on the `api_gateway` dataset
#
# Three snapshots of a real Node service (`datasets/scenarios/heap_api_gateway.js`) whose
# thumbnail cache never evicts. `find_leaks` names the leak and its holder; `SnapshotComparison`
# is DevTools' Comparison view (pick a class, then one of its new objects to see its retainer
# paths) and `RetainerExplorer` is the Retainers panel, loaded level by level. Both send the
# browser one page of rows at a time.

# %%
from pathlib import Path

import workbench as wb

root = Path.cwd() if (Path.cwd() / "datasets").exists() else Path.cwd().parent
data = root / "datasets" / "heap" / "api_gateway"
baseline, target, final = (wb.load_snapshot(data / f"{n}.heapsnapshot.gz", quiet=True)
                           for n in ("baseline", "target", "final"))
report = wb.find_leaks(baseline, target, final)
report

# %%
cmp = wb.SnapshotComparison(baseline, target)
cmp.filter("Thumbnail")
cmp.select_class("ThumbnailJob")
cmp.select_object(cmp.object_rows["node_id"][0])
cmp

# %%
wb.RetainerExplorer(final, report.suspects["representative_id"][0])
