"""Reader for Jaeger's JSON: the UI's "Download Results" (``{"data": [trace, ...]}``), the query API's
``/api/traces/{id}`` answer, a bare trace object or a list of traces. Times and durations are µs
(kept as ns here); ids shorter than 32/16 hex characters (Jaeger prints 16 when the high 64 bits are
zero) are left-padded by the builder. The parent is the first CHILD_OF reference (else FOLLOWS_FROM);
``span.kind`` gives the kind, ``otel.status_code`` the status, and an ``error`` tag that is true makes
it an error (it wins on read-back, as in the Collector's translator). Tags become attributes."""
from __future__ import annotations

import polars as pl

from .._notes import notes_frame
from ..errors import FormatError
from ..traces.builder import RAW, build
from ._jsonfile import load_json
from ._spanjson import guarded, text, us_to_ns

KIND = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}


def _us(path, v, section) -> int:
    return us_to_ns(path, v, section, "expected a time in µs")


def _traces(path, doc):
    if isinstance(doc, dict) and "data" in doc:
        doc = doc["data"]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise FormatError(path, "data", None, "not a Jaeger trace list")
    return doc


def parse_jaeger(path):
    """The span rows of a Jaeger export (values out of range or nested too deep: a FormatError)."""
    return guarded(_parse_jaeger, path, "data")


def _parse_jaeger(path):
    src = str(path)
    rows = []
    for i, tr in enumerate(_traces(path, load_json(path, "data", quiet=True))):
        sec = f"data[{i}]"
        if not isinstance(tr, dict) or not isinstance(tr.get("spans"), list):
            raise FormatError(path, sec, None, "a trace without a spans list")
        procs = tr.get("processes") or {}
        if not isinstance(procs, dict):
            raise FormatError(path, sec + ".processes", None, "expected an object")
        for k, sp in enumerate(tr["spans"]):
            s = f"{sec}.spans[{k}]"
            if not isinstance(sp, dict):
                raise FormatError(path, s, None, "expected an object")
            tags = sp.get("tags") or []
            if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
                raise FormatError(path, s + ".tags", None, "expected a list of {key, type, value}")
            tag = {str(t.get("key")): t.get("value") for t in tags}
            refs = sp.get("references") or []
            if not isinstance(refs, list) or not all(isinstance(r, dict) for r in refs):
                raise FormatError(path, s + ".references", None, "expected a list of references")
            parent = next((r.get("spanID") for r in refs if r.get("refType") == "CHILD_OF"), None) or \
                next((r.get("spanID") for r in refs if r.get("refType") == "FOLLOWS_FROM"), None)
            proc = procs.get(sp.get("processID"), {}) if isinstance(sp.get("processID"), str) else {}
            code = {"ERROR": 2, "OK": 1}.get(str(tag.get("otel.status_code", "")).upper(), 0)
            if tag.get("error") in (True, "true"):
                code = 2
            start = _us(path, sp.get("startTime"), s + ".startTime")
            dur = _us(path, sp.get("duration", 0), s + ".duration")
            logs = sp.get("logs") or []
            events = []
            for lg in logs if isinstance(logs, list) else []:
                if isinstance(lg, dict) and isinstance(lg.get("timestamp"), (int, float)):
                    fields = {f.get("key"): f.get("value") for f in lg.get("fields") or [] if isinstance(f, dict)}
                    events.append({"time_ns": _us(path, lg["timestamp"], s + ".logs.timestamp"),
                                   "name": text(fields.get("event", "log"))})
            rows.append({"source": src, "trace_id": text(sp.get("traceID") or tr.get("traceID")),
                         "span_id": text(sp.get("spanID")), "parent_span_id": text(parent),
                         "service": text(proc.get("serviceName")) if isinstance(proc, dict) else None,
                         "scope": text(tag.get("otel.library.name") or tag.get("otel.scope.name")),
                         "name": text(sp.get("operationName")),
                         "kind": KIND.get(str(tag.get("span.kind", "")).lower(), 0),
                         "start_ns": start, "end_ns": start + dur, "status_code": code,
                         "status_message": text(tag.get("otel.status_description")),
                         "attributes": [{"key": k, "value": text(v)} for k, v in tag.items()],
                         "events": events})
    if not rows:
        raise FormatError(path, "data", None, "no spans in this Jaeger export")
    return pl.DataFrame(rows, schema=RAW), notes_frame()


def read_jaeger(path):
    return build([parse_jaeger(path)])
