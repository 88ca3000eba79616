"""Class names as DevTools shows them in the Summary (calculateObjectNames, then
inferInterfaceDefinitions / applyInterfaceDefinitions of heap-snapshot-toolkit@1.1.3):

- hidden -> '(system)'; code -> '(compiled code)'; closure -> 'Function'; regexp -> 'RegExp';
- object and native -> the node name, with '<div id="a">' cut to '<div>' (and 'Detached <div ...>'
  to 'Detached <div>');
- any other type -> '(' + type + ')': '(string)', '(array)', '(number)', '(object shape)', ...
- plain objects (type object, name 'Object') are then named by their property set: each object
  with at least one property (not '__proto__') proposes '{a, b, c}' (property names in edge order,
  names with , ' " { } written as JSON strings, stopping before the name passes 120 UTF-16 units);
  proposals made by at least max(2, plain objects / 1000) objects become interfaces, most popular
  first; each plain object takes the interface with the most properties that are all among its
  own (ties: the more popular), else stays 'Object'.
"""
from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np

from . import _kernels as K
from .strings import utf16_len

MIN_OBJECT_COUNT_PER_INTERFACE = 2
MIN_OBJECT_PROPORTION_PER_INTERFACE = 1000
_NEEDS_QUOTES = re.compile(r"[,'\"{}]")


def edge_ranges(first_edge: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Indices of all edges of ``nodes``, concatenated in node order."""
    starts, ends = first_edge[nodes].astype(np.int64), first_edge[nodes + 1].astype(np.int64)
    lengths = ends - starts
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts, lengths) + (np.arange(int(lengths.sum())) - np.repeat(offsets, lengths))


def format_property_name(name: str) -> str:
    """DevTools' JSHeapSnapshotNode.formatPropertyName."""
    if _NEEDS_QUOTES.search(name):
        return json.dumps(name, ensure_ascii=False)
    return name


def base_class_indices(snap) -> np.ndarray:
    """calculateObjectNames: class-name string index per node, before interfaces."""
    st = snap.strings
    fixed = {"hidden": "(system)", "code": "(compiled code)", "closure": "Function", "regexp": "RegExp"}
    ntypes = len(snap.node_types) + 2
    named_type = np.zeros(ntypes, dtype=np.bool_)
    type_class = np.zeros(ntypes, dtype=np.int32)
    present = K.mark_values(snap._ntype, ntypes)
    for t, tname in enumerate(snap.node_types):
        if tname in ("object", "native"):
            named_type[t] = True
        elif present[t]:
            type_class[t] = st.add(fixed.get(tname, "(" + tname + ")"), "class")
    names = snap.node_names
    used = np.flatnonzero(K.mark_names(snap._ntype, names, named_type, len(st)))
    name_class = np.zeros(len(st), dtype=np.int32)
    for i in used.tolist():
        s = st[i]
        if s.startswith("<"):
            sp = s.find(" ")
            name_class[i] = st.add(s[:sp] + ">" if sp != -1 else s, "class")
        elif s.startswith("Detached <"):
            sp = s.find(" ", 10)
            name_class[i] = st.add(s[:sp] + ">" if sp != -1 else s, "class")
        else:
            name_class[i] = i
    return K.assign_classes(snap._ntype, names, named_type, type_class, name_class)


def _plain_objects(snap) -> np.ndarray:
    """Ordinals (int32) of the nodes of type object named 'Object'."""
    names = snap.node_names   # first: its 'Detached' renames add strings, and the table is sized after them
    obj_name = np.zeros(len(snap.strings), dtype=np.bool_)
    obj_name[snap.strings.find("Object")] = True
    return K.nodes_of_type_named(snap._ntype, names, snap._ntype_index("object"), obj_name)


def _property_names(snap, v: int) -> list[int]:
    a, b = snap.first_edge[v], snap.first_edge[v + 1]
    prop = snap._etype_index("property")
    et, en = snap._etype[a:b], snap._ename[a:b]
    return en[et == prop].tolist()


def infer_interfaces(snap, objs: np.ndarray | None = None) -> list[dict]:
    """inferInterfaceDefinitions: [{'name', 'properties' (raw names, edge order), 'count'}]
    (``objs``: the plain objects, ``_plain_objects``, if the caller has them)."""
    objs = _plain_objects(snap) if objs is None else objs
    if not objs.size:
        return []
    st = snap.strings
    prop = snap._etype_index("property")
    # formatted UTF-16 lengths of every property name used by plain objects
    used = np.flatnonzero(K.mark_property_names(snap.first_edge, snap._etype, snap._ename, objs, prop,
                                                st.n_original))
    len16 = np.zeros(st.n_original, dtype=np.int64)
    proto = -1
    for i in used.tolist():
        s = st[i]
        if s == "__proto__":
            proto = i
        len16[i] = utf16_len(format_property_name(s))
    # the proposals grouped in one pass (no per-object hashes kept): first object, count, properties
    first, counts, cnt = K.interface_proposals(snap.first_edge, snap._etype, snap._ename, objs, prop, proto, len16)
    if not first.size:
        return []
    # Most popular first; JS's stable sort keeps first-seen order among equal counts.
    order = np.lexsort((first, -counts))
    min_count = max(MIN_OBJECT_COUNT_PER_INTERFACE, len(objs) / MIN_OBJECT_PROPORTION_PER_INTERFACE)
    result = []
    for k in order.tolist():
        if counts[k] < min_count:
            break
        v = int(objs[first[k]])
        props = []
        for i in _property_names(snap, v):
            if i == proto:
                continue
            props.append(i)
            if len(props) == cnt[k]:
                break
        names = [st[i] for i in props]
        result.append({"name": "{" + ", ".join(format_property_name(s) for s in names) + "}",
                       "properties": names, "count": int(counts[k])})
    return result


def apply_interfaces(snap, definitions: list[dict], base: np.ndarray, inplace: bool = False,
                     objs: np.ndarray | None = None) -> np.ndarray:
    """applyInterfaceDefinitions: the class index per node with plain objects renamed (``base``
    is copied first unless ``inplace``; ``objs``: the plain objects, if the caller has them)."""
    out = base if inplace else base.copy()
    objs = _plain_objects(snap) if objs is None else objs
    if not objs.size or not definitions:
        return out
    st = snap.strings
    prop = snap._etype_index("property")
    # objects grouped by the multiset of their property names (all a definition's match reads)
    inverse, first = K.property_set_codes(snap.first_edge, snap._etype, snap._ename, objs, prop)
    # Priority: more properties first, then the earlier definition; identical property lists
    # keep only the first definition (DevTools sets matchInfo once per tree node).
    defs = []
    seen_lists = set()
    for idx, d in enumerate(definitions):
        key = tuple(sorted(d["properties"]))
        if key in seen_lists:
            continue
        seen_lists.add(key)
        defs.append((len(d["properties"]), idx, Counter(d["properties"]), d["name"]))
    defs.sort(key=lambda t: (-t[0], t[1]))
    name_cache: dict[int, str] = {}
    shape_class = np.empty(len(first), dtype=np.int64)
    for u, j in enumerate(first.tolist()):
        v = int(objs[j])
        have = Counter(name_cache.setdefault(i, st[i]) for i in _property_names(snap, v))
        chosen = -1
        for _, _, need, name in defs:
            if all(have[p] >= c for p, c in need.items()):
                chosen = st.add(name, "interface")
                break
        shape_class[u] = chosen
    K.apply_codes(out, objs, inverse, shape_class)
    return out


def class_indices(snap) -> np.ndarray:
    base = base_class_indices(snap)
    objs = _plain_objects(snap)
    snap.interface_definitions = infer_interfaces(snap, objs)
    return apply_interfaces(snap, snap.interface_definitions, base, inplace=True, objs=objs)
