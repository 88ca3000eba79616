"""Reader for OTLP/JSON traces: ``ExportTraceServiceRequest`` documents as the OpenTelemetry JS
HTTP exporter sends them (``/v1/traces``, ``Content-Type: application/json``) and the Collector's
file exporter writes them, one request per line; a single pretty-printed request, or a JSON array
of requests, is read too.

Encoding (OTLP spec, "JSON Protobuf Encoding"): ids are case-insensitive hex, not base64; 64-bit
integers (times in ns, ``intValue``) are decimal strings or numbers, kept exact (never through a
float); enums are integers (``kind`` 0-5, ``status.code`` 0-2; absent = 0); unknown fields are ignored.
Attribute values become text: strings as they are, other scalars as JSON, arrays and key-value lists
as JSON text.

The fast path decodes all lines in one polars pass with the nested schema; only a file it cannot
read (bad JSON, a value of the wrong type, a document spread over lines) goes through Python's json,
which names the line, byte offset and section of the first wrong value (``resourceSpans[0].
scopeSpans[1].spans[2].startTimeUnixNano``). A line that is not JSON (a request cut short when the
Collector stopped) is skipped and counted in notes; a file with no span is a FormatError.
"""
from __future__ import annotations

import io
import json

import polars as pl
from polars.exceptions import PanicException

from .._notes import notes_frame
from ..errors import FormatError
from ..traces.builder import RAW, build, empty_raw
from ._files import LineGuard, decode_utf8, lines_frame, read_bytes

ANY = pl.Struct({k: pl.Utf8 for k in ("stringValue", "boolValue", "intValue", "doubleValue", "arrayValue",
                                       "kvlistValue", "bytesValue")})
KV = pl.List(pl.Struct({"key": pl.Utf8, "value": ANY}))
SPAN = pl.Struct({"traceId": pl.Utf8, "spanId": pl.Utf8, "parentSpanId": pl.Utf8, "name": pl.Utf8,
                  "kind": pl.Utf8, "startTimeUnixNano": pl.Utf8, "endTimeUnixNano": pl.Utf8, "attributes": KV,
                  "events": pl.List(pl.Struct({"timeUnixNano": pl.Utf8, "name": pl.Utf8})),
                  "status": pl.Struct({"code": pl.Utf8, "message": pl.Utf8})})
SCHEMA = {"resourceSpans": pl.List(pl.Struct({
    "resource": pl.Struct({"attributes": KV}),
    "scopeSpans": pl.List(pl.Struct({"scope": pl.Struct({"name": pl.Utf8}), "spans": pl.List(SPAN)}))}))}
_VALUE_KEYS = ("stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue")
INT64 = (-(1 << 63), (1 << 63) - 1)


def _value_text(e: pl.Expr) -> pl.Expr:
    return pl.coalesce([e.struct.field(k) for k in _VALUE_KEYS])


def _kv(e: pl.Expr) -> pl.Expr:
    """OTLP attributes as a list of {key, value text}."""
    return e.list.eval(pl.struct(key=pl.element().struct.field("key"),
                                 value=_value_text(pl.element().struct.field("value"))))


def _int(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.Int64, strict=False)


def _fast(src: str, data: bytes) -> pl.DataFrame:
    df = pl.read_ndjson(io.BytesIO(data), schema=SCHEMA)
    rs = df.select(pl.col("resourceSpans").explode()).drop_nulls().unnest("resourceSpans")
    svc = pl.col("resource").struct.field("attributes").list.eval(
        pl.element().filter(pl.element().struct.field("key") == "service.name")
        .struct.field("value").struct.field("stringValue")).list.first()
    rs = rs.with_columns(service=svc).select("service", pl.col("scopeSpans").explode()).drop_nulls("scopeSpans")
    ss = rs.unnest("scopeSpans").with_columns(scope=pl.col("scope").struct.field("name"))
    sp = ss.select("service", "scope", pl.col("spans").explode()).drop_nulls("spans").unnest("spans")
    starts, ends = sp["startTimeUnixNano"], sp["endTimeUnixNano"]
    out = sp.select(
        source=pl.lit(src), trace_id="traceId", span_id="spanId", parent_span_id="parentSpanId",
        service="service", scope="scope", name="name", kind=_int(pl.col("kind")),
        start_ns=_int(pl.col("startTimeUnixNano")), end_ns=_int(pl.col("endTimeUnixNano")),
        status_code=_int(pl.col("status").struct.field("code")),
        status_message=pl.col("status").struct.field("message"),
        attributes=_kv(pl.col("attributes")).fill_null([]),
        events=pl.col("events").list.eval(pl.struct(
            time_ns=pl.element().struct.field("timeUnixNano").cast(pl.Int64, strict=False),
            name=pl.element().struct.field("name"))).fill_null([]))
    # a time or enum polars could not read as an integer (a float, "abc", past int64) is for the slow
    # path to name precisely
    lost = ((out["start_ns"].is_null() & starts.is_not_null()) | (out["end_ns"].is_null() & ends.is_not_null()))
    if lost.any():
        raise ValueError("a time is not an integer")
    return out


# ---- the slow path: Python's json, with precise errors -------------------------------------------
def _fail(path, line: int | None, offset: int, section: str, what: str):
    where = f"line {line}: " if line is not None else ""
    raise FormatError(path, section, offset, where + what)


def _text(v, path, line, offset, section):
    if v is None or isinstance(v, str):
        return v
    _fail(path, line, offset, section, f"expected a string, got {type(v).__name__}")


def _int_of(v, path, line, offset, section, default=None):
    if v is None:
        return default
    if isinstance(v, bool):
        _fail(path, line, offset, section, "expected an integer, got a boolean")
    if isinstance(v, int):
        n = v
    elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
        n = int(v)
    elif isinstance(v, float) and v.is_integer():
        n = int(v)
    else:
        _fail(path, line, offset, section, f"expected an integer, got {json.dumps(v)[:40]}")
    if not INT64[0] <= n <= INT64[1]:
        _fail(path, line, offset, section, f"integer {str(n)[:30]} is outside 64 bits")
    return n


def _list(v, path, line, offset, section):
    if v is None:
        return []
    if not isinstance(v, list):
        _fail(path, line, offset, section, f"expected a list, got {type(v).__name__}")
    return v


def _obj(v, path, line, offset, section):
    if v is None:
        return {}
    if not isinstance(v, dict):
        _fail(path, line, offset, section, f"expected an object, got {type(v).__name__}")
    return v


def _anytext(v, path, line, offset, section):
    v = _obj(v, path, line, offset, section)
    for k in _VALUE_KEYS:
        x = v.get(k)
        if x is None:
            continue
        return x if isinstance(x, str) else json.dumps(x, separators=(", ", ": "))
    return None


def _attrs(v, path, line, offset, section):
    out = []
    for i, kv in enumerate(_list(v, path, line, offset, section)):
        kv = _obj(kv, path, line, offset, f"{section}[{i}]")
        out.append({"key": _text(kv.get("key"), path, line, offset, f"{section}[{i}].key"),
                    "value": _anytext(kv.get("value"), path, line, offset, f"{section}[{i}].value")})
    return out


def _walk(doc, src, path, line, offset, rows):
    doc = _obj(doc, path, line, offset, "request")
    for i, r in enumerate(_list(doc.get("resourceSpans"), path, line, offset, "resourceSpans")):
        sec = f"resourceSpans[{i}]"
        r = _obj(r, path, line, offset, sec)
        res = _obj(r.get("resource"), path, line, offset, sec + ".resource")
        attrs = _attrs(res.get("attributes"), path, line, offset, sec + ".resource.attributes")
        service = next((a["value"] for a in attrs if a["key"] == "service.name"), None)
        for j, s in enumerate(_list(r.get("scopeSpans"), path, line, offset, sec + ".scopeSpans")):
            ssec = f"{sec}.scopeSpans[{j}]"
            s = _obj(s, path, line, offset, ssec)
            scope = _text(_obj(s.get("scope"), path, line, offset, ssec + ".scope").get("name"), path, line,
                          offset, ssec + ".scope.name")
            for k, sp in enumerate(_list(s.get("spans"), path, line, offset, ssec + ".spans")):
                p = f"{ssec}.spans[{k}]"
                sp = _obj(sp, path, line, offset, p)
                st = _obj(sp.get("status"), path, line, offset, p + ".status")
                events = []
                for e_i, ev in enumerate(_list(sp.get("events"), path, line, offset, p + ".events")):
                    ev = _obj(ev, path, line, offset, f"{p}.events[{e_i}]")
                    events.append({"time_ns": _int_of(ev.get("timeUnixNano"), path, line, offset,
                                                      f"{p}.events[{e_i}].timeUnixNano"),
                                   "name": _text(ev.get("name"), path, line, offset, f"{p}.events[{e_i}].name")})
                rows.append({
                    "source": src, "trace_id": _text(sp.get("traceId"), path, line, offset, p + ".traceId"),
                    "span_id": _text(sp.get("spanId"), path, line, offset, p + ".spanId"),
                    "parent_span_id": _text(sp.get("parentSpanId"), path, line, offset, p + ".parentSpanId"),
                    "service": service, "scope": scope,
                    "name": _text(sp.get("name"), path, line, offset, p + ".name"),
                    "kind": _int_of(sp.get("kind"), path, line, offset, p + ".kind"),
                    "start_ns": _int_of(sp.get("startTimeUnixNano"), path, line, offset, p + ".startTimeUnixNano"),
                    "end_ns": _int_of(sp.get("endTimeUnixNano"), path, line, offset, p + ".endTimeUnixNano"),
                    "status_code": _int_of(st.get("code"), path, line, offset, p + ".status.code"),
                    "status_message": _text(st.get("message"), path, line, offset, p + ".status.message"),
                    "attributes": _attrs(sp.get("attributes"), path, line, offset, p + ".attributes"),
                    "events": events})


def _loads(text: str):
    return json.loads(text, parse_constant=_no_constant)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _slow(path, src: str, text: str) -> tuple[pl.DataFrame, list]:
    rows, bad = [], []
    whole = None
    stripped = text.strip()
    if stripped[:1] == "[" or (stripped[:1] == "{" and "\n" in stripped):
        try:
            whole = _loads(stripped)
        except (ValueError, RecursionError):
            whole = None
    if whole is not None:
        docs = whole if isinstance(whole, list) else [whole]
        for i, d in enumerate(docs):
            _walk(d, src, path, None, 0, rows)
    else:
        # which lines are JSON at all, in one polars pass (a damaged file may have millions of lines)
        lines = lines_frame(text).with_columns(offset=(pl.col("text").str.len_bytes() + 1).cum_sum().shift(1, fill_value=0))
        lines = lines.filter(pl.col("text").str.strip_chars() != "")
        try:
            ok = lines["text"].str.json_path_match("$").is_not_null()
        except (Exception, PanicException):  # noqa: BLE001 - then every line goes to Python's json
            ok = pl.Series([True] * len(lines))
        bad += lines.filter(~ok)["line"].to_list()
        for n, ln, at in lines.filter(ok).iter_rows():
            try:
                doc = _loads(ln)
            except (ValueError, RecursionError):
                bad.append(n)
                continue
            _walk(doc, src, path, n, at, rows)
        bad.sort()
    return (pl.DataFrame(rows, schema=RAW) if rows else empty_raw()), bad


def parse_otlp(path):
    """(raw span frame, notes) of one OTLP/JSON file."""
    src = str(path)
    data = read_bytes(path, LineGuard(path, "request", "OTLP/JSON"))
    if b"\x00" in data[:65536]:
        raise FormatError(path, "request", data.index(b"\x00"), "binary data, not OTLP/JSON")
    text = None
    try:
        raw, bad = _fast(src, data), []
    except (Exception, PanicException):  # noqa: BLE001 - polars raises several types on foreign data
        text = decode_utf8(path, "request", data, "JSON")
        del data
        raw, bad = _slow(path, src, text)
    notes = []
    if bad:
        notes.append((src, "line " + ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else ""), len(bad),
                      "lines that are not JSON requests (skipped)"))
    if not len(raw):
        raise FormatError(path, "resourceSpans", 0, "no spans (not an OTLP/JSON ExportTraceServiceRequest)")
    return raw, notes_frame(notes)


def read_otlp(path):
    """One OTLP/JSON file as a Traces model."""
    return build([parse_otlp(path)])
