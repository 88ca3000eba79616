"""The one exception family of workbench; the CLI turns any of them into one line and exit status 2."""
from __future__ import annotations

import os


class WorkbenchError(Exception):
    """Base of every error workbench raises on purpose."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        self.path = os.fspath(path) if path is not None else None
        self.message = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class FormatError(WorkbenchError):
    """A file is not in the format its reader expects: truncated, corrupt, foreign or hostile.

    Always names the file, the section of the format that was being read, and the byte
    offset (in the decompressed stream for .gz files) where the problem was found.
    """

    def __init__(self, path, section: str, offset: int | None, message: str):
        self.section = section
        self.offset = offset
        where = f"section '{section}'"
        if offset is not None:
            where += f" at byte {offset}"
        super().__init__(f"{where}: {message}", path)


class UsageError(WorkbenchError):
    """The caller asked for something that cannot be done with these inputs (unknown node id,
    snapshots from different processes, an empty time window ...)."""


class CaptureError(WorkbenchError):
    """Talking to a live process failed: it died, timed out or refused."""
