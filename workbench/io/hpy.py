"""Reader of guppy3 ``.hpy`` dump files (``heap.dump(path)`` / ``Stat.dump``) into PyHeap models.

Format (guppy3 ``guppy/heapy/Part.py``: ``Stat.dump``, ``Partition.get_trows``, the Format classes;
research note B1): a file holds one or more appended *packages*. Each is a header of ``.name: value``
lines (``.loader: _load_stat``, ``.format: SetFormat|IdFormat|DiffFormat``, ``.timemade: <epoch s>``,
``.count:``, ``.size:``, ``.kindname:``, ``.kindheader:``, ``.numrows:``, and ``.b_count:``/``.b_size:``
in diffs), then ``.numrows`` row lines, then ``.end: .loader: _load_stat``. Rows are
``.r: COUNT SIZE KIND`` (SetFormat, DiffFormat; guppy's ``load_statrow_csk``) or ``.r: SIZE NAME``
(IdFormat, one object per row; ``load_statrow_sk``; NAME is ``<kind>: <repr>`` and we take the text
before the first ``": "`` as its class). The kind text is the partition's rendering, e.g.
``dict of leaky.Record`` under the default Clodo ("class / dict of class") partition, whose
header ``.kindheader`` we keep as ``by``.

Checks (guppy's own loader only checks the syntax): every package ends with ``.end``, has the
header fields, ``.numrows`` rows, and row counts/sizes summing to ``.count``/``.size``. Problems
raise ``FormatError`` with the package number as section and the byte offset of the line.
Parsing is vectorised with polars string expressions.
"""
from __future__ import annotations

import os
import re

import numpy as np
import polars as pl

from ..errors import FormatError
from ..pyheap.model import PyHeap
from ._files import open_binary

FORMATS = ("SetFormat", "IdFormat", "DiffFormat")
REQUIRED = ("format", "timemade", "count", "size", "numrows")
_ROW_CSK = r"^\.r: (-?\d+) (-?\d+) (.*)$"
_ROW_SK = r"^\.r: (-?\d+) (.*)$"
_MAX_ROW = 2**53   # objects or bytes in one row; sums stay exact in int64


def read_hpy(path, *, quiet: bool = True) -> list:
    """Every package of a ``.hpy`` file, in file order, as PyHeap models."""

    path = os.fspath(path)
    with open_binary(path) as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(path, "file", e.start, "not UTF-8 text: not a guppy3 .hpy dump") from None
    if not text.lstrip().startswith(".loader:"):
        raise FormatError(path, "package 0", 0, "does not start with '.loader:': not a guppy3 .hpy dump")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lens = np.fromiter((len(s.encode("utf-8")) + 1 for s in lines), dtype=np.int64, count=len(lines)) \
        if not text.isascii() else np.fromiter(map(len, lines), dtype=np.int64, count=len(lines)) + 1
    offsets = np.concatenate([[0], np.cumsum(lens)[:-1]]) if len(lines) else np.zeros(0, np.int64)
    df = pl.DataFrame({"line": pl.Series(lines, dtype=pl.Utf8), "offset": offsets})
    df = df.with_columns(
        is_loader=pl.col("line").str.starts_with(".loader:"),
        is_end=pl.col("line").str.starts_with(".end:"),
        is_row=pl.col("line").str.starts_with(".r:"),
    ).with_columns(package=pl.col("is_loader").cum_sum() - 1)
    blank = df.filter(pl.col("line").str.strip_chars() == "")
    if len(blank):
        r = blank.row(0, named=True)
        raise FormatError(path, f"package {r['package']}", r["offset"], "blank line inside a dump")
    heaps = []
    npk = int(df["package"].max()) + 1
    for k, pk in enumerate(df.partition_by("package", maintain_order=True)):
        heaps.append(_package(path, k, npk, pk, PyHeap))
    return heaps


def _package(path, k: int, npk: int, pk: pl.DataFrame, PyHeap):
    section = f"package {k}"
    ends = pk.filter(pl.col("is_end"))
    last = pk.row(len(pk) - 1, named=True)
    if len(ends) == 0:
        raise FormatError(path, section, last["offset"] + len(last["line"]),
                          "truncated: no '.end:' line (was the dump cut off?)")
    if not last["is_end"]:
        extra = pk.filter(pl.col("offset") > ends["offset"][0]).row(0, named=True)
        raise FormatError(path, section, extra["offset"], "text after '.end:' inside a package")
    head = pk.filter(~pl.col("is_row") & ~pl.col("is_end"))
    rows = pk.filter(pl.col("is_row"))
    if len(rows) and len(head) and rows["offset"][0] < head["offset"][-1]:
        bad = head.filter(pl.col("offset") > rows["offset"][0]).row(0, named=True)
        raise FormatError(path, section, bad["offset"], f"header line after the rows: {bad['line'][:60]!r}")
    meta: dict[str, str] = {}
    for line, off in zip(head["line"].to_list(), head["offset"].to_list()):
        m = re.match(r"^\.(\w+):\s?(.*)$", line)
        if not m:
            raise FormatError(path, section, off, f"not a header line: {line[:60]!r}")
        meta[m.group(1)] = m.group(2).strip()
    for f in REQUIRED:
        if f not in meta:
            raise FormatError(path, section, int(pk["offset"][0]), f"header has no '.{f}:' line")
    fmt = meta["format"]
    if fmt not in FORMATS:
        raise FormatError(path, section, int(pk["offset"][0]), f"unknown format {fmt[:60]!r} (expected one of {FORMATS})")
    ints = {}
    for f in ("count", "size", "numrows", "b_count", "b_size"):
        if f in meta:
            try:
                ints[f] = int(meta[f])
            except ValueError:
                raise FormatError(path, section, int(pk["offset"][0]), f"'.{f}:' is not an integer: {meta[f][:60]!r}") from None
    try:
        timemade = float(meta["timemade"])
    except ValueError:
        raise FormatError(path, section, int(pk["offset"][0]), f"'.timemade:' is not a number: {meta['timemade'][:60]!r}") from None
    if len(rows) != ints["numrows"]:
        raise FormatError(path, section, int(last["offset"]),
                          f"'.numrows: {ints['numrows']}' but {len(rows)} rows")
    if fmt == "IdFormat":
        ex = rows.select(pl.col("line").str.extract_groups(_ROW_SK).alias("g"), "offset").unnest("g")
        ex = ex.rename({"1": "size", "2": "name"}).with_columns(count=pl.lit("1"))
    else:
        ex = rows.select(pl.col("line").str.extract_groups(_ROW_CSK).alias("g"), "offset").unnest("g")
        ex = ex.rename({"1": "count", "2": "size", "3": "name"})
    bad = ex.filter(pl.col("size").is_null())
    if len(bad):
        off = int(bad["offset"][0])
        line = rows.filter(pl.col("offset") == off)["line"][0]
        raise FormatError(path, section, off, f"bad row (expected '.r: {'SIZE NAME' if fmt == 'IdFormat' else 'COUNT SIZE KIND'}'): {line[:60]!r}")
    ex = ex.with_columns(pl.col("count").cast(pl.Int64, strict=False), pl.col("size").cast(pl.Int64, strict=False))
    far = ex.filter(pl.col("count").is_null() | pl.col("size").is_null()
                    | (pl.col("count").abs() > _MAX_ROW) | (pl.col("size").abs() > _MAX_ROW))
    if len(far):
        raise FormatError(path, section, int(far["offset"][0]), "count or size out of range")
    if fmt == "IdFormat":
        ex = ex.with_columns(pl.col("name").str.split(": ").list.first().alias("name"))
    if fmt != "DiffFormat" and len(ex) and (ex["count"].min() < 0 or ex["size"].min() < 0):
        off = int(ex.filter((pl.col("count") < 0) | (pl.col("size") < 0))["offset"][0])
        raise FormatError(path, section, off, "negative count or size outside a diff")
    if int(ex["count"].sum()) != ints["count"] or int(ex["size"].sum()) != ints["size"]:
        raise FormatError(path, section, int(last["offset"]),
                          f"rows sum to {int(ex['count'].sum())} objects / {int(ex['size'].sum())} bytes but the "
                          f"header says {ints['count']} / {ints['size']}")
    agg = ex.group_by("name", maintain_order=True).agg(pl.col("count").sum(), pl.col("size").sum())
    label = path if npk == 1 else f"{path}#{k}"
    return PyHeap(kinds=agg["name"].to_list(), counts=agg["count"].to_numpy(), sizes=agg["size"].to_numpy(),
                  timemade=timemade, format=fmt, by=meta.get("kindheader", ""), source=label,
                  b_count=ints.get("b_count"), b_size=ints.get("b_size"))


def load_hpy(path, *, index: int = -1):
    """One package of a ``.hpy`` file (the last by default: ``dump`` appends) as a PyHeap."""
    heaps = read_hpy(path)
    try:
        return heaps[index]
    except IndexError:
        raise FormatError(path, f"package {index}", None, f"the file holds {len(heaps)} package(s)") from None
