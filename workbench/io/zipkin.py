"""Reader for Zipkin v2 JSON: an array of spans, or an array of traces (arrays of spans). ``timestamp``
and ``duration`` are µs; ``traceId`` is 16 or 32 hex (padded by the builder), ``id``/``parentId`` 16;
``kind`` CLIENT/SERVER/PRODUCER/CONSUMER (absent: unspecified); ``tags`` a string map whose ``error``
key makes the span an error; ``localEndpoint.serviceName`` the service. A ``shared`` server half that
reuses its client's id is the same span id twice: the builder keeps the first and counts the other."""
from __future__ import annotations

import polars as pl

from .._notes import notes_frame
from ..errors import FormatError
from ..traces.builder import RAW, build
from ._jsonfile import load_json
from ._spanjson import guarded, text, us_to_ns

KIND = {"SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}


def _us(path, v, section, default=None):
    if v is None and default is not None:
        return default
    return us_to_ns(path, v, section, "expected µs")


def parse_zipkin(path):
    """The span rows of a Zipkin export (values out of range or nested too deep: a FormatError)."""
    return guarded(_parse_zipkin, path, "spans")


def _parse_zipkin(path):
    src = str(path)
    doc = load_json(path, "spans", quiet=True)
    if not isinstance(doc, list):
        raise FormatError(path, "spans", 0, "not a Zipkin v2 span list")
    flat = []
    for i, x in enumerate(doc):
        flat += [(f"[{i}][{j}]", y) for j, y in enumerate(x)] if isinstance(x, list) else [(f"[{i}]", x)]
    rows = []
    for sec, sp in flat:
        if not isinstance(sp, dict):
            raise FormatError(path, sec, None, "expected a span object")
        tags = sp.get("tags") or {}
        if not isinstance(tags, dict):
            raise FormatError(path, sec + ".tags", None, "expected a string map")
        code = {"ERROR": 2, "OK": 1}.get(str(tags.get("otel.status_code", "")).upper(), 0)
        if "error" in tags:
            code = 2
        start = _us(path, sp.get("timestamp"), sec + ".timestamp")
        dur = _us(path, sp.get("duration"), sec + ".duration", default=0)
        le = sp.get("localEndpoint") if isinstance(sp.get("localEndpoint"), dict) else {}
        ann = sp.get("annotations") if isinstance(sp.get("annotations"), list) else []
        events = [{"time_ns": _us(path, a.get("timestamp"), sec + ".annotations"), "name": text(a.get("value"))}
                  for a in ann if isinstance(a, dict)]
        rows.append({"source": src, "trace_id": text(sp.get("traceId")), "span_id": text(sp.get("id")),
                     "parent_span_id": text(sp.get("parentId")), "service": text(le.get("serviceName")),
                     "scope": text(tags.get("otel.library.name") or tags.get("otel.scope.name")),
                     "name": text(sp.get("name")), "kind": KIND.get(str(sp.get("kind", "")).upper(), 0),
                     "start_ns": start, "end_ns": start + dur, "status_code": code,
                     "status_message": text(tags.get("error")) if code == 2 else None,
                     "attributes": [{"key": str(k), "value": text(v)} for k, v in tags.items()],
                     "events": events})
    if not rows:
        raise FormatError(path, "spans", 0, "no spans in this Zipkin file")
    return pl.DataFrame(rows, schema=RAW), notes_frame()


def read_zipkin(path):
    return build([parse_zipkin(path)])
