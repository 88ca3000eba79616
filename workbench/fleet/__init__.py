"""Fleet scale: hundreds of heap snapshots, profiles and metric exports from many instances of a
service, read on Dask workers (one task per file) and reduced to one small parquet dataset, then
asked fleet questions.

``summarize(paths_or_globs, out=..., client=None)`` (``run.py``) writes the dataset; a local cluster
is started when no client or scheduler address is given. Tables (``store.py``, one folder each):
``files`` (path, kind, format, instance, fields, taken_at, node_version, bytes, nodes, sha256,
seconds, error, ...), ``classes`` (the DevTools Summary of each snapshot), ``hotspots`` (each
profile's functions), ``stacks`` (folded stacks with samples), ``metrics`` (the long table) and
``trends`` (the leak trend of each metric export). ``open_dataset(out)`` reads it back; the analyses
(``analyses.py``) take the dataset or its folder: ``top_classes``, ``outliers``, ``outlier_instances``, ``hotspots``,
``flame``, ``flame_diff``, ``rising_floor``, ``instances``; ``holding_classes`` opens an outlier's
snapshot (which of its outlying classes hold the others).
"""
from __future__ import annotations

from .analyses import (class_grid, fleet_stacks, flame, flame_diff, holding_classes, hotspots, instances,
                       latest_snapshots, outlier_instances, outliers, rising_floor, robust_z, top_classes)
from .naming import InstancePattern
from .run import Summary, expand, local_cluster, plan, summarize
from .store import TABLES, FleetDataset, open_dataset

__all__ = ["summarize", "local_cluster", "plan", "expand", "Summary", "open_dataset", "FleetDataset", "TABLES", "InstancePattern",
           "top_classes", "outliers", "outlier_instances", "hotspots", "flame", "flame_diff", "rising_floor", "instances",
           "holding_classes", "class_grid", "latest_snapshots", "fleet_stacks", "robust_z"]
