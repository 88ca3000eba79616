"""The HeapSnapshot model: a V8 heap graph as compact numpy arrays (CSR by node ordinal), with
DevTools' derived arrays (shallow sizes, distances, dominators, retained sizes, class names)
computed once, lazily, and cached.

The passes follow Chrome DevTools' HeapSnapshot.ts / JSHeapSnapshot as bundled by
heap-snapshot-toolkit@1.1.3, in its order (HeapSnapshot.initialize):
propagateDOMState -> markPageOwnedNodes -> essential edges -> calculateShallowSizes ->
Lengauer-Tarjan dominators and retained sizes (on the re-attributed sizes) -> calculateDistances ->
calculateObjectNames -> inferInterfaceDefinitions/applyInterfaceDefinitions -> statistics.
The kernels are in ``_kernels.py``; naming rules are in ``names.py``.
"""
from __future__ import annotations

import json
import os
import re
import threading
from functools import cached_property

import numpy as np
import polars as pl

from .._memory import release_freed_memory
from .._notes import notes_frame
from .strings import K, ConsValues, StringTable

# DevTools' tryParseWeakMapEdgeName, as a Python full match (JS `$` without /m is end of input).
EPHEMERON_RE = re.compile(
    r"\d+(?P<dup> / part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(?P<table>\d+)\))")
NAN_INT = -(1 << 62)


def js_parse_int(s: str) -> int:
    """parseInt(s, 10) for the cases that matter (sentinel NAN_INT for NaN)."""
    m = re.match(r"\s*([+-]?\d+)", s)
    if not m:
        return NAN_INT
    v = int(m.group(1))
    if abs(v) >= (1 << 61):  # only <2 and %3 are ever asked of it
        v = (v % 3) + 3 if v > 0 else -1
    return v


# analyze() runs the dominator pass beside the others from this many nodes (below, a thread's start
# costs more than it saves)
TWO_THREADS_MIN_NODES = 1_000_000


class HeapSnapshot:
    """A loaded V8 heap snapshot. Build with ``workbench.load_snapshot(path)``.

    Frames: ``nodes`` (one row per object), ``edges``, ``summary()``, ``statistics()``.
    Arrays (numpy, by node ordinal): ``ids``, ``self_sizes`` (DevTools' Shallow Size),
    ``retained_sizes``, ``distances``, ``dominator_ordinals``.
    """

    runtime = "v8"   # the heap widgets' word for which runtime wrote the heap (PyHeap: "python")

    def __init__(self, raw, quiet: bool = False):
        self.path = raw.path
        self.quiet = quiet
        self.header = raw.header
        self.meta = raw.header["meta"]
        self._notes = [(raw.path, sec, n, what) for sec, n, what in raw.notes]
        self.unknown_sections = list(raw.unknown_sections)
        self.file_size = raw.file_size
        nfields = self.meta["node_fields"]
        efields = self.meta["edge_fields"]
        self.node_types: list[str] = list(self.meta["node_types"][nfields.index("type")])
        self.edge_types: list[str] = list(self.meta["edge_types"][efields.index("type")])
        nodes, edges = raw.nodes, raw.edges
        self.node_count = int(len(nodes["type"]))
        self.edge_count = int(len(edges["type"]))
        # The reader's per-field arrays are used as they are (no copies): one allocation each.
        tdt = np.uint8 if len(self.node_types) < 255 else np.uint32
        self._ntype = nodes["type"].astype(tdt)
        self._name = nodes["name"]
        self.ids = nodes["id"]
        self._raw_self = nodes["self_size"]
        edge_counts = nodes["edge_count"]
        trace = nodes.get("trace_node_id")
        self._trace = trace if trace is not None and trace.any() else None
        det = nodes.get("detachedness")
        self._detached_raw = det.astype(np.uint8) if det is not None else None
        edt = np.uint8 if len(self.edge_types) < 254 else np.uint32
        self._etype = edges["type"].astype(edt)
        self._ename = edges["name_or_index"]
        self._to = edges["to_node"]  # ordinals (the reader divided)
        # uint32 offsets while the edge count fits (half of int64 on big snapshots)
        self.first_edge = np.empty(self.node_count + 1, dtype=np.uint32 if self.edge_count < 2**32 else np.int64)
        from .._arrays import prefix_sum
        prefix_sum(edge_counts, self.first_edge)
        raw.nodes = raw.edges = None
        self.strings = StringTable(raw.strings_raw, raw.string_starts, raw.string_lens, raw.string_esc)
        self.sections = raw.sections
        self.trace_tree = raw.trace_tree
        self.root = int(raw.header.get("root_index", 0)) // len(nfields)
        self.extra_native_bytes = int(raw.header.get("extra_native_bytes", 0) or 0)
        self.cache_file = None   # the reader's cache entry the arrays are mapped from, if any

    # ------------------------------------------------------------------ the reader's cache
    # Base arrays (attribute -> entry name) and the derived values worth keeping; everything else
    # is recomputed on first use, from the same arrays, as after a parse.
    _BASE = {"_ntype": "ntype", "_name": "name", "ids": "ids", "_raw_self": "raw_self", "_trace": "trace",
             "_detached_raw": "detached", "_etype": "etype", "_ename": "ename", "_to": "to",
             "first_edge": "first_edge"}
    # (not kept: retainer counts and the dominator tree's children, one quick kernel each from
    # arrays that are kept, and 4 bytes per node or edge each on disk)
    _DERIVED = ("_retainers", "_dom_state", "_user_root_mask", "has_user_roots", "_ephemeron_tables", "self_sizes",
                "_dominators", "distances", "class_index", "max_js_object_id", "_id_order", "_summary_frame",
                "_statistics")

    def cache_state(self) -> tuple[dict, dict]:
        """(arrays, info): everything a re-opened snapshot needs to equal this one, for the
        reader's cache (``workbench.io.cache``): the parsed arrays, the derived arrays computed so
        far, the strings DevTools appends, notes. ``info`` is JSON; no array is copied."""
        arrays: dict[str, np.ndarray] = {}
        seen: dict[int, str] = {}

        def put(name, a):
            """Store an array once; a second reference to the same array is an alias."""
            if id(a) in seen:
                return {"alias": seen[id(a)]}
            seen[id(a)] = name
            arrays[name] = a
            return {"array": name}

        def enc(name, v):
            if isinstance(v, np.ndarray):
                return put(name, v)
            if isinstance(v, tuple):
                return {"tuple": [enc(f"{name}.{i}", x) for i, x in enumerate(v)]}
            if isinstance(v, pl.DataFrame):
                import io
                buf = io.BytesIO()
                v.write_ipc(buf, compression="uncompressed")
                return {"ipc": put(name, np.frombuffer(buf.getvalue(), dtype=np.uint8))["array"]}
            if isinstance(v, (np.integer, np.bool_)):
                v = v.item()
            if v is None or isinstance(v, (bool, int, float, str, dict, list)):
                return {"value": v}
            raise TypeError(f"cannot keep {type(v).__name__} in the cache")

        base = {attr: enc(name, getattr(self, attr)) for attr, name in self._BASE.items()}
        st = self.strings
        for part in ("raw", "starts", "lens", "esc"):
            put(f"strings.{part}", getattr(st, part))
        families = {idx: fam for (fam, _), idx in st._added_index.items()}
        derived = {a: enc(a, self.__dict__[a]) for a in self._DERIVED if a in self.__dict__}
        if "cons_values" in self.__dict__:
            cv = self.cons_values
            derived["cons_values"] = {"cons": [enc(f"cons.{f}", getattr(cv, f)) for f in
                                               ("ordinals", "units", "length", "cut")] +
                                      [enc(f"cons.table.{f}", getattr(cv.table, f)) for f in
                                       ("raw", "starts", "lens", "esc")]}
        if self.trace_tree is not None:
            put("trace_tree", np.frombuffer(json.dumps(self.trace_tree, separators=(",", ":")).encode(), np.uint8))
        info = {
            "header": self.header, "unknown_sections": self.unknown_sections, "file_size": self.file_size,
            "root": self.root, "extra_native_bytes": self.extra_native_bytes,
            "node_count": self.node_count, "edge_count": self.edge_count,
            "notes": [[sec, n, what] for _, sec, n, what in self._notes if sec != "cache"],
            "added": [[families[self.strings.n_original + i], s] for i, s in enumerate(st._added)],
            "sections": {k: enc(f"section.{k}", v) for k, v in self.sections.items()},
            "has_trace_tree": self.trace_tree is not None,
            "interface_definitions": self.__dict__.get("interface_definitions"),
            "base": base, "derived": derived,
        }
        return arrays, info

    @classmethod
    def from_cache_state(cls, arrays: dict, info: dict, path, quiet: bool = False) -> "HeapSnapshot":
        """The snapshot ``cache_state`` described (arrays as the cache maps them). Raises
        ValueError when the entry does not describe a consistent snapshot."""
        def dec(v):
            if "array" in v:
                return arrays[v["array"]]
            if "alias" in v:
                return arrays[v["alias"]]
            if "tuple" in v:
                return tuple(dec(x) for x in v["tuple"])
            if "ipc" in v:
                import io
                return pl.read_ipc(io.BytesIO(arrays[v["ipc"]].tobytes()))
            return v["value"]

        self = cls.__new__(cls)
        self.path = path
        self.quiet = quiet
        self.cache_file = None
        self.header = info["header"]
        self.meta = self.header["meta"]
        self._notes = [(path, sec, n, what) for sec, n, what in info["notes"]]
        self.unknown_sections = list(info["unknown_sections"])
        self.file_size = info["file_size"]
        nfields, efields = self.meta["node_fields"], self.meta["edge_fields"]
        self.node_types = list(self.meta["node_types"][nfields.index("type")])
        self.edge_types = list(self.meta["edge_types"][efields.index("type")])
        for attr, v in info["base"].items():
            setattr(self, attr, dec(v))
        self.node_count, self.edge_count = int(info["node_count"]), int(info["edge_count"])
        self.root = int(info["root"])
        self.extra_native_bytes = int(info["extra_native_bytes"])
        n, e = self.node_count, self.edge_count
        if (self._ntype.shape != (n,) or self.ids.shape != (n,) or self.first_edge.shape != (n + 1,)
                or self._to.shape != (e,) or self._ename.shape != (e,) or self._etype.shape != (e,)
                or int(self.first_edge[-1]) != e or not 0 <= self.root < n):
            raise ValueError("the arrays do not fit the recorded node and edge counts")
        st = StringTable(arrays["strings.raw"], arrays["strings.starts"], arrays["strings.lens"],
                         arrays["strings.esc"])
        for fam, s in info["added"]:
            st.add(s, fam)
        self.strings = st
        self.sections = {k: dec(v) for k, v in info["sections"].items()}
        self.trace_tree = json.loads(arrays["trace_tree"].tobytes()) if info["has_trace_tree"] else None
        if info.get("interface_definitions") is not None:
            self.interface_definitions = info["interface_definitions"]
        for attr, v in info["derived"].items():
            if attr == "cons_values":
                o, u, ln, cut, raw, starts, lens, esc = (dec(x) for x in v["cons"])
                self.__dict__[attr] = ConsValues(o, StringTable(raw, starts, lens, esc), u, ln, cut)
            else:
                self.__dict__[attr] = dec(v)
        return self

    # ------------------------------------------------------------------ type helpers
    def _ntype_index(self, name: str) -> int:
        """Index of a node type; an absent type gets a value no node has (the reader checked
        every type is < len(node_types))."""
        try:
            return self.node_types.index(name)
        except ValueError:
            return len(self.node_types)

    def _etype_index(self, name: str) -> int:
        """Index of an edge type; DevTools' synthetic 'invisible' and absent types get values no
        edge has."""
        try:
            return self.edge_types.index(name)
        except ValueError:
            return len(self.edge_types) + (0 if name == "invisible" else 1)

    def _string_mask(self, *values: str) -> np.ndarray:
        """Boolean per original string index: equal to one of ``values``."""
        self._dom_state  # 'Detached' renames add strings first; size the mask after them
        mask = np.zeros(len(self.strings), dtype=np.bool_)
        for v in values:
            mask[self.strings.find(v)] = True
        return mask

    def __repr__(self) -> str:
        return (f"<HeapSnapshot {self.path!s}: {self.node_count:,} nodes, {self.edge_count:,} edges, "
                f"{len(self.strings):,} strings>")

    # ------------------------------------------------------------------ graph basics
    @cached_property
    def _retainers(self):
        e = self.edge_count
        ret_node = np.empty(e, dtype=np.uint32)
        ret_edge = np.empty(e, dtype=np.uint32 if e < 2**32 else np.int64)
        first_ret = K.build_retainers(self.first_edge, self._to, self.node_count, ret_node, ret_edge)
        return first_ret, ret_node, ret_edge

    @property
    def first_retainer(self) -> np.ndarray:
        return self._retainers[0]

    @property
    def retaining_nodes(self) -> np.ndarray:
        return self._retainers[1]

    @property
    def retaining_edges(self) -> np.ndarray:
        return self._retainers[2]

    @cached_property
    def _dom_state(self):
        """propagateDOMState: detachedness and node names after 'Detached ' renaming."""
        if self._detached_raw is None:
            return None, self._name
        state, rename = K.propagate_dom_state(
            self.first_edge, self._to, self._etype, self._ntype, self._detached_raw.astype(np.uint8),
            self._ntype_index("native"), self._etype_index("hidden"), self._etype_index("invisible"),
            self._etype_index("weak"))
        names = self._name
        if rename.any():
            names = names.copy()
            idx = np.flatnonzero(rename)
            for old in np.unique(names[idx]).tolist():
                new = self.strings.add("Detached " + self.strings[old], "detached")
                sel = idx[names[idx] == old]
                names[sel] = new
        return state, names

    @property
    def node_names(self) -> np.ndarray:
        """Name string index per node (after DevTools' 'Detached ' renaming)."""
        return self._dom_state[1]

    @property
    def _is_synthetic(self) -> np.ndarray:
        return self._ntype == self._ntype_index("synthetic")

    @property
    def _is_dom_trees_root(self) -> np.ndarray:
        mask = self._is_synthetic.copy()
        if mask.any():
            mask &= self._string_mask("(Document DOM trees)")[self.node_names]
        return mask

    @cached_property
    def _user_root_mask(self) -> np.ndarray:
        return (~self._is_synthetic) | self._is_dom_trees_root

    @cached_property
    def has_user_roots(self) -> bool:
        r = self.root
        children = self._to[self.first_edge[r]:self.first_edge[r + 1]]
        return bool(self._user_root_mask[children].any())

    # ------------------------------------------------------------------ per-string helpers
    @cached_property
    def _ephemeron_tables(self):
        """For internal-edge names that are WeakMap ephemeron names: the table id, and an id of
        the duplicated part (the pair key used by the distance filter)."""
        nstr = self.strings.n_original
        names = np.flatnonzero(K.edge_names_of_type(self._etype, self._ename, self._etype_index("internal"), nstr))
        st = self.strings
        names = names[K.strings_containing(st.raw, st.starts, st.lens, names,
                                           np.frombuffer(b" / part of key (", dtype=np.uint8))]
        found = {}
        dups: dict[str, int] = {}
        for i in names.tolist():
            m = EPHEMERON_RE.fullmatch(self.strings[i])
            if m:
                found[i] = (int(m.group("table")), dups.setdefault(m.group("dup"), len(dups)))
        # int32 unless a table id needs more (4 bytes per string each, not 8)
        wide = any(t >= 2**31 for t, _ in found.values())
        table = np.full(nstr, -1, dtype=np.int64 if wide else np.int32)
        dup_id = np.full(nstr, -1, dtype=np.int32)
        for i, (t, d) in found.items():
            table[i] = t
            dup_id[i] = d
        return table, dup_id, len(dups)

    # ------------------------------------------------------------------ DevTools passes
    @property
    def _page_owned(self) -> np.ndarray:
        """DevTools' pageObject flag (only the essential-edge rule reads it; not kept)."""
        return K.mark_page_owned(self.first_edge, self._to, self._etype, self.root, self._is_dom_trees_root,
                                 self._etype_index("shortcut"), self._etype_index("element"),
                                 self._etype_index("weak"))

    @cached_property
    def essential_edges(self) -> np.ndarray:
        """Per edge: does it count for dominators (DevTools computeIsEssentialEdge)?"""
        table, _, _ = self._ephemeron_tables
        # n + 2: the dominator pass reuses the counts as its offsets (one more for the end)
        counts = np.zeros(self.node_count + 2, dtype=np.int32 if self.edge_count < 2**31 else np.int64)
        ess = np.zeros(self.edge_count, dtype=np.bool_)
        K.essential_edges(self.first_edge, self._to, self._etype, self._ename,
                          self.ids, self.root, self._page_owned,
                          self._etype_index("internal"), self._etype_index("weak"),
                          self._etype_index("shortcut"), table, counts, ess)
        self._essential_counts = counts
        return ess

    @cached_property
    def self_sizes(self) -> np.ndarray:
        """DevTools' Shallow Size: hidden/array backing stores re-attributed to a single owner
        (skipped when the snapshot has no user roots, i.e. was taken exposing internals)."""
        if not self.has_user_roots:
            return self._raw_self
        ntype = self._ntype
        # per-node flags through per-type tables: one node-sized array each, no temporaries (the
        # pass's high-water mark was ~90 MiB above its start on 7.1M nodes, half of it temporaries)
        ntypes = max(len(self.node_types) + 1, int(ntype.max()) + 1 if ntype.size else 1)
        table = np.zeros(ntypes, dtype=np.bool_)
        for t in ("hidden", "array"):
            table[self._ntype_index(t)] = True
        unowned = table[ntype]
        ext = self._string_mask("system / ExternalStringData")
        if ext.any():
            natives = np.flatnonzero(ntype == self._ntype_index("native"))
            unowned[natives[ext[self.node_names[natives]]]] = True
            del natives
        table[:] = False
        table[self._ntype_index("synthetic")] = True
        blocked = table[ntype]
        blocked[self.root] = True
        raw = self._raw_self
        # every size is a sum of V8's sizes: when their total fits in 32 bits, so does each sum,
        # and the sizes are re-attributed in place of a copy of V8's (no int64 copy)
        narrow = raw.dtype == np.uint32 and int(raw.sum(dtype=np.uint64)) < 2**32
        sizes = K.copy_array(raw) if narrow else K.widen_int64(raw)
        K.shallow_sizes(self.first_edge, self._to, self._etype, unowned, blocked, self._etype_index("weak"), sizes)
        self._raw_self = None  # V8's sizes are not needed once re-attributed
        del raw, unowned, blocked
        release_freed_memory()
        if narrow:
            return sizes
        # DevTools keeps shallow sizes in a Uint32Array; so do we when they fit (half of int64)
        return sizes.astype(np.uint32) if sizes.size and sizes.max() < 2**32 else sizes

    @property
    def edge_counts(self) -> np.ndarray:
        return np.diff(self.first_edge)

    @cached_property
    def retainer_counts(self) -> np.ndarray:
        """Number of retainers of each node, over all edge types."""
        return K.retainer_counts(self._to, self.node_count)

    @cached_property
    def _dominators(self):
        if self.node_count >= 2**31 - 2:
            raise MemoryError("snapshots with 2**31 nodes or more are not supported")
        essential = self.essential_edges
        counts, self._essential_counts = self._essential_counts, None
        pre, parent, low, _, weak_only, clique = K.dom_preorder(self.first_edge, self._to, counts, essential,
                                                                self.root)
        if clique:
            # DevTools numbers clique nodes without a DFS: no flowgraph, so its own algorithm decides
            del pre, parent, low
            K.essential_counts(self._to, essential, counts)
            n = self.node_count
            parent, semi, vertex, label, cnt, _, _ = K.dominator_dfs(self.first_edge, self._to, counts, essential,
                                                                     self.root)
            first_ret, ret_node = K.essential_retainers(self.first_edge, self._to, essential, n, counts)
            del essential, counts
            self.__dict__.pop("essential_edges", None)
            idom, retained = K.dominators(first_ret, ret_node, self.root, parent, semi, vertex, label, cnt,
                                          self._sizes_for_dominators())
            del first_ret, ret_node, parent, semi, vertex, label
        else:
            ret_node = K.dom_later_retainers(self.first_edge, self._to, essential, pre, counts)
            # only the DFS and the retainer index read the flags: free them before step three
            del essential
            self.__dict__.pop("essential_edges", None)
            release_freed_memory()
            K.semi_nca(counts, ret_node, parent, low)
            del counts, ret_node, low
            release_freed_memory()
            idom, retained = K.dom_finish(pre, parent, self._sizes_for_dominators())
            del pre, parent
        release_freed_memory()
        if weak_only or clique:
            self._notes.append((self.path, "nodes", int(weak_only) + int(clique),
                                f"{weak_only} nodes are reachable only through weak edges and {clique} more are "
                                "unreachable from the root; like DevTools, they are attached to the root"))
        return idom, retained

    def _sizes_for_dominators(self) -> np.ndarray:
        """Shallow sizes, once the other thread of ``analyze`` has made them (if it is making them)."""
        ready = self.__dict__.get("_sizes_ready")
        if ready is not None:
            ready.wait()
        return self.self_sizes

    @property
    def dominator_ordinals(self) -> np.ndarray:
        """Immediate dominator (node ordinal) per node; the root dominates itself."""
        return self._dominators[0]

    @property
    def retained_sizes(self) -> np.ndarray:
        """DevTools' Retained Size (float64 like DevTools; integral values)."""
        return self._dominators[1]

    @cached_property
    def _dominated(self):
        return K.dominated_csr(self.dominator_ordinals, self.root)

    @cached_property
    def distances(self) -> np.ndarray:
        """DevTools' Distance: hops from the user roots (1); system-only objects from 100000000;
        unreachable -5."""
        nstr = self.strings.n_original
        _, dup_id, ndup = self._ephemeron_tables
        ntype = self._ntype
        names = self.node_names
        is_hidden = ntype == self._ntype_index("hidden")
        is_array = ntype == self._ntype_index("array")
        map_desc = self._string_mask("(map descriptors)")
        native_ctx = self._string_mask("system / NativeContext")
        sloppy = self._string_mask("sloppy_function_map")
        parse = np.full(nstr, NAN_INT, dtype=np.int64)
        elem, hid = self._etype_index("element"), self._etype_index("hidden")
        md_nodes = np.flatnonzero(is_array & map_desc[names])
        if md_nodes.size:
            starts, ends = self.first_edge[md_nodes], self.first_edge[md_nodes + 1]
            eidx = np.concatenate([np.arange(a, b) for a, b in zip(starts.tolist(), ends.tolist())]) \
                if md_nodes.size else np.empty(0, np.int64)
            et = self._etype[eidx]
            named = (et != elem) & (et != hid)
            for i in np.unique(self._ename[eidx[named]]).tolist():
                parse[i] = js_parse_int(self.strings[i])
        dist = K.distances(self.first_edge, self._to, self._etype, self._ename, self.root,
                           self._user_root_mask, self._etype_index("weak"), elem, hid,
                           self._etype_index("internal"), is_hidden, is_array, names,
                           sloppy, native_ctx, map_desc, parse, dup_id, ndup,
                           np.full(self.node_count, K.NO_DISTANCE, dtype=np.int32),
                           self.node_count + int(np.diff(self.first_edge[self.root:self.root + 2])[0]) + 1)
        del is_hidden, is_array, parse
        if "_dominators" in self.__dict__:
            # the last pass reading these per-node and per-string helpers (17 MiB on 7M nodes):
            # dropped, and made again in a few ms if anything asks later
            self.__dict__.pop("_user_root_mask", None)
            self.__dict__.pop("_ephemeron_tables", None)
        release_freed_memory()
        return dist

    # ------------------------------------------------------------------ display values
    @cached_property
    def cons_values(self):
        """The flattened values of the concatenated strings, as DevTools displays them
        (``heap.strings.cons_values``); cuts beyond DevTools' own bound go to ``notes``."""
        from .strings import CONS_MAX_POPS, CONS_MAX_UNITS, cons_values
        cv = cons_values(self)
        for code, what in ((1, f"concatenated strings shown cut at {CONS_MAX_UNITS:,} characters (DevTools appends "
                                "the piece that crosses its 1,024-character bound whole; a piece this long is not)"),
                           (2, f"concatenated strings whose pieces could not all be walked within {CONS_MAX_POPS:,} "
                               "steps (a cycle of cons strings, only in a malformed file); shown with the pieces reached")):
            k = int(np.count_nonzero(cv.cut == code))
            if k:
                self._notes.append((self.path, "nodes", k, what))
        return cv

    def display_names(self) -> pl.Series:
        """Per node, the name DevTools displays: the string table entry, except concatenated
        strings, which show their flattened value (``cons_values``). Sliced strings keep V8's
        '(sliced string)': the snapshot records their parent but not their offset or length."""
        idx = self.node_names.astype(np.int64)   # first: the 'Detached' renames add strings
        names = pl.from_arrow(self.strings.arrow()).gather(idx)
        cv = self.cons_values
        if cv.ordinals.size:
            names = names.scatter(cv.ordinals, pl.from_arrow(cv.table.arrow()))
        return names.rename("name")

    # ------------------------------------------------------------------ what was lost
    @property
    def notes(self) -> pl.DataFrame:
        """Lossy or corrective steps of the reader and of the passes run so far (``workbench._notes``):
        unknown sections, header corrections, nodes only weakly reachable (found by the dominator pass)."""
        return notes_frame(self._notes)

    @property
    def warnings(self) -> list[str]:
        """The notes' ``what`` texts."""
        return [w for *_, w in self._notes]

    # ------------------------------------------------------------------ names and classes
    @cached_property
    def class_index(self) -> np.ndarray:
        """String index (in ``self.strings``, added strings included) of each node's class name."""
        from .names import class_indices
        out = class_indices(self)
        release_freed_memory()
        return out

    @property
    def location_arrays(self):
        """(ordinal, script_id, line, column) arrays, one entry per located node, as DevTools'
        buildLocationMap keeps them (a later entry for the same node wins)."""
        cols, (fo, fs, fl, fc), keep = self._location_columns()
        if cols is None:
            z = np.empty(0, dtype=np.int64)
            return z, z, z, z
        keep = slice(None) if keep is None else keep
        nf = len(self.meta["node_fields"])
        return ((cols[keep, fo] // nf).astype(np.int64), cols[keep, fs].copy(), cols[keep, fl].copy(),
                cols[keep, fc].copy())

    def _location_columns(self):
        """(cols, (object, script, line, column field), keep): the locations section as rows (a
        view), and the rows DevTools keeps: None for all (V8 writes them in node order), else
        their indices (the last entry per node). (None, (0,) * 4, None) without locations."""
        loc = self.sections.get("locations")
        lf = self.meta.get("location_fields") or ["object_index", "script_id", "line", "column"]
        if loc is None or not loc.size or any(f not in lf for f in ("object_index", "script_id", "line", "column")):
            return None, (0, 0, 0, 0), None
        cols = loc.reshape(-1, len(lf))
        fields = tuple(lf.index(f) for f in ("object_index", "script_id", "line", "column"))
        keep = None
        if not K.column_increasing(cols, fields[0], len(self.meta["node_fields"])):
            # duplicates possible: keep the last entry per node (V8 writes them in node order,
            # so this path is for hand-made files)
            keep = K.last_row_per_node(cols, fields[0], len(self.meta["node_fields"]), self.node_count)
        return cols, fields, keep

    @property
    def locations(self) -> dict:
        """node ordinal -> (script_id, line, column)."""
        o, s, l, c = self.location_arrays
        return dict(zip(o.tolist(), zip(s.tolist(), l.tolist(), c.tolist())))

    def class_names(self, ordinals=None) -> list[str]:
        ci = self.class_index if ordinals is None else self.class_index[ordinals]
        uniq, inv = np.unique(ci, return_inverse=True)
        names = self.strings.get_many(uniq)
        return [names[i] for i in inv.tolist()]

    def analyze(self) -> "HeapSnapshot":
        """Run every DevTools pass now (they otherwise run on first use).

        On a big snapshot with two cores or more, the dominator pass (the longest) runs beside
        the others: once the graph flags are done, a second thread computes shallow sizes (which
        the dominator pass waits for before its last step), distances and class names. Each pass
        reads only what the graph flags and the per-node helpers computed first on this thread
        (node names, the user-root mask, the WeakMap tables), so no lazily computed value is made
        by both threads; the results are the sequential ones (``WORKBENCH_THREADS=1``: one thread)."""
        from .._progress import progress
        steps = [("graph flags", "essential_edges"), ("shallow sizes", "self_sizes"), ("dominators", "_dominators"),
                 ("distances", "distances"), ("class names", "class_index")]
        done = self.__dict__
        todo = [(name, lambda a=attr: getattr(self, a)) for name, attr in steps
                if attr not in done and (name != "graph flags" or "_dominators" not in done)]
        big = self.node_count >= 1_000_000
        side = {"shallow sizes", "distances", "class names"}
        parallel = (self.node_count >= TWO_THREADS_MIN_NODES and "_dominators" not in done and any(n in side for n, _ in todo)
                    and (os.cpu_count() or 1) >= 2 and os.environ.get("WORKBENCH_THREADS", "").strip() != "1")
        with progress(len(todo), "analysing", quiet=self.quiet or not big, unit="pass", min_total=0) as bar:
            if not parallel:
                for name, fn in todo:
                    bar.set_postfix_str(name)
                    fn()
                    bar.update(1)
            else:
                self._analyze_two_threads(todo, side, bar)
        # the reader's cache, if it wants this snapshot, is written once every pass has run
        hook = self.__dict__.pop("_on_analyzed", None)
        if hook is not None:
            hook(self)
        return self

    def _analyze_two_threads(self, todo, side, bar) -> None:
        for name, fn in todo:
            if name == "graph flags":
                bar.set_postfix_str(name)
                fn()
                bar.update(1)
        # what both threads read, made here first (see analyze)
        self.node_names, self._user_root_mask, self.has_user_roots, self._ephemeron_tables
        others = [(n, f) for n, f in todo if n in side]
        sizes_ready = threading.Event()
        if "self_sizes" in self.__dict__:
            sizes_ready.set()
        self.__dict__["_sizes_ready"] = sizes_ready

        def run_side():
            try:
                for name, fn in others:
                    fn()
                    if name == "shallow sizes":
                        sizes_ready.set()
                    bar.update(1)
            finally:
                sizes_ready.set()   # (on an error too: the dominator pass must not wait forever)

        from concurrent.futures import ThreadPoolExecutor
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="workbench-pass") as pool:
                fut = pool.submit(run_side)
                try:
                    bar.set_postfix_str("dominators, " + ", ".join(n for n, _ in others))
                    self._dominators
                    bar.update(1)
                finally:
                    fut.result()   # its error, if any, is raised here
        finally:
            self.__dict__.pop("_sizes_ready", None)
        # the per-node helpers only the passes read (distances drops them when it runs last)
        self.__dict__.pop("_user_root_mask", None)
        self.__dict__.pop("_ephemeron_tables", None)
        release_freed_memory()

    # ------------------------------------------------------------------ frames
    def _type_enum(self):
        return pl.Enum(list(dict.fromkeys(self.node_types)))

    @cached_property
    def nodes(self) -> pl.DataFrame:
        """One row per object: id, type, name, class, self_size (DevTools' Shallow Size),
        retained_size, distance, dominator_id, edge_count, trace_node_id, detachedness."""
        from .frames import nodes_frame
        return nodes_frame(self)

    @cached_property
    def edges(self) -> pl.DataFrame:
        """One row per edge: from_id, to_id, type, name (property/variable name, or the element
        index as text)."""
        from .frames import edges_frame
        return edges_frame(self)

    def summary(self, **kw) -> pl.DataFrame:
        """DevTools' Summary: class, count, distance, self_size, retained_size (the class's
        retained size without double-counting nested members of the same class)."""
        from .summary import summary
        return summary(self, **kw)

    def statistics(self) -> dict:
        """DevTools' Statistics: total, v8heap{total, code, strings, js_arrays, system},
        native{total, typed_arrays}."""
        from .summary import statistics
        return statistics(self)

    @property
    def total_size(self) -> int:
        return int(self.retained_sizes[self.root]) + self.extra_native_bytes

    @cached_property
    def max_js_object_id(self) -> int:
        """The largest odd (JS object) id: DevTools' maxJSObjectId, the bound of the
        'allocated between snapshots' filter."""
        odd = self.ids[(self.ids & 1) == 1]
        return int(odd.max()) if odd.size else 0

    def ordinals_of(self, node_ids) -> np.ndarray:
        """Node ordinals for the given ids (-1 where the id is absent)."""
        order = self._id_order
        ids = np.asarray(node_ids, dtype=np.int64)
        pos = np.searchsorted(self.ids[order], ids)
        pos = np.clip(pos, 0, len(order) - 1)
        found = self.ids[order][pos] == ids
        return np.where(found, order[pos], -1)

    @cached_property
    def _id_order(self) -> np.ndarray:
        return np.argsort(self.ids, kind="stable")

    # ---- comparison, leaks, retainers (issue 3)
    def compare(self, before) -> "pl.DataFrame":
        """DevTools' Comparison of this snapshot against an earlier one of the same process
        (``workbench.heap.diff.compare``)."""
        from .diff import compare
        return compare(before, self)

    def comparison_objects(self, before, class_key=None, which: str = "new") -> "pl.DataFrame":
        """The objects behind Comparison rows (``workbench.heap.diff.comparison_objects``)."""
        from .diff import comparison_objects
        return comparison_objects(before, self, class_key, which)

    def allocated_between(self, start, end=None) -> "pl.DataFrame":
        """Objects of this snapshot allocated between snapshots ``start`` and ``end`` (default:
        this one), DevTools' id-range filter (``workbench.heap.diff.allocated_between``)."""
        from .diff import allocated_between
        return allocated_between(self, start, end)

    def retainers(self, node_id, *, weak: bool = False) -> "pl.DataFrame":
        """Direct retainers of an object, DevTools' Retainers filter (``heap.retainers``)."""
        from .retainers import retainers
        return retainers(self, node_id, weak=weak)

    def retainer_paths(self, node_id, k: int = 3, **kw) -> "pl.DataFrame":
        """The k shortest retainer paths from the GC roots (``heap.retainers.retainer_paths``)."""
        from .retainers import retainer_paths
        return retainer_paths(self, node_id, k, **kw)

    def dominators(self, node_id) -> "pl.DataFrame":
        """The object's chain of immediate dominators up to the root."""
        from .retainers import dominators
        return dominators(self, node_id)

    def dominated(self, node_id, *, top=None) -> "pl.DataFrame":
        """The object's children in the dominator tree, by retained size."""
        from .retainers import dominated
        return dominated(self, node_id, top=top)

    def duplicate_strings(self, **kw) -> "pl.DataFrame":
        """Strings stored more than once: value, count, wasted bytes, top holders."""
        from .dupstrings import duplicate_strings
        return duplicate_strings(self, **kw)
