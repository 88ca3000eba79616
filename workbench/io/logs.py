"""Reader for application logs: JSON lines from pino (numeric levels, ``time`` in ms, ``msg``, pino-http's
``req``/``res``/``responseTime``, ``err`` with type/message/stack, OpenTelemetry's ``trace_id``/``span_id``),
bunyan (ISO ``time``, ``v``, ``err.name``, ``req_id``, ``latency``) and winston's ``format.json()``
(named levels, ``message``, optional ``timestamp``, top-level ``stack``), and Node's own stderr lines:
``(node:PID) [CODE] Name: message`` warnings (their indented or ``    at`` lines and the "Use `node
--trace-warnings ...`" hint attach to the warning) and the ``[UnhandledPromiseRejection: ...]`` crash.
A file may mix them (stdout and stderr in one file).

Every other line is counted in ``notes`` with its line numbers (section ``line 3, 17, ...``): text
that is no record, JSON that does not parse (NaN, a cut line), JSON that is not an object. A file
with no record at all is a FormatError.

How: the file is read from the disk 64 MiB of whole lines at a time (``_lines.pieces``, gunzipped on
the fly); in each piece the lines that do not start with ``{`` are found with numpy and written as
``{}``, and polars decodes the piece in one pass with a fixed schema (``req``/``res``/``err`` as
structs, or as JSON text when some record has them as something else), so a key that appears late
is never lost to schema inference; the piece is typed (``logs.builder.records``) before the next is
read. A piece with a line that is bad JSON sends the file to the general path, which reads it whole
and finds the lines one by one. With duplicate keys polars keeps the first (pino's child bindings
mean the last). ``fields=False`` leaves ``fields`` (each record's whole text) null.
"""
from __future__ import annotations

import io
import re

import polars as pl
from polars.exceptions import PanicException

from .._notes import notes_frame
from ..errors import FormatError
from ..logs.builder import build, records
from ._files import LineGuard, decode_utf8, lines_frame, read_bytes

# top-level keys read from each JSON record (everything else stays in ``fields``)
JSON_SCHEMA = {k: pl.Utf8 for k in (
    "level", "time", "timestamp", "msg", "message", "trace_id", "traceId", "span_id", "spanId", "req_id",
    "reqId", "route", "req", "res", "responseTime", "latency", "duration_ms", "statusCode", "status",
    "method", "url", "err", "error", "stack", "pid", "hostname", "name", "v")}
_ERR = pl.Struct({k: pl.Utf8 for k in ("type", "name", "message", "stack")})
# the same with pino-http's and pino's nested objects read as structs (one parse; a record where one
# of them is not an object makes polars refuse, and the text schema above is used instead)
STRUCT_SCHEMA = JSON_SCHEMA | {"req": pl.Struct({k: pl.Utf8 for k in ("id", "method", "url", "route")}),
                               "res": pl.Struct({"statusCode": pl.Utf8}), "err": _ERR, "error": _ERR}
RAW_COLUMNS = ("source", "line", "format", "time_raw", "level_raw", "msg", "trace_id", "span_id", "req_id",
               "method", "route", "status", "duration_ms", "err_type", "err_message", "err_stack", "pid",
               "hostname", "fields")
WARNING = re.compile(r"^\(node:(\d+)\) (?:\[([A-Z0-9_]+)\] )?([A-Za-z_]*(?:Warning|Error))(?:: (.*))?$")
REJECTION = re.compile(r"^\[(UnhandledPromiseRejection): (.*?)\]?(?: \{)?$")
CONTINUATION = re.compile(r"^(\s+\S|\(Use `node --trace-|\}$)")   # indented, the hint, the end of an inspected error


def _decode_json(src: str, js: pl.DataFrame, data: bytes | None = None) -> pl.DataFrame:
    """Raw columns of the JSON lines ``js``; ``data``: the file's bytes when they are exactly these
    lines (no blank line, nothing else), so polars reads them without a copy in Python."""
    if data is None:
        data = _joined(js)
    try:
        df = pl.read_ndjson(io.BytesIO(data), schema=STRUCT_SCHEMA)
        nested = True
    except (Exception, PanicException):  # noqa: BLE001 - a req/res/err that is not an object somewhere
        df = pl.read_ndjson(io.BytesIO(data), schema=JSON_SCHEMA)
        nested = False
    if len(df) != len(js):   # read_ndjson skips nothing we kept; a mismatch means a line split in two
        raise ValueError("record count mismatch")
    del data
    df = df.with_columns(line=js["line"], fields=js["text"])
    if nested:
        sub = lambda col, key: pl.col(col).struct.field(key)  # noqa: E731
    else:
        # nested objects kept as JSON text: only objects have sub-fields
        df = df.with_columns(**{c: pl.when(pl.col(c).str.starts_with("{")).then(pl.col(c))
                                for c in ("req", "res", "err", "error")})
        sub = lambda col, key: pl.col(col).str.json_path_match(f"$.{key}")  # noqa: E731
    is_num_level = pl.col("level").cast(pl.Float64, strict=False).is_not_null()
    fmt = (pl.when(pl.col("v").is_not_null() & pl.col("hostname").is_not_null()).then(pl.lit("bunyan"))
           .when(is_num_level).then(pl.lit("pino"))
           .when(pl.col("level").is_not_null() & pl.col("message").is_not_null()).then(pl.lit("winston"))
           .otherwise(pl.lit("json")))
    err = lambda key: pl.coalesce(sub("err", key), sub("error", key))  # noqa: E731
    return df.select(
        source=pl.lit(src), line="line", format=fmt,
        time_raw=pl.coalesce("time", "timestamp"),
        level_raw="level",
        msg=pl.coalesce("msg", "message"),
        trace_id=pl.coalesce("trace_id", "traceId"),
        span_id=pl.coalesce("span_id", "spanId"),
        req_id=pl.coalesce(sub("req", "id"), "reqId", "req_id"),
        method=pl.coalesce(sub("req", "method"), "method"),
        route=pl.coalesce("route", sub("req", "route"), pl.coalesce(sub("req", "url"), "url").str.replace(r"\?.*$", "")),
        status=pl.coalesce(sub("res", "statusCode"), "statusCode", "status"),
        duration_ms=pl.coalesce("responseTime", "latency", "duration_ms"),
        err_type=pl.coalesce(err("type"), err("name")),
        err_message=err("message"),
        err_stack=pl.coalesce(err("stack"), "stack"),
        pid="pid", hostname="hostname", fields="fields")


def _split(path, data: bytes) -> pl.DataFrame:
    """One row per line (``line`` 1-based, ``text`` without its line end), split by polars' CSV reader
    (one column, no quoting), or by ``lines_frame`` for text that has the separator byte in it."""
    if b"\x1f" not in data:
        try:
            lines = pl.read_csv(io.BytesIO(data), has_header=False, separator="\x1f", quote_char=None,
                                new_columns=["text"], schema={"text": pl.Utf8})
            return lines.select(line=pl.int_range(1, len(lines) + 1, dtype=pl.Int64),
                                text=pl.col("text").fill_null("").str.strip_suffix("\r"))
        except (Exception, PanicException):  # noqa: BLE001 - not UTF-8, ...: the general path says what
            pass
    return lines_frame(decode_utf8(path, "records", data, "log lines"))


def _joined(js: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    js.select("text").write_csv(buf, include_header=False, quote_style="never")
    return buf.getvalue()


def _json_rows(path, src: str, js: pl.DataFrame, data: bytes | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw records, bad lines) of the lines that look like JSON objects (``data``: the file's bytes
    when they are exactly these lines)."""
    if not len(js):
        return pl.DataFrame(schema={c: pl.Utf8 for c in RAW_COLUMNS}), js.clear()
    try:
        return _decode_json(src, js, data), js.clear()
    except (Exception, PanicException):  # noqa: BLE001 - polars raises several types on bad JSON
        pass
    # slow path only on damaged files: which lines polars does not read as one JSON document
    try:
        ok = js["text"].str.json_path_match("$").is_not_null()
    except (Exception, PanicException):  # noqa: BLE001
        ok = pl.Series([_parses(t) for t in js["text"]], dtype=pl.Boolean)
    good, bad = js.filter(ok), js.filter(~ok)
    try:
        return _decode_json(src, good), bad
    except (Exception, PanicException):  # noqa: BLE001 - one by one, then
        keep = pl.Series([_decodes(t) for t in good["text"]], dtype=pl.Boolean)
        bad = pl.concat([bad, good.filter(~keep)]).sort("line")
        good = good.filter(keep)
        if not len(good):
            return pl.DataFrame(schema={c: pl.Utf8 for c in RAW_COLUMNS}), bad
        try:
            return _decode_json(src, good), bad
        except (Exception, PanicException) as e:  # noqa: BLE001
            raise FormatError(path, "records", None, f"the JSON records do not make one table ({type(e).__name__})") from None


def _parses(text: str) -> bool:
    import json
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


def _decodes(text: str) -> bool:
    try:
        pl.read_ndjson(io.BytesIO(text.encode()), schema=JSON_SCHEMA)
        return True
    except (Exception, PanicException):  # noqa: BLE001
        return False


def _text_rows(src: str, tx: pl.DataFrame) -> tuple[list[dict], list[int]]:
    """Node's stderr warnings from the non-JSON lines: (records, line numbers that are no record)."""
    recs, other = [], []
    prev_line = None
    for line, text in tx.select("line", "text").iter_rows():
        m = WARNING.match(text)
        r = REJECTION.match(text) if m is None else None
        if m or r:
            if m:
                pid, code, name, message = m.groups()
                fields = {"pid": int(pid)} | ({"code": code} if code else {})
            else:
                pid, code, (name, message) = None, None, r.groups()
                fields = {"code": "ERR_UNHANDLED_REJECTION"}
            import json
            recs.append(dict(source=src, line=line, format="node-warning", time_raw=None,
                             level_raw="fatal" if r else "warn", msg=text, trace_id=None, span_id=None,
                             req_id=None, method=None, route=None, status=None, duration_ms=None,
                             err_type=name, err_message=message, err_stack=None,
                             pid=pid, hostname=None, fields=json.dumps(fields)))
            prev_line = line
            continue
        if recs and prev_line == line - 1 and CONTINUATION.match(text):
            rec = recs[-1]
            rec["err_stack"] = text if rec["err_stack"] is None else rec["err_stack"] + "\n" + text
            prev_line = line
            continue
        other.append(line)
    return recs, other


def _section(lines: list[int]) -> str:
    return "line " + ", ".join(map(str, lines[:10])) + (" ..." if len(lines) > 10 else "")


MAX_TEXT_LINES = 1_000_000
_CHUNK = 64 << 20


def _line_starts(data: bytes):
    """Byte offsets of every line start (numpy, 64 MiB at a time: no file-sized temporary)."""
    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8)
    parts = [np.zeros(1, dtype=np.int64)]
    for at in range(0, len(arr), _CHUNK):
        nl = np.flatnonzero(arr[at:at + _CHUNK] == 10)
        parts.append(nl.astype(np.int64) + (at + 1))
    starts = np.concatenate(parts)
    return arr, starts[starts < len(arr)] if len(arr) else starts[:0]


def _patched(data: bytes):
    """(the bytes with every line that does not start with '{' written as '{}', [(line number, text)]
    of those lines), or None for a file with more than MAX_TEXT_LINES of them (a text log)."""
    import numpy as np

    arr, starts = _line_starts(data)
    other = np.flatnonzero(arr[starts] != ord("{")) if len(starts) else starts
    if len(other) > MAX_TEXT_LINES:
        return None
    if not len(other):
        return data, []
    pieces, others = [], []
    pos = 0
    n = len(data)
    for k in other.tolist():
        a = int(starts[k])
        b = int(starts[k + 1]) - 1 if k + 1 < len(starts) else (n - 1 if data.endswith(b"\n") else n)
        pieces += [data[pos:a], b"{}"]
        pos = b
        others.append((k + 1, data[a:b]))
    pieces.append(data[pos:])
    return b"".join(pieces), others


PIECE = 64 << 20   # bytes of whole lines decoded at a time


def _fast_records(path, src: str, fields: bool):
    """``_fast_piece`` over the file 64 MiB of whole lines at a time, read from the disk (line numbers
    carried on); None as soon as a piece is not plain JSON lines and Node warnings."""
    from . import _lines

    raws, txs, offset = [], [], 0
    for k, piece in enumerate(_lines.pieces(path, "records", PIECE)):
        if k == 0 and (b"\x00" in piece[:65536] or b"{" not in piece[:65536]):
            return None
        got = _fast_piece(path, src, piece, fields)
        if got is None:
            return None
        raw, tx = got
        n = piece.count(b"\n") + (0 if piece.endswith(b"\n") else 1)
        if offset:
            raw = raw.with_columns(pl.col("line") + offset)
            tx = tx.with_columns(pl.col("line") + offset)
        raws.append(records(raw))    # typed piece by piece: the raw text columns never pile up
        txs.append(tx)
        offset += n
    if not raws:
        return None
    return pl.concat(raws, rechunk=False), pl.concat(txs)


def _fast_piece(path, src: str, data: bytes, fields: bool):
    """Every line's record in one polars pass over the file's bytes (lines that are no JSON object
    written as '{}' first, then left out), or None when some JSON line is bad (the general path then
    names the lines)."""
    patched = _patched(data)
    if patched is None:
        return None
    data, others = patched
    n = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    lines = pl.DataFrame({"line": pl.int_range(1, n + 1, dtype=pl.Int64, eager=True)})
    if fields:
        text = _split(path, data)
        if len(text) != n:
            return None
        lines = text
    try:
        raw = _decode_json(src, lines if fields else lines.with_columns(text=pl.lit(None, dtype=pl.Utf8)), data)
    except (Exception, PanicException):  # noqa: BLE001 - a bad JSON line: the general path finds it
        return None
    del data
    if others:
        raw = raw.filter(~pl.col("line").is_in(pl.Series([ln for ln, _ in others], dtype=pl.Int64).implode()))
    tx = []
    for ln, b in others:
        try:
            t = b.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            return None
        if t.strip():
            tx.append((ln, t))
    tx = pl.DataFrame(tx, schema={"line": pl.Int64, "text": pl.Utf8}, orient="row")
    indented = tx["text"].str.strip_chars_start().str.starts_with("{")
    if indented.any():   # JSON records after some whitespace: rare, read on their own
        more, bad = _json_rows(path, src, tx.filter(indented))
        if len(bad):
            return None
        raw = pl.concat([raw.select(RAW_COLUMNS), more.select(RAW_COLUMNS)], how="vertical_relaxed").sort("line")
        tx = tx.filter(~indented)
    return raw, tx


def parse_logs(path, fields: bool = True):
    """(raw records frame, notes) of one log file; the builder types them. ``fields=False`` leaves the
    ``fields`` column (each record's whole JSON text) empty: half the memory on big files."""
    src = str(path)
    fast = _fast_records(path, src, fields)
    if fast is not None:
        raw, tx = fast
        bad = tx.clear()
    else:
        data = read_bytes(path, LineGuard(path, "records", "a log"))
        if b"\x00" in data[:65536]:
            raise FormatError(path, "records", data.index(b"\x00"), "binary data, not a log")
        lines = _split(path, data)
        blank = lines["text"].str.strip_chars() == ""
        lines = lines.filter(~blank)
        is_json = lines["text"].str.strip_chars_start().str.starts_with("{")
        js, tx = lines.filter(is_json), lines.filter(~is_json)
        del data, lines
        raw, bad = _json_rows(path, src, js)
        del js
    recs, other = _text_rows(src, tx)
    if "severity" not in raw.columns:
        raw = raw.select(RAW_COLUMNS).cast({c: pl.Utf8 for c in RAW_COLUMNS if c != "line"} | {"line": pl.Int64})
    if recs:
        more = pl.DataFrame(recs, schema={c: (pl.Int64 if c == "line" else pl.Utf8) for c in RAW_COLUMNS})
        if "severity" in raw.columns:
            more = records(more)
        raw = pl.concat([raw, more], rechunk=False).sort("line")
    notes = []
    if len(bad):
        notes.append((src, _section(bad["line"].to_list()), len(bad), "lines that are not JSON objects (skipped)"))
    if other:
        notes.append((src, _section(other), len(other), "lines that are not log records (skipped)"))
    if not len(raw):
        raise FormatError(path, "records", 0, "no log records (JSON lines from pino, bunyan or winston, "
                          "or Node warnings)")
    return raw, notes_frame(notes)


def read_log(path, fields: bool = True):
    """One log file as a Logs model."""
    raw, notes = parse_logs(path, fields)
    return build([(records(raw), notes)])


def read_logs(paths, quiet: bool = True):
    """Several log files as one Logs model (records in file order, then line order)."""
    parts = []
    for p in paths:
        raw, notes = parse_logs(p)
        parts.append((records(raw), notes))
    return build(parts)
