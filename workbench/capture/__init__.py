"""Live capture from a running Node process over the V8 inspector protocol (CDP).

``workbench.attach(...)`` connects to ``ws://127.0.0.1:PORT/ID``, to ``--port N`` (looked up in
``/json/list``) or to a local ``pid`` (SIGUSR1 opens its inspector, as ``node --inspect`` would) and
returns an :class:`Inspector`, also a context manager. Its captures write the files the readers
load: ``take_heap_snapshot`` (.heapsnapshot, streamed, atomic), ``cpu_profile`` (.cpuprofile),
``sampling_heap_profile`` (.heapprofile), ``sample_metrics`` (.jsonl of memoryUsage, ELU, heap
statistics) and ``three_snapshots`` (baseline/target/final for ``find_leaks``). Loopback only
unless ``allow_remote=True``. Semantics and sources: ``discover.py``, ``inspector.py``,
``artefacts.py``.
"""
from __future__ import annotations

from ..errors import CaptureError
from .artefacts import (cpu_profile, sample_metrics, sampling_heap_profile, take_heap_snapshot,
                        three_snapshots)
from .discover import list_targets, open_inspector, resolve_url
from .inspector import Inspector

__all__ = ["attach", "Inspector", "take_heap_snapshot", "cpu_profile", "sampling_heap_profile",
           "sample_metrics", "three_snapshots", "list_targets", "open_inspector", "resolve_url",
           "CaptureError"]


def attach(url: str | None = None, *, pid: int | None = None, port: int | None = None,
           host: str = "127.0.0.1", timeout: float = 30.0, allow_remote: bool = False,
           out_dir=None, quiet: bool = False) -> Inspector:
    """Connect to a Node inspector; use as ``with workbench.attach(pid=1234) as s: s.take_heap_snapshot("x.heapsnapshot")``.

    Exactly one of ``url`` (``ws://HOST:PORT/ID``, or ``ws://HOST:PORT``/``http://HOST:PORT`` to look
    the target up), ``pid`` (a local node process; SIGUSR1 opens its inspector, on its
    ``--inspect-port``, 9229 by default; ``port`` then says which port to expect) or ``port`` (on
    ``host``, 127.0.0.1 by default). ``timeout`` is the longest silence tolerated from the target
    (seconds). Files without an explicit path go to ``out_dir`` (a temp directory by default)."""
    ws = resolve_url(url, pid=pid, port=port, host=host, allow_remote=allow_remote,
                     timeout=min(timeout, 15.0))
    return Inspector(ws, timeout=timeout, allow_remote=allow_remote, pid=pid, out_dir=out_dir, quiet=quiet)
