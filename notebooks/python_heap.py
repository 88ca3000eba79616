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
# # A leak in a small Python service, found with guppy3
#
# The service below remembers every order in a module-level list, a classic Python leak. We take
# three guppy3 heaps of this kernel (baseline, target, final), compare them with the same
# Comparison shape as V8 heaps, keep the objects allocated in the target phase that survive into
# final (memlab's three-snapshot filter), and ask guppy for the shortest retainer path.

# %% tags=["parameters"]
requests_target = 2000   # requests between baseline and target
requests_final = 1000    # requests between target and final
dump_dir = ""             # "" = a fresh temporary directory

# %%
import sys
import tempfile
import types
from pathlib import Path

import polars as pl
from guppy import hpy

import workbench as wb
import workbench.pyheap as ph

SERVICE = '''
class Order:
    def __init__(self, i, customer):
        self.id = i
        self.customer = customer
        self.lines = [("sku-%d" % (i % 97), 1 + i % 3)]

_audit_log = []          # every order ever seen: the leak

def handle(i):
    order = Order(i, "customer-%d" % (i % 40))
    _audit_log.append(order)
    receipt = {"id": order.id, "total": sum(q for _, q in order.lines)}   # garbage per request
    return receipt["total"]
'''
orders_service = types.ModuleType("orders_service")
exec(SERVICE, orders_service.__dict__)
sys.modules["orders_service"] = orders_service

# %%
hp = hpy()
baseline = ph.take_heap(hp, label="baseline")
for i in range(requests_target):
    orders_service.handle(i)
target = ph.take_heap(hp, label="target")
for i in range(requests_target, requests_target + requests_final):
    orders_service.handle(i)
final = ph.take_heap(hp, label="final")
# print, not display: IPython's Out history would keep the models (and their arrays) alive
print(baseline, target, final, sep="\n")

# %% [markdown]
# ## Comparison (target against baseline)
# `new_count`/`deleted_count` come from object identities; `size_delta` is the change of each
# kind's total size, so the list that grew in place shows a size delta with no new object.

# %%
target.compare(baseline).head(8)

# %% [markdown]
# ## Objects allocated between baseline and target and still alive in final

# %%
leaks = ph.find_leaks(baseline, target, final)
leaks.head(5)

# %% [markdown]
# ## Who holds them: guppy's `byrcs` and the shortest retainer path (`sp`)

# %%
target.retainers("orders_service.Order", new_since=baseline, session=hp)

# %%
paths = target.retainer_paths("orders_service.Order", new_since=baseline, n=2, session=hp)
paths.select("path", "step", "class", "edge", "self_size")

# %%
print(paths["text"].unique(maintain_order=True).to_list()[0])

# %% [markdown]
# ## The same comparison from guppy `.hpy` dump files
# A dump holds totals per kind, so a comparison of two dumps has the deltas but no
# new/deleted identities (null). We drop our three heap models first: guppy's own dump does not
# hide workbench's arrays the way `take_heap` does.

# %%
dump_dir = dump_dir or tempfile.mkdtemp(prefix="workbench-pyheap-")
Path(dump_dir).mkdir(parents=True, exist_ok=True)
baseline.to_hpy(f"{dump_dir}/baseline.hpy", mode="w")
del baseline, target, final
hp.heap().dump(f"{dump_dir}/now.hpy", mode="w")     # guppy's own dump of the current heap
wb.load_hpy(f"{dump_dir}/now.hpy").compare(wb.load_hpy(f"{dump_dir}/baseline.hpy")).head(5)
