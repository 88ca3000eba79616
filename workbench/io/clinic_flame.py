"""Reader for Clinic.js Flame data folders (``<pid>.clinic-flame/``, what ``clinic flame`` collects).

The folder (``@clinic/flame`` 13 ``index.js`` ``collect``) holds ``<id>.clinic-flame-samples`` (0x's
``ticks.json``), ``<id>.clinic-flame-systeminfo`` and ``<id>.clinic-flame-inlinedfunctions``. The
samples file is a JSON array with one entry per ``node --prof`` tick: the tick's stack, **root first**,
as the code objects of ``--prof-process --preprocess`` (``{name, type: JS|CODE|CPP|SHARED_LIB, kind?}``;
0x ``lib/v8-log-to-ticks.js`` maps the even positions of ``tick.s`` to ``code`` and reverses them).
A tick whose pc no code object covers is an empty array. The samples file may be gzipped
(``...-samples.gz``); the path may name the folder or the samples file.

Frames are named as ``workbench.io.v8log`` names them (``function url:line:col`` for JS, 1-based;
``RegExp: <source>``...), so a clinic folder and a ``--prof`` log of the same run give the same
functions. The file has no tick times: samples are numbered in order and weigh 1 ms each
(``--prof``'s default 1 ms sampling interval; pass ``interval_ms`` if the run used another). Empty
ticks are samples on the root, counted in ``meta["empty_ticks"]``.
"""
from __future__ import annotations

import os

import numpy as np
import polars as pl
from polars.exceptions import PanicException

from ..errors import FormatError
from ..profile.builder import build_frames, category_expr, finish, merge_siblings
from ._jsonfile import load_json
from .sniff import clinic_flame_samples
from .cpuprofile import first_nested
from .v8log import code_frames


def read_clinic_flame(path, *, interval_ms: float = 1.0, quiet: bool = False):
    f = clinic_flame_samples(path)
    if f is None:
        raise FormatError(path, "folder", None, "no *.clinic-flame-samples file: not a Clinic.js Flame data folder")
    repaired: list = []
    ticks = load_json(f, "samples", quiet=quiet, notes=repaired)
    if not isinstance(ticks, list):
        raise FormatError(f, "samples", 0, "not an array of ticks")
    lens = np.empty(len(ticks), np.int64)
    flat: list = []
    for i, t in enumerate(ticks):
        if not isinstance(t, list):
            raise FormatError(f, f"samples[{i}]", None, "tick is not an array of frames")
        lens[i] = len(t)
        flat.extend(t)
    # unique code objects by (name, type, kind) -> frames named as the v8log reader names them
    schema = {"name": pl.String, "type": pl.String, "kind": pl.String}
    bad = first_nested(flat, schema)
    try:
        if bad is not None:
            raise ValueError
        codes = pl.from_dicts(flat, schema=schema, strict=False) if flat else pl.DataFrame(schema=schema)
    except (Exception, PanicException):  # noqa: BLE001
        bad = bad if bad is not None else next((i for i, fr in enumerate(flat) if not isinstance(fr, dict)), 0)
        tick = int(np.searchsorted(np.cumsum(lens), bad, side="right"))
        raise FormatError(f, f"samples[{tick}]", None, "frame is not an object") from None
    nulls = codes["name"].is_null() | codes["type"].is_null()
    if nulls.any():
        bad = int(nulls.arg_true()[0])
        tick = int(np.searchsorted(np.cumsum(lens), bad, side="right"))
        raise FormatError(f, f"samples[{tick}]", None, "frame without name or type")
    uniq = codes.unique(maintain_order=True)
    code_of = codes.with_row_index("_r").join(uniq.with_row_index("_c"), on=["name", "type", "kind"], how="left",
                                              nulls_equal=True).sort("_r")["_c"].to_numpy().astype(np.int64)
    cf = code_frames(f, uniq.to_dicts())
    names = pl.concat([pl.Series(["(root)"]), cf["function"]])
    urls = pl.concat([pl.Series([""]), cf["url"]])
    cats = pl.DataFrame({"function": names, "url": urls}).with_columns(category_expr()).with_columns(
        pl.when(pl.concat([pl.Series([True]), cf["is_js"]])).then(pl.col("category")).otherwise(pl.lit("v8"))
        .alias("category"))["category"]
    cats[0] = "program"
    frames, fidx = build_frames(f, "samples", {
        "function": names, "script_id": pl.Series([""] * (uniq.height + 1)), "url": urls,
        "line": pl.concat([pl.Series([0], dtype=pl.Int64), cf["line"]]),
        "column": pl.concat([pl.Series([0], dtype=pl.Int64), cf["column"]]), "category": cats})
    tick_of = np.repeat(np.arange(len(ticks)), lens)
    start = np.concatenate([[0], np.cumsum(lens)[:-1]])
    pos = np.arange(len(flat)) - start[tick_of]  # root first already
    n_raw = len(flat) + 1
    raw_parent = np.empty(n_raw, np.int64)
    raw_parent[0] = -1
    raw_parent[1:] = np.where(pos == 0, 0, np.arange(len(flat)))
    raw_frame = np.concatenate([[fidx[0]], fidx[code_of + 1]])
    order = np.argsort(np.concatenate([[0], pos + 1]), kind="stable").astype(np.int64)
    m_of, m_parent, m_frame, n = merge_siblings(order, raw_parent, raw_frame, max(frames.height, 1))
    leaf_raw = np.zeros(len(ticks), np.int64)
    nonempty = lens > 0
    leaf_raw[nonempty] = start[nonempty] + lens[nonempty]  # raw index of the last frame (+1 for the root)
    sample_node = m_of[leaf_raw]
    hits = np.bincount(sample_node, minlength=n).astype(np.int64)
    ts = np.arange(len(ticks), dtype=np.float64) * interval_ms * 1000.0
    meta = {"ticks": len(ticks), "empty_ticks": int(np.count_nonzero(~nonempty)), "interval_ms": interval_ms,
            "hit_counts": "counted from ticks", "samples_file": os.fspath(f)}
    notes = repaired + [("samples", meta["empty_ticks"], "ticks with no stack at all (no code object covers the pc), "
              "counted as samples on the root")]
    return finish("cpu", path, "clinic-flame", frames, m_parent, m_frame, np.arange(n), hits, hits * interval_ms,
                  sample_node, ts, np.full(len(ticks), interval_ms), -interval_ms * 1000.0,
                  (len(ticks) - 1) * interval_ms * 1000.0, meta, notes)
