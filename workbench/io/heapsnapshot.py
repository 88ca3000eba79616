"""Reader for V8 heap snapshots: ``.heapsnapshot``, ``.heaptimeline`` and the ``.gz`` of either.

The format (V8 ``HeapSnapshotJSONSerializer``; see shared/research/heap-snapshots.md section 1) is
one JSON object: ``snapshot`` (meta and counts), ``nodes`` and ``edges`` (flat unsigned-integer
arrays), optional ``trace_function_infos``, ``trace_tree``, ``samples``, ``locations``, and
``strings``. This reader:

- streams the file in chunks (never ``json.load`` of the document): integer sections go through a
  numba scanner straight into preallocated field-major uint32 arrays, strings are kept as raw
  JSON bytes with offsets and decoded lazily, other sections are cut out with a balanced scanner;
- is meta-driven: field positions come from ``meta.node_fields``/``edge_fields``; 6- and 7-field
  nodes, any ``node_types``/``edge_types`` list, and absent optional sections are all accepted;
- validates every index (node types, string indices, ``to_node`` alignment and range, edge-count
  sum, root index, location offsets) before any analysis kernel can see the arrays, and raises
  ``FormatError`` naming the file, the section and the byte offset (of the decompressed stream).
"""
from __future__ import annotations

import json
import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .._memory import set_numpy_huge_pages
from .._progress import progress
from ..errors import FormatError
from ..heap.snapshot import HeapSnapshot
from ._jsonfile import fix_surrogates, parse_bytes
from . import cache as cache_mod
from ._stream import K, ByteStream

# A window of an integer section at least this large is parsed by two threads.
SPLIT_MIN_BYTES = 1024 * 1024
_POOL = None


@contextmanager
def _small_pages():
    """The reader's arrays on ordinary 4 KiB pages. numpy asks for transparent huge pages for
    every array of 4 MiB and more; with the kernel's default ``defrag=madvise`` each such fault
    may stall in memory compaction, and the reader's arrays (written once, front to back) gain
    nothing from huge pages. Measured on the 569 MiB snapshot, 3 runs each after the page cache
    had filled: read 0.99-1.41 s with 0.49-1.16 s of system time on huge pages, 0.71-0.75 s with
    0.28-0.34 s on small pages. The passes' randomly accessed work arrays keep huge pages."""
    was = set_numpy_huge_pages(False)
    try:
        yield
    finally:
        if was:
            set_numpy_huge_pages(True)


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(1, thread_name_prefix="workbench-parse")
    return _POOL
NUMERIC_SECTIONS = ("nodes", "edges", "trace_function_infos", "samples", "locations")
KNOWN_SECTIONS = ("snapshot", "strings", "trace_tree") + NUMERIC_SECTIONS
REQUIRED_NODE_FIELDS = ("type", "name", "id", "self_size", "edge_count")
REQUIRED_EDGE_FIELDS = ("type", "name_or_index", "to_node")
# Each value takes at least two bytes ("0,"); deflate cannot expand more than ~1032:1.
MAX_DEFLATE_RATIO = 1100
# Values a gzip snapshot's arrays are first allocated for, per compressed byte (V8's snapshots
# compress about 5:1, some 3 values per 10 bytes); more data grows them, up to the declared count.
GZ_FIRST_VALUES = 8


@dataclass
class RawSnapshot:
    """What the reader hands to the model: validated arrays, nothing derived."""

    path: str
    header: dict
    nodes: dict                  # field name -> uint32 array (node_count,)
    edges: dict                  # field name -> uint32 array (edge_count,); to_node already an ordinal
    strings_raw: np.ndarray      # uint8 raw JSON string contents (escapes kept)
    string_starts: np.ndarray    # uint32 (int64 past 4 GiB of string bytes)
    string_lens: np.ndarray      # uint32
    string_esc: np.ndarray       # bool: has escapes
    sections: dict = field(default_factory=dict)   # other numeric sections, uint32 1-D
    trace_tree: object = None
    notes: list = field(default_factory=list)      # (section, count, what) of lossy/corrective steps
    unknown_sections: list = field(default_factory=list)
    file_size: int = 0


def _err_msg_for(status: int) -> str:
    return {
        K.ERR_CHAR: "unexpected character",
        K.ERR_NEGATIVE: "negative number (only unsigned integers are valid here)",
        K.ERR_OVERFLOW: "number larger than 2^32-1",
        K.ERR_FRACTION: "non-integer number",
    }.get(status, f"syntax error ({status})")


class _Wide(Exception):
    """A value above 2^32-1 in a numeric section: the file is read again with 64-bit arrays."""


def _scan_numbers(s: ByteStream, section: str, expected: int | None, nf: int = 1, capacity_hint: int = 0,
                  first: int | None = None, wide: bool = False) -> list:
    """Parse an integer array whose '[' was just consumed into one array per field. With
    ``expected`` (values in all) the arrays end with exactly that capacity (an excess is an error);
    ``first`` (values) caps the first allocation, which then grows up to ``expected`` as values
    arrive (gzip files: a declared count is not yet data). Without ``expected`` the single output
    grows. With ``expected`` or a ``capacity_hint`` (the locations: 4 values per node, which
    holds them all) each buffer window is split in two at a comma, the second half parsed by
    another thread (the kernels release the GIL); a half that fills the output stops there and
    the growth below continues from the first value not stored, as without the split."""
    dt = np.uint64 if wide else np.uint32
    vmax = K.SAFE_MAX if wide else K.U32_MAX
    if expected is not None:
        full = expected // nf
        nrec = full if first is None else min(full, max(first // nf, 1 << 16))
        outs = tuple(np.empty(nrec, dtype=dt) for _ in range(nf))
    else:
        nrec = max(capacity_hint, 1 << 16)
        outs = (np.empty(nrec, dtype=dt),)
    st = np.zeros(6, dtype=np.int64)
    while True:
        status = None
        if (expected is not None or capacity_hint) and s.end - s.pos >= SPLIT_MIN_BYTES and st[1] in (0, 1, 3):
            # Every value of the first half (including one still being read at the window's
            # start) ends with a comma, so counting commas places the second half, which the
            # other thread parses straight into the same arrays.
            # the other thread's part is the larger: this one first counts the commas of it
            # (a streaming read, about a third of parsing's cost per byte here) before it
            # parses its own, so 3/5 evens the two threads' time
            mid = s.pos + (s.end - s.pos) * 3 // 5
            comma = K.find_byte(s.buf, mid, s.end, 44)
            if comma >= 0:
                split = comma + 1
                # the other thread parses the first half (its start is known) while this one
                # counts the first half's values and then parses the second half in place
                start_count = int(st[2])  # read before the other thread starts writing st
                fut = _pool().submit(K.parse_uints, s.buf, s.pos, split, outs, nrec, st, vmax)
                before = start_count + K.count_byte(s.buf, s.pos, split, 44)
                st2 = np.zeros(6, dtype=np.int64)
                st2[1] = 3  # right after a comma: a value is expected
                st2[2], st2[4], st2[5] = before, before % nf, before // nf
                status2, pos2 = K.parse_uints(s.buf, split, s.end, outs, nrec, st2, vmax)
                status, pos = fut.result()
                if status == 0 and st[1] == 3 and int(st[2]) == before:
                    # the first half ended cleanly at the split: continue from the second
                    st[:] = st2
                    status, pos = status2, pos2
                elif status == 0:
                    raise FormatError(s.path, section, s.offset(split), "malformed number list")
                # else: the first half ended the section or failed; it decides
        if status is None:
            status, pos = K.parse_uints(s.buf, s.pos, s.end, outs, nrec, st, vmax)
        s.pos = pos
        if status == 1:
            break
        if status == 0:
            if not s.fill():
                raise FormatError(s.path, section, s.offset(), "file ends inside the array (truncated)")
            continue
        if status == 2:
            if expected is not None:
                if nrec >= full:
                    raise FormatError(s.path, section, s.offset(),
                                      f"more values than the header declares ({expected})")
                grown = min(full, 2 * nrec)
                outs = tuple(_grow(o, grown) for o in outs)
                nrec = grown
                continue
            bigger = np.empty(nrec * 2, dtype=dt)
            bigger[:nrec] = outs[0]
            outs = (bigger,)
            nrec *= 2
            continue
        if status == K.ERR_OVERFLOW and not wide:
            raise _Wide(section)
        raise FormatError(s.path, section, s.offset(pos),
                          "number larger than 2^53-1" if status == K.ERR_OVERFLOW else _err_msg_for(status))
    count = int(st[2])
    if expected is not None:
        if count != expected:
            raise FormatError(s.path, section, s.offset(),
                              f"{count} values where the header declares {expected}")
        return list(outs)
    # a view: the buffer's pages past ``count`` were never written, so they cost no memory
    return [outs[0][:count] if capacity_hint else outs[0][:count].copy()]


def _grow(a: np.ndarray, n: int) -> np.ndarray:
    b = np.empty(n, dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


def _scan_strings(s: ByteStream, section: str, file_size: int):
    """The string table: (raw bytes, starts, lengths, has-escapes), one entry per string.

    An uncompressed file bounds the string bytes still to come and their count (each string takes
    at least 3 bytes, ``"",``; the count bound is capped at 2^26): the outputs are allocated once
    at that bound (np.empty: only the pages written are ever touched) and, when they did not have
    to grow, returned as views of it, starts and lengths written as uint32 directly when the
    bound is below 4 GiB. Otherwise (a gzip file's outputs start small and double) they are
    compacted: starts uint32 while the bytes fit (int64 past 4 GiB), lengths uint32, and the raw
    bytes copied out when the doubling left a large slack (its pages were written)."""
    fixed = not s.gz
    cap = max(file_size - s.offset() + 16, 1 << 10) if fixed else 1 << 20
    slots = min(max(1 << 14, (file_size - s.offset()) // 3 + 1), 1 << 26) if fixed else 1 << 14
    idt = np.uint32 if fixed and cap < 2**32 else np.int64
    out = np.empty(cap, dtype=np.uint8)
    starts = np.empty(slots, dtype=idt)
    lens = np.empty(slots, dtype=idt)
    esc = np.zeros(slots, dtype=np.bool_)
    st = np.zeros(4, dtype=np.int64)
    while True:
        status, pos = K.scan_strings(s.buf, s.pos, s.end, st, out, starts, lens, esc)
        s.pos = pos
        if status == 1:
            break
        if status == 0:
            if not s.fill():
                raise FormatError(s.path, section, s.offset(), "file ends inside the string table (truncated)")
        elif status == 2:
            out = np.concatenate([out, np.empty(out.shape[0], dtype=np.uint8)])
        elif status == 3:
            n = starts.shape[0]
            starts = np.concatenate([starts, np.empty(n, dtype=idt)])
            lens = np.concatenate([lens, np.empty(n, dtype=idt)])
            esc = np.concatenate([esc, np.zeros(n, dtype=np.bool_)])
        else:
            raise FormatError(s.path, section, s.offset(pos), _err_msg_for(status))
    n = int(st[2])
    used = int(st[1])
    if idt is np.uint32 and out.shape[0] == cap and starts.shape[0] == slots:
        return out[:used], starts[:n], lens[:n], esc[:n]
    # compact offsets: uint32 starts while the bytes fit, uint32 lengths
    sdt = np.uint32 if used < 2**32 else np.int64
    starts = starts[:n].astype(sdt)
    lens = lens[:n].astype(np.uint32)
    # copy only when the slack is large (the copy costs a second buffer while it runs)
    raw = out[:used].copy() if out.shape[0] - used > max(used // 4, 1 << 20) and used < (1 << 28) else out[:used]
    return raw, starts, lens, esc[:n].copy()


def _validate_header(path: str, header, offset: int) -> dict:
    def bad(msg):
        raise FormatError(path, "snapshot", offset, msg)

    if not isinstance(header, dict):
        bad("'snapshot' is not an object")
    meta = header.get("meta")
    if not isinstance(meta, dict):
        bad("missing 'meta'")
    for key in ("node_fields", "node_types", "edge_fields", "edge_types"):
        if not isinstance(meta.get(key), list) or not meta[key]:
            bad(f"missing or empty meta.{key}")
    nfields, efields = meta["node_fields"], meta["edge_fields"]
    for key in ("node_fields", "edge_fields", "location_fields", "sample_fields", "trace_function_info_fields",
                "trace_node_fields"):
        v = meta.get(key)
        if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            bad(f"meta.{key} is not a list of field names")
        if v is not None and len(set(v)) != len(v):
            bad(f"meta.{key} names a field twice")
    for f in REQUIRED_NODE_FIELDS:
        if f not in nfields:
            bad(f"meta.node_fields lacks '{f}'")
    for f in REQUIRED_EDGE_FIELDS:
        if f not in efields:
            bad(f"meta.edge_fields lacks '{f}'")
    ntypes = meta["node_types"][nfields.index("type")] if len(meta["node_types"]) > nfields.index("type") else None
    etypes = meta["edge_types"][efields.index("type")] if len(meta["edge_types"]) > efields.index("type") else None
    if not isinstance(ntypes, list) or not all(isinstance(t, str) for t in ntypes):
        bad("meta.node_types has no list of type names at the 'type' position")
    if not isinstance(etypes, list) or not all(isinstance(t, str) for t in etypes):
        bad("meta.edge_types has no list of type names at the 'type' position")
    for key in ("node_count", "edge_count"):
        v = header.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            bad(f"'{key}' must be a non-negative integer")
    if header["node_count"] < 1:
        bad("a snapshot needs at least the root node")
    tfc = header.get("trace_function_count", 0)
    if not isinstance(tfc, int) or isinstance(tfc, bool) or tfc < 0:
        bad("'trace_function_count' must be a non-negative integer")
    return header


def read_raw(path, *, quiet: bool = False) -> RawSnapshot:
    """Parse and validate a snapshot file into a RawSnapshot (see module docstring)."""
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size == 0:
        raise FormatError(path, "header", 0, "empty file")
    bar = progress(size, f"reading {os.path.basename(path)}", quiet=quiet)
    with _small_pages():
        return _read_raw(path, size, bar)


def _read_raw(path, size, bar) -> RawSnapshot:
    try:
        s = ByteStream(path, bar)
        try:
            return _read(s, size)
        except _Wide as w:
            wide_section = str(w)
        finally:
            s.close()
        # Non-V8 producers (64-bit addresses as ids, sizes of 4 GiB and more) write numbers
        # above 2^32-1 in the V8 format; DevTools reads them modulo 2^32. Read again, 64-bit.
        bar.reset()
        s = ByteStream(path, bar)
        try:
            raw = _read(s, size, wide=True)
        finally:
            s.close()
        _narrow(raw, wide_section)
        return raw
    finally:
        bar.close()


def _narrow(raw: RawSnapshot, first_section: str) -> None:
    """After a 64-bit read: fields whose values all fit go back to uint32; the others stay
    uint64, with a note per field."""
    for section, arrays in (("nodes", raw.nodes), ("edges", raw.edges)):
        for name, a in list(arrays.items()):
            big = int(np.count_nonzero(a > K.U32_MAX)) if a.size else 0
            if big:
                raw.notes.append((f"{section}.{name}", big,
                                  f"values above 2^32-1 in {section}.{name} (a non-V8 producer); kept exact as "
                                  "64-bit integers (DevTools reads them modulo 2^32)"))
            else:
                arrays[name] = a.astype(np.uint32)
    for key, a in list(raw.sections.items()):
        big = int(np.count_nonzero(a > K.U32_MAX)) if a.size else 0
        if big:
            raw.notes.append((key, big, f"values above 2^32-1 in {key}; kept exact as 64-bit integers"))
        else:
            raw.sections[key] = a.astype(np.uint32)


def _read(s: ByteStream, size: int, wide: bool = False) -> RawSnapshot:
    path = s.path
    bound = size * (MAX_DEFLATE_RATIO if s.gz else 1)
    if s.peek() != ord("{"):
        c = s.peek()
        raise FormatError(path, "header", s.offset(),
                          "empty file" if c < 0 else "not a heap snapshot (does not start with a JSON object)")
    s.pos += 1
    header = None
    arrays: dict[str, np.ndarray] = {}
    offsets: dict[str, int] = {}
    strings = None
    trace_tree = None
    unknown = []
    seen: set = set()
    nf = ef = 0
    while True:
        key = s.read_key("header" if header is None else "document")
        s.expect(b":", key, "':'")
        if header is None and key != "snapshot":
            raise FormatError(path, key, s.offset(), "the 'snapshot' header must come first; this is not a V8 heap snapshot")
        if key in seen:   # (each repeat would be parsed again: a file of repeats is quadratic)
            raise FormatError(path, key, s.offset(), "this section appears twice")
        if key in KNOWN_SECTIONS:
            seen.add(key)
        if key == "snapshot":
            off = s.offset()
            raw = s.value_bytes("snapshot", limit=64 * 1024 * 1024)
            try:
                header = fix_surrogates(raw, json.loads(raw.decode("utf-8-sig")))
            except (ValueError, RecursionError) as e:
                raise FormatError(path, "snapshot", off, f"header is not valid JSON ({e})") from None
            header = _validate_header(path, header, off)
            meta = header["meta"]
            nf = len(meta["node_fields"])
            ef = len(meta["edge_fields"])
            for name, count, width in (("nodes", header["node_count"], nf), ("edges", header["edge_count"], ef)):
                if count * width * 2 > bound + 2:
                    raise FormatError(path, "snapshot", off,
                                      f"{name} count {count} cannot fit in a file of {size} bytes")
        elif key in NUMERIC_SECTIONS:
            s.expect(b"[", key, "'['")
            offsets[key] = s.offset()
            # a gzip file's arrays start at what its compressed size plausibly holds and grow
            first = GZ_FIRST_VALUES * size if s.gz else None
            if key == "nodes":
                arrays[key] = dict(zip(header["meta"]["node_fields"],
                                       _scan_numbers(s, key, header["node_count"] * nf, nf, first=first, wide=wide)))
            elif key == "edges":
                arrays[key] = dict(zip(header["meta"]["edge_fields"],
                                       _scan_numbers(s, key, header["edge_count"] * ef, ef, first=first, wide=wide)))
            else:
                # locations hold 4 values per located object (at most one per node): start there
                # rather than doubling from small (np.empty only pages in what is written)
                hint = 4 * header["node_count"] + 16 if key == "locations" else 0
                if first is not None:
                    hint = min(hint, first)
                arrays[key] = _scan_numbers(s, key, None, capacity_hint=hint, wide=wide)[0]
        elif key == "strings":
            s.expect(b"[", key, "'['")
            offsets[key] = s.offset()
            strings = _scan_strings(s, key, size)
        elif key == "trace_tree":
            s.peek()
            off = s.offset()
            trace_tree = parse_bytes(path, key, s.value_bytes(key), off)
        else:
            s.value_bytes(key, keep=False)
            unknown.append(key)
        c = s.peek()
        if c == ord(","):
            s.pos += 1
            continue
        if c == ord("}"):
            s.pos += 1
            break
        raise FormatError(path, key, s.offset(),
                          "file ends after this section (truncated)" if c < 0 else
                          f"expected ',' or '}}' after this section, found {chr(c)!r}")
    if s.peek() != -1:
        raise FormatError(path, "document", s.offset(), "trailing data after the snapshot object")
    for key in ("nodes", "edges"):
        if key not in arrays:
            raise FormatError(path, key, s.offset(), f"missing '{key}' section")
    if strings is None:
        raise FormatError(path, "strings", s.offset(), "missing 'strings' section")
    raw = RawSnapshot(
        path=path, header=header, nodes=arrays.pop("nodes"), edges=arrays.pop("edges"),
        strings_raw=strings[0], string_starts=strings[1], string_lens=strings[2], string_esc=strings[3],
        sections=arrays, trace_tree=trace_tree, unknown_sections=unknown, file_size=size,
        notes=[(k, 1, "unknown section, skipped (not part of the V8 format this reader knows)") for k in unknown],
    )
    _validate(raw, offsets)
    return raw


class _Locator:
    """Finds the byte offset of the k-th value of a numeric section, for error messages only."""

    def __init__(self, path, offsets):
        self.path = path
        self.offsets = offsets

    def __call__(self, section: str, k: int) -> int | None:
        start = self.offsets.get(section)
        if start is None:
            return None
        s = ByteStream(self.path, None)
        try:
            while s.base + s.end < start:
                s.pos = s.end
                if not s.fill():
                    return start
            s.pos = start - s.base
            outs = (np.empty(max(k, 0), dtype=np.uint32),)
            st = np.zeros(6, dtype=np.int64)
            while True:
                status, pos = K.parse_uints(s.buf, s.pos, s.end, outs, max(k, 0), st)
                s.pos = pos
                if status == 2:
                    return s.offset(int(st[3]))
                if status != 0 or not s.fill():
                    return start
        finally:
            s.close()


def _validate(raw: RawSnapshot, offsets: dict) -> None:
    """Check every index the analyses will follow. Converts to_node offsets to ordinals.

    One kernel pass over the nodes (with the locations' object offsets) runs on the pool's
    thread while this one makes one pass over the edges (the kernels release the GIL); the
    errors are then raised in this order, each for the first offending record: node type more
    than one past meta.node_types, node name, edge-count sum, detachedness, edge type, to_node
    (not a multiple of the node field count, or past the last node), edge name, root_index,
    locations (field count, node offset past the last node), samples and trace function infos
    (field count). A bad to_node leaves raw.edges None (partly converted)."""
    path = raw.path
    header = raw.header
    meta = header["meta"]
    locate = _Locator(path, offsets)
    nfields, efields = meta["node_fields"], meta["edge_fields"]
    nf, ef = len(nfields), len(efields)
    nstr = raw.string_starts.shape[0]
    ntypes = meta["node_types"][nfields.index("type")]
    etypes = meta["edge_types"][efields.index("type")]

    def fail(section, field_pos, width, rec, msg):
        off = locate(section, rec * width + field_pos)
        raise FormatError(path, section, off, msg)

    nodes, edges = raw.nodes, raw.edges
    n = len(nodes["type"])
    e = len(edges["type"])
    t = nodes["type"]
    det = nodes.get("detachedness")
    loc = raw.sections.get("locations")
    lf = meta.get("location_fields") or ["object_index", "script_id", "line", "column"]
    loc_check = loc is not None and loc.size and not loc.size % len(lf) and "object_index" in lf

    def node_pass():
        r = K.check_nodes(t, nodes["name"], nodes["edge_count"], np.zeros(0, t.dtype) if det is None else det,
                          len(ntypes), nstr)
        return r, (K.check_locations(loc, len(lf), lf.index("object_index"), nf, n) if loc_check else None)

    fut = _pool().submit(node_pass)
    string_named = np.array([name not in ("element", "hidden") for name in etypes], dtype=np.bool_)
    to = edges["to_node"]
    try:
        # in place: from here on to_node holds node ordinals
        bad_etype, bad_to, why, bad_ename = K.check_edges(edges["type"], edges["name_or_index"], to, len(etypes),
                                                          string_named, nstr, nf, n).tolist()
    finally:
        (bad_type, undefined, bad_name, bad_det, total), loc_res = fut.result()
    if bad_type >= 0:
        i = bad_type
        fail("nodes", nfields.index("type"), nf, i, f"node {i} has type {int(t[i])}, but meta.node_types lists {len(ntypes)} types")
    if undefined:
        # Older V8 wrote one node type more than its meta lists; DevTools loads such files and
        # calls the type undefined (class "(undefined)"): so do we, and say so.
        tpos = nfields.index("type")
        meta["node_types"] = list(meta["node_types"])
        meta["node_types"][tpos] = list(ntypes) + ["undefined"]
        ntypes = meta["node_types"][tpos]
        raw.notes.append(("nodes", int(undefined), f"nodes have type index {len(ntypes) - 1}, one past meta.node_types (older V8 "
                                                   "lists one type too few); typed 'undefined', class '(undefined)', as DevTools does"))
    if bad_name >= 0:
        i = bad_name
        nm = nodes["name"]
        fail("nodes", nfields.index("name"), nf, i, f"node {i} names string {int(nm[i])}, but the string table has {nstr} entries")
    total = int(total)
    if total != e:
        raise FormatError(path, "nodes", offsets.get("nodes"),
                          f"node edge counts sum to {total}, but the snapshot has {e} edges")
    if bad_det >= 0:
        i = bad_det
        fail("nodes", nfields.index("detachedness"), nf, i, f"node {i} has detachedness {int(det[i])} (valid: 0-2)")
    if bad_etype >= 0:
        i = bad_etype
        et = edges["type"]
        fail("edges", efields.index("type"), ef, i, f"edge {i} has type {int(et[i])}, but meta.edge_types lists {len(etypes)} types")
    if bad_to >= 0:
        i = bad_to
        raw.edges = None  # partly divided: unusable
        v = int(to[i])
        msg = (f"edge {i} to_node {v} is not a multiple of the node field count {nf}" if why == 1 else
               f"edge {i} points to node {v // nf}, but there are {n} nodes")
        fail("edges", efields.index("to_node"), ef, i, msg)
    if bad_ename >= 0:
        i = bad_ename
        nmi = edges["name_or_index"]
        fail("edges", efields.index("name_or_index"), ef, i,
             f"edge {i} names string {int(nmi[i])}, but the string table has {nstr} entries")
    root = header.get("root_index", 0)
    if not isinstance(root, int) or root < 0 or root % nf or root // nf >= n or root // nf not in (0, n - 1):
        raise FormatError(path, "snapshot", 0, f"root_index {root!r} is not the first or last node")
    if loc is not None and loc.size:
        if loc.size % len(lf):
            raise FormatError(path, "locations", offsets.get("locations"),
                              f"{loc.size} values is not a multiple of {len(lf)} location fields")
        if loc_res is not None:
            past, inside = loc_res
            fo = lf.index("object_index")
            if past >= 0:
                i = past
                raise FormatError(path, "locations", locate("locations", i * len(lf) + fo),
                                  f"location {i} refers to node offset {int(loc[i * len(lf) + fo])}, past the last node")
            if inside:
                # DevTools keys locations by node offset, so one pointing inside a node (its own
                # test snapshot has one) matches no node and is never shown: dropped, and noted.
                keep = np.repeat(loc[fo::len(lf)] % nf == 0, len(lf))
                raw.sections["locations"] = loc[keep]
                raw.notes.append(("locations", int(inside),
                                  "locations point inside a node rather than at its first field; no node has "
                                  "them (DevTools never finds them either), dropped"))
    for key, fields_key in (("samples", "sample_fields"), ("trace_function_infos", "trace_function_info_fields")):
        arr = raw.sections.get(key)
        width = len(meta.get(fields_key) or []) or 1
        if arr is not None and arr.size % width:
            raise FormatError(path, key, offsets.get(key), f"{arr.size} values is not a multiple of {width} fields")
    tfi = raw.sections.get("trace_function_infos")
    declared = header.get("trace_function_count", 0)
    if tfi is not None and meta.get("trace_function_info_fields"):
        actual = tfi.size // len(meta["trace_function_info_fields"])
        if actual != declared:
            raw.notes.append((
                "snapshot.trace_function_count", abs(actual - declared),
                f"header declares trace_function_count {declared} but trace_function_infos holds {actual} "
                "functions (V8 counts before serialising); the section's own length is used"))


# The code whose output a cache entry holds: a change to any of these files retires old entries.
_CODE = [os.path.join(os.path.dirname(__file__), f) for f in
         ("heapsnapshot.py", "_json_kernels.py", "_stream.py", "_files.py", "cache.py",
          "../_arrays.py", "../heap/snapshot.py", "../heap/_kernels.py", "../heap/names.py", "../heap/strings.py",
          "../heap/summary.py")]
_code_fp = None


def _cache_key(path):
    global _code_fp
    if _code_fp is None:
        _code_fp = cache_mod.code_fingerprint(_CODE)
    return cache_mod.file_key(path, "heap", _code_fp)


def read_heapsnapshot(path, *, quiet: bool = False, cache: bool | None = None):
    """Load a snapshot file as a :class:`workbench.heap.snapshot.HeapSnapshot`.

    ``cache`` (``workbench.io.cache``): None (default) uses the on-disk cache for files of 32 MiB
    and more unless ``WORKBENCH_CACHE=0``; True for any file; False never. On a hit the arrays
    are memory-mapped from the entry and no pass runs again; on a miss the file is parsed and the
    entry written (in the background) once every DevTools pass has run (``analyze()``, which
    ``summary()`` and the views call), with the Summary and Statistics."""
    path = os.fspath(path)
    key = problem = None
    if cache_mod.enabled_for(path, cache):
        try:
            key = _cache_key(path)
        except OSError:
            key = None   # unreadable here: the parse below names the problem
        if key is not None:
            entry, problem = cache_mod.lookup(key)
            if entry is not None:
                try:
                    snap = HeapSnapshot.from_cache_state(entry.arrays, entry.info, path, quiet=quiet)
                    snap.cache_file = str(entry.path)
                    return snap
                except (KeyError, TypeError, ValueError, IndexError) as e:
                    problem = f"inconsistent ({type(e).__name__}: {e})"
                    cache_mod.discard(key)
    snap = HeapSnapshot(read_raw(path, quiet=quiet), quiet=quiet)
    if problem:
        snap._notes.append((path, "cache", 1, f"the cache entry of this file was damaged ({problem}); "
                                              "discarded, the file was parsed again"))
    if key is not None:
        # the parsed arrays go to the entry now, while the passes run; the rest once they have
        writer = cache_mod.Writer(key)
        for name, a in _parsed_arrays(snap):
            writer.add(name, a)
        snap._on_analyzed = lambda s: _store(s, writer)
        weakref.finalize(snap, writer.abandon)   # dropped before its passes ran: no entry
    return snap


def _parsed_arrays(snap):
    """The arrays of ``snap.cache_state()`` that exist as soon as the file is read and never
    change (V8's self sizes are replaced by the shallow-size pass: not among them)."""
    for attr, name in snap._BASE.items():
        a = getattr(snap, attr)
        if attr != "_raw_self" and isinstance(a, np.ndarray):
            yield name, a
    for part in ("raw", "starts", "lens", "esc"):
        yield f"strings.{part}", getattr(snap.strings, part)
    for k, a in snap.sections.items():
        if isinstance(a, np.ndarray):
            yield f"section.{k}", a


def _store(snap, writer) -> None:
    # the first views of every investigation, kept with the passes: a re-open shows them at once
    snap.summary()
    snap.statistics()
    arrays, info = snap.cache_state()
    writer.finish(arrays, info)
