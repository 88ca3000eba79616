"""numba kernels that scan JSON text in chunks: unsigned-integer arrays, string arrays and balanced
values (JSON string unescaping is in ``workbench/_arrays.py``). They only read the buffer window they are given and write
into arrays whose capacity they check, so a hostile file can make them stop, never overrun.

Each scanner is resumable: its state lives in a small int64 array, so a value split across two
chunks is continued on the next call. Status codes: 0 = needs more input, 1 = value closed,
2 = output full (caller grows or reports), negative = syntax error at the returned position.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from .._jit import intrinsic, njit, overload, types

# parse_uints states
_EXPECT_FIRST = 0   # right after '[': a value or ']'
_IN_NUMBER = 1
_EXPECT_SEP = 2     # after a value: ',' or ']'
_EXPECT_VALUE = 3   # after ',': a value
_PENDING = 4        # a value is complete but the output was full

ERR_CHAR = -1
ERR_NEGATIVE = -2
ERR_OVERFLOW = -3
ERR_FRACTION = -4
ERR_DEPTH = -5

U32_MAX = 0xFFFFFFFF
SAFE_MAX = (1 << 53) - 1   # JavaScript's Number.MAX_SAFE_INTEGER: the wide reader's bound
MAX_DEPTH = 200_000  # deeper than the JSON decoder goes: scan_value stops there (a bomb of '[')


@njit(cache=True, nogil=True)
def _is_ws(c):
    return c == 32 or c == 10 or c == 13 or c == 9


@intrinsic
def _load_u64(typingctx, arr, idx):
    """The 8 bytes of a uint8 array at ``idx`` as one little-endian uint64 (unaligned load,
    no bounds check: the caller guarantees idx + 8 <= len)."""
    sig = types.uint64(arr, idx)

    def codegen(context, builder, sig, args):
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        ptr = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(64).as_pointer())
        return builder.load(ptr, align=1)
    return sig, codegen


@intrinsic
def _ctz64(typingctx, x):
    """Trailing zero bits of a nonzero uint64."""
    sig = types.uint64(x)

    def codegen(context, builder, sig, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))
    return sig, codegen


_U8_F0 = np.uint64(0xF0F0F0F0F0F0F0F0)
_U8_30 = np.uint64(0x3030303030303030)
_U8_06 = np.uint64(0x0606060606060606)
_U8_0F = np.uint64(0x0F0F0F0F0F0F0F0F)
_U16_FF = np.uint64(0x00FF00FF00FF00FF)
_U32_FFFF = np.uint64(0x0000FFFF0000FFFF)
_M1 = np.uint64(2561)            # 10 * 256 + 1
_M2 = np.uint64(6553601)         # 100 * 65536 + 1
_M3 = np.uint64(42949672960001)  # 10000 * 2^32 + 1
_S3 = np.uint64(3)
_S8 = np.uint64(8)
_S16 = np.uint64(16)
_S32 = np.uint64(32)
_S64 = np.uint64(64)
_U8 = np.uint64(8)


# The fast path's source, generated per field count: a token is ``ws* digits ws* ','`` starting
# before ``lim``; a failed test leaves the enclosing loop by ``break`` with nothing committed.
# _TOKEN_SWAR reads a one-digit number directly and a longer one 8 digits at once (a mask of the
# non-digit bytes, its trailing zeros, three multiplies: no mispredicted loop exit for numbers of
# varying length), the 9th and 10th digits one by one; _TOKEN_SCALAR (for a buffer that is not
# a contiguous uint8 array) reads digit by digit.
_WS_SKIP = """\
if c == 32 or c == 10 or c == 13 or c == 9:
    while True:
        p += 1
        if p >= lim:
            break
        c = buf[p]
        if not (c == 32 or c == 10 or c == 13 or c == 9):
            break
    if p >= lim:
        break
"""
# a token: optional whitespace, the digits (SWAR: 8 at once, or one by one), whitespace, the comma
_TOKEN_HEAD = """\
p = {src}
c = buf[p]
{ws}\
if not (48 <= c <= 57):
    break
s{k} = p
"""
_TOKEN_TAIL = """\
if c != 44:
{ws2}\
    if c != 44:
        break
q = p + 1
"""
_TOKEN_SWAR = _TOKEN_HEAD + """\
c1 = buf[p + 1]
if not (48 <= c1 <= 57):
    v{k} = c - 48
    p += 1
    c = c1
else:
    w = _load_u64(buf, p)
    nd = ((w & _U8_F0) ^ _U8_30) | (((w + _U8_06) & _U8_F0) ^ _U8_30)
    if nd:
        n = _ctz64(nd) >> _S3
        d = (w & _U8_0F) << (_S64 - (n << _S3))
    else:
        n = _U8
        d = w & _U8_0F
    d = (d * _M1) >> _S8
    d = ((d & _U16_FF) * _M2) >> _S16
    v{k} = np.int64(((d & _U32_FFFF) * _M3) >> _S32)
    p += np.int64(n)
    c = buf[p]
    if n == _U8:
        if 48 <= c <= 57:
            v{k} = v{k} * 10 + (c - 48)
            p += 1
            c = buf[p]
            if 48 <= c <= 57:
                v{k} = v{k} * 10 + (c - 48)
                p += 1
                c = buf[p]
                if 48 <= c <= 57 or v{k} > vmax:
                    break
""" + _TOKEN_TAIL
_TOKEN_SCALAR = _TOKEN_HEAD + """\
v{k} = c - 48
p += 1
c = buf[p]
n = 1
while 48 <= c <= 57 and n < 10:
    v{k} = v{k} * 10 + (c - 48)
    n += 1
    p += 1
    c = buf[p]
if n == 10:
    if 48 <= c <= 57 or v{k} > vmax:
        break
""" + _TOKEN_TAIL
_RECORD_SRC = """\
    while True:
        if f == 0:
{unpack}
            while pos < lim and count + {nf} <= cap:
{record}
{stores}
                value = v{last}
                start = s{last}
                count += {nf}
                r += 1
                pos = q
        # the tokens up to the next record's start (or where the state machine takes over)
        wrapped = False
        while pos < lim and count < cap:
{token}
            outs[f][r] = v
            value = v
            start = s
            count += 1
            f += 1
            pos = q
            if f == {nf}:
                f = 0
                r += 1
                wrapped = True
                break
        if not wrapped:
            break
    return pos, value, count, f, r, start
"""
_TOKENS_SRC = """\
    while pos < lim and count < cap:
{token}
        outs[f][r] = v
        value = v
        start = s
        count += 1
        f += 1
        if f == {nf}:
            f = 0
            r += 1
        pos = q
    return pos, value, count, f, r, start
"""
_FAST_SRC = """\
def _fast(buf, pos, lim, outs, cap, value, count, f, r, vmax):
    start = -1
{body}\
"""


def _indent(text, n):
    return "".join(" " * n + line if line.strip() else line for line in text.splitlines(True))


def _fast_source(nf, swar=True):
    ws = _WS_SKIP
    ws2 = _indent(_WS_SKIP, 4)
    token = _TOKEN_SWAR if swar else _TOKEN_SCALAR

    def tok(k, src):
        return token.format(k=k, src=src, ws=ws, ws2=ws2)
    if nf <= _RECORD_MAX:
        body = _RECORD_SRC.format(
            nf=nf, last=nf - 1,
            unpack=_indent("".join(f"o{k} = outs[{k}]\n" for k in range(nf)), 12),
            record=_indent("".join(tok(k, "pos" if k == 0 else "q") for k in range(nf)), 16),
            stores=_indent("".join(f"o{k}[r] = v{k}\n" for k in range(nf)), 16),
            token=_indent(tok("", "pos"), 12))
    else:
        body = _TOKENS_SRC.format(nf=nf, token=_indent(tok("", "pos"), 8))
    return _FAST_SRC.format(body=body)


_RECORD_MAX = 8   # wider records use the per-token loop only (the generated code grows with nf)


_FAST_IMPLS = {}


def _uints_fast(buf, pos, lim, outs, cap, value, count, f, r, vmax):
    """parse_uints' fast path, entered where a value is expected (after '[' or ','): whole
    tokens ``ws* digits ws* ','``, each starting before ``lim`` (64 bytes before the window's
    end and the buffer's: at most 11 bytes past it are read unchecked, an 8-byte load
    included). A token is committed only once its comma is seen; anything else (a sign,
    fraction, exponent, ']', a bad character, more than 10 digits, a value above ``vmax``,
    full output, the window's end) leaves ``pos`` at the token's start for the state machine,
    which then does exactly what it would have done. From a record's first field (reached
    token by token from wherever it starts), whole records are read per iteration (each field's own code and array, no tuple index, one
    capacity check per record; up to _RECORD_MAX fields), and a number's first 8 digits at
    once. Generated per field count by the overload below. Returns (pos, value, count, f, r,
    start of the last committed number or -1)."""


@overload(_uints_fast, jit_options={"nogil": True})
def _ov_uints_fast(buf, pos, lim, outs, cap, value, count, f, r, vmax):
    nf = len(outs)
    if nf and outs[0].dtype != types.uint32:
        # 64-bit outputs (the re-read of a non-V8 file with numbers above 2^32-1) are rare: no
        # fast path, only the state machine (the generated code took 6 s to compile for them,
        # on first use, which the fuzz run's time limit caught)
        def _none(buf, pos, lim, outs, cap, value, count, f, r, vmax):
            return pos, value, count, f, r, -1
        return _none
    swar = isinstance(buf, types.Array) and buf.layout == "C" and buf.dtype == types.uint8
    key = (nf, swar)
    if key not in _FAST_IMPLS:
        ns = {k: v for k, v in globals().items() if k.startswith(("_U8", "_U16", "_U32", "_M", "_S"))}
        ns.update(np=np, _load_u64=_load_u64, _ctz64=_ctz64)
        exec(compile(_fast_source(nf, swar), f"<parse_uints fast path, {nf} fields>", "exec"), ns)
        _FAST_IMPLS[key] = ns["_fast"]
    return _FAST_IMPLS[key]


@njit(cache=True, nogil=True)
def parse_uints(buf, pos, end, outs, nrec, st, vmax=U32_MAX):
    """Parse comma-separated unsigned integers until ']' into the per-field arrays ``outs``
    (a tuple, one array per field): value k goes to outs[k % nf][k // nf]. ``st`` = [value,
    state, count, start_pos, field, record] (field/record advance incrementally: no division
    per value). A value above ``vmax`` (2^32-1, or 2^53-1 for 64-bit outputs) is
    ERR_OVERFLOW. Returns (status, pos). Where a value is expected and the window's end is
    more than 64 bytes away, whole tokens go through _uints_fast, which commits only complete
    tokens and hands anything unusual back to this state machine unread."""
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
    lim = min(end, buf.shape[0]) - 64
    if (state == _EXPECT_VALUE or state == _EXPECT_FIRST) and 0 <= pos < lim:
        pos, value, count, f, r, start = _uints_fast(buf, pos, lim, outs, cap, value, count, f, r, vmax)
        if start >= 0:  # a token (and its comma) was committed
            st[3] = start
            state = _EXPECT_VALUE
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
            if 0 <= pos < lim:
                pos, value, count, f, r, start = _uints_fast(buf, pos, lim, outs, cap, value, count, f, r, vmax)
                if start >= 0:
                    st[3] = start
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


# scan_strings states
_S_FIRST = 0
_S_IN = 1
_S_ESC = 2
_S_SEP = 3
_S_VALUE = 4


@njit(cache=True, nogil=True)
def scan_strings(buf, pos, end, st, out, starts, lens, esc):
    """Copy the raw contents of each JSON string of an array into ``out`` (escapes kept) and
    record start, length and whether it holds escapes. ``st`` = [state, outpos, nstr, start].
    Returns (status, pos): 2 = byte buffer full, 3 = string slots full."""
    state = st[0]
    outpos = st[1]
    nstr = st[2]
    cur_start = st[3]
    cap = out.shape[0]
    slots = starts.shape[0]
    while pos < end:
        c = buf[pos]
        if state == _S_IN:
            if c == 34:  # closing quote
                lens[nstr] = outpos - cur_start
                nstr += 1
                state = _S_SEP
                pos += 1
                continue
            if outpos >= cap:
                st[0] = state; st[1] = outpos; st[2] = nstr; st[3] = cur_start
                return 2, pos
            out[outpos] = c
            outpos += 1
            if c == 92:  # backslash
                esc[nstr] = True
                state = _S_ESC
            pos += 1
            continue
        if state == _S_ESC:
            if outpos >= cap:
                st[0] = state; st[1] = outpos; st[2] = nstr; st[3] = cur_start
                return 2, pos
            out[outpos] = c
            outpos += 1
            state = _S_IN
            pos += 1
            continue
        if _is_ws(c):
            pos += 1
            continue
        if c == 34:
            if state == _S_SEP:
                st[0] = state; st[1] = outpos; st[2] = nstr; st[3] = cur_start
                return ERR_CHAR, pos
            if nstr >= slots:
                st[0] = state; st[1] = outpos; st[2] = nstr; st[3] = cur_start
                return 3, pos
            cur_start = outpos
            starts[nstr] = outpos
            esc[nstr] = False
            state = _S_IN
            pos += 1
            continue
        if c == 44 and state == _S_SEP:
            state = _S_VALUE
            pos += 1
            continue
        if c == 93 and (state == _S_SEP or state == _S_FIRST):
            st[0] = _S_SEP; st[1] = outpos; st[2] = nstr; st[3] = cur_start
            return 1, pos + 1
        st[0] = state; st[1] = outpos; st[2] = nstr; st[3] = cur_start
        return ERR_CHAR, pos
    st[0] = state
    st[1] = outpos
    st[2] = nstr
    st[3] = cur_start
    return 0, pos


@njit(cache=True, nogil=True)
def scan_value(buf, pos, end, st):
    """Find the end of one JSON value (object, array, string or scalar) starting at or after
    ``pos``. ``st`` = [depth, mode, escape] with mode 0 = not started, 1 = container,
    2 = top-level string, 3 = scalar. Returns (status, pos) with pos just past the value
    (a scalar ends before its delimiter)."""
    depth = st[0]
    mode = st[1]
    escape = st[2]
    in_str = st[3]
    while pos < end:
        c = buf[pos]
        if mode == 0:
            if _is_ws(c):
                pos += 1
                continue
            if c == 123 or c == 91:
                mode = 1
                depth = 1
                pos += 1
                continue
            if c == 34:
                mode = 2
                pos += 1
                continue
            if c == 44 or c == 125 or c == 93 or c == 58:
                st[0] = depth; st[1] = mode; st[2] = escape; st[3] = in_str
                return ERR_CHAR, pos
            mode = 3
            pos += 1
            continue
        if mode == 3:
            if c == 44 or c == 125 or c == 93 or _is_ws(c):
                st[0] = 0; st[1] = 0; st[2] = 0; st[3] = 0
                return 1, pos
            pos += 1
            continue
        if mode == 2 or in_str == 1:
            if escape == 1:
                escape = 0
            elif c == 92:
                escape = 1
            elif c == 34:
                if mode == 2:
                    st[0] = 0; st[1] = 0; st[2] = 0; st[3] = 0
                    return 1, pos + 1
                in_str = 0
            pos += 1
            continue
        # inside a container, outside strings
        if c == 34:
            in_str = 1
        elif c == 123 or c == 91:
            depth += 1
            if depth > MAX_DEPTH:
                st[0] = depth; st[1] = mode; st[2] = escape; st[3] = in_str
                return ERR_DEPTH, pos
        elif c == 125 or c == 93:
            depth -= 1
            if depth == 0:
                st[0] = 0; st[1] = 0; st[2] = 0; st[3] = 0
                return 1, pos + 1
        pos += 1
    st[0] = depth
    st[1] = mode
    st[2] = escape
    st[3] = in_str
    return 0, pos


@njit(cache=True, nogil=True)
def json_guard(buf, st, max_depth):
    """Scan a piece of a JSON document for what no valid document has: a raw control character
    (st[3] = 1) or nesting deeper than ``max_depth`` (st[3] = 2). ``st`` = [in_string, escape,
    depth, why] carries over between pieces. Returns the index of the offending byte, or -1."""
    in_str = st[0]
    esc = st[1]
    depth = st[2]
    for i in range(buf.shape[0]):
        c = buf[i]
        if c < 32 and c != 9 and c != 10 and c != 13:
            st[0] = in_str; st[1] = esc; st[2] = depth; st[3] = 1
            return i
        if in_str == 1:
            if esc == 1:
                esc = 0
            elif c == 92:
                esc = 1
            elif c == 34:
                in_str = 0
        elif c == 34:
            in_str = 1
        elif c == 91 or c == 123:
            depth += 1
            if depth > max_depth:
                st[0] = in_str; st[1] = esc; st[2] = depth; st[3] = 2
                return i
        elif c == 93 or c == 125:
            depth -= 1
    st[0] = in_str
    st[1] = esc
    st[2] = depth
    return -1


# The reader's validation (``heapsnapshot._validate``) in one pass per section. Each array is
# walked in blocks: a branch-free loop over the block (slices, so the indices are known to be
# non-negative and LLVM vectorises it) only ORs together "something here is wrong"; a block that
# says so is walked again value by value to find the first offender of each check. A valid file
# never takes the slow walk.
VALIDATE_BLOCK = 4096
_U32_LIMIT = 1 << 32


@njit(cache=True, nogil=True)
def check_nodes(ntype, name, edge_count, detached, ntypes, nstr):
    """The node checks of one pass. ``detached`` is empty when the nodes have no such field.
    Returns (first node whose type is > ntypes (more than one past meta.node_types), number of
    nodes whose type is == ntypes (one past: older V8), first node whose name is >= nstr, first
    node whose detachedness is >= 4, the edge_count sum modulo 2^64 like numpy's uint64 sum);
    -1 where no node fails."""
    n = ntype.shape[0]
    has_det = detached.shape[0] != 0
    bad_type = -1
    bad_name = -1
    bad_det = -1
    undefined = 0
    total = np.uint64(0)
    i0 = 0
    while i0 < n:
        i1 = min(i0 + VALIDATE_BLOCK, n)
        a = ntype[i0:i1]
        b = name[i0:i1]
        c = edge_count[i0:i1]
        acc = 0
        if has_det:
            d = detached[i0:i1]
            for i in range(a.shape[0]):
                t = np.int64(a[i])
                undefined += np.int64(t == ntypes)
                total += np.uint64(c[i])
                acc |= np.int32((t > ntypes) | (np.int64(b[i]) >= nstr) | (np.int64(d[i]) >= 4))
        else:
            for i in range(a.shape[0]):
                t = np.int64(a[i])
                undefined += np.int64(t == ntypes)
                total += np.uint64(c[i])
                acc |= np.int32((t > ntypes) | (np.int64(b[i]) >= nstr))
        if acc:
            for i in range(i0, i1):
                if bad_type < 0 and np.int64(ntype[i]) > ntypes:
                    bad_type = i
                if bad_name < 0 and np.int64(name[i]) >= nstr:
                    bad_name = i
                if has_det and bad_det < 0 and np.int64(detached[i]) >= 4:
                    bad_det = i
        i0 = i1
    return bad_type, undefined, bad_name, bad_det, total


@njit(cache=True, nogil=True)
def _check_edges_slow(etype, ename, to, ne, string_named, nstr, nf, n, i0, i1, res):
    """Value by value over [i0, i1), as check_edges defines; True once an edge type is bad."""
    for i in range(i0, i1):
        t = np.int64(etype[i])
        if t >= ne:
            if res[0] < 0:
                res[0] = i
            return True
        if res[1] < 0:
            v = np.int64(to[i])
            q = v // nf
            if q * nf != v:
                res[1] = i
                res[2] = 1
            elif q >= n:
                res[1] = i
                res[2] = 2
            else:
                to[i] = q
                if res[3] < 0 and string_named[t] and np.int64(ename[i]) >= nstr:
                    res[3] = i
    return False


@njit(cache=True, nogil=True)
def check_edges(etype, ename, to, ne, string_named, nstr, nf, n):
    """The edge checks of one pass, converting ``to`` (node field offsets) to node ordinals in
    place. Returns int64 [first edge whose type is >= ne, first edge whose to_node is bad,
    why (1 = not a multiple of nf, 2 = past the last node), first edge of a string-named type
    (``string_named[type]``) whose name is >= nstr], -1 where no edge fails. Priority as the
    reader reports them: a bad type anywhere stops the walk (the other answers are then
    incomplete); a bad to_node is left unconverted, and so are all after it, and names are no
    longer checked past it. Without errors every to_node is converted.

    The block test divides through a float64 reciprocal: for v < 2^32 the product is within
    2^-20 of v / nf, so rounding it gives v / nf exactly when nf divides v and a q with
    q * nf != v otherwise; larger values (the 64-bit reader's) take the exact slow walk."""
    e = etype.shape[0]
    res = np.full(4, -1, dtype=np.int64)
    res[2] = 0
    inv = 1.0 / nf
    bits = np.uint64(0)   # string_named as a bit set, for a branch-free lookup
    for k in range(min(ne, 64)):
        if string_named[k]:
            bits |= np.uint64(1) << np.uint64(k)
    i0 = 0
    while i0 < e:
        i1 = min(i0 + VALIDATE_BLOCK, e)
        if res[1] < 0 and ne <= 64:
            a = etype[i0:i1]
            b = ename[i0:i1]
            c = to[i0:i1]
            acc = 0
            for i in range(a.shape[0]):
                t = np.int64(a[i])
                v = np.int64(c[i])
                q = np.int64(np.float64(v) * inv + 0.5)
                named = ((bits >> np.uint64(t & 63)) & np.uint64(1)) != 0
                acc |= np.int32((t >= ne) | (v >= _U32_LIMIT) | (q * nf != v) | (q >= n)
                                | (named & (np.int64(b[i]) >= nstr)))
            if acc == 0:
                for i in range(c.shape[0]):
                    c[i] = np.int64(np.float64(c[i]) * inv + 0.5)
                i0 = i1
                continue
        if _check_edges_slow(etype, ename, to, ne, string_named, nstr, nf, n, i0, i1, res):
            return res
        i0 = i1
    return res


@njit(cache=True, nogil=True)
def check_locations(loc, width, field, nf, n):
    """Over the object_index values ``loc[field::width]``: (first location whose node offset is
    past the last node (offset // nf >= n), number of locations whose offset is not a multiple
    of nf (pointing inside a node)), -1 / 0 when none."""
    m = loc.shape[0] // width
    lim = np.int64(n) * nf
    inv = 1.0 / nf
    past = -1
    inside = 0
    for j in range(m):
        v = np.int64(loc[j * width + field])
        if v >= lim:
            if past < 0:
                past = j
        if v < _U32_LIMIT:
            q = np.int64(np.float64(v) * inv + 0.5)   # exact as in check_edges
            inside += np.int64(q * nf != v)
        else:
            inside += np.int64(v % nf != 0)
    return past, inside


@njit(cache=True, nogil=True)
def find_byte(buf, a, b, ch):
    for i in range(a, b):
        if buf[i] == ch:
            return i
    return -1


@njit(cache=True, nogil=True)
def count_byte(buf, a, b, ch):
    """Occurrences of byte ``ch`` in buf[a:b]. Written so that LLVM vectorises it (a uint8
    compare summed over a slice: 31 GB/s on cached data here, against 4.7 GB/s for the loop
    with a branch over int64 compares); the reader's split windows count a half on the critical path."""
    if ch < 0 or ch > 255:
        return 0
    c = np.uint8(ch)
    v = buf[max(a, 0):max(b, 0)]
    n = 0
    for i in range(v.shape[0]):
        n += v[i] == c
    return n
