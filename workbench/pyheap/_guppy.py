"""The guppy3 session workbench shares across calls, and which sessions carry a ``mark()``
(``setref``): kept apart so that taking heaps (``builder``) and walking live retainers (``live``)
share them without importing each other."""
from __future__ import annotations

_SESSION = None
_MARKED: dict[int, object] = {}  # id(session) -> session: guppy sessions refuse new attributes


def is_marked(hp) -> bool:
    return _MARKED.get(id(hp)) is hp


def session():
    """The shared guppy3 session (``guppy.hpy()``) used when none is given."""
    global _SESSION
    if _SESSION is None:
        from guppy import hpy
        _SESSION = hpy()
    return _SESSION


def mark(hp=None) -> None:
    """guppy's ``setref()``: later ``take_heap(hp, relative=True)`` sees only newer objects."""
    hp = hp or session()
    hp.setref()
    _MARKED[id(hp)] = hp
