"""What the Jaeger and Zipkin readers share: a JSON value as text, a µs time as exact ns, and the
guard that turns a value out of every integer range (a huge number, an infinite or NaN time) or
nested too deep to re-encode into a FormatError."""
from __future__ import annotations

import json

from ..errors import FormatError

MAX_US = 9e15   # about 285 years after 1970 in µs: beyond it a time is garbage


def text(v):
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))


def us_to_ns(path, v, section, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or abs(v) > MAX_US:
        raise FormatError(path, section, None, f"{what}, got {json.dumps(v)[:40]}")
    return int(round(v * 1000))


def guarded(parse, path, section: str):
    """``parse(path)``, with values out of range or nested too deep reported as a FormatError."""
    try:
        return parse(path)
    except FormatError:
        raise
    except (OverflowError, ValueError, RecursionError) as e:
        raise FormatError(path, section, None, f"a value out of range or nested too deep ({type(e).__name__}: "
                          f"{str(e)[:80]})") from None
