"""numba kernel decoding Clinic.js Doctor's processstat stream (uint16-BE length-prefixed protobuf
``ProcessStat`` messages, format/process-stat.proto of @clinic/doctor 11). Every read is bounds
checked; on bad bytes the kernel stops and returns an error code and the byte offset."""
from __future__ import annotations

import numpy as np
from .._jit import njit

OK, E_FRAME, E_VARINT, E_FIELD, E_WIRE, E_MISSING, TRUNCATED = 0, 1, 2, 3, 4, 5, 6
MESSAGES = ("ok", "frame length runs past the end of the message", "bad varint",
            "field runs past the end of its message", "unsupported protobuf wire type",
            "a required field is missing", "truncated final frame")
# columns of the output matrix
COLS = ("timestamp", "delay", "cpu", "rss", "heapTotal", "heapUsed", "external", "arrayBuffers",
        "handles", "loopUtilization")


@njit(cache=True)
def _varint(buf, pos, end):
    result = np.uint64(0)
    shift = 0
    while pos < end and shift < 64:
        b = buf[pos]
        result |= np.uint64(b & 0x7F) << np.uint64(shift)
        pos += 1
        if b < 0x80:
            return result, pos, True
        shift += 7
    return result, pos, False


@njit(cache=True)
def _double(buf, pos, tmp):
    u = np.uint64(0)
    for k in range(8):
        u |= np.uint64(buf[pos + k]) << np.uint64(8 * k)
    tmp[0] = u
    return tmp.view(np.float64)[0]


# the shortest ProcessStat message with every required field: timestamp, delay, cpu (9 bytes each),
# memory {rss, heapTotal, heapUsed, external} (2 + 4 * 9) and handles (2)
MIN_MESSAGE = 3 * 9 + 2 + 4 * 9 + 2


@njit(cache=True)
def count_frames(buf):
    """(frames, bytes they cover, index of the first frame shorter than any valid message or -1)."""
    n = 0
    pos = 0
    short = -1
    size = buf.shape[0]
    while pos + 2 <= size:
        length = (np.int64(buf[pos]) << 8) | np.int64(buf[pos + 1])
        if pos + 2 + length > size:
            break
        if short < 0 and length < MIN_MESSAGE:
            short = n
        pos += 2 + length
        n += 1
    return n, pos, short


@njit(cache=True)
def first_short_frame(buf, pos):
    """Walk frame headers from ``pos`` through ``buf``. Returns (position of the next header, end of
    the first frame shorter than MIN_MESSAGE or -1)."""
    size = buf.shape[0]
    while pos + 2 <= size:
        length = (np.int64(buf[pos]) << 8) | np.int64(buf[pos + 1])
        if length < MIN_MESSAGE:
            return pos, pos + 2 + length
        pos += 2 + length
    return pos, -1


@njit(cache=True)
def decode(buf, n, out, offsets):
    """Fill out[i, :] for each frame; returns (status, byte offset, frames decoded)."""
    tmp = np.empty(1, np.uint64)
    pos = 0
    for i in range(n):
        length = (np.int64(buf[pos]) << 8) | np.int64(buf[pos + 1])
        start = pos + 2
        end = start + length
        offsets[i] = pos
        seen = 0
        out[i, 7] = np.nan
        out[i, 9] = np.nan
        p = start
        while p < end:
            tag, p, ok = _varint(buf, p, end)
            if not ok:
                return E_VARINT, p, i
            field = np.int64(tag >> np.uint64(3))
            wire = np.int64(tag & np.uint64(7))
            if wire == 1:
                if p + 8 > end:
                    return E_FIELD, p, i
                v = _double(buf, p, tmp)
                p += 8
                if 1 <= field <= 3:
                    out[i, field - 1] = v
                    seen |= 1 << field
            elif wire == 0:
                u, p, ok = _varint(buf, p, end)
                if not ok:
                    return E_VARINT, p, i
                # int32 fields are sign-extended to 64 bits on the wire: keep the low 32 bits
                low = np.int64(u & np.uint64(0xFFFFFFFF))
                v = np.float64(low - 4294967296 if low >= 2147483648 else low)
                if field == 5:
                    out[i, 8] = v
                    seen |= 1 << 5
                elif field == 6:
                    out[i, 9] = v
            elif wire == 2:
                ln, p, ok = _varint(buf, p, end)
                if not ok:
                    return E_VARINT, p, i
                # compare unsigned: a length past 2^63 would turn negative and walk backwards forever
                if ln > np.uint64(end - p):
                    return E_FIELD, p, i
                mend = p + np.int64(ln)
                if field == 4:
                    q = p
                    while q < mend:
                        t2, q, ok = _varint(buf, q, mend)
                        if not ok:
                            return E_VARINT, q, i
                        f2 = np.int64(t2 >> np.uint64(3))
                        w2 = np.int64(t2 & np.uint64(7))
                        if w2 == 1:
                            if q + 8 > mend:
                                return E_FIELD, q, i
                            v = _double(buf, q, tmp)
                            q += 8
                            if 1 <= f2 <= 5:
                                out[i, 2 + f2] = v
                                if f2 <= 4:
                                    seen |= 1 << (8 + f2)
                        elif w2 == 0:
                            u, q, ok = _varint(buf, q, mend)
                            if not ok:
                                return E_VARINT, q, i
                        elif w2 == 5:
                            q += 4
                        else:
                            return E_WIRE, q, i
                    if q != mend:
                        return E_FIELD, q, i
                    seen |= 1 << 4
                p = mend
            elif wire == 5:
                p += 4
            else:
                return E_WIRE, p, i
        if p != end:
            return E_FIELD, p, i
        need = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)
        if (seen & need) != need:
            return E_MISSING, pos, i
        pos = end
    return OK, pos, n
