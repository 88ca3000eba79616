"""numba kernels for streaming big CPU profiles: signed integer arrays (``timeDeltas``), in-place
cumulative time, id -> node index mapping and a monotonicity check. Like ``_json_kernels`` they only
read the window they are given, write into arrays whose capacity they check, and keep their state in a
small int64 array so that a number split across two chunks continues on the next call.
Status codes: 0 = needs more input, 1 = array closed, 2 = output full, negative = error at pos.
"""
from __future__ import annotations

from .._jit import njit

ERR_CHAR = -1
ERR_OVERFLOW = -3
ERR_FRACTION = -4

_FIRST, _NUM, _SEP, _VALUE, _PENDING = 0, 1, 2, 3, 4
_LIMIT = 1 << 53


@njit(cache=True, nogil=True)
def parse_ints(buf, pos, end, out, st, limit):
    """Comma-separated (signed) integers until ']' into ``out``; magnitudes above ``limit`` are an
    error. ``st`` = [magnitude, state, count, start_pos, negative, digits]. Returns (status, pos)."""
    value = st[0]
    state = st[1]
    count = st[2]
    neg = st[4]
    digits = st[5]
    cap = out.shape[0]
    if state == _PENDING:
        if count >= cap:
            return 2, pos
        out[count] = -value if neg else value
        count += 1
        state = _SEP
    while pos < end:
        c = buf[pos]
        if state == _NUM:
            if 48 <= c <= 57:
                value = value * 10 + (c - 48)
                digits += 1
                if value > limit:
                    st[0] = value; st[1] = state; st[2] = count; st[4] = neg; st[5] = digits
                    return ERR_OVERFLOW, st[3]
                pos += 1
                continue
            if c == 46 or c == 101 or c == 69:
                st[0] = value; st[1] = state; st[2] = count; st[4] = neg; st[5] = digits
                return ERR_FRACTION, pos
            if digits == 0:  # a lone '-'
                st[0] = value; st[1] = state; st[2] = count; st[4] = neg; st[5] = digits
                return ERR_CHAR, pos
            if count >= cap:
                st[0] = value; st[1] = _PENDING; st[2] = count; st[4] = neg; st[5] = digits
                return 2, pos
            out[count] = -value if neg else value
            count += 1
            state = _SEP
            continue
        if c == 32 or c == 10 or c == 13 or c == 9:
            pos += 1
            continue
        if (48 <= c <= 57) or c == 45:
            if state == _SEP:
                st[0] = value; st[1] = state; st[2] = count; st[4] = neg; st[5] = digits
                return ERR_CHAR, pos
            st[3] = pos
            if c == 45:
                neg = 1
                value = 0
                digits = 0
            else:
                neg = 0
                value = c - 48
                digits = 1
            state = _NUM
            pos += 1
            continue
        if c == 44:
            if state != _SEP:
                st[0] = value; st[1] = state; st[2] = count; st[4] = neg; st[5] = digits
                return ERR_CHAR, pos
            state = _VALUE
            pos += 1
            continue
        if c == 93:
            if state == _VALUE:
                st[0] = value; st[1] = state; st[2] = count; st[4] = neg; st[5] = digits
                return ERR_CHAR, pos
            st[0] = 0; st[1] = _SEP; st[2] = count; st[4] = 0; st[5] = 0
            return 1, pos + 1
        st[0] = value; st[1] = state; st[2] = count; st[4] = neg; st[5] = digits
        return ERR_CHAR, pos
    st[0] = value
    st[1] = state
    st[2] = count
    st[4] = neg
    st[5] = digits
    return 0, pos


@njit(cache=True, nogil=True)
def cumulative_time(deltas, ts, start):
    """ts[i] = start + sum(deltas[:i+1]); ``ts`` may be a float64 view of ``deltas``' own memory (each
    element is read before it is written). Returns the number of negative deltas."""
    acc = 0
    neg = 0
    for i in range(deltas.shape[0]):
        d = deltas[i]
        if d < 0:
            neg += 1
        acc += d
        ts[i] = start + acc
    return neg


@njit(cache=True, nogil=True)
def map_ids(refs, table, out):
    """out[i] = table[refs[i]]; returns the index of the first ref outside the table or mapping to -1,
    or -1 when all are known."""
    n = table.shape[0]
    for i in range(refs.shape[0]):
        r = refs[i]
        if r < 0 or r >= n:
            return i
        v = table[r]
        if v < 0:
            return i
        out[i] = v
    return -1


@njit(cache=True, nogil=True)
def is_sorted(ts):
    for i in range(1, ts.shape[0]):
        if ts[i] < ts[i - 1]:
            return False
    return True
