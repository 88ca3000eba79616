"""Redact heap snapshots for sharing: data is replaced, the graph, the sizes and the code's names kept.

What is replaced (each by a keyed-hash token ``redacted:<12 hex>``, HMAC-SHA256 with one random key
per run unless ``key`` is given, so equal contents stay equal within and across the files of one
run and cannot be guessed back):

- *Values*, i.e. the names of value nodes: ``string``, ``concatenated string``, ``sliced string``
  (string values, Map and Set keys and members, closure variables' values, script sources with
  their comments, JSON held in strings), ``regexp`` (the pattern), ``number`` and ``bigint`` unless
  the name is V8's generic ``heap number``/``smi number``/``bigint``. With
  ``v8.writeHeapSnapshot(f, {exposeNumericValues: true})`` a number's value is a string node behind
  its internal ``value`` edge: a string, so replaced. (Node 20 writes no bigint values at all.)
- *Property names that identify data* (edges of type ``property``), by default. The rule, per
  distinct name (decided once per run, over all its files, so the files still compare):

  1. A name that looks like data is replaced, whatever else holds: a number (``"12345"``,
     ``"3.5"``, ``"0x1f"``), an e-mail address, a URL (``scheme://``, ``www.``, ``mailto:``...),
     a file path (``/a/b``, ``C:\\a``), an IPv4 address, a UUID, a run of 16+ hex digits or of 5+
     decimal digits, a JWT, or a token-like word (16+ characters with 3+ digit groups and 3+ letter
     groups). For ``get X``/``set X`` (V8's accessor edges) and ``<symbol X>`` the test is on X.
  2. Otherwise it is kept when the snapshot shows it is a name of the program, i.e. when at least
     one of these holds in one of the files:

     - *shape*: it is declared by the hidden classes of at least ``SHAPE_MIN_OBJECTS`` (2)
       objects: the object has a ``property`` edge with that name and the object's map (its
       internal ``map`` edge, a ``system / Map``) has a ``descriptors`` array
       (``system / DescriptorArray``) whose key slots (internal edges ``0``, ``3``, ``6``...) hold
       that name. Dictionary-mode objects have no descriptors (their keys live in a hash table,
       ``(object properties)``), so a dictionary's keys never count, and a small fast-mode
       dictionary's keys are declared by one object only;
     - *code*: it is a string referenced by compiled code, i.e. by a ``(constant pool)`` (property
       names of ``o.x``, literal keys), by a boilerplate reached from one (object literals,
       classes), by a ``system / ScopeInfo`` or ``(context local names)`` (variable names);
     - *builtin or API*: it is a string of V8's and Node's startup heap (referenced by the roots
       ``(Startup object cache)``/``(Partial snapshot cache)``, ``(Shareable object cache)``,
       ``(Read-only roots)``/``(Read-only object cache)``), or a function stored under its own
       name (``isArray`` holding function ``isArray``: methods and exports), or a name on a
       prototype (the target of a ``__proto__``/``prototype`` edge: methods and accessors) or
       on a global object (the root's non-synthetic children: globals and builtins), or a
       symbol's ``<symbol ...>``; ``get X``/``set X`` follow X.
  3. Everything else is replaced: names seen on one dictionary or one singleton object only and
     absent from the code (``bySid[sessionId]``, ``cache[userName]``, ``require.cache`` paths,
     option tables built at run time). ``get X`` becomes ``get <token of X>``, ``<symbol X>``
     ``<symbol <token of X>>``.
- *Element indices of sparse objects*: a JS object (type ``object``) whose largest element index is
  at least twice its element count plus 16 is an integer-keyed dictionary (``byId[31337]``) and
  each of its indices is replaced by a keyed hash in ``0 .. 2**32-2`` (distinct within the object).
  Dense arrays keep their indices.

``edge_names="keep"`` (CLI ``--keep-edge-names``) keeps every property name and index (the old
behaviour); ``edge_names="all"`` (``--edge-names``) replaces every property name.

Kept: class and constructor names, function names, variable names (``context`` edges), V8's
internal edge names, native/system names, script names in allocation traces, every number of the
graph (ids, types, sizes, edge counts, edges, trace nodes, locations, samples).

Why the analyses answer the same: Summary and Statistics group by class names, which are
constructor names or, for plain objects, ``{a, b, c}`` made of property names of interfaces that
at least 2 objects share (DevTools' ``inferInterfaceDefinitions``): a fast-mode shape's names are
declared by its objects' hidden classes and kept, so those class names stay; a dictionary's keys
sit on one object each, so they go without naming any class. Sizes, edges, distances, dominators
and retained sizes do not depend on names. ``find_leaks`` clusters retainer traces by (edge name,
edge type, class) steps with element indices dropped: distinct names stay distinct (tokens are
unique per content and checked for collisions) and equal names stay equal, internal edge names are
untouched, so the clusters, counts, retained sizes and path shapes (edge types and classes) are
the same; the path and holder texts show tokens where they went through a replaced name or index
(Node's ``timerListMap[30000]``, keyed by timeout, is an integer-keyed dictionary). Exceptions
by design: an interface whose names look like data (rule 1), or have no evidence (plain objects in
dictionary mode that share one key set, e.g. two caches keyed by the same ids), is then named by
tokens. None occurs in the committed datasets or the test scenario.

The report (returned per file, printed by ``workbench redact``) counts what was replaced in each
category of ``CATEGORIES``: redacted value nodes by what holds them (the first that applies:
``regexp sources`` (regexps and the strings they hold), ``script sources`` (a script's
``source``), ``closure variables`` (values behind ``context`` edges, a number's value string
included), ``Map and Set entries`` (strings of a Map's, Set's or WeakMap's ``table``), ``numbers``
(number values), ``bigints``, else ``string values``), then ``property names`` and ``element
indices`` (edges renamed).

The string table is re-indexed, never overwritten in place: V8 shares one entry between equal
strings (a string value, a property name, a class name), so a replaced role points to an appended
token and the original entry stays only while a kept role uses it; an entry no kept role uses is
emptied. Caveats: a snapshot built from a user-land startup snapshot (``--snapshot-blob``) holds
that program's heap in the startup caches, whose strings count as builtins; closure and function
names (``{[key]() {}}``) are kept; an already redacted file has lost the evidence (its descriptor
keys are tokens), so redacting it again replaces most names: redact the originals. Sections
workbench does not know are dropped and counted.
"""
from __future__ import annotations

import hmac
import os
import re
from pathlib import Path

import numpy as np

from .errors import UsageError

VALUE_TYPES = ("string", "concatenated string", "sliced string", "regexp", "number", "bigint")
STRING_TYPES = ("string", "concatenated string", "sliced string")
GENERIC_NAMES = {"number": (b"heap number", b"smi number"), "bigint": (b"bigint",)}  # V8's, not values
INDEX_EDGES = ("element", "hidden")
SHAPE_MIN_OBJECTS = 2
CODE_HOLDERS = (b"(constant pool)", b"system / ScopeInfo", b"(context local names)", b"(constant elements)",
                b"system / ObjectBoilerplateDescription", b"system / ArrayBoilerplateDescription",
                b"system / ClassBoilerplate")
BUILTIN_ROOTS = (b"(Startup object cache)", b"(Partial snapshot cache)", b"(Shareable object cache)",
                 b"(Read-only roots)", b"(Read-only object cache)")
EDGE_MODES = ("auto", "keep", "all")
CATEGORIES = ("string values", "Map and Set entries", "closure variables", "regexp sources",
              "script sources", "numbers", "bigints", "property names", "element indices")
INDEX_LIMIT = 2**32 - 1   # element indices are 0 .. 2**32-2
HOLD_BYTES = 64 * 2**20   # files of one run up to this size (on disk, together) are read once

_DATA = re.compile(r"""
      ^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$ | ^0[xXbBoO][0-9a-fA-F]+$
    | [^\s@<>]+@[^\s@<>]+\.[^\s@<>]+
    | ^[a-zA-Z][a-zA-Z0-9+.-]*://  | ^(www\.|mailto:|tel:|data:|file:|urn:)
    | ^(/|~/|\.\.?/|[A-Za-z]:[\\/]|\\\\)[^/\\]+[/\\]
    | (^|[^\d.])\d{1,3}(\.\d{1,3}){3}($|[^\d.])
    | [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}
    | [0-9a-fA-F]{16,} | \d{5,}
    | ^eyJ[\w-]{4,}\.[\w-]{4,}
""", re.X)
_TOKEN_WORD = re.compile(r"[A-Za-z0-9_+/=-]{16,}")


def looks_like_data(name: str) -> bool:
    """Rule 1 of the module doc: a name that reads as an id, a token, an address or a number."""
    if _DATA.search(name):
        return True
    for w in _TOKEN_WORD.findall(name):
        if len(re.findall(r"\d+", w)) >= 3 and len(re.findall(r"[A-Za-z]+", w)) >= 3:
            return True
    return False


def _split_name(b: bytes) -> tuple[bytes, bytes, bytes]:
    """(prefix, core, suffix): ``get X``/``set X`` -> X, ``<symbol X>`` -> X, else the name."""
    if b[:4] in (b"get ", b"set ") and len(b) > 4:
        return b[:4], b[4:], b""
    if b.startswith(b"<symbol ") and b.endswith(b">"):
        return b"<symbol ", b[8:-1], b">"
    if b == b"<symbol>":
        return b"<symbol ", b"", b">"
    return b"", b, b""


class Tokens:
    """Keyed-hash tokens shared by the files of one run: one token per distinct content, distinct
    contents always get distinct tokens (a 48-bit collision lengthens the later token)."""

    def __init__(self, key: bytes):
        self.key = key
        self.of: dict[bytes, bytes] = {}
        self.owner: dict[bytes, bytes] = {}
        self.index_of: dict[int, int] = {}

    def token(self, content: bytes) -> bytes:
        t = self.of.get(content)
        if t is None:
            digest = hmac.digest(self.key, content, "sha256").hex().encode()
            for n in (12, 24, 64):
                t = b"redacted:" + digest[:n]
                if self.owner.setdefault(t, content) == content:
                    break
            else:  # pragma: no cover - a full SHA-256 collision
                raise RuntimeError("token collision")
            self.of[content] = t
        return t

    def index(self, i: int, salt: int = 0) -> int:
        """A keyed hash of element index ``i`` in 0 .. 2**32-2."""
        if salt:
            d = hmac.digest(self.key, b"[%d]#%d" % (i, salt), "sha256")
            return int.from_bytes(d[:8], "big") % INDEX_LIMIT
        j = self.index_of.get(i)
        if j is None:
            d = hmac.digest(self.key, b"[%d]" % i, "sha256")
            j = self.index_of[i] = int.from_bytes(d[:8], "big") % INDEX_LIMIT
        return j


class _Snap:
    """The arrays redaction needs, read once from a RawSnapshot."""

    def __init__(self, raw):
        meta = raw.header["meta"]
        nfields, efields = meta["node_fields"], meta["edge_fields"]
        self.node_types = list(meta["node_types"][nfields.index("type")])
        self.edge_types = list(meta["edge_types"][efields.index("type")])
        buf = raw.strings_raw.tobytes()
        self.table = [buf[s:s + n] for s, n in zip(raw.string_starts.tolist(), raw.string_lens.tolist())]
        self.lens = np.asarray(raw.string_lens, dtype=np.int64)
        self.nstr = len(self.table)
        self.ntype = np.asarray(raw.nodes["type"]).astype(np.int64)
        self.names = np.asarray(raw.nodes["name"]).astype(np.int64)
        self.n = len(self.ntype)
        self.src = np.repeat(np.arange(self.n, dtype=np.int64), np.asarray(raw.nodes["edge_count"], dtype=np.int64))
        self.etype = np.asarray(raw.edges["type"]).astype(np.int64)
        self.ename = np.asarray(raw.edges["name_or_index"]).astype(np.int64)
        self.to = np.asarray(raw.edges["to_node"]).astype(np.int64)
        self.root = int(raw.header.get("root_index", 0)) // len(nfields)
        self._first = None

    def first_edge(self, v: int) -> int:
        if self._first is None:
            self._first = np.concatenate([[0], np.cumsum(np.bincount(self.src, minlength=self.n))])
        return int(self._first[v])

    def nt(self, *names) -> list[int]:
        return [self.node_types.index(t) for t in names if t in self.node_types]

    def et(self, name) -> int:
        return self.edge_types.index(name) if name in self.edge_types else -1

    def string_mask(self, *values: bytes) -> np.ndarray:
        """Bool over the string table: entries equal to one of ``values``."""
        out = np.zeros(self.nstr, dtype=np.bool_)
        want = set(values)
        for i in np.flatnonzero(np.isin(self.lens, [len(v) for v in want])).tolist():
            if self.table[i] in want:
                out[i] = True
        return out


def _decode(b: bytes) -> str:
    if b"\\" in b:
        import json
        try:
            return json.loads(b'"' + b + b'"')
        except ValueError:
            pass
    return b.decode("utf-8", "replace")


def name_evidence(s: _Snap) -> tuple[set[bytes], set[bytes]]:
    """(property names of this file, names with evidence of being the program's: shape, code or
    builtin, rule 2 of the module doc), as raw string-table bytes."""
    P, I = s.et("property"), s.et("internal")
    src, to, etype, ename, names, ntype = s.src, s.to, s.etype, s.ename, s.names, s.ntype
    prop = np.flatnonzero(etype == P)
    if not prop.size:
        return set(), set()
    named = (etype != s.et("element")) & (etype != s.et("hidden"))
    ename_s = np.where(named, ename, 0)
    strlike = np.zeros(len(s.node_types) + 1, dtype=np.bool_)
    strlike[s.nt(*STRING_TYPES)] = True
    to_str = strlike[ntype[to]]
    evidence = np.zeros(s.nstr, dtype=np.bool_)

    # shape: declared by the hidden classes of >= SHAPE_MIN_OBJECTS objects
    internal = etype == I
    mapof = np.full(s.n, -1, dtype=np.int64)
    e = np.flatnonzero(internal & s.string_mask(b"map")[ename_s])
    mapof[src[e]] = to[e]
    descof = np.full(s.n, -1, dtype=np.int64)
    e = np.flatnonzero(internal & s.string_mask(b"descriptors")[ename_s])
    descof[src[e]] = to[e]
    is_desc = s.string_mask(b"system / DescriptorArray")[names]
    cand = np.flatnonzero(internal & is_desc[src] & to_str)
    if cand.size:
        uniq = np.unique(ename[cand])
        slot = np.full(s.nstr, -1, dtype=np.int64)
        for i in uniq.tolist():
            t = s.table[i]
            if t.isdigit():
                slot[i] = int(t)
        cand = cand[(slot[ename[cand]] >= 0) & (slot[ename[cand]] % 3 == 0)]
    keys = np.unique(src[cand] * s.nstr + names[to[cand]])
    psrc, pname = src[prop], ename[prop]
    d = np.where(mapof[psrc] >= 0, descof[np.maximum(mapof[psrc], 0)], -1)
    declared = (d >= 0) & np.isin(d * s.nstr + pname, keys)
    pairs = np.unique(psrc[declared] * s.nstr + pname[declared])
    evidence |= np.bincount(pairs % s.nstr, minlength=s.nstr)[:s.nstr] >= SHAPE_MIN_OBJECTS

    # code: strings held by constant pools, boilerplates and scope infos
    code_t = s.nt("code")
    holder = np.isin(ntype, code_t) & s.string_mask(*CODE_HOLDERS)[names]
    pool = s.string_mask(b"(constant pool)")[names]
    e = np.flatnonzero(pool[src])
    second = np.zeros(s.n, dtype=np.bool_)
    second[to[e]] = True
    holder |= second & np.isin(ntype, code_t) & s.string_mask(b"")[names]
    e = np.flatnonzero(holder[src] & to_str)
    evidence[names[to[e]]] = True

    # builtin: strings of the startup heap, functions stored under their own name
    roots = s.string_mask(*BUILTIN_ROOTS)[names] & np.isin(ntype, s.nt("synthetic"))
    e = np.flatnonzero(roots[src] & to_str)
    evidence[names[to[e]]] = True
    closure = np.isin(ntype[to[prop]], s.nt("closure")) & (names[to[prop]] == pname)
    evidence[pname[closure]] = True
    # ... and the names on prototypes (methods, accessors) and on the global objects
    # (the non-synthetic children of the root): the program's API, not its data
    api = np.zeros(s.n, dtype=np.bool_)
    proto_name = s.string_mask(b"__proto__", b"prototype")[ename_s]
    api[to[np.flatnonzero(((etype == P) | internal) & proto_name)]] = True
    e = np.arange(s.first_edge(s.root), s.first_edge(s.root + 1))
    api[to[e[~np.isin(ntype[to[e]], s.nt("synthetic"))]]] = True
    api &= np.isin(ntype, s.nt("object", "closure"))
    evidence[pname[api[psrc]]] = True

    table = s.table
    prop_names = {table[i] for i in np.unique(pname).tolist()}
    return prop_names, {table[i] for i in np.flatnonzero(evidence).tolist()}


def decide_names(prop_names: set[bytes], evidence: set[bytes], mode: str = "auto") -> set[bytes]:
    """The property names to replace (rules 1-3 of the module doc)."""
    if mode == "keep":
        return set()
    if mode == "all":
        return set(prop_names)
    out = set()
    for b in prop_names:
        prefix, core, _ = _split_name(b)
        if looks_like_data(_decode(core)):
            out.add(b)
        elif prefix == b"<symbol ":
            continue
        elif b in evidence or (prefix and core in evidence):
            continue
        else:
            out.add(b)
    return out


def _categories(s: _Snap, redact_node: np.ndarray) -> dict:
    """Count the redacted nodes by what they were (the first matching, in CATEGORIES order)."""
    src, to, etype, ename, ntype = s.src, s.to, s.etype, s.ename, s.ntype
    named = (etype != s.et("element")) & (etype != s.et("hidden"))
    ename_s = np.where(named, ename, 0)
    internal = etype == s.et("internal")
    rank = np.full(s.n, 99, dtype=np.int64)
    order = {c: k for k, c in enumerate(("regexp sources", "script sources", "closure variables",
                                         "Map and Set entries", "numbers"))}

    def mark(edges, cat):
        np.minimum.at(rank, to[edges], order[cat])

    regexp = np.isin(ntype, s.nt("regexp"))
    e = np.flatnonzero(regexp[src])
    data = np.zeros(s.n, dtype=np.bool_)
    data[to[e]] = np.isin(ntype[to[e]], s.nt("array", "hidden"))
    mark(np.concatenate([e, np.flatnonzero(data[src])]), "regexp sources")
    # a script is a ``code`` node named by its file (``system / Script`` in older V8) -> source
    script = np.isin(ntype, s.nt("code", "hidden"))
    mark(np.flatnonzero(script[src] & internal & s.string_mask(b"source")[ename_s]), "script sources")
    mark(np.flatnonzero(etype == s.et("context")), "closure variables")
    obj = np.isin(ntype, s.nt("object"))
    e = np.flatnonzero(obj[src] & internal & s.string_mask(b"table")[ename_s])
    table = np.zeros(s.n, dtype=np.bool_)
    table[to[e]] = True
    mark(np.flatnonzero(table[src]), "Map and Set entries")
    number = np.isin(ntype, s.nt("number"))
    e = np.flatnonzero(number[src] & internal & s.string_mask(b"value")[ename_s])
    np.minimum.at(rank, to[e], np.minimum(rank[src[e]], order["numbers"]))
    cats = np.array(list(order), dtype=object)
    out = dict.fromkeys(CATEGORIES, 0)
    red = np.flatnonzero(redact_node)
    r = rank[red]
    for k, c in enumerate(cats):
        out[c] = int((r == k).sum())
    rest = red[r == 99]
    t = ntype[rest]
    out["regexp sources"] += int(np.isin(t, s.nt("regexp")).sum())
    out["numbers"] += int(np.isin(t, s.nt("number")).sum())
    out["bigints"] += int(np.isin(t, s.nt("bigint")).sum())
    out["string values"] += int(np.isin(t, s.nt(*STRING_TYPES)).sum())
    return out


def _sparse_elements(s: _Snap, tokens: Tokens) -> tuple[np.ndarray, np.ndarray]:
    """(edge indices, new indices) for the element edges of sparse JS objects (module doc)."""
    E = s.et("element")
    e = np.flatnonzero(s.etype == E)
    e = e[np.isin(s.ntype[s.src[e]], s.nt("object"))]
    if not e.size:
        return e, e
    obj, idx = s.src[e], s.ename[e]
    uo, inv, cnt = np.unique(obj, return_inverse=True, return_counts=True)
    mx = np.zeros(len(uo), dtype=np.int64)
    np.maximum.at(mx, inv, idx)
    sparse = mx >= 2 * cnt + 16
    sel = sparse[inv]
    e, obj, idx = e[sel], obj[sel], idx[sel]
    if not e.size:
        return e, e
    uniq, back = np.unique(idx, return_inverse=True)
    new = np.array([tokens.index(i) for i in uniq.tolist()], dtype=np.int64)[back]
    for salt in range(1, 64):  # keep the indices of one object distinct
        order = np.lexsort((idx, new, obj))
        dup = np.zeros(len(e), dtype=np.bool_)
        o, nw, ix = obj[order], new[order], idx[order]
        same = (o[1:] == o[:-1]) & (nw[1:] == nw[:-1]) & (ix[1:] != ix[:-1])
        if not same.any():
            break
        dup[order[1:][same]] = True
        for k in np.flatnonzero(dup).tolist():
            new[k] = tokens.index(int(idx[k]), salt)
    return e, new


def _analyse(src: Path, quiet: bool):
    from .io.heapsnapshot import read_raw
    raw = read_raw(src, quiet=quiet)
    return raw, _Snap(raw)


def redact_many(sources, outputs, *, key: bytes | None = None, edge_names: str | bool = "auto",
                quiet: bool = True) -> list[dict]:
    """Redact the snapshots of one process together: one key, one decision per property name
    (over all files), tokens consistent across the files. Returns one report per file (see
    :func:`redact`)."""
    mode = {True: "all", False: "keep"}.get(edge_names, edge_names)
    if mode not in EDGE_MODES:
        raise UsageError(f"edge_names must be one of {', '.join(EDGE_MODES)}, got {edge_names!r}")
    sources, outputs = [Path(p) for p in sources], [Path(p) for p in outputs]
    for src, out in zip(sources, outputs):
        if out.exists() and out.resolve() == src.resolve():
            raise UsageError("refusing to overwrite the input snapshot; choose another -o", out)
    tokens = Tokens(key if key is not None else os.urandom(32))
    # pass 1: which property names are the program's; the files stay in memory for pass 2 when
    # there is one or they are small, else they are read again
    hold = len(sources) == 1 or sum(os.path.getsize(p) for p in sources) <= HOLD_BYTES
    prop_names, evidence, held = set(), set(), {}
    if mode == "auto":
        for k, src in enumerate(sources):
            raw, snap = _analyse(src, quiet)
            p, ev = name_evidence(snap)
            prop_names |= p
            evidence |= ev
            if hold:
                held[k] = (raw, snap)
            del raw, snap
    replace = decide_names(prop_names, evidence, mode) if mode == "auto" else None
    reports = []
    for k, (src, out) in enumerate(zip(sources, outputs)):
        raw, snap = held.pop(k) if k in held else _analyse(src, quiet)
        if mode == "all":
            replace = {snap.table[i] for i in np.unique(snap.ename[snap.etype == snap.et("property")]).tolist()}
        reports.append(_redact_one(raw, snap, out, tokens, mode, replace or set()))
    return reports


def redact(src, out, *, key: bytes | None = None, edge_names: str | bool = "auto", quiet: bool = True) -> dict:
    """Write a redacted copy of snapshot ``src`` to ``out`` (``.gz`` for gzip). ``edge_names``:
    ``"auto"`` (the module doc's rule), ``"keep"`` or ``"all"`` (``True`` means ``"all"``,
    ``False`` ``"keep"``). Returns counts: ``redacted_nodes``, ``redacted_edges``,
    ``distinct_contents``, ``emptied_strings``, ``dropped_sections`` and ``replaced`` (per
    category of CATEGORIES), ``names_replaced``/``names_kept`` (distinct property names)."""
    return redact_many([src], [out], key=key, edge_names=edge_names, quiet=quiet)[0]


def _redact_one(raw, s: _Snap, out: Path, tokens: Tokens, mode: str, replace: set[bytes]) -> dict:
    from .io.heapsnapshot_writer import write_raw
    table, nstr, names, etype, ename = s.table, s.nstr, s.names, s.etype, s.ename

    redact_node = np.isin(s.ntype, s.nt(*VALUE_TYPES))
    for t, generic in GENERIC_NAMES.items():
        redact_node &= ~(np.isin(s.ntype, s.nt(t)) & s.string_mask(*generic)[names])

    named_edge = ~np.isin(etype, [s.et(t) for t in INDEX_EDGES])
    prop = etype == s.et("property")
    replaced_name = np.zeros(nstr, dtype=np.bool_)
    if replace:
        for i in np.unique(ename[prop]).tolist():
            if table[i] in replace:
                replaced_name[i] = True
    redact_edge = prop & replaced_name[np.where(prop, ename, 0)]
    el_edges, el_new = (_sparse_elements(s, tokens) if mode != "keep"
                        else (np.zeros(0, np.int64), np.zeros(0, np.int64)))

    # which table entries are still referenced by something we keep
    kept = np.zeros(nstr, dtype=np.bool_)
    kept[names[~redact_node]] = True
    kept[ename[named_edge & ~redact_edge]] = True
    meta = raw.header["meta"]
    tf = meta.get("trace_function_info_fields") or []
    infos = raw.sections.get("trace_function_infos")
    if infos is not None and len(infos) and tf:
        grid = np.asarray(infos, dtype=np.int64).reshape(-1, len(tf))
        for f in ("name", "script_name"):
            if f in tf:
                col = grid[:, tf.index(f)]
                kept[col[(col >= 0) & (col < nstr)]] = True
    kept[0] = True  # V8's "<dummy>"

    # tokens appended to the table; values and names re-indexed to them
    new_strings = list(table)
    index_of: dict[bytes, int] = {}
    # kept strings that read like tokens (a file redacted before): a new token equal to one of
    # them is told apart, so that no replaced name can become equal to a kept one
    kept_tokens = {t for t in (table[i] for i in np.flatnonzero(kept).tolist()) if t[:9] == b"redacted:"}

    def slot(tok: bytes) -> int:
        j = index_of.get(tok)
        if j is None:
            j = index_of[tok] = len(new_strings)
            new_strings.append(tok + b":" if tok in kept_tokens else tok)
        return j

    node_remap = np.arange(nstr, dtype=np.int64)
    node_idx = np.unique(names[redact_node])
    for i in node_idx.tolist():
        node_remap[i] = slot(tokens.token(table[i]))
    edge_remap = np.arange(nstr, dtype=np.int64)
    edge_idx = np.flatnonzero(replaced_name)
    for i in edge_idx.tolist():
        prefix, core, suffix = _split_name(table[i])
        edge_remap[i] = slot(prefix + tokens.token(core) + suffix)
    emptied = 0
    for i in np.flatnonzero(~kept).tolist():
        if new_strings[i]:
            new_strings[i] = b""
            emptied += 1

    nodes = dict(raw.nodes)
    new_names = names.copy()
    new_names[redact_node] = node_remap[names[redact_node]]
    nodes["name"] = new_names
    edges = dict(raw.edges)
    new_ename = ename.copy()  # element/hidden edges hold indices, not strings: only touch redacted ones
    new_ename[redact_edge] = edge_remap[ename[redact_edge]]
    new_ename[el_edges] = el_new
    edges["name_or_index"] = new_ename
    replaced = _categories(s, redact_node)
    replaced["property names"] = int(redact_edge.sum())
    replaced["element indices"] = int(len(el_edges))
    raw.nodes, raw.edges = nodes, edges
    dropped = write_raw(raw, out, strings=new_strings)
    prop_names = np.unique(ename[prop])
    return {"input": str(raw.path), "output": str(out), "nodes": int(s.n), "edges": int(len(etype)),
            "redacted_nodes": int(redact_node.sum()), "redacted_edges": int(redact_edge.sum() + len(el_edges)),
            "distinct_contents": int(node_idx.size), "emptied_strings": emptied,
            "names_replaced": int(edge_idx.size), "names_kept": int(prop_names.size - edge_idx.size),
            "replaced": replaced, "dropped_sections": dropped}
