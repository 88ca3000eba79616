"""Reader for Node.js diagnostic reports (``process.report.writeReport()``, ``--report-on-*``; JSON,
report versions 1-5, https://nodejs.org/api/report.html): one point in time per report.

Rows at ``header.dumpEventTimeStamp`` (a string of unix ms): ``javascriptHeap.*`` (bytes; counts for
``nativeContextCount``/``detachedContextCount``), ``javascriptHeap.heapSpaces.<space>.*`` as
``heap_space_<field>`` with label ``space``, ``resourceUsage.*`` (cpu seconds, percents, maxRss in
KiB — converted to bytes — and since v3 rss/free_memory/... which are strings), and one
``libuv_handles`` row per handle type (label ``type``, and ``active`` count).
"""
from __future__ import annotations

import json
import reprlib

import polars as pl

from ..errors import FormatError
from ..metrics.builder import SCHEMA, TS, Part, empty_problems, problems_frame
from ._files import JsonGuard, read_bytes
from ._jsonfile import fix_surrogates
from .memory_samples import MAX_UNIX_MS

COUNTS = {"nativeContextCount", "detachedContextCount"}


def _obj(path, section: str, v, default):
    """A part of the report that must be an object (or list): absent is ``default``, another type an error."""
    if v is None:
        return default
    if not isinstance(v, type(default)):
        raise FormatError(path, section, None, f"not {'an object' if isinstance(default, dict) else 'an array'}")
    return v


def read_report(path) -> Part:
    src = str(path)
    repaired: list = []
    try:
        raw = read_bytes(path, JsonGuard(path, "report"))
        rep = fix_surrogates(raw, json.loads(raw.decode("utf-8")), "report", repaired)
        header = rep["header"]
        t = float(header["dumpEventTimeStamp"])
    except ValueError as e:
        raise FormatError(path, "report", getattr(e, "pos", 0), f"not JSON ({e})") from None
    except RecursionError:
        raise FormatError(path, "report", None, "JSON nested too deeply") from None
    except (KeyError, TypeError, OverflowError):
        raise FormatError(path, "header", 0, "not a Node.js diagnostic report (no header.dumpEventTimeStamp)") from None
    if not abs(t) <= MAX_UNIX_MS:
        raise FormatError(path, "header", 0, f"dumpEventTimeStamp {t!r} is not a unix time in ms")
    rows = []

    def add(metric, value, unit, labels="", scale=1.0):
        try:
            v = float(value) * scale
        except (TypeError, ValueError, OverflowError):
            return
        rows.append((metric, v, unit, labels))

    heap = _obj(path, "javascriptHeap", rep.get("javascriptHeap"), {})
    for k, v in heap.items():
        if k == "heapSpaces":
            for space, fields in _obj(path, "javascriptHeap.heapSpaces", v, {}).items():
                for f, x in _obj(path, f"javascriptHeap.heapSpaces.{space}", fields, {}).items():
                    add(f"heap_space_{f}", x, "B", f'space="{space}"')
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            add(f"javascriptHeap.{k}", v, "count" if k in COUNTS else "B")
    ru = _obj(path, "resourceUsage", rep.get("resourceUsage"), {})
    for k, v in ru.items():
        if isinstance(v, dict):
            for k2, x in v.items():
                add(f"resourceUsage.{k}.{k2}", x, "count")
        elif k == "maxRss":
            add("resourceUsage.maxRss", v, "B", scale=1024)
        elif k.endswith("Seconds"):
            add(f"resourceUsage.{k}", v, "s")
        elif k.endswith("Percent"):
            add(f"resourceUsage.{k}", v, "%")
        else:
            add(f"resourceUsage.{k}", v, "B")
    by_type: dict[str, list[int]] = {}
    for i, h in enumerate(_obj(path, "libuv", rep.get("libuv"), [])):
        h = _obj(path, f"libuv[{i}]", h, {})
        typ = h.get("type")
        c = by_type.setdefault(typ if isinstance(typ, str) else reprlib.repr(typ), [0, 0])
        c[0] += 1
        c[1] += 1 if h.get("is_active") else 0
    for typ, (n, active) in sorted(by_type.items()):
        add("libuv_handles", n, "count", f'type="{typ}"')
        add("libuv_handles_active", active, "count", f'type="{typ}"')
    if not rows:
        raise FormatError(path, "javascriptHeap", 0, "report has no numeric heap or resource figures")
    table = pl.DataFrame(rows, schema={"metric": pl.Utf8, "value": pl.Float64, "unit": pl.Utf8, "labels": pl.Utf8},
                         orient="row").with_columns(
        source=pl.lit(src), ts=pl.lit(int(t * 1000)).cast(pl.Int64).cast(TS)).select(list(SCHEMA)).cast(SCHEMA)
    info = {"format": "diagnostic report", "report_version": header.get("reportVersion"),
            "node": header.get("nodejsVersion"), "event": header.get("event"), "trigger": header.get("trigger"),
            "rows": len(table)}
    problems = problems_frame(src, [0], repaired[0][2], [""]) if repaired else empty_problems()
    return Part(table=table, problems=problems, info=info)
