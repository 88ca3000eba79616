"""Shared pieces of the metrics readers: the long-table schema, the problems table, text loading.

Every metrics reader returns a ``ReadResult``: rows of the one long table (``source, ts, metric,
value, unit, labels``; ``run`` is added by ``load_metrics``), optional per-event rows (one row per
GC for GC logs and Doctor trace events), the lines it could not parse (``problems``: source, line,
reason, text — nothing is dropped silently) and a small ``info`` dict of counts.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field

import polars as pl

from ..errors import FormatError

TS = pl.Datetime("us", "UTC")
SCHEMA = {"source": pl.Utf8, "ts": TS, "metric": pl.Utf8, "value": pl.Float64,
          "unit": pl.Utf8, "labels": pl.Utf8}
PROBLEMS_SCHEMA = {"source": pl.Utf8, "line": pl.Int64, "reason": pl.Utf8, "text": pl.Utf8}
# Unit strings used in the table: B (bytes), s, ms, ns, 1 (ratio), % (percent), count, "" (unknown).


@dataclass
class ReadResult:
    table: pl.DataFrame
    problems: pl.DataFrame
    info: dict = field(default_factory=dict)
    events: pl.DataFrame | None = None   # GC events: one row per collection


def empty_table() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEMS_SCHEMA)


def problems_frame(source: str, lines, reason, texts) -> pl.DataFrame:
    lines = list(lines) if not isinstance(lines, pl.Series) else lines
    n = len(lines)
    reasons = [reason] * n if isinstance(reason, str) else reason
    return pl.DataFrame({"source": [source] * n, "line": lines, "reason": reasons,
                         "text": texts}, schema=PROBLEMS_SCHEMA)


def read_bytes(path) -> bytes:
    """The whole file, gunzipped if it is gzip; a corrupt gzip stream is a FormatError."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise FormatError(path, "gzip", 0, f"corrupt gzip stream ({e})") from None
    return data


def read_text(path, section: str) -> str:
    data = read_bytes(path)
    if b"\x00" in data[:65536]:
        raise FormatError(path, section, data.index(b"\x00"), "binary data, not a text export")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(path, section, e.start, "not UTF-8 text") from None


def lines_frame(text: str) -> pl.DataFrame:
    """One row per line with its 1-based number; a final empty line (trailing newline) is dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return pl.DataFrame({"line": pl.arange(1, len(lines) + 1, eager=True).cast(pl.Int64),
                         "text": pl.Series(lines, dtype=pl.Utf8).str.strip_suffix("\r")})


def ms_to_ts(expr: pl.Expr) -> pl.Expr:
    """Unix milliseconds (float) to the table's UTC datetime."""
    return (expr * 1000.0).round(0).cast(pl.Int64).cast(TS)


def source_name(path) -> str:
    return os.fspath(path)
