"""parse_uints' fast path (whole tokens, whole records, 8 digits at once) is byte-identical to the
per-character state machine it replaced: same status, position, state vector and every value
written, for valid arrays in V8's and other layouts, every kind of bad input, windows cut at any
byte (resumed as _scan_numbers resumes them), full outputs resumed after growing, and a second
half started mid-array as the two-thread split starts it."""
import random

import numpy as np
from numba import njit

from workbench.io import _json_kernels as K

_EXPECT_FIRST, _IN_NUMBER, _EXPECT_SEP, _EXPECT_VALUE, _PENDING = 0, 1, 2, 3, 4
ERR_CHAR, ERR_NEGATIVE, ERR_OVERFLOW, ERR_FRACTION = -1, -2, -3, -4
U32_MAX = 0xFFFFFFFF
SAFE_MAX = (1 << 53) - 1


@njit(nogil=True)
def _is_ws(c):
    return c == 32 or c == 10 or c == 13 or c == 9


@njit(nogil=True)
def _reference_parse_uints(buf, pos, end, outs, nrec, st, vmax=U32_MAX):
    """The state machine as it was before the fast path (commit 95e6342), verbatim."""
    value = st[0]
    state = st[1]
    count = st[2]
    f = st[4]
    r = st[5]
    nf = len(outs)
    cap = nrec * nf
    for i in range(nf):
        if outs[i].shape[0] < nrec:  # the layout must fit the output: never write past it
            return ERR_CHAR, pos
    if state == _PENDING:
        if count >= cap:
            return 2, pos
        outs[f][r] = value
        count += 1
        f += 1
        if f == nf:
            f = 0
            r += 1
        state = _EXPECT_SEP
    while pos < end:
        c = buf[pos]
        if state == _IN_NUMBER:
            if 48 <= c <= 57:
                value = value * 10 + (c - 48)
                if value > vmax:
                    st[0] = value; st[1] = state; st[2] = count; st[4] = f; st[5] = r
                    return ERR_OVERFLOW, st[3]
                pos += 1
                continue
            if c == 46 or c == 101 or c == 69:  # '.', 'e', 'E'
                st[0] = value; st[1] = state; st[2] = count; st[4] = f; st[5] = r
                return ERR_FRACTION, pos
            # the number ended: store it
            if count >= cap:
                st[0] = value; st[1] = _PENDING; st[2] = count; st[4] = f; st[5] = r
                return 2, pos
            outs[f][r] = value
            count += 1
            f += 1
            if f == nf:
                f = 0
                r += 1
            state = _EXPECT_SEP
            continue  # re-examine c as a separator
        if 48 <= c <= 57:
            if state == _EXPECT_SEP:
                st[0] = value; st[1] = state; st[2] = count; st[4] = f; st[5] = r
                return ERR_CHAR, pos
            value = c - 48
            st[3] = pos
            state = _IN_NUMBER
            pos += 1
            continue
        if c == 44:  # ','
            if state != _EXPECT_SEP:
                st[0] = value; st[1] = state; st[2] = count; st[4] = f; st[5] = r
                return ERR_CHAR, pos
            state = _EXPECT_VALUE
            pos += 1
            continue
        if _is_ws(c):
            pos += 1
            continue
        if c == 93:  # ']'
            if state == _EXPECT_VALUE:
                st[0] = value; st[1] = state; st[2] = count; st[4] = f; st[5] = r
                return ERR_CHAR, pos
            st[0] = 0; st[1] = _EXPECT_SEP; st[2] = count; st[4] = f; st[5] = r
            return 1, pos + 1
        st[0] = value; st[1] = state; st[2] = count; st[4] = f; st[5] = r
        if c == 45:  # '-'
            return ERR_NEGATIVE, pos
        return ERR_CHAR, pos
    st[0] = value
    st[1] = state
    st[2] = count
    st[4] = f
    st[5] = r
    return 0, pos


SPECIAL = [0, 9, 10, 99, 100, 99999, 12345678, 99999999, 100000000, 999999999, 1000000000,
           4294967294, U32_MAX, U32_MAX + 1, 9999999999, 10000000000]
WIDE_SPECIAL = [SAFE_MAX, SAFE_MAX + 1, SAFE_MAX - 1, 10 ** 15, 10 ** 16 - 1, 10 ** 16, 10 ** 17,
                U32_MAX + 1, 2 ** 40]
WS = [" ", "\t", "\r", "\n"]
JUNK = ["-", "+", ".", "e", "E", "a", "x", "[", "]", ",", ",,", " ", "\n", "1", "0", '"', "\x00",
        "\xff", "}", "-1", "1.5", "1e3", "00", "4294967296", "99999999999", ", ,", "]]"]


def _value(rng, wide):
    k = rng.random()
    if k < 0.25:
        return rng.choice(SPECIAL + (WIDE_SPECIAL if wide else []))
    if k < 0.5:
        return rng.randrange(10)
    digits = rng.randint(1, 16 if wide else 10)
    v = rng.randrange(10 ** (digits - 1), 10 ** digits)
    return v if v <= (SAFE_MAX if wide else U32_MAX) or rng.random() < 0.05 else v % 10 ** 9


def _number(rng, v):
    s = str(v)
    return "0" * rng.choice([1, 2]) + s if rng.random() < 0.03 else s


def _text(rng, nf, nrec, wide):
    """A JSON integer array's body (the '[' already consumed) in one of several layouts."""
    layout = rng.choice(["v8", "v8", "compact", "spaces", "messy"])
    parts = []
    for i in range(nf * nrec):
        tok = _number(rng, _value(rng, wide))
        if i:
            if layout == "v8":
                sep = "\n," if i % nf == 0 else ","
            elif layout == "compact":
                sep = ","
            elif layout == "spaces":
                sep = ", "
            else:
                sep = "".join(rng.choice(WS) for _ in range(rng.choice([0, 0, 1, 3, 70]))) + "," + \
                      "".join(rng.choice(WS) for _ in range(rng.choice([0, 0, 1, 2, 90])))
            parts.append(sep)
        parts.append(tok)
    lead = rng.choice(["", "", " ", "\n", "\r\n  "])
    tail = rng.choice(["", "", "\n", "  "])
    return lead + "".join(parts) + tail + "]"


def _corrupt(rng, text):
    for _ in range(rng.choice([1, 1, 1, 2])):
        i = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.6:
            text = text[:i] + rng.choice(JUNK) + text[i:]
        elif op < 0.8:
            text = text[:i] + text[i + 1:]
        else:
            text = text[:i] + rng.choice(JUNK)[0] + text[i + 1:]
    return text


def _drive(fn, data, nf, nrec, vmax, dtype, cuts, rng_seed, st0=None, pos0=0, grow=True):
    """Parse ``data`` as _scan_numbers does: windows ending at each cut (the bytes past a
    window's end are garbage, different each call), status 2 grows the outputs and resumes.
    Returns every call's (status, pos, st) and the final outputs."""
    rng = random.Random(rng_seed)
    outs = tuple(np.full(nrec, 0xA5A5A5A5, dtype=dtype) for _ in range(nf))
    st = np.zeros(6, dtype=np.int64) if st0 is None else st0.copy()
    pos = pos0
    log = []
    ends = sorted(set(c for c in cuts if pos0 < c < len(data))) + [len(data)]
    k = 0
    for _ in range(10_000):
        end = ends[k]
        garbage = bytes(rng.choice(b"0123456789,\n ]-.") for _ in range(rng.choice([0, 1, 9, 80])))
        buf = np.frombuffer(data[:end] + garbage, dtype=np.uint8)
        status, pos = fn(buf, pos, end, outs, nrec, st, vmax)
        log.append((int(status), int(pos), tuple(int(x) for x in st)))
        if status == 0 and k + 1 < len(ends):
            k += 1
            continue
        if status == 2 and grow:
            bigger = 2 * nrec + 1
            outs = tuple(np.concatenate([o, np.full(bigger - nrec, 0x5A5A5A5A, dtype=dtype)]) for o in outs)
            nrec = bigger
            continue
        break
    return log, outs


def _same(data, nf, nrec, vmax, dtype, cuts, seed, **kw):
    log_a, outs_a = _drive(_reference_parse_uints, data, nf, nrec, vmax, dtype, cuts, seed, **kw)
    log_b, outs_b = _drive(K.parse_uints, data, nf, nrec, vmax, dtype, cuts, seed, **kw)
    assert log_b == log_a, (data[:200], nf, nrec, cuts)
    for a, b in zip(outs_a, outs_b):
        assert a.dtype == b.dtype and np.array_equal(a, b), (data[:200], nf, nrec, cuts)
    return log_a


def _cases(seed, n, wide):
    rng = random.Random(seed)
    for i in range(n):
        nf = rng.choice([1, 3, 6, 7, 7, 9])  # 9: wider than the unrolled records
        nrec = rng.choice([0, 1, 2, 5, 20, 60, 150])
        text = _text(rng, nf, nrec, wide)
        if rng.random() < 0.45:
            text = _corrupt(rng, text)
        data = text.encode("latin-1")
        cuts = [rng.randrange(len(data) + 1) for _ in range(rng.choice([0, 1, 2, 5]))]
        cap = max(nrec + rng.choice([0, 0, 1, 5]) - rng.choice([0, 0, 1, 3, nrec]), 0)
        yield data, nf, cap, cuts, i


def test_random_arrays_u32():
    statuses = set()
    for data, nf, cap, cuts, i in _cases(20261201, 3000, wide=False):
        log = _same(data, nf, cap, U32_MAX, np.uint32, cuts, i)
        statuses.update(s for s, _, _ in log)
    assert statuses >= {0, 1, 2, ERR_CHAR, ERR_NEGATIVE, ERR_OVERFLOW, ERR_FRACTION}


def test_random_arrays_u64():
    statuses = set()
    for data, nf, cap, cuts, i in _cases(53, 1500, wide=True):
        log = _same(data, nf, cap, SAFE_MAX, np.uint64, cuts, i)
        statuses.update(s for s, _, _ in log)
    assert statuses >= {0, 1, 2, ERR_CHAR, ERR_NEGATIVE, ERR_OVERFLOW, ERR_FRACTION}


def test_every_window_end():
    """A window ending at every byte (and two windows ending at every pair of a sample)."""
    rng = random.Random(7)
    for trial in range(24):
        nf = [1, 3, 6, 7][trial % 4]
        wide = trial % 3 == 0
        text = _text(rng, nf, 12, wide)
        if trial % 2:
            text = _corrupt(rng, text)
        data = text.encode("latin-1")
        vmax, dt = (SAFE_MAX, np.uint64) if wide else (U32_MAX, np.uint32)
        for cut in range(len(data) + 1):
            _same(data, nf, 12, vmax, dt, [cut], trial * 1000 + cut)
        for _ in range(40):
            _same(data, nf, 12, vmax, dt, [rng.randrange(len(data)), rng.randrange(len(data))], trial)


def test_edge_cases():
    long_ok = ",".join(["7"] * 200)
    texts = ["]", " ]", "\n]", "1]", "1,]", "1,,2]", ",1]", "[1]", "1 2]", "1\n,\n2]", "-1]", "1-]",
             "1.5]", "1e5]", "1E5]", "4294967295]", "4294967296]", "42949672950]", "9007199254740991]",
             "9007199254740992]", "00000000000000000001]", "0000000000]", "99999999999999999999]",
             long_ok + "]", long_ok + ",]", long_ok + ",,1]", long_ok + ",-1]", long_ok + ",4294967296]",
             long_ok + ",1.0]", long_ok + ",9007199254740992]", long_ok + ",1a]", long_ok + ",\t\r\n 1 \t\r\n]",
             ",".join(["4294967295"] * 40) + "]", ",".join(["9007199254740991"] * 40) + "]",
             ",".join(["1234567890"] * 40) + "]", ",".join(["12345678"] * 40) + "]",
             ",".join(["123456789"] * 40) + ",x]", (" " * 100 + ",").join(["5"] * 20) + "]",
             ("," + " " * 100).join(["5"] * 20) + "]", ",".join(["5"] * 30) + "," + " " * 200 + "]"]
    for text in texts:
        data = text.encode()
        for nf in (1, 3, 7):
            for cap in (0, 1, 3, 13, 40, 300):
                for wide in (False, True):
                    vmax, dt = (SAFE_MAX, np.uint64) if wide else (U32_MAX, np.uint32)
                    _same(data, nf, cap, vmax, dt, [], 0)
                    _same(data, nf, cap, vmax, dt, [len(data) // 2, len(data) - 3], 1)


def test_output_full_without_growing():
    """Status 2 reported (and the pending value kept in st) when nrec is smaller than needed."""
    rng = random.Random(11)
    for trial in range(300):
        nf = rng.choice([1, 3, 6, 7])
        data = _text(rng, nf, 40, False).encode()
        cap = rng.randrange(40)
        log = _same(data, nf, cap, U32_MAX, np.uint32, [rng.randrange(len(data))], trial, grow=False)
        assert log[-1][0] in (2, ERR_OVERFLOW)


def test_outputs_shorter_than_nrec():
    data = (",".join(["3"] * 90) + "]").encode()
    buf = np.frombuffer(data, dtype=np.uint8)
    for fn in (_reference_parse_uints, K.parse_uints):
        outs = (np.zeros(30, np.uint32), np.zeros(29, np.uint32), np.zeros(30, np.uint32))
        st = np.zeros(6, np.int64)
        assert fn(buf, 0, len(data), outs, 30, st, U32_MAX) == (ERR_CHAR, 0)
        assert not st.any() and not any(o.any() for o in outs)


def test_second_half_start():
    """The other thread's half starts right after a comma with count/field/record preset."""
    rng = random.Random(5)
    for trial in range(400):
        nf = rng.choice([1, 3, 6, 7])
        text = _text(rng, nf, 30, False)
        if trial % 3 == 0:
            text = _corrupt(rng, text)
        data = text.encode("latin-1")
        commas = [i for i, ch in enumerate(data) if ch == 44]
        if not commas:
            continue
        split = rng.choice(commas) + 1
        before = rng.randrange(0, 200)
        st0 = np.zeros(6, dtype=np.int64)
        st0[1] = _EXPECT_VALUE
        st0[2], st0[4], st0[5] = before, before % nf, before // nf
        _same(data, nf, 30 + before // nf + 1, U32_MAX, np.uint32, [rng.randrange(len(data))], trial,
              st0=st0, pos0=split)


def test_strided_buffer():
    """A buffer that is not a contiguous uint8 array takes the digit-by-digit fast path."""
    rng = random.Random(3)
    for trial in range(60):
        nf = rng.choice([1, 3, 7])
        text = _text(rng, nf, 20, False)
        if trial % 2:
            text = _corrupt(rng, text)
        data = np.frombuffer(text.encode("latin-1"), dtype=np.uint8)
        strided = np.repeat(data, 2)[::2]
        assert not strided.flags.c_contiguous
        results = []
        for fn in (_reference_parse_uints, K.parse_uints):
            outs = tuple(np.zeros(20, np.uint32) for _ in range(nf))
            st = np.zeros(6, np.int64)
            status, pos = fn(strided, 0, len(data), outs, 20, st, U32_MAX)
            results.append((int(status), int(pos), st.tolist(), [o.tolist() for o in outs]))
        assert results[0] == results[1]


def test_bad_token_at_every_field_and_entry():
    """A bad token in any field of the first records after an entry at any comma (the fast
    path then reaches a record's start token by token): values, st and positions as before."""
    rng = random.Random(17)
    bad = ["-1", ",", "]", "1.5", "x", "4294967296", "12345678901", " -", "1e2", "\t\n"]
    for nf in (1, 3, 7):
        values = [[str(rng.choice([0, 3, 12, 456, 78901, 2345678, 99999999, 4294967295]))
                   for _ in range(nf)] for _ in range(30)]
        for j in range(4):
            for i in range(nf):
                for b in bad:
                    recs = [list(rec) for rec in values]
                    recs[j][i] = b
                    data = ("\n,".join(",".join(rec) for rec in recs) + "]").encode()
                    commas = [k for k, ch in enumerate(data) if ch == 44][: 2 * nf + 1]
                    for e in [None] + commas:
                        if e is None:
                            _same(data, nf, 40, U32_MAX, np.uint32, [], 0)
                            continue
                        before = sum(1 for ch in data[:e + 1] if ch == 44)
                        st0 = np.zeros(6, dtype=np.int64)
                        st0[0] = 77  # the value the state machine holds (returned with errors)
                        st0[1] = _EXPECT_VALUE
                        st0[2], st0[4], st0[5] = before, before % nf, before // nf
                        _same(data, nf, 40, U32_MAX, np.uint32, [], 0, st0=st0, pos0=e + 1)
