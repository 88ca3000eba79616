"""The readers' one file layer: gzip detection, the decompressed head of a file (for the format
table), a whole file as bytes or text, and a file's lines as a frame, with FormatErrors that name
the file, the section and the byte offset. Every reader opens files through here (the streaming
readers through ``_stream.ByteStream``, which uses ``open_stream``).

Offsets: damage to a gzip stream is reported at the compressed offset of the 1 MiB block in which
zlib detected it (zlib itself does not say where), a truncated gzip stream at the file's size;
everything else at offsets in the decompressed data, which is what the readers see.

Hostile input: a gzip file is inflated 1 MiB at a time and a reader may pass a *guard* that looks at
each piece as it arrives (``LineGuard``: a NUL byte at the start of a text export, a line longer than
64 MiB; ``JsonGuard``: a control character or nesting deeper than the JSON decoder accepts), so that a
gzip bomb of zeros or of ``[`` is refused after its first megabytes instead of being inflated whole.
A path that is a folder, or cannot be opened, is a WorkbenchError naming it.
"""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from ..errors import FormatError, WorkbenchError

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 4096
_BLOCK = 1 << 20
MAX_LINE = 64 << 20          # no text export has a longer line
MAX_JSON_DEPTH = 200_000     # deeper than the JSON decoder goes (``_jsonfile._loads_deep``)


def open_binary(path):
    """``open(path, "rb")`` with a WorkbenchError naming the path for a folder or an unreadable file."""
    try:
        return open(path, "rb")
    except IsADirectoryError:
        raise FormatError(path, "file", None, "is a directory, not a file") from None
    except FileNotFoundError:
        raise WorkbenchError("no such file", path) from None
    except PermissionError:
        raise WorkbenchError("permission denied", path) from None
    except OSError as e:
        raise WorkbenchError(f"cannot read the file ({e.strerror or e})", path) from None


class Stop(Exception):
    """Raised by a guard: keep the first ``keep`` decompressed bytes and inflate no further (the
    reader then reports what is wrong there, as it would have on the whole file)."""

    def __init__(self, keep: int):
        super().__init__(keep)
        self.keep = keep


class LineGuard:
    """For text exports: a NUL byte in the first 64 KiB (with ``binary_what``) or a line longer than
    ``MAX_LINE`` stops the inflation with a FormatError."""

    def __init__(self, path, section: str, binary_what: str | None = None, max_line: int = MAX_LINE):
        self.path, self.section, self.binary_what, self.max_line = path, section, binary_what, max_line
        self.run = 0

    def feed(self, chunk: bytes, offset: int):
        if self.binary_what and offset < 65536:
            i = chunk.find(b"\x00", 0, 65536 - offset)
            if i >= 0:
                raise FormatError(self.path, self.section, offset + i, f"binary data, not {self.binary_what}")
        i = chunk.rfind(b"\n")
        self.run = self.run + len(chunk) if i < 0 else len(chunk) - i - 1
        if self.run > self.max_line:
            raise FormatError(self.path, self.section, offset + len(chunk) - self.run,
                              f"a line longer than {self.max_line >> 20} MiB: not a text export")


class JsonGuard:
    """For JSON documents: a raw control character (never valid JSON) or nesting deeper than
    ``MAX_JSON_DEPTH`` stops the inflation with a FormatError."""

    def __init__(self, path, section: str):
        import numpy as np

        from . import _json_kernels as K

        self.path, self.section, self.K, self.np = path, section, K, np
        self.st = np.zeros(4, dtype=np.int64)

    def feed(self, chunk: bytes, offset: int):
        i = self.K.json_guard(self.np.frombuffer(chunk, dtype=self.np.uint8), self.st, MAX_JSON_DEPTH)
        if i >= 0:
            if self.st[3] == 1:
                raise FormatError(self.path, self.section, offset + i,
                                  f"invalid JSON (control character 0x{chunk[i]:02x})")
            raise FormatError(self.path, self.section, offset + i, "JSON nested too deeply")


def head(path, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a file, decompressed if it is gzip (``b""`` for a folder)."""
    p = Path(path)
    if p.is_dir():
        return b""
    with open_binary(p) as f:
        raw = f.read(n)
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        with gzip.open(p, "rb") as g:
            return g.read(n)
    except (OSError, EOFError, zlib.error) as e:
        raise FormatError(path, "gzip", 0, f"corrupt gzip stream ({e})") from None


def gunzip(path, data: bytes, guard=None) -> bytes:
    """Decompress every member of a gzip file held in memory (see the module doc for offsets), at
    most 1 MiB of output at a time; ``guard.feed(piece, offset)`` sees every piece first."""
    out = []
    total = 0
    pos = 0
    n = len(data)
    while pos < n:
        d = zlib.decompressobj(wbits=31)
        at = pos          # where the next compressed block starts
        block = pos       # the compressed block being inflated (for error offsets)
        try:
            while not d.eof:
                if d.unconsumed_tail:
                    piece = d.decompress(d.unconsumed_tail, _BLOCK)
                elif at < n:
                    block = at
                    piece = d.decompress(data[at:at + _BLOCK], _BLOCK)
                    at = min(at + _BLOCK, n)
                else:
                    break
                if piece:
                    if guard is not None:
                        try:
                            guard.feed(piece, total)
                        except Stop as stop:
                            out.append(piece)
                            return b"".join(out)[:stop.keep]
                    out.append(piece)
                    total += len(piece)
        except zlib.error as e:
            raise FormatError(path, "gzip", block, f"corrupt gzip stream ({e})") from None
        if not d.eof:
            raise FormatError(path, "gzip", n, "truncated gzip stream (the file ends inside it)")
        pos = at - len(d.unused_data)     # the end of this member
        if data[pos:pos + 2] == GZIP_MAGIC:
            continue
        if not data[pos:].strip(b"\x00"):   # zero padding after the last member is allowed (gzip(1) does)
            break
        raise FormatError(path, "gzip", pos, "data after the end of the gzip stream")
    return b"".join(out)


def read_bytes(path, guard=None) -> bytes:
    """The whole file, gunzipped when it starts with the gzip magic (``guard``: see ``gunzip``)."""
    with open_binary(path) as f:
        data = f.read()
    return gunzip(path, data, guard) if data[:2] == GZIP_MAGIC else data


def decode_utf8(path, section: str, data: bytes, what: str = "text") -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(path, section, e.start, f"not UTF-8 {what}") from None


def read_text(path, section: str, *, binary_what: str | None = "a text export") -> str:
    """The whole file as UTF-8 text. With ``binary_what``, a NUL byte in the first 64 KiB is a
    FormatError ("binary data, not <binary_what>")."""
    data = read_bytes(path, LineGuard(path, section, binary_what))
    if binary_what and b"\x00" in data[:65536]:
        raise FormatError(path, section, data.index(b"\x00"), f"binary data, not {binary_what}")
    return decode_utf8(path, section, data)


def lines_frame(text: str):
    """One row per line (``line`` 1-based, ``text`` without its ``\\r``); the empty string after a
    final newline is not a line."""
    import polars as pl

    # split by polars, not str.split: millions of short lines are millions of Python strings
    lines = pl.Series("text", [text], dtype=pl.Utf8).str.split("\n").explode()
    if len(lines) and lines[-1] == "":
        lines = lines.head(len(lines) - 1)
    return pl.DataFrame({"line": pl.arange(1, len(lines) + 1, eager=True).cast(pl.Int64),
                         "text": lines.str.strip_suffix("\r")})


def open_stream(path):
    """(raw file, readable stream, is_gzip, compressed size): the stream decompresses on the fly."""
    raw = open_binary(path)
    gz = raw.read(2) == GZIP_MAGIC
    raw.seek(0)
    size = os.fstat(raw.fileno()).st_size
    return raw, (gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw), gz, size
