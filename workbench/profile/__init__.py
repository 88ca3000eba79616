"""CPU and allocation profiles: readers' door (``load_profile``), the Profile model and its analyses.

``load_profile(path)`` reads ``.cpuprofile``, ``.heapprofile``, Chrome trace JSON (ProfileChunk
events) and folded stacks, each optionally gzipped. Analyses: ``calltree``, ``functions``
(bottom-up / Sandwich), ``flame_graph``, ``flame_chart``, ``diff`` / ``diff_flame_graph``; exports:
folded stacks and speedscope JSON.
"""
from __future__ import annotations

import os
import re

from ..errors import FormatError, WorkbenchError
from .calltree import callers, calltree, focus, functions, window
from .diff import diff, diff_flame_graph
from .flame import flame_chart, flame_graph
from .model import Profile

__all__ = ["Profile", "load_profile", "sniff_profile", "calltree", "functions", "window", "focus", "callers",
           "flame_graph", "flame_chart", "diff", "diff_flame_graph"]

_FOLDED_LINE = re.compile(rb"^[^\n]*\S \d+(\.\d*)?\s*$")


def _kind(path, head: bytes) -> str | None:
    name = os.fspath(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    h = head.lstrip()
    if h.startswith(b"{"):
        start = h[:2000]
        if b'"traceEvents"' in start:
            return "trace"
        if b'"head"' in start and b'"selfSize"' in start:
            return "heapprofile"
        if b'"nodes"' in start and b'"callFrame"' in start:
            return "cpuprofile"
        if name.endswith(".heapprofile"):
            return "heapprofile"
        if name.endswith(".cpuprofile"):
            return "cpuprofile"
        return None
    if h.startswith(b"["):
        return "trace" if b'"ph"' in h[:4000] or name.endswith(".json") else None
    first = head.split(b"\n", 1)[0]
    # folded stacks: by name, or a first line "a;b;c 12" (the ';' keeps metric lines like "up 1" out)
    if name.endswith((".folded", ".collapsed")) or (_FOLDED_LINE.match(first) and b";" in first):
        return "folded"
    return None


def sniff_profile(path, head: bytes) -> bool:
    """Whether the first bytes (decompressed) look like a profile format workbench reads."""
    return _kind(path, head) is not None


def load_profile(path, *, format: str | None = None, quiet: bool = False, **kw) -> Profile:
    """Load a profile. ``format`` ("cpuprofile", "heapprofile", "trace", "folded") skips sniffing.
    Trace files take ``profile="pid:id"``; folded files take ``kind`` and ``interval_ms``."""
    from ..io import read_head

    path = os.fspath(path)
    if not os.path.exists(path):
        raise WorkbenchError("no such file", path)
    kind = format or _kind(path, read_head(path))
    if kind == "cpuprofile":
        from ..io.cpuprofile import read_cpuprofile
        return read_cpuprofile(path, quiet=quiet, **kw)
    if kind == "heapprofile":
        from ..io.heapprofile import read_heapprofile
        return read_heapprofile(path, quiet=quiet, **kw)
    if kind == "trace":
        from ..io.chrome_trace import read_trace
        return read_trace(path, quiet=quiet, **kw)
    if kind == "folded":
        from ..io.folded import read_folded
        return read_folded(path, quiet=quiet, **kw)
    raise FormatError(path, "header", 0,
                      "not a CPU profile, heap profile, Chrome trace or folded stacks file")
