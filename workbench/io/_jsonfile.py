"""Reading a whole JSON document (optionally gzipped) with errors that name file, section and offset.

Shared by the profile readers (.cpuprofile, .heapprofile, Chrome trace). Offsets are byte offsets
in the decompressed stream; ``json`` reports character positions, which we convert to bytes.
"""
from __future__ import annotations

import gzip
import json
import os
import sys
import threading
import zlib

from ..errors import FormatError


def read_bytes(path, section: str = "file") -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise FormatError(path, "gzip", None, f"corrupt or truncated gzip stream ({e})") from None
    return raw


def _loads_deep(text: str):
    # Deeply nested documents (a .heapprofile head of a deep recursion) exceed the default recursion
    # limit of the C decoder; parse them in a thread with a big stack and a raised limit.
    box: dict = {}

    def run():
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 200_000))
        try:
            box["v"] = json.loads(text)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["e"] = e
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size()
    threading.stack_size(512 * 1024 * 1024)
    try:
        t = threading.Thread(target=run)
        t.start()
        t.join()
    finally:
        threading.stack_size(old_size)
    if "e" in box:
        raise box["e"]
    return box["v"]


def load_json(path, section: str = "document", *, quiet: bool = False):
    """Parse ``path`` as JSON; syntax errors become FormatError with the byte offset.

    Files of 32 MiB and more show a progress bar (read, then parse) unless ``quiet``."""
    from .._progress import progress

    size = os.path.getsize(path)
    with progress(2 * size, f"loading {os.path.basename(os.fspath(path))}", quiet=quiet) as bar:
        raw = read_bytes(path)
        bar.update(size)
        out = _parse(path, section, raw)
        bar.update(size)
    return out


def _parse(path, section: str, raw: bytes):
    if not raw.strip():
        raise FormatError(path, section, 0, "empty file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(path, section, e.start, "not UTF-8 text") from None
    try:
        try:
            return json.loads(text)
        except RecursionError:
            return _loads_deep(text)
    except json.JSONDecodeError as e:
        offset = len(text[: e.pos].encode("utf-8"))
        if e.msg.startswith("Unterminated string"):  # the string runs to the end of the data
            what = f"truncated JSON (string opened at byte {offset} never closes)"
            offset = len(raw)
        elif e.pos >= len(text.rstrip()):
            what = "truncated JSON"
        else:
            what = f"invalid JSON ({e.msg})"
        raise FormatError(path, section, offset, what) from None
    except RecursionError:
        raise FormatError(path, section, None, "JSON nested too deeply") from None


def display_path(path) -> str:
    return os.fspath(path)
