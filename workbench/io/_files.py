"""The readers' one file layer: gzip detection, the decompressed head of a file (for the format
table), a whole file as bytes or text, and a file's lines as a frame, with FormatErrors that name
the file, the section and the byte offset. Every reader opens files through here (the streaming
readers through ``_stream.ByteStream``, which uses ``open_stream``).

Offsets: damage to a gzip stream is reported at the compressed offset of the 1 MiB block in which
zlib detected it (zlib itself does not say where), a truncated gzip stream at the file's size;
everything else at offsets in the decompressed data, which is what the readers see.
"""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from ..errors import FormatError

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 4096
_BLOCK = 1 << 20


def head(path, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a file, decompressed if it is gzip (``b""`` for a folder)."""
    p = Path(path)
    if p.is_dir():
        return b""
    with open(p, "rb") as f:
        raw = f.read(n)
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        with gzip.open(p, "rb") as g:
            return g.read(n)
    except (OSError, EOFError, zlib.error) as e:
        raise FormatError(path, "gzip", 0, f"corrupt gzip stream ({e})") from None


def gunzip(path, data: bytes) -> bytes:
    """Decompress every member of a gzip file held in memory (see the module doc for offsets)."""
    out = []
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        at = pos
        try:
            while at < len(data) and not d.eof:
                out.append(d.decompress(data[at:at + _BLOCK]))
                at += _BLOCK
        except zlib.error as e:
            raise FormatError(path, "gzip", at, f"corrupt gzip stream ({e})") from None
        if not d.eof:
            raise FormatError(path, "gzip", len(data), "truncated gzip stream (the file ends inside it)")
        pos = len(data) - len(d.unused_data)
        rest = d.unused_data
        if not rest.strip(b"\x00"):       # zero padding after the last member is allowed (gzip(1) does)
            break
        if rest[:2] != GZIP_MAGIC:
            raise FormatError(path, "gzip", pos, "data after the end of the gzip stream")
    return b"".join(out)


def read_bytes(path) -> bytes:
    """The whole file, gunzipped when it starts with the gzip magic."""
    with open(path, "rb") as f:
        data = f.read()
    return gunzip(path, data) if data[:2] == GZIP_MAGIC else data


def decode_utf8(path, section: str, data: bytes, what: str = "text") -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(path, section, e.start, f"not UTF-8 {what}") from None


def read_text(path, section: str, *, binary_what: str | None = "a text export") -> str:
    """The whole file as UTF-8 text. With ``binary_what``, a NUL byte in the first 64 KiB is a
    FormatError ("binary data, not <binary_what>")."""
    data = read_bytes(path)
    if binary_what and b"\x00" in data[:65536]:
        raise FormatError(path, section, data.index(b"\x00"), f"binary data, not {binary_what}")
    return decode_utf8(path, section, data)


def lines_frame(text: str):
    """One row per line (``line`` 1-based, ``text`` without its ``\\r``); the empty string after a
    final newline is not a line."""
    import polars as pl

    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return pl.DataFrame({"line": pl.arange(1, len(lines) + 1, eager=True).cast(pl.Int64),
                         "text": pl.Series(lines, dtype=pl.Utf8).str.strip_suffix("\r")})


def open_stream(path):
    """(raw file, readable stream, is_gzip, compressed size): the stream decompresses on the fly."""
    raw = open(path, "rb")
    gz = raw.read(2) == GZIP_MAGIC
    raw.seek(0)
    size = os.fstat(raw.fileno()).st_size
    return raw, (gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw), gz, size
