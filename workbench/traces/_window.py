"""Time windows from what a notebook or a brush hands over: datetimes, unix ms, ISO text, or the
dict an altair interval selection gives (``{"ts": [lo, hi]}``, ms)."""
from __future__ import annotations

import datetime as _dt

from ..errors import UsageError


def as_dt(v):
    if v is None:
        return None
    if isinstance(v, _dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=_dt.timezone.utc)
    if isinstance(v, str):
        return _dt.datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(_dt.timezone.utc)
    return _dt.datetime.fromtimestamp(float(v) / 1000.0, _dt.timezone.utc)


def bounds(start, end=None):
    if isinstance(start, dict) and end is None:
        start, end = next(iter(start.values())) if start else (None, None)
    if isinstance(start, (tuple, list)) and end is None:
        start, end = start
    lo, hi = as_dt(start), as_dt(end)
    if lo is None or hi is None or lo >= hi:
        raise UsageError(f"empty time window [{start}, {end}]")
    return lo, hi
