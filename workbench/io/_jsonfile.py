"""Reading a whole JSON document (optionally gzipped) with errors that name file, section and offset.

Shared by the JSON readers (.cpuprofile, .heapprofile, Chrome traces, --prof JSON, Clinic Flame). Offsets are byte offsets
in the decompressed stream; ``json`` reports character positions, which we convert to bytes.
"""
from __future__ import annotations

import json
import os
import re
import sys
import threading

from ..errors import FormatError
from ._files import JsonGuard, read_bytes


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
        try:
            t.start()
        except RuntimeError:  # no address space for the big stack (ulimit -v): as deep as we can go
            raise RecursionError("no stack for a deeper parse") from None
        t.join()
    finally:
        threading.stack_size(old_size)
    if "e" in box:
        raise box["e"]
    return box["v"]


def load_json(path, section: str = "document", *, quiet: bool = False, notes: list | None = None):
    """Parse ``path`` as JSON; syntax errors become FormatError with the byte offset. Strings with
    a lone UTF-16 surrogate are repaired (``fix_surrogates``) and, with ``notes``, counted there.

    Files of 32 MiB and more show a progress bar (read, then parse) unless ``quiet``."""
    from .._progress import progress

    size = os.path.getsize(path)
    with progress(2 * size, f"loading {os.path.basename(os.fspath(path))}", quiet=quiet) as bar:
        raw = read_bytes(path, JsonGuard(path, section))
        bar.update(size)
        out = fix_surrogates(raw, _parse(path, section, raw), section, notes)
        bar.update(size)
    return out


_SURROGATE = re.compile(rb"\\[uU][dD][89a-fA-F][0-9a-fA-F]{2}")


def _repair(s: str) -> str:
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def fix_surrogates(raw: bytes, doc, section: str = "document", notes: list | None = None):
    """JSON may escape a lone UTF-16 surrogate (``"\\ud800"``) and JS strings hold them, but UTF-8 and
    polars cannot: such strings (and keys) of ``doc``, parsed from ``raw``, get U+FFFD in its place.
    Only documents whose bytes hold such an escape are walked. Appends (section, count, what) to
    ``notes`` when it repaired any."""
    if _SURROGATE.search(raw) is None:
        return doc

    def bad(s: str) -> bool:
        if s.isascii():
            return False
        try:
            s.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True

    fixed = 0
    if isinstance(doc, str):
        return _repair(doc) if bad(doc) else doc
    stack = [doc]
    while stack:
        c = stack.pop()
        if isinstance(c, list):
            for i, v in enumerate(c):
                if isinstance(v, str):
                    if bad(v):
                        c[i] = _repair(v)
                        fixed += 1
                elif isinstance(v, (list, dict)):
                    stack.append(v)
        else:
            for k in [k for k in c if bad(k)]:
                c[_repair(k)] = c.pop(k)
                fixed += 1
            for k, v in c.items():
                if isinstance(v, str):
                    if bad(v):
                        c[k] = _repair(v)
                        fixed += 1
                elif isinstance(v, (list, dict)):
                    stack.append(v)
    if fixed and notes is not None:
        notes.append((section, fixed, "strings with a lone UTF-16 surrogate (a \\udXXX escape), "
                      "the surrogate replaced by U+FFFD"))
    return doc


def parse_bytes(path, section: str, raw: bytes, base: int = 0):
    """One JSON value cut out of a bigger document at byte ``base``: errors name absolute offsets."""
    return _parse(path, section, raw, base)


def _parse(path, section: str, raw: bytes, base: int = 0):
    if not raw.strip():
        raise FormatError(path, section, base, "empty file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(path, section, base + e.start, "not UTF-8 text") from None
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
        raise FormatError(path, section, base + offset, what) from None
    except RecursionError:
        raise FormatError(path, section, None, "JSON nested too deeply") from None
    except ValueError as e:  # an integer of more than sys.get_int_max_str_digits() digits
        m = re.search(rb"[0-9]{%d}" % (sys.get_int_max_str_digits() + 1), raw)
        raise FormatError(path, section, None if m is None else base + m.start(),
                          f"invalid JSON ({str(e).split(';')[0]})") from None
