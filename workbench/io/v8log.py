"""Reader for ``node --prof`` profiles: the raw isolate log (``isolate-0x…-v8.log``, turned into JSON by
node's own ``node --prof-process --preprocess``, so node must be on PATH) or that preprocessed JSON.

Preprocessed format (V8 ``tools/profile.mjs`` ``JsonProfile``; speedscope ``src/import/v8proflog.ts``;
research note §1.3): ``{code: [{name, type: JS|CODE|CPP|SHARED_LIB, kind?, func?, tm?, source?}],
functions: [...], ticks: [{tm, vm, s: [code, offset, code, offset, ...]}], scripts: [...]}``.
``tick.s`` lists the stack leaf first as (code index, offset) pairs; a code index of -1 is a pc or
return address that no code object covers (``--prof-process`` counts such ticks as "unaccounted").

What we build (a CPU Profile, one sample per tick):
* a tick's stack is the codes at the even positions of ``s`` that are >= 0, reversed to root first,
  as 0x does (``lib/v8-log-to-ticks.js``); when the pc itself (the leaf, ``s[0]``) is -1 the leaf is an
  ``UNKNOWN`` frame, as in ``--prof-process``'s bottom-up view (its count is
  ``meta["unaccounted_ticks"]``, the "unaccounted" of ``--prof-process``'s header);
* frames: JS codes are named ``function url:line:col`` (line and column 1-based, as V8 writes them);
  the optimisation tier (``kind``: Unopt/Sparkplug/Maglev/Opt/Turbofan) is not part of the frame, so
  the tiers of one function merge (0x's "merged" view, DevTools' call frames); RegExp, Builtin and
  other non-JS code are named as ``--prof-process`` prints them (``RegExp: <source>``,
  ``Builtin: <name>``), C++ and shared-library entries by their symbol; their category is ``v8``;
* sample times are ``tm`` (µs since the log started); a tick's weight is the mean tick interval
  (``weights="deltas"``: speedscope's ``importFromV8ProfLog`` convention, which for these logs is the
  time since the previous tick, the first tick weighing its own ``tm``);
* text lines node printed before the JSON (``Testing v8 version different from logging version``, when
  node reads a log of another V8 version) are skipped and noted.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np
import polars as pl
from polars.exceptions import PanicException

from ..errors import CaptureError, FormatError
from ..profile.builder import build_frames, category_expr, finish, merge_siblings
from ._files import GZIP_MAGIC, JsonGuard, LineGuard, head, read_bytes
from ._jsonfile import fix_surrogates, load_json, parse_bytes
from .cpuprofile import MAX_POSITION, check_weights, first_nested
from .sniff import is_raw_v8_log

_JS_NAME = r"^(?P<fn>.*?) ?(?P<url>[^ ]+):(?P<line>\d+):(?P<col>\d+)$"


def preprocess(path) -> str:
    """Run ``node --prof-process --preprocess`` on a raw isolate log; returns the JSON file written."""
    node = shutil.which("node")
    if node is None:
        raise CaptureError("reading a raw `node --prof` log needs node on PATH (it runs `node --prof-process "
                           "--preprocess`); or pass the preprocessed JSON", os.fspath(path))
    src = os.fspath(path)
    tmpdir = tempfile.mkdtemp(prefix="wb-v8log-")
    with open(src, "rb") as f:
        magic = f.read(2)
    if magic == GZIP_MAGIC:  # node reads plain text only
        plain = os.path.join(tmpdir, "isolate-v8.log")
        with open(plain, "wb") as f:
            f.write(read_bytes(src, LineGuard(path, "log")))
        src = plain
    out = os.path.join(tmpdir, "preprocessed.json")
    with open(out, "wb") as f:
        r = subprocess.run([node, "--prof-process", "--preprocess", src], stdout=f, stderr=subprocess.PIPE,
                           cwd=tmpdir)
    if r.returncode != 0 or os.path.getsize(out) == 0:
        msg = r.stderr.decode(errors="replace").strip().splitlines()
        raise FormatError(path, "log", None, "node --prof-process --preprocess failed: "
                          + (msg[-1][:200] if msg else f"exit status {r.returncode}"))
    return out


def read_v8log(path, *, quiet: bool = False, weights: str = "devtools"):
    """Read a raw isolate log (via node) or ``--prof-process --preprocess`` JSON into a CPU Profile."""
    tmp = None
    src = path
    if is_raw_v8_log(head(path)):
        tmp = preprocess(path)
        src = tmp
    repaired: list = []
    try:
        d = _load_preprocessed(src, quiet, repaired)
    except FormatError as e:
        if tmp is None:
            raise
        raise FormatError(path, "log", None, f"node --prof-process --preprocess wrote bad JSON ({e.message})") \
            from None
    finally:
        if tmp is not None:
            shutil.rmtree(os.path.dirname(tmp), ignore_errors=True)
    p = profile_from_preprocessed(path, d, repaired, weights=weights)
    p.meta["via"] = "node --prof-process --preprocess" if tmp is not None else "preprocessed JSON"
    return p


_MAX_PREAMBLE = 8   # lines node may print before the JSON (version warnings)


def _load_preprocessed(path, quiet: bool, notes: list):
    """The preprocessed JSON; text lines before it (``node --prof-process`` prints ``Testing v8 version
    different from logging version`` there when the log comes from another node) are skipped and noted."""
    raw = read_bytes(path, JsonGuard(path, "document"))
    body = raw.lstrip()
    if body.startswith((b"{", b"\xef\xbb\xbf{")) or not body:
        return load_json(path, "document", quiet=quiet, notes=notes)
    lines = raw.split(b"\n", _MAX_PREAMBLE + 1)
    for k in range(1, min(len(lines), _MAX_PREAMBLE + 1)):
        if lines[k].lstrip().startswith(b"{"):
            skipped = [ln.decode("utf-8", "replace").strip() for ln in lines[:k]]
            if any(ln.startswith(("[", "{", "\"")) for ln in skipped):
                break   # not text: leave it to the JSON parser's error
            base = sum(len(ln) + 1 for ln in lines[:k])
            d = fix_surrogates(raw[base:], parse_bytes(path, "document", raw[base:], base), "document", notes)
            shown = next((ln for ln in skipped if ln), "")
            notes.append(("document", k, f"text lines before the JSON, skipped (the first: {shown[:80]!r})"))
            return d
    return load_json(path, "document", quiet=quiet, notes=notes)


def code_frames(path, code: list) -> pl.DataFrame:
    if not isinstance(code, list):
        raise FormatError(path, "code", None, "not an array")
    schema = {"name": pl.String, "type": pl.String, "kind": pl.String}
    bad = first_nested(code, schema)
    try:
        if bad is not None:
            raise ValueError
        df = pl.from_dicts(code, schema=schema, strict=False)
    except (Exception, PanicException):  # noqa: BLE001 - polars raises several types for foreign data
        bad = bad if bad is not None else next((i for i, c in enumerate(code) if not isinstance(c, dict)), 0)
        raise FormatError(path, f"code[{bad}]", None, "code entry is not an object with name and type") from None
    nulls = df["name"].is_null() | df["type"].is_null()
    if nulls.any():
        bad = int(nulls.arg_true()[0])
        raise FormatError(path, f"code[{bad}]", None, "code entry without name or type")
    js = df["type"] == "JS"
    m = df["name"].str.extract_groups(_JS_NAME).struct.unnest()
    is_js = js & m["url"].is_not_null()
    m = m.with_columns(pl.col("line", "col").cast(pl.Int64, strict=False))
    far = is_js & (m["line"].is_null() | m["col"].is_null() | (m["line"] > MAX_POSITION) | (m["col"] > MAX_POSITION))
    if far.any():
        bad = int(far.arg_true()[0])
        raise FormatError(path, f"code[{bad}]", None, "line or column number out of range")
    kind = df["kind"].fill_null("")
    other = (pl.select(pl.when(kind.is_in(["RegExp", "Builtin", "BytecodeHandler", "Stub", "Handler"]))
                       .then(kind + ": " + df["name"]).otherwise(df["name"])).to_series())
    return pl.DataFrame({
        "function": pl.select(pl.when(is_js).then(m["fn"]).otherwise(other)).to_series(),
        "url": pl.select(pl.when(is_js).then(m["url"]).otherwise(pl.lit(""))).to_series(),
        "line": pl.select(pl.when(is_js).then(m["line"]).otherwise(0)).to_series(),
        "column": pl.select(pl.when(is_js).then(m["col"]).otherwise(0)).to_series(),
        "is_js": is_js,
    })


def profile_from_preprocessed(path, d, repaired=(), weights: str = "devtools"):
    check_weights(weights)
    if not isinstance(d, dict) or not isinstance(d.get("ticks"), list) or "code" not in d:
        raise FormatError(path, "document", 0, "not `node --prof-process --preprocess` output (no code/ticks)")
    code = code_frames(path, d["code"])
    n_code = code.height
    ticks = d["ticks"]
    tm = np.empty(len(ticks), np.float64)
    stacks = []
    for i, t in enumerate(ticks):  # one pass over the JSON objects json.loads already made
        if not isinstance(t, dict) or not isinstance(t.get("s"), list) or isinstance(t.get("tm"), bool) \
                or not isinstance(t.get("tm"), (int, float)):
            raise FormatError(path, f"ticks[{i}]", None, "tick without numeric tm and stack array s")
        try:
            tm[i] = t["tm"]
        except OverflowError:
            tm[i] = np.inf
        if not np.isfinite(tm[i]):
            raise FormatError(path, f"ticks[{i}].tm", None, "time out of range")
        stacks.append(t["s"][0::2])
    lens = np.fromiter((len(s) for s in stacks), np.int64, len(stacks))
    try:
        flat = np.fromiter((c for s in stacks for c in s), np.float64, int(lens.sum())) if len(stacks) else \
            np.zeros(0)
    except (TypeError, ValueError, OverflowError):
        tick = next((i for i, s in enumerate(stacks) for c in s
                     if isinstance(c, bool) or not isinstance(c, (int, float)) or not -2**53 < c < 2**53), 0)
        raise FormatError(path, f"ticks[{tick}].s", None, "code index that is not a number") from None
    if len(flat) and (not np.isfinite(flat).all() or np.any(flat != np.floor(flat)) or np.any(flat >= n_code)
                      or np.any(flat < -1)):
        bad_at = int(np.nonzero(~np.isfinite(flat) | (flat != np.floor(flat)) | (flat >= n_code) | (flat < -1))[0][0])
        tick = int(np.searchsorted(np.cumsum(lens), bad_at, side="right"))
        raise FormatError(path, f"ticks[{tick}].s", None, f"code index {flat[bad_at]!r} is not in code[0:{n_code}]")
    flat = flat.astype(np.int64)
    tick_of = np.repeat(np.arange(len(stacks)), lens)
    # a pc no code covers is the leaf "UNKNOWN" frame, as --prof-process's bottom-up view shows it
    first = np.concatenate([[0], np.cumsum(lens)[:-1]])[lens > 0]
    flat[first[flat[first] == -1]] = n_code
    n_unknown = int(np.count_nonzero(flat[first] == n_code))
    code = pl.concat([code, pl.DataFrame({"function": ["UNKNOWN"], "url": [""], "line": [0], "column": [0],
                                          "is_js": [False]}, schema=code.schema)])
    known = flat >= 0
    flat, tick_of = flat[known], tick_of[known]
    # leaf first in the file: reverse within each tick to get root-first positions
    klen = np.bincount(tick_of, minlength=len(stacks))
    start = np.concatenate([[0], np.cumsum(klen)[:-1]])
    pos_leaf_first = np.arange(len(flat)) - start[tick_of]
    pos = klen[tick_of] - 1 - pos_leaf_first
    o = np.lexsort((pos, tick_of))
    flat, tick_of, pos = flat[o], tick_of[o], pos[o]

    # frames: the root, then one per code entry the ticks use (identical JS names merge in build_frames)
    used = np.unique(flat)
    code = code[used]
    flat = np.searchsorted(used, flat)
    n_code = code.height
    names = pl.concat([pl.Series(["(root)"]), code["function"]])
    urls = pl.concat([pl.Series([""]), code["url"]])
    fr_tab = pl.DataFrame({"function": names, "url": urls})
    cats = fr_tab.with_columns(category_expr()).with_columns(
        pl.when(pl.concat([pl.Series([True]), code["is_js"]])).then(pl.col("category"))
        .otherwise(pl.lit("v8")).alias("category"))["category"]
    cats[0] = "program"
    frames, frame_of_code1 = build_frames(path, "code", {
        "function": names, "script_id": pl.Series([""] * (n_code + 1)), "url": urls,
        "line": pl.concat([pl.Series([0], dtype=pl.Int64), code["line"]]),
        "column": pl.concat([pl.Series([0], dtype=pl.Int64), code["column"]]), "category": cats})
    # raw nodes: root 0, then one per (tick, position); parent is the previous position of the same tick
    n_raw = len(flat) + 1
    raw_parent = np.empty(n_raw, np.int64)
    raw_parent[0] = -1
    raw_parent[1:] = np.where(pos == 0, 0, np.arange(len(flat)))  # previous raw node (index k-1+1)
    raw_frame = np.concatenate([[frame_of_code1[0]], frame_of_code1[flat + 1]])
    depth = np.concatenate([[0], pos + 1])
    order = np.argsort(depth, kind="stable").astype(np.int64)
    m_of, m_parent, m_frame, n = merge_siblings(order, raw_parent, raw_frame, max(frames.height, 1))
    # each tick's sample is its last (leaf) raw node, or the root for an empty stack
    leaf_raw = np.zeros(len(stacks), np.int64)
    if len(flat):
        last = np.ones(len(flat), bool)
        last[:-1] = tick_of[1:] != tick_of[:-1]
        leaf_raw[tick_of[last]] = np.nonzero(last)[0] + 1
    sample_node = m_of[leaf_raw]
    o = np.argsort(tm, kind="stable")
    reordered = int(np.count_nonzero(o != np.arange(len(o))))
    tm, sample_node = tm[o], sample_node[o]
    hits = np.bincount(sample_node, minlength=n).astype(np.int64)
    interval_us = float((tm[-1] - tm[0]) / (len(tm) - 1)) if len(tm) > 1 else 1000.0
    start_us = float(tm[0] - interval_us) if len(tm) else 0.0
    end_us = float(tm[-1]) if len(tm) else 0.0
    interval_ms = interval_us / 1000.0
    meta = {"ticks": len(ticks), "unaccounted_ticks": n_unknown,
            "empty_ticks": int(np.count_nonzero(lens == 0)), "interval_ms": interval_ms,
            "reordered_samples": reordered, "hit_counts": "counted from ticks"}
    notes = list(repaired) + [("ticks", n_unknown, "ticks whose pc no code object covers, shown as UNKNOWN (as node --prof-process "
              "does)"),
             ("ticks", meta["empty_ticks"], "ticks with no stack at all, counted as samples on the root"),
             ("ticks", reordered, "ticks out of time order, re-sorted by time")]
    meta["weights"] = weights
    if weights == "deltas":   # speedscope's importFromV8ProfLog: a tick weighs the time since the previous one
        w = np.diff(np.concatenate([[0.0], tm])) / 1000.0
        return finish("cpu", path, "v8log", frames, m_parent, m_frame, np.arange(n), hits,
                      np.bincount(sample_node, weights=w, minlength=n), sample_node, tm, w, start_us, end_us, meta,
                      notes)
    return finish("cpu", path, "v8log", frames, m_parent, m_frame, np.arange(n), hits, hits * interval_ms,
                  sample_node, tm, np.full(len(tm), interval_ms), start_us, end_us, meta, notes)
