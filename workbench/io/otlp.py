"""Reader for OTLP/JSON traces: ``ExportTraceServiceRequest`` documents as the OpenTelemetry JS
HTTP exporter sends them (``/v1/traces``, ``Content-Type: application/json``) and the Collector's
file exporter writes them, one request per line; a single pretty-printed request, or a JSON array
of requests, is read too.

Encoding (OTLP spec, "JSON Protobuf Encoding"): ids are case-insensitive hex, not base64; 64-bit
integers (times in ns, ``intValue``) are decimal strings or numbers, kept exact (never through a
float); enums are integers (``kind`` 0-5, ``status.code`` 0-2; absent = 0); unknown fields are ignored.
Attribute values become text: strings as they are, other scalars as JSON, arrays and key-value lists
as JSON text.

The fast path reads the file from the disk 64 MiB of whole lines at a time, each piece with Arrow's
JSON reader (C++, multithreaded, the schema it infers; integers given both as numbers and strings
are made strings first) and flattens and prepares it in polars before the next is read; only a file
it cannot read (bad JSON, a line that is no object, a document spread over lines) goes through
Python's json,
which names the line, byte offset and section of the first wrong value (``resourceSpans[0].
scopeSpans[1].spans[2].startTimeUnixNano``). A line that is not JSON (a request cut short when the
Collector stopped) is skipped and counted in notes; a file with no span is a FormatError.
"""
from __future__ import annotations

import io
import json
import re

import numpy as np
import polars as pl
from polars.exceptions import PanicException

from .._notes import notes_frame
from ..errors import FormatError
from ..traces.builder import RAW, build, empty_raw, prepare
from ..traces.model import ATTR, EVENTS
from ._files import LineGuard, decode_utf8, lines_frame, read_bytes

_VALUE_KEYS = ("stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue")
INT64 = (-(1 << 63), (1 << 63) - 1)
# an integer written as a JSON number where OTLP allows a number or a string (a quote cannot precede
# the key unescaped inside a string value, so string contents are never touched)
_NUMBER = re.compile(rb'(?<!\\)"(intValue|startTimeUnixNano|endTimeUnixNano|timeUnixNano|kind|code)":\s*(-?\d+)(?=[,}\s])')


def _dtype_field(dtype, name):
    """The dtype of field ``name`` of a struct dtype (None when the file never has it)."""
    if isinstance(dtype, pl.Struct):
        for f in dtype.fields:
            if f.name == name:
                return f.dtype
    return None


def _get(e: pl.Expr, dtype, name: str, cast=pl.Utf8) -> pl.Expr:
    """Field ``name`` of a struct expression as ``cast`` (null when absent from the file)."""
    inner = _dtype_field(dtype, name)
    if inner is None:
        return pl.lit(None, dtype=cast)
    f = e.struct.field(name)
    if cast is None:
        return f
    if isinstance(inner, (pl.Struct, pl.List)):
        return f.struct.json_encode() if isinstance(inner, pl.Struct) else f.cast(pl.Utf8, strict=False)
    if cast == pl.Utf8 and inner == pl.Boolean:
        return pl.when(f).then(pl.lit("true")).when(~f).then(pl.lit("false")).otherwise(None)
    return f.cast(cast, strict=False) if inner != cast else f


def _value_text(e: pl.Expr, dtype) -> pl.Expr:
    """An AnyValue as text: strings as they are, numbers and booleans as JSON, arrays and key-value
    lists as JSON text."""
    parts = []
    for k in _VALUE_KEYS:
        inner = _dtype_field(dtype, k)
        if inner is None:
            continue
        f = e.struct.field(k)
        if isinstance(inner, pl.Struct):
            parts.append(f.struct.json_encode())
        else:
            parts.append(_get(e, dtype, k))
    return pl.coalesce(parts) if parts else pl.lit(None, dtype=pl.Utf8)


def _kv_list(e: pl.Expr, dtype) -> pl.Expr:
    """OTLP attributes (a list of {key, value}) as a list of {key, value text}."""
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        return pl.lit([], dtype=ATTR)
    vdt = _dtype_field(dtype.inner, "value")
    el = pl.element()
    return e.list.eval(pl.struct(key=_get(el, dtype.inner, "key"),
                                 value=_value_text(el.struct.field("value"), vdt) if vdt is not None
                                 else pl.lit(None, dtype=pl.Utf8))).cast(ATTR).fill_null([])


def _explode(df: pl.DataFrame, col: str) -> pl.DataFrame:
    return df.explode(col).filter(pl.col(col).is_not_null())


def _fast(src: str, data: bytes) -> pl.DataFrame:
    """Arrow's JSON reader (C++, both cores) with the schema it infers, then polars to flatten:
    requests -> resources -> scopes -> spans. Raises on anything it cannot read; the caller then
    takes the slow path."""
    import pyarrow.json as pj

    tab = pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(block_size=16 << 20))
    if "resourceSpans" not in tab.column_names:
        raise ValueError("no resourceSpans")
    df = pl.from_arrow(tab.select(["resourceSpans"]))
    del tab
    rs = _explode(df.select("resourceSpans"), "resourceSpans")
    del df
    rdt = rs.schema["resourceSpans"].inner if isinstance(rs.schema["resourceSpans"], pl.List) else rs.schema["resourceSpans"]
    r = pl.col("resourceSpans")
    res_dt = _dtype_field(rdt, "resource")
    attrs_dt = _dtype_field(res_dt, "attributes")
    if attrs_dt is not None:
        svc = _kv_list(r.struct.field("resource").struct.field("attributes"), attrs_dt).list.eval(
            pl.element().filter(pl.element().struct.field("key") == "service.name").struct.field("value")).list.first()
    else:
        svc = pl.lit(None, dtype=pl.Utf8)
    ss_dt = _dtype_field(rdt, "scopeSpans")
    if ss_dt is None:
        return empty_raw()
    rs = rs.select(service=svc, ss=r.struct.field("scopeSpans"))
    ss = _explode(rs, "ss")
    sdt = ss.schema["ss"]
    scope_dt = _dtype_field(sdt, "scope")
    ss = ss.select("service", scope=_get(pl.col("ss").struct.field("scope"), scope_dt, "name") if scope_dt is not None
                   else pl.lit(None, dtype=pl.Utf8), spans=pl.col("ss").struct.field("spans")
                   if _dtype_field(sdt, "spans") is not None else pl.lit(None))
    sp = _explode(ss, "spans")
    dt = sp.schema["spans"]
    s = pl.col("spans")
    g = lambda name, cast=pl.Utf8: _get(s, dt, name, cast)  # noqa: E731
    status_dt = _dtype_field(dt, "status")
    ev_dt = _dtype_field(dt, "events")
    if isinstance(ev_dt, pl.List) and isinstance(ev_dt.inner, pl.Struct):
        el = pl.element()
        events = s.struct.field("events").list.eval(pl.struct(
            time_ns=_get(el, ev_dt.inner, "timeUnixNano", pl.Int64), name=_get(el, ev_dt.inner, "name"))).cast(EVENTS)
    else:
        events = pl.lit([], dtype=EVENTS)
    out = sp.select(
        source=pl.lit(src), trace_id=g("traceId"), span_id=g("spanId"), parent_span_id=g("parentSpanId"),
        service="service", scope="scope", name=g("name"), kind=g("kind", pl.Int64),
        start_ns=g("startTimeUnixNano", pl.Int64), end_ns=g("endTimeUnixNano", pl.Int64),
        status_code=_get(s.struct.field("status"), status_dt, "code", pl.Int64) if status_dt is not None
        else pl.lit(None, dtype=pl.Int64),
        status_message=_get(s.struct.field("status"), status_dt, "message") if status_dt is not None
        else pl.lit(None, dtype=pl.Utf8),
        attributes=_kv_list(s.struct.field("attributes"), _dtype_field(dt, "attributes"))
        if _dtype_field(dt, "attributes") is not None else pl.lit([], dtype=ATTR),
        events=events.fill_null([]),
        _start_raw=g("startTimeUnixNano"), _end_raw=g("endTimeUnixNano"), _kind_raw=g("kind"))
    # a time or enum that is not an integer (a float, "abc", past int64) is for the slow path to name
    lost = ((pl.col("start_ns").is_null() & pl.col("_start_raw").is_not_null())
            | (pl.col("end_ns").is_null() & pl.col("_end_raw").is_not_null())
            | (pl.col("kind").is_null() & pl.col("_kind_raw").is_not_null()))
    if out.select(lost.any()).item():
        raise ValueError("a time is not an integer")
    # Arrow reads a number with a fraction as a double: "12.5" times are caught above, 12.0 is not an int
    for c, d in (("startTimeUnixNano", _dtype_field(dt, "startTimeUnixNano")), ("kind", _dtype_field(dt, "kind"))):
        if d is not None and d.is_float():
            raise ValueError(f"{c} read as a float")
    return out.drop("_start_raw", "_end_raw", "_kind_raw")


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
        return x if isinstance(x, str) else json.dumps(x, separators=(",", ":"))
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
        if not ok.all():
            # polars' parser gives up past ~128 levels of nesting, which valid JSON may have
            # (Python's json goes to ~1,000): such lines are judged by Python's json instead.
            # Only a line with that many opening brackets can be one (counted by polars: a damaged
            # file has up to millions of rejected lines)
            many = lines["text"].str.count_matches(r"[\[{]", literal=False) > POLARS_MAX_DEPTH
            cand = ~ok & many
            if cand.any():
                deep = [_max_depth_bound(t.encode("utf-8", "surrogatepass")) > POLARS_MAX_DEPTH
                        for t in lines.filter(cand)["text"].to_list()]
                ok = ok.scatter(cand.arg_true(), pl.Series(deep, dtype=pl.Boolean))
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


PIECE = 64 << 20   # bytes of whole lines read at a time: the nested intermediates stay small


# Arrow infers one nested struct type per level of an attribute's kvlistValue/arrayValue nesting:
# memory and time grow with the depth times the spans (measured: 300 spans nested 80 deep, a
# 1.3 MB file, took 0.9 GB; 150 deep, 1.2 MB, 4.8 GB and 11.6 s). Python's json has no such
# cost, so a piece that may nest deeper than this goes to the slow path.
FAST_MAX_DEPTH = 24
POLARS_MAX_DEPTH = 100
_BLOCK = 4 << 20


_BRACKET_STEP = np.zeros(256, dtype=np.int8)
_BRACKET_STEP[[ord("{"), ord("[")]] = 1
_BRACKET_STEP[[ord("}"), ord("]")]] = -1
_NUMPY_MAX = 16 << 20   # bigger pieces are scanned by a numba kernel (~1 GB/s; numpy ~0.5 GB/s)


def _max_depth_bound(piece: bytes) -> int:
    """An upper bound of the piece's JSON nesting depth (brackets inside strings count too, which
    only errs towards the slow path). Small pieces by numpy, in blocks so that the work arrays stay
    small (no numba start for a small file); big ones by ``json_guard``, which stops at the first
    level past the fast path's limit (or at a raw control character, which Arrow rejects anyway)."""
    b = np.frombuffer(piece, dtype=np.uint8)
    if b.size > _NUMPY_MAX:
        from ._json_kernels import json_guard
        st = np.zeros(4, dtype=np.int64)
        return FAST_MAX_DEPTH + 1 if json_guard(b, st, FAST_MAX_DEPTH) >= 0 else FAST_MAX_DEPTH
    depth = top = 0
    for i in range(0, b.size, _BLOCK):
        run = np.cumsum(_BRACKET_STEP[b[i:i + _BLOCK]], dtype=np.int32)
        if run.size:
            top = max(top, depth + int(run.max()))
            depth += int(run[-1])
    return top


def _fast_piece(src: str, piece: bytes):
    if _max_depth_bound(piece) > FAST_MAX_DEPTH:
        return None
    try:
        return _fast(src, piece)
    except (Exception, PanicException):  # noqa: BLE001 - arrow and polars raise several types on foreign data
        pass
    if _NUMBER.search(piece):
        # 64-bit integers both as numbers (the JS exporter's intValue) and as strings (the spec's, the
        # Collector's): Arrow wants one type per key, so write every such integer as a string first
        try:
            return _fast(src, _NUMBER.sub(rb'"\1":"\2"', piece))
        except (Exception, PanicException):  # noqa: BLE001
            pass
    return None


def _objects(piece: bytes) -> bool:
    """Every line a JSON object (Arrow's reader crashes on a file whose first value is null)."""
    return piece[:1] == b"{" and piece.count(b"\n") - piece.count(b"\n{") == (1 if piece.endswith(b"\n") else 0)


def _fast_file(path, src: str):
    """The spans of the file read PIECE bytes of whole lines at a time from the disk, or None when a
    piece is not one JSON request per line that Arrow reads (the slow path then)."""
    from . import _lines

    parts = []
    for piece in _lines.pieces(path, "request", PIECE):
        if not _objects(piece):
            return None
        part = _fast_piece(src, piece)
        if part is None:
            return None
        parts.append(prepare(part))
        _release()
    return pl.concat(parts, rechunk=False) if parts else None


def _release():
    """Give the pages of Arrow's pool freed by the last piece back (mimalloc keeps them otherwise)."""
    import pyarrow as pa
    pa.default_memory_pool().release_unused()


def parse_otlp(path):
    """(raw span frame, notes) of one OTLP/JSON file."""
    src = str(path)
    raw = _fast_file(path, src)
    bad = []
    if raw is None:
        data = read_bytes(path, LineGuard(path, "request", "OTLP/JSON"))
        if b"\x00" in data[:65536]:
            raise FormatError(path, "request", data.index(b"\x00"), "binary data, not OTLP/JSON")
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
