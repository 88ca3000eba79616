"""The snapshot's string table: raw JSON bytes with offsets, decoded lazily, plus the strings
DevTools appends at load time (class names such as '(system)' or '{a, b}')."""
from __future__ import annotations

import json

import numpy as np


class _Kernels:
    """The numba kernels, imported on first use: a snapshot re-opened from the cache may never need
    numba (importing it costs a quarter of a second)."""

    def __getattr__(self, name):
        from . import _kernels
        value = getattr(_kernels, name)
        setattr(self, name, value)   # found directly from now on
        return value


K = _Kernels()


def utf16_len(s: str) -> int:
    """JavaScript's String.length: UTF-16 code units."""
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


class StringTable:
    """``table[i]`` decodes string i on first use; ``table.add(s)`` appends like DevTools."""

    def __init__(self, raw: np.ndarray, starts: np.ndarray, lens: np.ndarray, esc: np.ndarray):
        self.raw = raw
        self.starts = starts
        self.lens = lens
        self.esc = esc
        self.n_original = int(starts.shape[0])
        self._cache: dict[int, str] = {}
        self._added: list[str] = []
        self._added_index: dict[tuple[str, str], int] = {}
        self._arrow = None

    def __len__(self) -> int:
        return self.n_original + len(self._added)

    def _decode_one(self, i: int) -> str:
        b, n = int(self.starts[i]), int(self.lens[i])
        chunk = self.raw[b:b + n]
        if not self.esc[i]:
            return chunk.tobytes().decode("utf-8", "replace")
        from .._arrays import unescape_table
        out = np.empty(n * 3 + 8, dtype=np.uint8)
        offs = np.empty(2, dtype=np.int64)
        unescape_table(chunk, np.zeros(1, np.int64), np.array([n], np.int64), np.ones(1, np.bool_), out, offs)
        return out[: offs[1]].tobytes().decode("utf-8", "replace")

    def __getitem__(self, i) -> str:
        i = int(i)
        if i >= self.n_original:
            return self._added[i - self.n_original]
        s = self._cache.get(i)
        if s is None:
            s = self._decode_one(i)
            self._cache[i] = s
        return s

    def get_many(self, idx) -> list[str]:
        return [self[i] for i in np.asarray(idx).tolist()]

    def add(self, s: str, family: str = "") -> int:
        """Append a derived string. DevTools de-duplicates its added strings per purpose (one map
        for class names, one for 'Detached' renames, one for interface names), never against the
        original table; ``family`` reproduces that."""
        key = (family, s)
        idx = self._added_index.get(key)
        if idx is None:
            idx = len(self)
            self._added.append(s)
            self._added_index[key] = idx
            self._arrow = None
        return idx

    def find(self, value: str) -> np.ndarray:
        """Indices of the original strings equal to ``value``."""
        forms = {value.encode("utf-8"), json.dumps(value, ensure_ascii=True)[1:-1].encode("ascii")}
        hits: set[int] = set()
        for form in forms:
            needle = np.frombuffer(form, dtype=np.uint8)
            for s in K.find_equal(self.raw, self.starts, self.lens, needle):
                if self[s] == value:
                    hits.add(int(s))
        return np.array(sorted(hits), dtype=np.int64)

    def starts_with_digit(self, idx: np.ndarray) -> np.ndarray:
        return K.first_byte_is_digit(self.raw, self.starts, self.lens, np.asarray(idx, dtype=np.int64))

    def arrow(self):
        """Every string (original then added) as one pyarrow LargeStringArray, decoded in a
        single pass (pyarrow is imported here: the Summary path never needs it)."""
        import pyarrow as pa

        from .._arrays import unescape_table
        if self._arrow is None:
            cap = int(self.raw.shape[0] + 2 * np.count_nonzero(self.raw == 92) + 16)
            out = np.empty(cap, dtype=np.uint8)
            offs = np.empty(self.n_original + 1, dtype=np.int64)
            used = unescape_table(self.raw, self.starts, self.lens, self.esc, out, offs)
            data = out[:used]
            if self._added:
                extra = [s.encode("utf-8", "replace") for s in self._added]
                lens = np.fromiter((len(b) for b in extra), dtype=np.int64, count=len(extra))
                data = np.concatenate([data, np.frombuffer(b"".join(extra), dtype=np.uint8)])
                offs = np.concatenate([offs, used + np.cumsum(lens)])
            self._arrow = pa.LargeStringArray.from_buffers(
                len(self), pa.py_buffer(offs), pa.py_buffer(data))
        return self._arrow


# DevTools' consStringName stops once the value reaches this many UTF-16 code units.
CONS_NAME_LIMIT = 1024
# Our bounds beyond DevTools (see _kernels._cons_walk): a value never grows past MAX_UNITS code
# units, and a walk takes at most MAX_POPS steps.
CONS_MAX_UNITS = 1 << 16
CONS_MAX_POPS = 1 << 14


class ConsValues:
    """The display values of a snapshot's concatenated (cons) strings, as DevTools shows them:
    ``ordinals`` (the cons nodes, ascending), ``table`` (a StringTable, entry j the value of
    ``ordinals[j]``), ``units`` (the value's String.length), ``length`` (the full string's
    String.length, which may exceed the shown value), and ``cut`` (per node: 0 as DevTools, 1 cut
    at CONS_MAX_UNITS, 2 cut at CONS_MAX_POPS)."""

    def __init__(self, ordinals, table, units, length, cut):
        self.ordinals, self.table, self.units, self.length, self.cut = ordinals, table, units, length, cut


def cons_values(snap) -> ConsValues:
    """Flatten every cons string of ``snap`` by DevTools' rule (JSHeapSnapshotNode.name ->
    consStringName: depth-first over the 'first'/'second' internal edges, leaf names appended
    while the value is shorter than 1,024 code units), in one numba pass over all of them."""
    t_cons = snap._ntype_index("concatenated string")
    cons = np.flatnonzero(snap._ntype == t_cons).astype(np.int64)
    st = snap.strings
    if not cons.size:
        e = np.empty(0, np.int64)
        return ConsValues(e, StringTable(np.empty(0, np.uint8), e, e, np.empty(0, np.bool_)), e, e,
                          np.empty(0, np.int8))
    n_orig = st.n_original
    is_first = np.zeros(n_orig, dtype=np.bool_)
    is_first[st.find("first")] = True
    is_second = np.zeros(n_orig, dtype=np.bool_)
    is_second[st.find("second")] = True
    len16 = K.utf16_lengths(st.raw, st.starts, st.lens, st.esc, np.arange(n_orig, dtype=np.int64))
    internal = snap._etype_index("internal")
    order = K.cons_post_order(cons, snap.first_edge, snap._to, snap._etype, snap._ename, snap._ntype, t_cons,
                              internal, is_first, is_second, snap.node_count)
    args = (snap.first_edge, snap._to, snap._etype, snap._ename, snap._ntype, snap._name, t_cons,
            internal, is_first, is_second, len16)
    raw, start, nbytes, units, esc, cut = K.flatten_cons(order, *args, st.raw, st.starts, st.lens, st.esc,
                                                         CONS_NAME_LIMIT, CONS_MAX_UNITS, CONS_MAX_POPS,
                                                         snap.node_count)
    length = K.cons_lengths(order, *args, snap.node_count)[cons]
    # entries share bytes (a cons string whose 'first' reaches the bound shows that value): one
    # contiguous copy per node, as a StringTable's decoders expect (no entry overlaps another)
    raw, offs = K.gather_bytes(raw, start, nbytes, cons)
    table = StringTable(raw, offs[:-1].copy(), np.diff(offs), esc[cons])
    return ConsValues(cons, table, units[cons], length, cut[cons])  # cut: the status per node
