"""CPU and allocation profiles: readers' door (``load_profile``), the Profile model and its analyses.

``load_profile(path)`` reads ``.cpuprofile``, ``.heapprofile``, Chrome trace JSON (``Profile``/
``ProfileChunk`` events, or the old single ``CpuProfile`` event), ``node --prof`` isolate logs (via
``node --prof-process --preprocess``) and their preprocessed JSON, folded stacks and Clinic.js Flame
data folders; files may be gzipped. Analyses: ``hotspots`` (bottom-up), ``calltree`` (top-down),
``sandwich``, ``window``/``keep_categories`` filters, ``merge``, ``diff`` (a ``ProfileDiff``);
flame graphs: ``flame_graph``/``flame_chart`` rectangles, ``Profile.flame()``/``flame_chart()``
altair charts; exports: folded stacks, speedscope JSON, SVG, standalone HTML.
"""
from __future__ import annotations

import os
import re

from ..errors import FormatError, WorkbenchError
from .calltree import Sandwich, callers, calltree, focus, functions, hotspots, keep_categories, merge, sandwich, window
from .diff import ProfileDiff, diff, diff_flame_graph
from .flame import flame_chart, flame_graph
from .model import CATEGORIES, Profile

__all__ = ["Profile", "CATEGORIES", "load_profile", "sniff_profile", "hotspots", "calltree", "functions",
           "sandwich", "Sandwich", "window", "keep_categories", "merge", "focus", "callers", "flame_graph",
           "flame_chart", "diff", "ProfileDiff", "diff_flame_graph"]

_FOLDED_LINE = re.compile(rb"^[^\n]*\S \d+(\.\d*)?\s*$")


def _kind(path, head: bytes) -> str | None:
    from ..io.clinic_flame import samples_file
    from ..io.v8log import is_preprocessed, is_raw_log

    if samples_file(path) is not None:
        return "clinic"
    name = os.fspath(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    h = head.lstrip()
    if is_raw_log(h):
        return "v8log"
    if h.startswith(b"{"):
        start = h[:2000]
        if is_preprocessed(h):
            return "v8log"
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
    """Load a profile. ``format`` ("cpuprofile", "heapprofile", "trace", "v8log", "clinic", "folded")
    skips sniffing. Trace files take ``profile="pid:id"``; folded files ``kind`` and ``interval_ms``;
    clinic folders ``interval_ms``. A raw ``node --prof`` log needs ``node`` on PATH."""
    from ..io import read_head

    path = os.fspath(path)
    if not os.path.exists(path):
        raise WorkbenchError("no such file", path)
    kind = format or _kind(path, read_head(path))
    if kind == "v8log":
        from ..io.v8log import read_v8log
        return read_v8log(path, quiet=quiet, **kw)
    if kind == "clinic":
        from ..io.clinic_flame import read_clinic_flame
        return read_clinic_flame(path, quiet=quiet, **kw)
    if kind == "cpuprofile":
        from ..io.cpuprofile import read_cpuprofile
        return read_cpuprofile(path, quiet=quiet, **kw)
    if kind == "heapprofile":
        from ..io.heapprofile import read_heapprofile
        return read_heapprofile(path, quiet=quiet, **kw)
    if kind == "trace":
        from ..io.trace_events import read_trace
        return read_trace(path, quiet=quiet, **kw)
    if kind == "folded":
        from ..io.folded import read_folded
        return read_folded(path, quiet=quiet, **kw)
    raise FormatError(path, "header", 0, "not a profile workbench reads (.cpuprofile, .heapprofile, Chrome trace, "
                      "node --prof log or its preprocessed JSON, folded stacks, Clinic.js Flame folder)")
