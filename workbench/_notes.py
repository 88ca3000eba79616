"""The one shape of "what was lost": every model carries ``notes``, a polars frame with one row per
lossy or corrective step of its reader or builder (lines skipped, frames merged, samples dropped,
unknown sections, header corrections) and the columns ``source`` (the file), ``section`` (where in
it), ``count`` (how many records the step touched) and ``what`` (the step, in words). The CLI prints
them the same way for every subject (``workbench: note: <source>: <count> x <what> (<section>)``)."""
from __future__ import annotations

import polars as pl

SCHEMA = {"source": pl.Utf8, "section": pl.Utf8, "count": pl.Int64, "what": pl.Utf8}


def notes_frame(rows=()) -> pl.DataFrame:
    """Notes from ``(source, section, count, what)`` tuples (an empty frame for none)."""
    rows = [(None if s is None else str(s), str(sec), int(c), str(w)) for s, sec, c, w in rows]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def concat(frames) -> pl.DataFrame:
    """Several notes frames as one, in order."""
    frames = [f for f in frames if f is not None and len(f)]
    return pl.concat([f.select(list(SCHEMA)).cast(SCHEMA) for f in frames]) if frames else notes_frame()


def lines(notes: pl.DataFrame) -> list[str]:
    """One line per note, as the CLI prints them: ``<source>: <count> x <what> (<section>)``."""
    return [(f"{source}: " if source else "") + f"{count:,} x {what}" + (f" ({section})" if section else "")
            for source, section, count, what in notes.select(list(SCHEMA)).iter_rows()]
