"""Shared numba kernels of the ground layer, used by readers and models alike: decoding JSON string
tables into UTF-8 (heap snapshot strings are decoded lazily by the model, from the bytes the reader
kept) and prefix sums (CSR offsets). They read only the arrays they are given."""
from __future__ import annotations

from ._jit import njit


@njit(cache=True, nogil=True)
def _hexval(c):
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


@njit(cache=True, nogil=True)
def _put_utf8(out, o, cp):
    if cp < 0x80:
        out[o] = cp
        return o + 1
    if cp < 0x800:
        out[o] = 0xC0 | (cp >> 6)
        out[o + 1] = 0x80 | (cp & 0x3F)
        return o + 2
    if cp < 0x10000:
        out[o] = 0xE0 | (cp >> 12)
        out[o + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[o + 2] = 0x80 | (cp & 0x3F)
        return o + 3
    out[o] = 0xF0 | (cp >> 18)
    out[o + 1] = 0x80 | ((cp >> 12) & 0x3F)
    out[o + 2] = 0x80 | ((cp >> 6) & 0x3F)
    out[o + 3] = 0x80 | (cp & 0x3F)
    return o + 4


@njit(cache=True, nogil=True)
def _read_u4(raw, i, e):
    if i + 4 > e:
        return -1
    v = 0
    for k in range(4):
        h = _hexval(raw[i + k])
        if h < 0:
            return -1
        v = v * 16 + h
    return v


@njit(cache=True, nogil=True)
def unescape_table(raw, starts, lens, esc, out, out_offsets):
    """Decode every JSON string of the table into UTF-8 (out must be >= raw in size: decoding
    never grows a string). Lone surrogates and malformed escapes become U+FFFD, as a display
    would show them. out_offsets has len(starts)+1 entries."""
    o = 0
    n = starts.shape[0]
    for s in range(n):
        out_offsets[s] = o
        i = starts[s]
        e = i + lens[s]
        if not esc[s]:
            for k in range(i, e):
                out[o] = raw[k]
                o += 1
            continue
        while i < e:
            c = raw[i]
            if c != 92:
                out[o] = c
                o += 1
                i += 1
                continue
            if i + 1 >= e:
                o = _put_utf8(out, o, 0xFFFD)
                i += 1
                continue
            d = raw[i + 1]
            i += 2
            if d == 110:
                out[o] = 10; o += 1
            elif d == 116:
                out[o] = 9; o += 1
            elif d == 114:
                out[o] = 13; o += 1
            elif d == 98:
                out[o] = 8; o += 1
            elif d == 102:
                out[o] = 12; o += 1
            elif d == 117:  # \uXXXX
                cp = _read_u4(raw, i, e)
                if cp < 0:
                    o = _put_utf8(out, o, 0xFFFD)
                    continue
                i += 4
                if 0xD800 <= cp <= 0xDBFF:
                    lo = -1
                    if i + 1 < e and raw[i] == 92 and raw[i + 1] == 117:
                        lo = _read_u4(raw, i + 2, e)
                    if 0xDC00 <= lo <= 0xDFFF:
                        i += 6
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    else:
                        cp = 0xFFFD
                elif 0xDC00 <= cp <= 0xDFFF:
                    cp = 0xFFFD
                o = _put_utf8(out, o, cp)
            else:  # \" \\ \/ and anything else: the character itself
                out[o] = d
                o += 1
    out_offsets[n] = o
    return o


@njit(cache=True, nogil=True)
def prefix_sum(counts, out):
    """out[0] = 0, out[i + 1] = counts[0] + ... + counts[i] (int64 out)."""
    acc = 0
    out[0] = 0
    for i in range(counts.shape[0]):
        acc += counts[i]
        out[i + 1] = acc
