"""Readers, one module per format, and ``load`` which sniffs a file's first bytes to pick one."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

from ..errors import FormatError, WorkbenchError

HEAD_BYTES = 4096


def read_head(path, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a file, decompressed if it is gzip."""
    p = Path(path)
    if p.is_dir():
        return b""
    with open(p, "rb") as f:
        head = f.read(n)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(p, "rb") as g:
                return g.read(n)
        except (OSError, EOFError) as e:
            raise FormatError(path, "gzip", 0, f"corrupt gzip stream ({e})") from None
    return head


def is_heapsnapshot(head: bytes) -> bool:
    h = head.lstrip()
    return h.startswith(b"{") and b'"snapshot"' in h[:200] and b'"meta"' in h[:400]


def load(path, **kw):
    """Sniff the format of ``path`` and return the model its reader produces."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise WorkbenchError("no such file", path)
    head = read_head(path)
    if is_heapsnapshot(head):
        from .heapsnapshot import read_heapsnapshot
        return read_heapsnapshot(path, **kw)
    try:
        from ..profile import sniff_profile
    except ImportError:  # subject not installed yet
        sniff_profile = None
    if sniff_profile is not None and sniff_profile(path, head):
        from ..profile import load_profile
        return load_profile(path, **kw)
    try:
        from ..metrics import sniff_metrics
    except ImportError:
        sniff_metrics = None
    if sniff_metrics is not None and sniff_metrics(path, head):
        from ..metrics import load_metrics
        return load_metrics(path, **kw)
    raise FormatError(path, "header", 0, "not a heap snapshot, profile or metric export workbench can read")
