"""``correlate(...)``: did latency rise with the heap and the GC pauses? One call over the models
(``timeline.grid`` then ``timeline.correlate``)."""
from __future__ import annotations

from .timeline import correlate as _correlate_grid
from .timeline import grid


def correlate(metrics=None, traces=None, logs=None, run=None, every: str = "5s", target: str = "latency_p99_ms",
              min_requests: int = 5):
    """Pearson and Spearman correlation of ``target`` (default: request p99 from the traces) against
    every other signal of the incident timeline (``workbench.incident.timeline``)."""
    return _correlate_grid(grid(metrics, traces, logs, run=run, every=every, min_requests=min_requests), target)
