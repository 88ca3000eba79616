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

Entry layout: ``b"WBCACHE1"``, u64 header length, the header (JSON: key, arrays with offset, dtype,
shape and checksum, the caller's ``info``), arrays at 64-byte aligned offsets, then ``b"WBCEND01"``
and the header length again.
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

MAGIC = b"WBCACHE1"
TRAILER = b"WBCEND01"
FORMAT = 1
ALIGN = 64
HASH_BYTES = 1 << 20          # head and tail hashed into the key
CRC_BYTES = 64 << 10          # each array's first and last bytes carry a checksum
DEFAULT_MAX = 8 << 30
DEFAULT_MIN = 32 << 20
STALE_TMP_S = 3600            # a temporary file this old belongs to a writer that died

_pending: dict[str, threading.Thread] = {}
_lock = threading.Lock()


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
        if size < 32:
            raise Damaged(f"{size} bytes, shorter than any entry")
        mm = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
    finally:
        os.close(fd)
    if mm[:8] != MAGIC:
        raise Damaged("does not start with the cache magic")
    hlen = int.from_bytes(mm[8:16], "little")
    if hlen <= 0 or 16 + hlen + 16 > size:
        raise Damaged("header length out of range")
    if mm[size - 16:size - 8] != TRAILER or int.from_bytes(mm[size - 8:size], "little") != hlen:
        raise Damaged("no trailer (a truncated or overwritten entry)")
    try:
        header = json.loads(bytes(mm[16:16 + hlen]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise Damaged("header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("size") != size:
        raise Damaged("recorded size differs from the file's size")
    if header.get("key") != key:
        return None   # another version of the input, or of the code: replaced after the parse
    arrays = {}
    data_start = 16 + hlen
    try:
        for name, (off, dtype, shape, crc) in header["arrays"].items():
            dt = np.dtype(dtype)
            n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
            nbytes = n * dt.itemsize
            if off < data_start or off % ALIGN or off + nbytes > size - 16:
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


def _write(p: Path, key: dict, arrays: dict, info: dict, limit: int) -> None:
    tmp = p.with_name(f"{p.name}.tmp.{os.getpid()}.{threading.get_ident()}")
    try:
        metas = [(name, np.ascontiguousarray(a)) for name, a in arrays.items()]
        crcs = {name: _crc(a) for name, a in metas}
        room = 4096
        while True:   # the header's length decides where the data starts
            off = start = _align(16 + room)
            table = {}
            for name, a in metas:
                table[name] = [off, a.dtype.str, list(a.shape), crcs[name]]
                off = _align(off + a.nbytes)
            total = off + 16
            header = json.dumps({"format": FORMAT, "key": key, "arrays": table, "info": info,
                                 "size": total}).encode()
            if 16 + len(header) <= start:
                break
            room = len(header) + 1024
        if total > limit:
            return
        header = header.ljust(start - 16)   # JSON allows the trailing spaces
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for name, a in metas:
                if a.nbytes:
                    f.seek(table[name][0])
                    f.write(memoryview(a.reshape(-1).view(np.uint8)))
            f.seek(total - 16)
            f.write(TRAILER + len(header).to_bytes(8, "little"))
        os.replace(tmp, p)
        evict(keep=p)
    except OSError:
        pass   # a cache that cannot be written is only slower
    finally:
        _unlink(tmp)


def store(key: dict, arrays: dict, info: dict, *, background: bool = True) -> None:
    """Write the entry for ``key`` (replacing any), in a background thread unless told not to.
    The arrays must not change afterwards (the caller hands over finished arrays). A process that
    exits while the thread still writes (the CLI, a script) hands the write to a forked child and
    exits at once: the entry appears a moment later, complete or not at all."""
    p = entry_path(key)
    limit = max_bytes()
    if background:
        t = threading.Thread(target=_write, args=(p, key, arrays, info, limit), name="workbench-cache-write",
                             daemon=True)
        t.job = (p, key, arrays, info, limit)
        with _lock:
            _pending[str(p)] = t
            global _atexit_set
            if not _atexit_set:
                atexit.register(_finish_at_exit)
                _atexit_set = True
        t.start()
    else:
        _write(p, key, arrays, info, limit)


_atexit_set = False


def _finish_at_exit() -> None:
    with _lock:
        jobs = [t.job for t in _pending.values() if t.is_alive()]
    if not jobs:
        return
    if not hasattr(os, "fork"):
        wait()
        return
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        wait()
        return
    if pid == 0:   # the child: only this thread exists; write each entry again, then leave
        try:
            for p, key, arrays, info, limit in jobs:
                _write(p, key, arrays, info, limit)
                for stale in p.parent.glob(f"{p.name}.tmp.{parent}.*"):   # the parent's thread's
                    _unlink(stale)
        finally:
            os._exit(0)
    # the parent exits now, without waiting


def wait(p=None) -> None:
    """Wait for this process's pending writes (of the entry at ``p``, or all)."""
    with _lock:
        threads = [t for k, t in _pending.items() if p is None or k == str(p)]
    for t in threads:
        t.join()
    with _lock:
        for k in [k for k, t in _pending.items() if not t.is_alive()]:
            del _pending[k]


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
