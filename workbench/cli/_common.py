"""Output helpers shared by every CLI subcommand: one frame, three formats (table, json, csv), and the
models' loss reports (``notes``) printed the same way for every subject."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import polars as pl

FORMATS = ("table", "json", "csv")


def add_format(p: argparse.ArgumentParser, default: str = "table") -> None:
    p.add_argument("--format", choices=FORMATS, default=default,
                   help="output format: a readable table, JSON (for CI pipelines) or CSV")


def _jsonable(v: Any):
    if isinstance(v, float) and v != v:  # NaN is not JSON
        return None
    return v


def emit_frame(df: pl.DataFrame, fmt: str, out=None) -> None:
    """Write a polars frame to stdout as a table, a JSON list of objects, or CSV."""
    out = out or sys.stdout
    if fmt == "json":
        rows = [{k: _jsonable(v) for k, v in r.items()} for r in df.iter_rows(named=True)]
        json.dump(rows, out, indent=1, default=str)
        out.write("\n")
    elif fmt == "csv":
        out.write(df.write_csv())
    else:
        with pl.Config(tbl_rows=max(len(df), 1), tbl_cols=-1, fmt_str_lengths=80,
                       tbl_width_chars=200, tbl_hide_dataframe_shape=True,
                       tbl_hide_column_data_types=True, thousands_separator=False):
            out.write(str(df) + "\n")


def print_notes(*models) -> None:
    """Every note of the models (what a reader skipped, merged, dropped or corrected), one line each
    on stderr: ``workbench: note: <file>: <count> x <what> (<section>)``."""
    from .._notes import lines
    for m in models:
        for line in lines(m.notes):
            print(f"workbench: note: {line}", file=sys.stderr)


def emit_json(obj: Any, out=None) -> None:
    out = out or sys.stdout
    json.dump(obj, out, indent=1, default=str)
    out.write("\n")
