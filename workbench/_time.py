"""Time windows from what a notebook or a brush hands over: datetimes (naive ones are UTC), unix ms,
ISO text, or the dict an altair interval selection gives (``{"ts": [lo, hi]}``, ms). Shared by the
``window`` methods of the metrics, logs and traces models."""
from __future__ import annotations

import datetime as _dt

from .errors import UsageError


def as_dt(v):
    if v is None:
        return None
    if isinstance(v, _dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=_dt.timezone.utc)
    if isinstance(v, str):
        return _dt.datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(_dt.timezone.utc)
    return _dt.datetime.fromtimestamp(float(v) / 1000.0, _dt.timezone.utc)


def bounds(start, end=None, *, key: str | None = None):
    """(lo, hi) as UTC datetimes; a brush dict gives its ``key`` field's interval (its first field
    when ``key`` is None); an empty or reversed window is a UsageError."""
    if isinstance(start, dict) and end is None:
        if key is not None:
            start, end = start.get(key, [None, None])
        else:
            start, end = next(iter(start.values())) if start else (None, None)
    if isinstance(start, (tuple, list)) and end is None:
        start, end = start
    lo, hi = as_dt(start), as_dt(end)
    if lo is None or hi is None or lo >= hi:
        raise UsageError(f"empty time window [{start}, {end}]")
    return lo, hi
