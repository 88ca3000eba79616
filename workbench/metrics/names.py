"""The name map: which metric of which source measures which quantity, and in what unit.

A quantity is the user's word for one thing measured in several ways: ``heap_used`` is prom-client's
``nodejs_heap_size_used_bytes``, ``process.memoryUsage().heapUsed``, Doctor's ``heapUsed``, a diagnostic
report's ``javascriptHeap.usedMemory`` and OpenTelemetry's ``v8js.memory.heap.used`` (summed over
``v8js.heap.space.name``). Sources: prom-client lib/metrics/*.js, OTel semantic conventions
docs/runtime/{nodejs,v8js}-metrics.md (current and older spellings, e.g. ``v8js.heap.space.*`` →
``v8js.memory.heap.space.*``; dots become ``_`` and the unit suffix is appended when scraped), the
Node API docs (research note A1-A9). Canonical units: bytes ``B``, milliseconds ``ms``, ratio ``1``,
``count``.

Matching is on the metric name with dots turned into ``_`` and a unit suffix
(``_bytes``/``_seconds``/``_ratio``) removed; bare histogram stat names (``p99``, ``max`` ...) only
count as event-loop delay when their unit is ``ns`` (monitorEventLoopDelay exports).
"""
from __future__ import annotations

import re

import polars as pl

STATS = ("min", "max", "mean", "stddev", "p50", "p90", "p99")
_RULES: dict[str, tuple[str, str]] = {}   # key -> (quantity, agg) ; agg: "" or "sum" (over labels)


def _add(q, *keys, agg=""):
    for k in keys:
        _RULES[k] = (q, agg)


_add("heap_used", "nodejs_heap_size_used", "heapUsed", "heap_used", "memory_heapUsed", "javascriptHeap_usedMemory")
_add("heap_used", "v8js_memory_heap_used", agg="sum")
_add("heap_total", "nodejs_heap_size_total", "heapTotal", "heap_total", "memory_heapTotal", "javascriptHeap_totalMemory")
_add("heap_limit", "v8js_memory_heap_limit", "v8js_memory_heap_space_size", agg="sum")
_add("heap_limit", "javascriptHeap_memoryLimit")
_add("rss", "process_resident_memory", "rss", "memory_rss", "process_memory_usage", "resourceUsage_rss")
_add("external", "nodejs_external_memory", "external", "memory_external", "javascriptHeap_externalMemory")
_add("array_buffers", "arrayBuffers", "array_buffers", "memory_arrayBuffers")
for s in STATS:
    _add(f"event_loop_delay_{s}", f"nodejs_eventloop_lag_{s}", f"nodejs_eventloop_delay_{s}",
         f"nodejs_event_loop_delay_{s}", f"nodejs_eventloop_lag_{s}_seconds")
_add("event_loop_lag", "nodejs_eventloop_lag")
_add("event_loop_delay", "delay")
_add("event_loop_utilization", "utilization", "elu", "nodejs_eventloop_utilization", "loopUtilization",
     "nodejs_event_loop_utilization")
_add("gc_pause", "gc_pause")
_add("cpu", "cpu")
_add("cpu_seconds_total", "process_cpu_seconds_total", "process_cpu_time")
_add("handles", "handles", "nodejs_active_handles_total")
_add("heap_used_after_gc", "gc_heap_used_after")

FACTOR = {"B": ("B", 1.0), "s": ("ms", 1000.0), "ms": ("ms", 1.0), "ns": ("ms", 1e-6),
          "%": ("1", 0.01), "1": ("1", 1.0), "count": ("count", 1.0), "": ("", 1.0)}
# quantities whose value is a duration even though prom-client names them *_seconds
QUANTITIES = sorted({q for q, _ in _RULES.values()})


def key(metric: str) -> str:
    k = metric.replace(".", "_")
    return re.sub(r"_(bytes|seconds|ratio|By|s)$", "", k)


def quantity_of(metric: str, unit: str) -> tuple[str | None, str]:
    k = key(metric)
    if k in _RULES:
        return _RULES[k]
    if unit == "ns" and k in STATS:
        return f"event_loop_delay_{k}", ""
    return None, ""


def mapping(pairs: pl.DataFrame) -> pl.DataFrame:
    """For distinct (metric, unit) pairs: quantity, agg, canonical unit and factor (small frame)."""
    rows = []
    for metric, unit in pairs.iter_rows():
        q, agg = quantity_of(metric, unit or "")
        cu, f = FACTOR.get(unit or "", ("", 1.0))
        rows.append((metric, unit, q, agg, cu, f))
    return pl.DataFrame(rows, schema={"metric": pl.Utf8, "unit": pl.Utf8, "quantity": pl.Utf8, "agg": pl.Utf8,
                                      "canonical_unit": pl.Utf8, "factor": pl.Float64}, orient="row")
