"""Reader for V8 sampling heap profiles (``.heapprofile``: CDP ``HeapProfiler.SamplingHeapProfile``,
what ``node --heap-prof`` writes) into an allocation Profile (values in bytes).

Format (research note §1.2): ``{head: {callFrame, selfSize, id, children:[node...]}, samples:
[{size, nodeId, ordinal}]}``; children are nested objects, not ids. Older V8 versions (Chrome 69,
Node 10) write neither node ids nor ``samples``: their nodes are numbered in tree order (noted) and
the profile has self sizes but no samples to window.

Semantics follow DevTools ``panels/profiler/HeapProfileView.ts`` ``SamplingHeapProfileModel``: a
node's self size is ``selfSize``; totals are subtree sums. ``Profile.window`` over ordinals recomputes
self sizes from ``samples`` as DevTools does for a selected ordinal range. DevTools then prunes
branches whose total is 0; we keep them in the tree (they have zero width in flame graphs and are
dropped by ``flame_graph``'s ``min_frac``). Samples naming a node id absent from the tree (V8 writes
the tree before the samples) are dropped and counted in ``meta["samples_with_unknown_node"]`` and the notes. The nested head is flattened with an explicit stack
(no recursion), so deep allocation stacks cannot overflow.
"""
from __future__ import annotations

import reprlib

import numpy as np

from ..errors import FormatError
from ..profile.builder import build_frames, check_tree, finish, index_of_ids
from ._jsonfile import load_json
from .cpuprofile import MAX_POSITION

_MAX_SIZE = 2**63   # bytes: more than any heap


def _finite_number(v) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return np.isfinite(float(v))
    except OverflowError:
        return False


def read_heapprofile(path, *, quiet: bool = False):
    repaired: list = []
    d = load_json(path, "document", quiet=quiet, notes=repaired)
    if not isinstance(d, dict) or not isinstance(d.get("head"), dict):
        raise FormatError(path, "head", None, "missing 'head' object: not a sampling heap profile")
    ids, parent, self_size = [], [], []
    fn, sid, url, line, col = [], [], [], [], []
    stack = [(d["head"], -1, "head")]
    absent_pos: list = []
    while stack:
        node, p, where = stack.pop()
        if not isinstance(node, dict):
            raise FormatError(path, where, None, "node is not an object")
        cf = node.get("callFrame")
        nid = node.get("id")
        size = node.get("selfSize", 0)
        if "id" not in node and isinstance(cf, dict):   # old files: no ids (numbered below)
            nid = 0
            absent_pos.append(len(ids))
        if not isinstance(cf, dict) or isinstance(nid, bool) or not isinstance(nid, int):
            raise FormatError(path, where, None, "node without callFrame or integer id")
        if not -2**63 <= nid < 2**63:
            raise FormatError(path, where, None, f"node id {str(nid)[:40]} out of range")
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 <= size <= _MAX_SIZE:
            raise FormatError(path, where, None, f"invalid selfSize {reprlib.repr(size)}")
        me = len(ids)
        ids.append(nid)
        parent.append(p)
        self_size.append(size)
        fn.append(cf.get("functionName"))
        script = cf.get("scriptId", "")
        if isinstance(script, bool) or not isinstance(script, (str, int, float)):
            raise FormatError(path, where, None, f"callFrame.scriptId {reprlib.repr(script)} is not a script id")
        sid.append(str(script))
        url.append(cf.get("url"))
        ln, cn = cf.get("lineNumber", -1), cf.get("columnNumber", -1)
        line.append(ln + 1 if isinstance(ln, int) and ln >= 0 else 0)
        col.append(cn + 1 if isinstance(cn, int) and cn >= 0 else 0)
        if line[-1] > MAX_POSITION or col[-1] > MAX_POSITION:
            raise FormatError(path, where, None, f"callFrame line/column {ln}:{cn} out of range")
        kids = node.get("children", [])
        if not isinstance(kids, list):
            raise FormatError(path, where + ".children", None, "not an array")
        for k in range(len(kids) - 1, -1, -1):
            stack.append((kids[k], me, f"node {nid}.children[{k}]"))
    ids_a = np.asarray(ids, np.int64)
    notes = list(repaired)
    if absent_pos:   # numbered in tree order after the ids the file has, as speedscope numbers them
        absent = np.zeros(len(ids_a), bool)
        absent[absent_pos] = True
        base = int(ids_a[~absent].max()) + 1 if (~absent).any() else 1
        ids_a[absent] = base + np.arange(len(absent_pos))
        notes.append(("head", len(absent_pos), f"nodes without an id (an older V8), numbered in tree order from {base}"))
    if len(np.unique(ids_a)) != len(ids_a):
        u, c = np.unique(ids_a, return_counts=True)
        raise FormatError(path, "head", None, f"node id {int(u[c > 1][0])} appears more than once")
    parent_a = np.asarray(parent, np.int64)
    check_tree(path, "head", parent_a, ids_a)
    if not all(isinstance(v, str) for v in fn) or not all(isinstance(v, str) or v is None for v in url):
        raise FormatError(path, "head", None, "callFrame.functionName/url must be strings")
    frames, frame = build_frames(path, "head", {"function": fn, "script_id": sid, "url": url,
                                               "line": line, "column": col})

    samples = d.get("samples", [])
    if not isinstance(samples, list):
        raise FormatError(path, "samples", None, "not an array")
    try:
        arr = np.array([(s["size"], s["nodeId"], s["ordinal"]) for s in samples], dtype=np.float64).reshape(-1, 3)
    except (TypeError, KeyError, ValueError, OverflowError):
        bad = next((i for i, s in enumerate(samples) if not (isinstance(s, dict) and all(
            _finite_number(s.get(k)) for k in ("size", "nodeId", "ordinal")))), 0)
        raise FormatError(path, f"samples[{bad}]", None, "sample needs numeric size, nodeId and ordinal") from None
    if not np.isfinite(arr).all() or np.any(arr[:, 0] < 0):
        bad = int(np.nonzero(~np.isfinite(arr).all(axis=1) | (arr[:, 0] < 0))[0][0])
        raise FormatError(path, f"samples[{bad}]", None, "sample with invalid size/nodeId/ordinal")
    # V8 serialises the tree before the sample list, so live samples can name nodes the tree does not
    # have (seen in node v20 --heap-prof output). DevTools ignores them; we drop them and count them.
    whole = (arr[:, 1] == np.floor(arr[:, 1])) & (np.abs(arr[:, 1]) < 2.0**63)   # else no node's id
    known = whole & np.isin(np.where(whole, arr[:, 1], 0).astype(np.int64), ids_a)
    dropped = int(np.count_nonzero(~known))
    dropped_bytes = float(arr[~known, 0].sum())
    arr = arr[known]
    sample_node = index_of_ids(path, "samples", ids_a, arr[:, 1].astype(np.int64), "nodeId") if len(arr) else \
        np.zeros(0, np.int64)
    o = np.argsort(arr[:, 2], kind="stable")
    arr, sample_node = arr[o], sample_node[o]
    hits = np.bincount(sample_node, minlength=len(ids_a)).astype(np.int64)
    self_a = np.asarray(self_size, np.float64)
    by_samples = np.bincount(sample_node, weights=arr[:, 0], minlength=len(ids_a))
    meta = {"samples_with_unknown_node": dropped, "bytes_in_samples_with_unknown_node": dropped_bytes,
            "samples_size_minus_self_size": float(by_samples.sum() - self_a.sum()),
            "nodes_where_samples_disagree": int(np.count_nonzero(by_samples != self_a))}
    notes = notes + [("samples", dropped, f"samples that name a node absent from the tree ({dropped_bytes:,.0f} bytes), "
              "dropped; self sizes come from selfSize, as DevTools'")]
    return finish("alloc", path, "heapprofile", frames, parent_a, frame, ids_a, hits, self_a, sample_node,
                  arr[:, 2], arr[:, 0], 0.0, 0.0, meta, notes)
