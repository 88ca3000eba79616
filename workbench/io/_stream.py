"""A refillable byte window over a (possibly gzip) JSON file, shared by the streaming readers
(heap snapshots, .cpuprofile): absolute offsets for error messages, whitespace-skipping peeks,
keys, and whole values cut out with the balanced scanner of ``_json_kernels``."""
from __future__ import annotations

import json
import mmap
import os
import zlib

import numpy as np

from .. import _aot
from ..errors import FormatError
from ._files import open_stream


class _Kernels:
    """The numba scanners, imported on first use (a snapshot re-opened from the cache never needs
    them, and importing numba costs a quarter of a second)."""

    def __getattr__(self, name):
        from . import _json_kernels
        value = getattr(_json_kernels, name)
        setattr(self, name, value)   # found directly from now on
        return value


K = _Kernels()

CHUNK = 8 * 1024 * 1024   # the window; read when a stream opens (tests shrink it)
# An uncompressed regular file at least this large is read through a memory map, one window at a
# time (no copy out of the page cache: measured ~5% of a 569 MiB snapshot's first open, on the
# reading thread while the other parser waits); windows already parsed are unmapped behind it
# (MADV_DONTNEED), so the mapping adds no more to the resident size than the copied window did.
# ``WORKBENCH_MAP_MIN_BYTES`` overrides it (``workbench compile`` sets 0 to meet both paths).
MAP_MIN_BYTES = 32 * 1024 * 1024


def _map_min() -> int:
    v = os.environ.get("WORKBENCH_MAP_MIN_BYTES", "").strip()
    return int(v) if v.isdigit() else MAP_MIN_BYTES


class ByteStream:
    """``buf[pos:end]`` is the unread window; ``offset(p)`` is the absolute (decompressed) offset."""

    def __init__(self, path: str, bar=None, chunk: int | None = None):
        _aot.install()   # the compiled kernels, when built (once per process; see workbench._aot)
        self.path = path
        self.raw, self.f, self.gz, self.size = open_stream(path)
        self.pos = 0
        self.end = 0
        self.base = 0      # absolute offset of buf[0]
        self.eof = False
        self.bar = bar
        self._last_raw = 0
        self.mm = None
        if not self.gz and self.size >= _map_min() and chunk is None:
            try:
                fd = self.raw.fileno()
                if os.path.isfile(path) and os.fstat(fd).st_size == self.size:
                    self.mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError, AttributeError):
                self.mm = None
        if self.mm is not None:
            self.win = (chunk or CHUNK) * 2
            self.buf = np.frombuffer(self.mm, dtype=np.uint8, count=0)
            self._dropped = 0   # the mapping before this offset was let go (MADV_DONTNEED)
        else:
            self.buf = np.empty((chunk or CHUNK) * 2, dtype=np.uint8)
            self.mv = memoryview(self.buf)

    def close(self):
        try:
            if self.gz:
                self.f.close()
        finally:
            try:
                if self.mm is not None:
                    self.buf = np.empty(0, dtype=np.uint8)   # the last view of the mapping
                    try:
                        self.mm.close()
                    except BufferError:   # a caller still holds a view: unmapped when it goes
                        pass
            finally:
                self.raw.close()

    def _fill_mapped(self) -> bool:
        """fill() over the memory map: the next window starts at the page holding ``pos``."""
        at = self.base + self.pos
        have = self.base + self.end
        if have >= self.size:
            self.eof = True
            return False
        start = at - at % mmap.ALLOCATIONGRANULARITY
        length = min(self.win, self.size - start)
        while start + length <= have:   # a single token larger than the window: grow
            self.win *= 2
            length = min(self.win, self.size - start)
        self.buf = np.frombuffer(self.mm, dtype=np.uint8, count=length, offset=start)
        self.pos, self.end, self.base = at - start, length, start
        if start > self._dropped and hasattr(self.mm, "madvise"):
            try:
                self.mm.madvise(mmap.MADV_DONTNEED, self._dropped, start - self._dropped)
            except (OSError, ValueError):
                pass
            self._dropped = start
        if self.bar is not None:
            self.bar.update(start + length - self._last_raw)
            self._last_raw = start + length
        return True

    def offset(self, pos=None) -> int:
        return self.base + (self.pos if pos is None else pos)

    def fill(self) -> bool:
        """Keep buf[pos:end], read more after it. False at end of file."""
        if self.eof:
            return False
        if self.mm is not None:
            return self._fill_mapped()
        keep = self.end - self.pos
        if self.pos > 0:
            self.buf[:keep] = self.buf[self.pos:self.end]
            self.base += self.pos
            self.pos = 0
            self.end = keep
        if self.end >= len(self.buf):  # a single token larger than the window: grow
            bigger = np.empty(len(self.buf) * 2, dtype=np.uint8)
            bigger[: self.end] = self.buf[: self.end]
            self.buf = bigger
            self.mv = memoryview(self.buf)
        try:
            n = self.f.readinto(self.mv[self.end:])
        except (OSError, EOFError, zlib.error) as e:
            raise FormatError(self.path, "gzip", self.offset(self.end),
                              f"corrupt or truncated gzip stream ({e})") from None
        if self.bar is not None:
            now = self.raw.tell()
            self.bar.update(now - self._last_raw)
            self._last_raw = now
        if not n:
            self.eof = True
            return False
        self.end += n
        return True

    def peek(self) -> int:
        """Next non-whitespace byte (not consumed), or -1 at EOF."""
        while True:
            while self.pos < self.end:
                c = self.buf[self.pos]
                if c in (32, 10, 13, 9):
                    self.pos += 1
                    continue
                return int(c)
            if not self.fill():
                return -1

    def expect(self, ch: bytes | str, section: str, what: str):
        want = ord(ch) if isinstance(ch, str) else ch[0]
        c = self.peek()
        if c != want:
            found = "end of file (truncated)" if c < 0 else repr(chr(c))
            raise FormatError(self.path, section, self.offset(), f"expected {what}, found {found}")
        self.pos += 1

    def read_key(self, section: str) -> str:
        self.expect(b'"', section, "a key")
        start = self.offset()
        out = bytearray()
        escaped = False
        while True:
            while self.pos < self.end:
                c = self.buf[self.pos]
                self.pos += 1
                if c == 34 and not escaped:
                    try:   # strict UTF-8 (json.loads of bytes lets CESU-8 surrogates through)
                        key = json.loads('"' + bytes(out).decode("utf-8") + '"')
                    except ValueError:
                        raise FormatError(self.path, section, start, "malformed key") from None
                    # an escaped lone surrogate (\ud800) cannot be UTF-8: U+FFFD in its place
                    return key if key.isascii() else key.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
                escaped = c == 92 and not escaped
                out.append(c)
                if len(out) > 4096:
                    raise FormatError(self.path, section, start, "key longer than 4096 bytes")
            if not self.fill():
                raise FormatError(self.path, section, self.offset(), "file ends inside a key (truncated)")

    def value_bytes(self, section: str, limit: int | None = None, scalar_to_eof: bool = False,
                    keep: bool = True) -> bytes:
        """The bytes of the next JSON value. ``scalar_to_eof``: a scalar may end the data. ``keep=False``
        skips the value (returns ``b""``): a section nobody reads costs no memory however large."""
        st = np.zeros(4, dtype=np.int64)
        parts = []
        total = 0
        while True:
            start = self.pos
            status, pos = K.scan_value(self.buf, self.pos, self.end, st)
            if keep:
                parts.append(bytes(self.buf[start:pos]))
            total += pos - start
            self.pos = pos
            if limit is not None and total > limit:
                raise FormatError(self.path, section, self.offset(), f"section larger than {limit} bytes")
            if status == 1:
                return b"".join(parts)
            if status == K.ERR_DEPTH:
                raise FormatError(self.path, section, self.offset(pos), "JSON nested too deeply")
            if status < 0:
                raise FormatError(self.path, section, self.offset(pos), "invalid JSON value")
            if not self.fill():
                if scalar_to_eof and st[1] == 3:
                    return b"".join(parts)
                raise FormatError(self.path, section, self.offset(), "file ends inside this section (truncated)")
