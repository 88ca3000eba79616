"""Reader of Brendan Gregg's folded stacks (``a;b;c 12``) into a Profile (the writer is
``workbench.profile.export.write_folded``).

Format (research note §1.5; ``brendangregg/FlameGraph`` ``flamegraph.pl``, speedscope
``bg-flamegraph.ts``): one line per stack, frames root-first separated by ``;``, then a space and a
count (flamegraph.pl also accepts decimals). Repeated stacks add up. As flamegraph.pl and speedscope
read them: UTF-16 (with a byte order mark) as well as UTF-8, CRLF line ends, any run of blanks before
the count, a trailing ``;`` ending the stack. Blank lines are ignored; lines that do not parse
(comments, text a tool printed) are skipped like flamegraph.pl skips them and listed by number in the
notes, but a file where they are as many as the stacks is not folded stacks: that is an error naming
the first bad line.

A frame ``name url:line:col`` (what ``write_folded`` writes, and 0x's labels) is split into
function name, url, line and column; other frames are names only. Counts are samples: a CPU
profile's self time is ``count * interval_ms`` (default 1 ms, pass the sampling interval if known);
``kind="alloc"`` reads counts as bytes. The root is a synthetic ``(root)`` frame.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import FormatError
from ..profile.builder import build_frames, finish, merge_siblings
from ._files import LineGuard, decode_utf8, read_bytes
from .cpuprofile import MAX_POSITION

_LOC = r"^(?P<fn>.*) (?P<url>\S+):(?P<line>\d+):(?P<col>\d+)$"


_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"\xef\xbb\xbf", "utf-8"))


def decode(path, raw: bytes) -> str:
    """UTF-8 text, or UTF-16 / UTF-8 with a byte order mark (speedscope reads all three)."""
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(enc)
            except UnicodeDecodeError as e:
                raise FormatError(path, "line", e.start + len(bom), f"not {enc.upper()} text") from None
    return decode_utf8(path, "line", raw)


def _line_list(lines, most: int = 10) -> str:
    shown = ", ".join(str(x) for x in lines[:most])
    return shown + (f" and {len(lines) - most:,} more" if len(lines) > most else "")


def read_folded(path, *, kind: str = "cpu", interval_ms: float = 1.0, quiet: bool = False):
    text = decode(path, read_bytes(path, LineGuard(path, "line")))
    lines = pl.Series("l", [text], dtype=pl.Utf8).str.split("\n").explode().str.strip_chars_end("\r")
    df = pl.DataFrame(lines).with_row_index("lineno", offset=1).filter(pl.col("l").str.strip_chars() != "")
    # flamegraph.pl's /^(.*)\s+?(\d+(?:\.\d*)?)$/: any run of blanks before the count; a trailing ';'
    # ends the stack (Perl's split drops the empty last field)
    parsed = df.with_columns(pl.col("l").str.extract_groups(r"^(?P<stack>.*?[^\s;]);*[ \t]+(?P<count>\d+(?:\.\d*)?)\s*$"))
    parsed = parsed.unnest("l") if "l" in parsed.columns and parsed.schema["l"] == pl.Struct else parsed
    bad = parsed.filter(pl.col("stack").is_null())
    notes = []
    if bad.height:
        ln = int(bad["lineno"][0])
        good = parsed.height - bad.height
        if bad.height >= good:   # mostly not folded stacks: not a folded-stacks file
            raise FormatError(path, f"line {ln}", None, "not a folded stack ('frame;frame;... count')"
                              + (f"; {bad.height:,} of {parsed.height:,} lines are not" if bad.height > 1 else ""))
        nums = bad["lineno"].to_list()
        notes.append((f"line {ln}", bad.height, f"lines that are not folded stacks (comments, other text), skipped "
                      f"as flamegraph.pl skips them: line {_line_list(nums)}"))
        parsed = parsed.filter(pl.col("stack").is_not_null())
    counts = parsed["count"].cast(pl.Float64).to_numpy()
    if not (counts < 2.0**53).all():   # (also NaN, infinite): counts become int64 hit counts
        ln = int(parsed["lineno"][int(np.nonzero(~(counts < 2.0**53))[0][0])])
        raise FormatError(path, f"line {ln}", None, "count out of range")
    if counts.sum() >= 2.0**63:
        raise FormatError(path, "line", None, "the counts add up to more than 2^63")
    # raw nodes: a synthetic root, then one node per (line, frame position); the frame texts are
    # parsed once each (a stack repeats its frames on every line that holds it)
    frames_long = parsed.select(pl.col("stack").str.split(";").alias("f")).with_row_index("s") \
        .explode("f").with_columns(pl.int_range(pl.len()).over("s").alias("pos"))
    uniq = frames_long["f"].unique(maintain_order=True)
    code = frames_long.select("f").join(uniq.to_frame().with_row_index("c"), on="f", how="left",
                                        maintain_order="left")["c"].to_numpy()
    loc = uniq.str.extract_groups(_LOC).struct.unnest() \
        .with_columns(pl.col("line", "col").cast(pl.Int64, strict=False))
    has_loc = loc["url"].is_not_null()
    far = has_loc & (loc["line"].is_null() | loc["col"].is_null() | (loc["line"] > MAX_POSITION)
                     | (loc["col"] > MAX_POSITION))
    if far.any():
        first = int(np.flatnonzero(code == int(far.arg_true()[0]))[0])
        ln = int(parsed["lineno"][int(frames_long["s"][first])])
        raise FormatError(path, f"line {ln}", None, "line or column number out of range")
    fn = pl.select(pl.when(has_loc).then(loc["fn"]).otherwise(uniq)).to_series()
    cols = {
        "function": pl.concat([pl.Series(["(root)"]), fn]),
        "script_id": pl.Series([""] * (len(fn) + 1)),
        "url": pl.concat([pl.Series([""]), loc["url"].fill_null("")]),
        "line": pl.concat([pl.Series([0], dtype=pl.Int64), loc["line"].fill_null(0)]),
        "column": pl.concat([pl.Series([0], dtype=pl.Int64), loc["col"].fill_null(0)]),
    }
    frames, frame_of_uniq = build_frames(path, "line", cols)
    frame = np.concatenate([frame_of_uniq[:1], frame_of_uniq[1:][code]])
    del code, uniq, loc
    n_raw = len(frame)
    pos = frames_long["pos"].to_numpy()
    del frames_long
    raw_parent = np.empty(n_raw, np.int64)
    raw_parent[0] = -1
    raw_parent[1:] = np.arange(n_raw - 1)   # the previous raw node, or the root for a stack's first frame
    first = pos == 0
    raw_parent[1:][first] = 0
    last = np.ones(n_raw - 1, bool)
    last[:-1] = first[1:]  # the leaf of each stack carries the count
    del first
    raw_self = np.zeros(n_raw)
    raw_self[1:][last] = counts
    del last
    order = np.empty(n_raw, np.int64)   # by depth (pos + 1), stable
    order[0] = 0
    order[1:] = np.argsort(pos, kind="stable")
    order[1:] += 1
    del pos
    m_of, m_parent, m_frame, n = merge_siblings(order, raw_parent, frame, max(frames.height, 1))
    hits = np.bincount(m_of, weights=raw_self, minlength=n)
    scale = interval_ms if kind == "cpu" else 1.0
    self_value = hits * scale
    empty = np.zeros(0, np.int64)
    total = float(self_value.sum())
    return finish(kind, path, "folded", frames, m_parent, m_frame, np.arange(n), np.rint(hits).astype(np.int64),
                  self_value, empty, np.zeros(0), np.zeros(0), 0.0, total * 1000.0 if kind == "cpu" else 0.0,
                  {"stacks": int(parsed.height), "interval_ms": interval_ms}, notes)
