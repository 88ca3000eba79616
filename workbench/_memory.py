"""Process memory helpers of the ground layer (no numba, no polars: the cache's re-open path imports
this module too)."""
from __future__ import annotations

_LIBC = []


def release_freed_memory() -> None:
    """Hand the free pages of the C heap back to the system (glibc's malloc_trim; elsewhere
    nothing). glibc raises its mmap threshold to the size of each large block freed (up to
    32 MiB), so the passes' work arrays of one node-sized array each then come from the heap, and
    freeing them leaves holes the process keeps: 50-140 MiB of the resident size on a 7M-node
    snapshot. A pass calls this after dropping its work arrays (1-6 ms)."""
    if not _LIBC:
        try:
            import ctypes
            _LIBC.append(ctypes.CDLL(None).malloc_trim)   # the process's own symbols: libc's
        except Exception:   # no glibc (macOS, Windows, musl without it)
            _LIBC.append(None)
    if _LIBC[0] is not None:
        _LIBC[0](0)


def set_numpy_huge_pages(on: bool) -> bool | None:
    """Whether numpy asks for transparent huge pages for its arrays of 4 MiB and more (its
    ``madvise`` switch); returns the previous setting, or None if this numpy has no switch."""
    import numpy as np
    ma = getattr(getattr(np, "_core", None), "multiarray", None) or np.core.multiarray
    get, put = getattr(ma, "_get_madvise_hugepage", None), getattr(ma, "_set_madvise_hugepage", None)
    if get is None or put is None:
        return None
    was = bool(get())
    put(bool(on))
    return was
