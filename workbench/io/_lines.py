"""Whole lines of a file, about PIECE bytes at a time, straight from the disk (gunzipped on the fly),
for the line-oriented readers of big files (logs, OTLP requests): a 1 GB file is never held whole.
A line longer than MAX_LINE is a FormatError; a file that starts with a NUL byte is the caller's to
refuse (``first``)."""
from __future__ import annotations

import zlib

from ..errors import FormatError
from ._files import MAX_LINE, open_stream

PIECE = 64 << 20


def pieces(path, section: str, size: int | None = None):
    """Yield byte strings of whole lines (the last may lack its newline), about ``size`` bytes each."""
    size = size or PIECE
    raw, stream, gz, _ = open_stream(path)
    carry = b""
    step = min(size, 1 << 20)   # read() allocates what it is asked for: small steps for small files

    def read():
        got, n = [], 0
        while n < size:
            try:
                b = stream.read(step)
            except (OSError, EOFError, zlib.error) as e:
                raise FormatError(path, "gzip", None, f"corrupt gzip stream ({e})") from None
            if not b:
                break
            got.append(b)
            n += len(b)
        return b"".join(got)

    try:
        while True:
            block = read()
            if not block:
                if carry:
                    yield carry
                return
            buf = carry + block if carry else block
            cut = buf.rfind(b"\n")
            if cut < 0:
                if len(buf) > MAX_LINE:
                    raise FormatError(path, section, None, f"a line longer than {MAX_LINE >> 20} MiB")
                carry = buf
                continue
            carry = buf[cut + 1:]
            yield buf[:cut + 1]
    finally:
        raw.close()
