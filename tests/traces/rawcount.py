"""An independent count over raw OTLP/JSON (plain json, no workbench): per route, the requests
(server spans, deduplicated by trace and span id), the errors (status code 2 or HTTP status >= 500)
and latency percentiles (numpy, linear interpolation). Tests compare workbench's numbers with it."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np


def _value(v):
    for k in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if k in v:
            return v[k]
    return None


def server_spans(paths) -> dict:
    """(trace_id, span_id) -> (route, duration_ms, error) of every server span in the files."""
    out = {}
    for p in paths:
        raw = Path(p).read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
        docs = []
        try:
            d = json.loads(text)
            docs = d if isinstance(d, list) else [d]
        except ValueError:
            docs = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        for doc in docs:
            for rs in doc.get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for sp in ss.get("spans", []):
                        if int(sp.get("kind", 0)) != 2:
                            continue
                        attrs = {a["key"]: _value(a["value"]) for a in sp.get("attributes", [])}
                        route = attrs.get("http.route") or sp["name"]
                        status = attrs.get("http.response.status_code", attrs.get("http.status_code"))
                        code = int((sp.get("status") or {}).get("code", 0))
                        err = code == 2 or (status is not None and int(status) >= 500)
                        dur = (int(sp["endTimeUnixNano"]) - int(sp["startTimeUnixNano"])) / 1e6
                        key = (sp["traceId"].lower().rjust(32, "0"), sp["spanId"].lower().rjust(16, "0"))
                        out.setdefault(key, (route, dur, err))
    return out


def per_route(paths) -> dict:
    """route -> {requests, errors, p50_ms, p90_ms, p99_ms}."""
    by = {}
    for route, dur, err in server_spans(paths).values():
        by.setdefault(route, []).append((dur, err))
    out = {}
    for route, xs in by.items():
        d = np.array([x[0] for x in xs])
        out[route] = {"requests": len(xs), "errors": sum(x[1] for x in xs),
                      "p50_ms": float(np.percentile(d, 50)), "p90_ms": float(np.percentile(d, 90)),
                      "p99_ms": float(np.percentile(d, 99))}
    return out
