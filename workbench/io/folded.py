"""Brendan Gregg folded stacks (``a;b;c 12``): reader into a Profile, writer from one.

Format (research note §1.5; ``brendangregg/FlameGraph`` ``flamegraph.pl``, speedscope
``bg-flamegraph.ts``): one line per stack, frames root-first separated by ``;``, then a space and a
count (flamegraph.pl also accepts decimals). Repeated stacks add up. Blank lines are ignored;
any other line that does not parse is an error naming its line number.

A frame ``name url:line:col`` (what ``write_folded`` writes, and 0x's labels) is split into
function name, url, line and column; other frames are names only. Counts are samples: a CPU
profile's self time is ``count * interval_ms`` (default 1 ms, pass the sampling interval if known);
``kind="alloc"`` reads counts as bytes. The root is a synthetic ``(root)`` frame.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import FormatError
from ._jsonfile import read_bytes

_LOC = r"^(?P<fn>.*) (?P<url>\S+):(?P<line>\d+):(?P<col>\d+)$"


def read_folded(path, *, kind: str = "cpu", interval_ms: float = 1.0, quiet: bool = False):
    from ..profile import _kernels as K
    from ..profile.model import build_frames, finish

    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(path, "line", e.start, "not UTF-8 text") from None
    lines = pl.Series("l", text.split("\n")).str.strip_chars_end("\r")
    df = pl.DataFrame(lines).with_row_index("lineno", offset=1).filter(pl.col("l").str.strip_chars() != "")
    parsed = df.with_columns(pl.col("l").str.extract_groups(r"^(?P<stack>.*\S) (?P<count>\d+(?:\.\d*)?)\s*$"))
    parsed = parsed.unnest("l") if "l" in parsed.columns and parsed.schema["l"] == pl.Struct else parsed
    bad = parsed.filter(pl.col("stack").is_null())
    if bad.height:
        ln = int(bad["lineno"][0])
        raise FormatError(path, f"line {ln}", None, "not a folded stack ('frame;frame;... count')")
    counts = parsed["count"].cast(pl.Float64).to_numpy()
    if not np.isfinite(counts).all():
        ln = int(parsed["lineno"][int(np.nonzero(~np.isfinite(counts))[0][0])])
        raise FormatError(path, f"line {ln}", None, "count out of range")
    # raw nodes: a synthetic root, then one node per (line, frame position)
    frames_long = parsed.select(pl.col("stack").str.split(";").alias("f")).with_row_index("s") \
        .explode("f").with_columns(pl.int_range(pl.len()).over("s").alias("pos"))
    loc = frames_long["f"].str.extract_groups(_LOC).struct.unnest()
    has_loc = loc["url"].is_not_null()
    fn = pl.select(pl.when(has_loc).then(loc["fn"]).otherwise(frames_long["f"])).to_series()
    cols = {
        "function": pl.concat([pl.Series(["(root)"]), fn]),
        "script_id": pl.Series([""] * (len(fn) + 1)),
        "url": pl.concat([pl.Series([""]), loc["url"].fill_null("")]),
        "line": pl.concat([pl.Series([0], dtype=pl.Int64), loc["line"].cast(pl.Int64).fill_null(0)]),
        "column": pl.concat([pl.Series([0], dtype=pl.Int64), loc["col"].cast(pl.Int64).fill_null(0)]),
    }
    frames, frame = build_frames(path, "line", cols)
    n_raw = len(fn) + 1
    pos = frames_long["pos"].to_numpy()
    raw_parent = np.empty(n_raw, np.int64)
    raw_parent[0] = -1
    idx = np.arange(1, n_raw)
    raw_parent[1:] = np.where(pos == 0, 0, idx - 1)
    last = np.ones(n_raw - 1, bool)
    last[:-1] = pos[1:] == 0  # the leaf of each stack carries the count
    raw_self = np.zeros(n_raw)
    raw_self[1:][last] = counts
    depth = pos + 1
    order = np.concatenate([[0], 1 + np.argsort(depth, kind="stable")]).astype(np.int64)
    m_of, m_parent, m_frame, n = K.merge_siblings(order, raw_parent, frame, max(frames.height, 1))
    hits = np.bincount(m_of, weights=raw_self, minlength=n)
    scale = interval_ms if kind == "cpu" else 1.0
    self_value = hits * scale
    empty = np.zeros(0, np.int64)
    total = float(self_value.sum())
    return finish(kind, path, "folded", frames, m_parent, m_frame, np.arange(n), np.rint(hits).astype(np.int64),
                  self_value, empty, np.zeros(0), np.zeros(0), 0.0, total * 1000.0 if kind == "cpu" else 0.0,
                  {"stacks": int(parsed.height), "interval_ms": interval_ms})


def folded_lines(p, *, locations: bool = True, value: str = "hits") -> pl.DataFrame:
    """(stack, count) per merged node with self > 0; ``value``: "hits" (samples) or "self"."""
    from ..profile.calltree import merged

    m = merged(p)
    labels = p.frame_labels
    lab = labels["name"]
    if locations:
        lab = pl.select(pl.when(labels["url"] != "").then(
            pl.concat_str([labels["name"], pl.lit(" "), labels["url"], pl.lit(":"),
                           labels["line"].cast(pl.String), pl.lit(":"), labels["column"].cast(pl.String)])
        ).otherwise(labels["name"])).to_series()
    # ';' and newlines would break the format
    lab = lab.str.replace_all(";", ":").str.replace_all("\n", " ")
    node_lab = lab[m.frame].to_numpy().astype(object)
    path = np.empty(m.n, dtype=object)
    path[0] = ""
    depth = m.depth
    for d in range(1, int(depth.max()) + 1 if m.n > 1 else 1):  # one vectorised step per depth level
        at = np.nonzero(depth == d)[0]
        par = path[m.parent[at]]
        path[at] = np.where(par == "", node_lab[at], par + ";" + node_lab[at]) if d > 1 else node_lab[at]
    w = m.hit_count.astype(np.float64) if value == "hits" else m.self_value
    sel = np.nonzero(w > 0)[0]
    sel = sel[sel != 0]
    return pl.DataFrame({"stack": pl.Series(path[sel], dtype=pl.String), "count": w[sel]})


def write_folded(p, path=None, *, locations: bool = True, value: str = "hits") -> str | None:
    """Folded stacks of a Profile (root excluded; samples dropped on the root are not written and
    are counted in the return of ``folded_lines``'s complement). Returns the text when ``path`` is None."""
    df = folded_lines(p, locations=locations, value=value)
    cnt = df["count"]
    as_int = (cnt == cnt.round(0)).all()
    cs = cnt.cast(pl.Int64).cast(pl.String) if as_int else cnt.cast(pl.String)
    text = "".join(s + " " + c + "\n" for s, c in zip(df["stack"].to_list(), cs.to_list()))
    if path is None:
        return text
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return None
