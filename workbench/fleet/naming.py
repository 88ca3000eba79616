"""Which instance a file came from: a pattern over its path (``{host}/{pid}``), a metric label
(``label:instance``), or by default the file's parent folder; and when it was taken."""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import PurePath

from ..errors import UsageError

LABEL = "label:"
# Node's own names: --heapsnapshot-signal / writeHeapSnapshot(), --cpu-prof, --heap-prof, reports
NODE_NAME = re.compile(r"^(?:Heap|CPU|Heap-?Profile|report)\.(\d{8})\.(\d{6})\.(\d+)\.(\d+)\.(\d+)\.")


class InstancePattern:
    """``{name}`` matches one path segment's text (a field), ``*`` any text within a segment; other
    characters are literal. A pattern of n segments is matched against the last n folders that hold
    the file, then one folder further up, and so on (the innermost match wins); when no folders
    match, against the last n segments of the path with the file's name (``{host}/Heap.*.*.{pid}.*``
    for Node's own names). Fields and ``*`` match as little as they can, left to right. The instance is the fields' values joined by ``/``; the fields are kept by name (for
    ``--group-by`` and ``--diff``). ``label:NAME`` takes metric rows' instance from their label NAME
    (other files: the parent folder). None or "" means the parent folder."""

    def __init__(self, pattern: str | None = None):
        self.pattern = pattern or ""
        self.label = self.pattern[len(LABEL):] if self.pattern.startswith(LABEL) else None
        self.names: list[str] = []
        self.regex = None
        if self.pattern and self.label is None:
            segs = self.pattern.strip("/").split("/")
            out = []
            for seg in segs:
                pos, rx = 0, ""
                for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}|\*", seg):
                    rx += re.escape(seg[pos:m.start()])
                    if m.group(1):
                        if m.group(1) in self.names:
                            raise UsageError(f"--instance {pattern!r}: field {{{m.group(1)}}} appears twice")
                        self.names.append(m.group(1))
                        rx += f"(?P<{m.group(1)}>[^/]+?)"
                    else:
                        rx += "[^/]*?"
                    pos = m.end()
                out.append(rx + re.escape(seg[pos:]))
            if not self.names:
                raise UsageError(f"--instance {pattern!r} names no field: write one like {{host}} or {{pid}}")
            self.nseg = len(segs)
            self.regex = re.compile("/".join(out))

    def fields(self, path) -> dict | None:
        """The fields of ``path``, or None when the pattern does not match it."""
        parts = PurePath(os.path.abspath(os.fspath(path))).parts
        if self.regex is None:
            return {}
        for end in [*range(len(parts) - 1, self.nseg, -1), len(parts)]:
            seg = parts[end - self.nseg:end]
            m = self.regex.fullmatch("/".join(seg))
            if m:
                return m.groupdict()
        return None

    def instance(self, path) -> tuple[str, dict, bool]:
        """(instance, fields, matched) of a file; unmatched files fall back to their parent folder."""
        f = self.fields(path)
        if f:
            return "/".join(f[n] for n in self.names), f, True
        return PurePath(os.path.abspath(os.fspath(path))).parent.name, {}, self.regex is None


def taken_at(path) -> tuple[dt.datetime, str]:
    """When the file was written: from Node's own file name (local time of this machine), else the
    file's modification time. Returns (UTC datetime, basis)."""
    m = NODE_NAME.match(os.path.basename(os.fspath(path)))
    if m:
        try:
            local = dt.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S")
            return local.astimezone(dt.timezone.utc), "file name"
        except ValueError:
            pass
    return dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.timezone.utc), "mtime"
