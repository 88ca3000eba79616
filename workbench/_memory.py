"""Keep large temporary arrays returnable to the OS.

glibc raises its mmap threshold each time a large mmap'd block is freed (up to 32 MiB), after
which arrays of a few tens of MiB come from the heap arena and stay resident after they are
freed: on a 7M-node snapshot that kept ~190 MiB of dead dominator-pass buffers. Fixing the
threshold at 1 MiB (which turns the dynamic adjustment off) makes every big array an mmap that
munmap returns. A no-op where glibc's mallopt is not available.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
_done = False


def tune_malloc() -> None:
    global _done
    if _done:
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 1 << 20)
        libc.mallopt(M_TRIM_THRESHOLD, 8 << 20)
    except (OSError, AttributeError):
        pass
