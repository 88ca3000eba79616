"""The readers' on-disk cache: a parsed file's arrays (and the model's derived arrays) in one file
per input, memory-mapped on the next open, so that re-opening a big file costs page-cache reads
instead of a parse.

Where: ``$WORKBENCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/workbench``, else ``~/.cache/workbench``.
``WORKBENCH_CACHE=0`` turns it off; ``WORKBENCH_CACHE_MAX`` bounds its size (default 8G; oldest
entries are evicted, by last use); inputs smaller than ``WORKBENCH_CACHE_MIN`` (default 32M) are not
cached (they parse in well under a second). Sizes take K, M, G suffixes.

Never stale: an entry is named after the input's real path and holds the input's key (size, mtime,
ctime, inode, a hash of its first and last MiB, and a fingerprint of the reader and model code);
an entry whose key differs from the file's current key is not used and is replaced.

Safe with several processes: an entry is written under a temporary name and renamed into place
(a reader sees a whole entry or none; the last writer wins); entries are checked before use (magic,
length, trailer, every array's bounds and a checksum of its first and last 64 KiB) and a damaged one
is ignored and reported to the caller, never trusted. Arrays are mapped copy-on-write: writing into
one changes this process's copy only, never the file.

Written in two steps (``Writer``): the arrays a parse produces are written as soon as they exist,
in a background thread, while the passes run on the other core; the passes' arrays, the header and
the rename follow when the caller finishes the entry. On the 569 MiB benchmark snapshot this took
the entry's cost off the first open's wall time (the write itself, 572 MiB into a new file, takes
0.3-1.5 s here).

Entry layout: ``b"WBCACHE2"``, u64 header offset, u64 header length, zeros up to byte 64, arrays at
64-byte aligned offsets, the header (JSON: key, arrays with offset, dtype, shape and checksum, the
caller's ``info``, the entry's size), then ``b"WBCEND02"`` and the header offset and length again.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import mmap
import os
import re
import threading
import time
import zlib
from pathlib import Path

import numpy as np

MAGIC = b"WBCACHE2"
TRAILER = b"WBCEND02"
FORMAT = 2
ALIGN = 64
HEAD = 64                     # the first array's offset
HASH_BYTES = 1 << 20          # head and tail hashed into the key
CRC_BYTES = 64 << 10          # each array's first and last bytes carry a checksum
DEFAULT_MAX = 8 << 30
DEFAULT_MIN = 32 << 20
STALE_TMP_S = 3600            # a temporary file this old belongs to a writer that died

_pending: dict[str, list] = {}   # entry path -> this process's writers of it
_lock = threading.Lock()
_serial = iter(range(1, 1 << 62))
_defer = False   # set by a command-line run: entries are written after the answer, by a child


def defer_writes_to_exit() -> None:
    """For a process that prints an answer and exits (the ``workbench`` command): write entries
    only at exit, in a forked child, instead of in a thread beside the passes. On a 2-core machine
    the thread's write (572 MiB into the page cache: 0.3-1.5 s, mostly kernel time here) competed
    with the passes and lengthened the first open; after the exit it costs the user nothing."""
    global _defer
    _defer = True


def _size(text: str | None, default: int) -> int:
    if text is None or not text.strip():
        return default
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?\s*", text)
    if not m:
        return default
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def directory() -> Path:
    """The cache folder (not created here)."""
    d = os.environ.get("WORKBENCH_CACHE_DIR")
    if d:
        return Path(d).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "workbench"


def max_bytes() -> int:
    return _size(os.environ.get("WORKBENCH_CACHE_MAX"), DEFAULT_MAX)


def enabled_for(path, cache) -> bool:
    """Whether to use the cache for ``path``: ``cache`` False never, True always (any size), None
    as the environment says (on unless WORKBENCH_CACHE=0, for files of WORKBENCH_CACHE_MIN and up)."""
    if cache is False:
        return False
    if cache is None:
        if os.environ.get("WORKBENCH_CACHE", "1").strip().lower() in ("0", "no", "off", "false"):
            return False
        try:
            return os.path.getsize(path) >= _size(os.environ.get("WORKBENCH_CACHE_MIN"), DEFAULT_MIN)
        except OSError:
            return False
    return True


def code_fingerprint(files) -> str:
    """A hash of source files whose code decides what an entry holds (a changed reader or pass
    must not read an old entry)."""
    h = hashlib.blake2b(digest_size=16)
    for f in files:
        h.update(Path(f).read_bytes())
    return h.hexdigest()


def file_key(path, kind: str, code: str) -> dict:
    """What identifies the current content of ``path`` (see the module docstring)."""
    real = os.path.realpath(path)
    with open(real, "rb") as f:
        st = os.fstat(f.fileno())
        h = hashlib.blake2b(digest_size=16)
        h.update(f.read(HASH_BYTES))
        if st.st_size > HASH_BYTES:
            f.seek(max(HASH_BYTES, st.st_size - HASH_BYTES))
            h.update(f.read(HASH_BYTES))
    return {"format": FORMAT, "kind": kind, "path": real, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns, "ino": st.st_ino, "dev": st.st_dev, "head_tail": h.hexdigest(),
            "code": code}


def entry_path(key: dict) -> Path:
    name = hashlib.sha256(f"{key['kind']}\0{key['path']}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return directory() / f"{key['kind']}-{name}.wbc"


def _crc(a: np.ndarray) -> int:
    b = a.reshape(-1).view(np.uint8) if a.size else np.empty(0, np.uint8)
    if b.size <= 2 * CRC_BYTES:
        return zlib.crc32(b)
    return zlib.crc32(b[-CRC_BYTES:], zlib.crc32(b[:CRC_BYTES]))


class Entry:
    """A valid entry: ``arrays`` (name -> array, mapped copy-on-write), ``info`` (the caller's dict)."""

    def __init__(self, path: Path, arrays: dict, info: dict, nbytes: int):
        self.path, self.arrays, self.info, self.nbytes = path, arrays, info, nbytes


class Damaged(Exception):
    """An entry that exists but cannot be trusted (the message says why)."""


def _open(p: Path, key: dict) -> Entry | None:
    """The entry at ``p`` for ``key``; None if there is none or it is for another version of the
    file; Damaged if it is broken."""
    try:
        fd = os.open(p, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size < HEAD + 24:
            raise Damaged(f"{size} bytes, shorter than any entry")
        mm = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
    finally:
        os.close(fd)
    if mm[:8] != MAGIC:
        raise Damaged("does not start with the cache magic")
    hoff = int.from_bytes(mm[8:16], "little")
    hlen = int.from_bytes(mm[16:24], "little")
    if hlen <= 0 or hoff < HEAD or hoff + hlen + 24 != size:
        raise Damaged("header offset or length out of range (a truncated or unfinished entry)")
    if mm[size - 24:size - 16] != TRAILER or mm[size - 16:size] != mm[8:24]:
        raise Damaged("no trailer (a truncated or overwritten entry)")
    try:
        header = json.loads(bytes(mm[hoff:hoff + hlen]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise Damaged("header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("size") != size:
        raise Damaged("recorded size differs from the file's size")
    if header.get("key") != key:
        return None   # another version of the input, or of the code: replaced after the parse
    arrays = {}
    try:
        for name, (off, dtype, shape, crc) in header["arrays"].items():
            dt = np.dtype(dtype)
            n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
            nbytes = n * dt.itemsize
            if off < HEAD or off % ALIGN or off + nbytes > hoff:
                raise Damaged(f"array {name} lies outside the entry")
            a = (np.frombuffer(mm, dtype=dt, count=n, offset=off) if n else np.empty(0, dt)).reshape(shape)
            if _crc(a) != crc:
                raise Damaged(f"array {name} fails its checksum")
            arrays[name] = a
        info = header["info"]
    except (KeyError, TypeError, ValueError) as e:
        raise Damaged(f"malformed header ({e})") from None
    return Entry(p, arrays, info, size)


def lookup(key: dict) -> tuple[Entry | None, str | None]:
    """(entry, None) on a hit; (None, None) on a miss; (None, why) when the entry was damaged (it is
    then removed)."""
    p = entry_path(key)
    wait(p)
    try:
        e = _open(p, key)
    except Damaged as d:
        _unlink(p)
        return None, str(d)
    except OSError as err:
        return None, f"cannot be read ({err})"
    if e is not None:
        try:
            os.utime(p)   # last use, for eviction
        except OSError:
            pass
    return e, None


def discard(key: dict) -> None:
    _unlink(entry_path(key))


def _unlink(p) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _pwrite_all(fd: int, data, off: int) -> None:
    mv = memoryview(data).cast("B")
    while mv.nbytes:
        n = os.pwrite(fd, mv, off)
        mv, off = mv[n:], off + n


class Writer:
    """One entry being written: ``add`` arrays as they come (each is written at once, in the
    background), then ``finish(arrays, info)`` with everything the entry holds (arrays already
    added, the same objects under the same names, are not written again), or ``abandon()``. The
    arrays must not change after they are handed over. The entry is renamed into place only once
    whole; a process that exits while it is being written hands the rest to a forked child (the
    CLI exits at once: the entry appears a moment later, complete or not at all)."""

    def __init__(self, key: dict):
        self.key = key
        self.p = entry_path(key)
        self.limit = max_bytes()
        self.tmp = self.p.with_name(f"{self.p.name}.tmp.{os.getpid()}.{next(_serial)}")
        self.off = HEAD
        self.table: dict[str, list] = {}     # name -> [offset, dtype, shape, checksum]
        self.objs: dict[str, np.ndarray] = {}
        self.ops: list = []                  # (kind, offset, payload); None once done
        self.done = 0                        # ops completed
        self.fd = None
        self.state = "open"                  # open -> finished -> committed | failed | abandoned
        self.cv = threading.Condition()
        self.thread = None
        self.handed = False                  # to a forked child at exit: its file is not ours to remove
        with _lock:
            _pending.setdefault(str(self.p), []).append(self)
            global _atexit_set
            if not _atexit_set:
                atexit.register(_finish_at_exit)
                _atexit_set = True

    # -- the caller's side
    def add(self, name: str, a: np.ndarray) -> None:
        a = np.ascontiguousarray(a)
        with self.cv:
            if self.state != "open":
                return
            off = _align(self.off)
            self.table[name] = [off, a.dtype.str, list(a.shape), None]
            self.objs[name] = a
            self.off = off + a.nbytes
            if self.off > self.limit:   # larger than the whole cache: never written
                self.state = "failed"
                self.objs.clear()
                self.ops.clear()
                self.cv.notify_all()
                return
            if a.nbytes:
                self.ops.append(("array", off, (self.table[name], a)))
            else:
                self.table[name][3] = _crc(a)
            self._start()
            self.cv.notify_all()

    def _start(self, now: bool = False) -> None:
        if self.thread is None and (now or not _defer):   # (under self.cv)
            self.thread = threading.Thread(target=self._run, name="workbench-cache-write", daemon=True)
            self.thread.start()

    def finish(self, arrays: dict, info: dict) -> None:
        for name, a in arrays.items():
            if self.objs.get(name) is not a:
                self.add(name, a)
        with self.cv:
            if self.state != "open":
                return
            self.names = list(arrays)
            self.info = info
            self.state = "finished"
            self.ops.append(("header", None, None))
            self._start()
            self.cv.notify_all()

    def abandon(self) -> None:
        with self.cv:
            if self.state == "open":
                self.state = "abandoned"
                self.objs.clear()
                self.ops.clear()
                self.cv.notify_all()
        if self.thread is None:
            _unlink(self.tmp)

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    # -- the writing thread (or, after an exit, the child)
    def _header_bytes(self) -> tuple[int, bytes]:
        hoff = _align(self.off)
        table = {name: self.table[name] for name in self.names}
        size = 0
        while True:   # the recorded size includes the header's own length
            header = json.dumps({"format": FORMAT, "key": self.key, "arrays": table, "info": self.info,
                                 "size": size}).encode()
            want = hoff + len(header) + 24
            if want == size:
                return hoff, header
            size = want

    def _step(self, op) -> bool:
        """Carry out one op; True once the entry is in place."""
        kind, off, payload = op
        if self.fd is None:
            self.p.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT, 0o644)
            _pwrite_all(fd, MAGIC + bytes(HEAD - 8), 0)
            self.fd = fd
        if kind == "array":
            rec, a = payload
            _pwrite_all(self.fd, a.reshape(-1).view(np.uint8), off)
            rec[3] = _crc(a)
            return False
        hoff, header = self._header_bytes()
        if hoff + len(header) + 24 > self.limit:
            raise OSError("the entry would be larger than the whole cache")
        ptr = hoff.to_bytes(8, "little") + len(header).to_bytes(8, "little")
        _pwrite_all(self.fd, header + TRAILER + ptr, hoff)
        os.ftruncate(self.fd, hoff + len(header) + 24)
        _pwrite_all(self.fd, ptr, 8)   # last: until now the entry reads as unfinished
        try:
            os.replace(self.tmp, self.p)
        except FileNotFoundError:
            pass   # another copy of this writer (the parent's thread, or the child) was first
        evict(keep=self.p)
        return True

    def _run(self) -> None:
        try:
            while True:
                with self.cv:
                    while self.done >= len(self.ops) and self.state == "open":
                        self.cv.wait()
                    if self.state in ("failed", "abandoned"):
                        break
                    if self.done >= len(self.ops):
                        break
                    op = self.ops[self.done]
                if self._step(op):
                    with self.cv:
                        self.state = "committed"
                    break
                with self.cv:
                    if self.done < len(self.ops):
                        self.ops[self.done] = None   # the array is written: not held any more
                    self.done += 1
        except OSError:
            with self.cv:
                self.state = "failed"   # a cache that cannot be written is only slower
        finally:
            if self.fd is not None:
                try:
                    os.close(self.fd)
                except OSError:
                    pass
                self.fd = None
            if self.state != "committed" and not self.handed:
                _unlink(self.tmp)
            self.objs = {}
            with _lock:
                ws = _pending.get(str(self.p), [])
                if self in ws:
                    ws.remove(self)
                if not ws:
                    _pending.pop(str(self.p), None)

    def _resume_in_child(self) -> None:
        """In a forked child (only the forking thread exists): redo the op the parent's thread
        was in, and every one after it (the file descriptor, if the thread had opened it, is
        inherited)."""
        for op in self.ops[self.done:]:
            if op is not None and self._step(op):
                return


def store(key: dict, arrays: dict, info: dict, *, background: bool = True) -> None:
    """Write the entry for ``key`` (replacing any) in one go, in the background unless told not
    to (see ``Writer``)."""
    w = Writer(key)
    w.finish(arrays, info)
    if not background:
        wait(w.p)


_atexit_set = False


def _finish_at_exit() -> None:
    with _lock:
        writers = [w for ws in _pending.values() for w in ws]
    jobs = []
    for w in writers:
        with w.cv:
            if w.state == "open":        # never finished (the snapshot was not analysed)
                w.state = "abandoned"
                w.ops.clear()
                w.cv.notify_all()
                _unlink(w.tmp)
            elif w.state == "finished" and (w.thread is None or w.alive()):
                jobs.append(w)
    if not jobs:
        return
    if not hasattr(os, "fork"):
        wait()
        return
    for w in jobs:
        w.handed = True
    try:
        pid = os.fork()
    except OSError:
        for w in jobs:
            w.handed = False
        wait()
        return
    if pid == 0:   # the child: write what the parent's threads had not, then leave
        try:
            # only bytes are written here (no polars: its thread pool does not survive a fork),
            # and the parent's output is let go so that a pipe reader sees its end at once
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            for w in jobs:
                try:
                    w._resume_in_child()
                except OSError:
                    _unlink(w.tmp)
        finally:
            os._exit(0)
    # the parent exits now, without waiting


def wait(p=None) -> None:
    """Wait for this process's finished writes (of the entry at ``p``, or all); writers still
    waiting for their ``finish`` are not waited for."""
    with _lock:
        writers = [w for k, ws in _pending.items() if p is None or k == str(p) for w in ws]
    for w in writers:
        with w.cv:
            finished = w.state == "finished"
        if finished:
            with w.cv:
                w._start(now=True)   # a deferred write is done now: the caller needs it
            w.thread.join()


def entries() -> list[tuple[Path, int, float]]:
    """(path, bytes, last use) of every entry, oldest first."""
    d = directory()
    out = []
    try:
        it = list(os.scandir(d))
    except OSError:
        return out
    now = time.time()
    for e in it:
        try:
            st = e.stat()
        except OSError:
            continue
        if e.name.endswith(".wbc"):
            out.append((Path(e.path), st.st_size, st.st_mtime))
        elif ".wbc.tmp." in e.name and now - st.st_mtime > STALE_TMP_S:
            _unlink(e.path)
    return sorted(out, key=lambda t: t[2])


def evict(keep=None, limit: int | None = None) -> None:
    """Remove the least recently used entries until the folder holds at most ``limit`` bytes
    (default WORKBENCH_CACHE_MAX). A process that has an evicted entry open keeps its mapping."""
    limit = max_bytes() if limit is None else limit
    es = entries()
    total = sum(n for _, n, _ in es)
    for p, n, _ in es:
        if total <= limit:
            break
        if keep is not None and p == Path(keep):
            continue
        _unlink(p)
        total -= n


def clear() -> None:
    """Remove every entry."""
    for p, _, _ in entries():
        _unlink(p)
