"""Analyses of a Logs model: record counts per level, counts over time, and errors grouped by
message template.

Templates are mined with Drain (He et al., ICWS 2017) as the ``drain3`` package implements it, with
a configuration passed explicitly (so a stray ``drain3.ini`` in the working directory changes
nothing): ids, hex, numbers, durations and IP addresses are masked first (``MASKS``), messages are
fed in time order, and after mining every message is matched again (``match``) so that each gets its
final template, not the one it had when it arrived (research note §3.1). The text mined is
``err_type: err_message`` when the record carries an error, else its ``msg``."""
from __future__ import annotations

import polars as pl

MASKS = [  # (regex, mask name): order matters (uuids and hex before plain numbers)
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "UUID"),
    (r"\b[0-9a-fA-F]{16,}\b", "HEX"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "IP"),
    (r"\b\d+(?:\.\d+)?(?:ms|s|us|ns|MB|KB|B)\b", "DURATION"),
    (r"(?<![A-Za-z])[-+]?\d+(?:\.\d+)?(?![A-Za-z])", "NUM"),
]


def level_counts(logs, by: str | None = None) -> pl.DataFrame:
    """level, severity, records (and ``by``, e.g. "source" or "format"), most severe first."""
    keys = ["level", "severity"] + ([by] if by else [])
    return (logs.table.group_by(keys).agg(records=pl.len().cast(pl.Int64))
            .sort(["severity", *([by] if by else [])], descending=[True] + ([False] if by else []), nulls_last=True))


def counts_over_time(logs, every: str = "10s", by: str = "level") -> pl.DataFrame:
    """ts (bucket start), ``by``, records; records without a time are left out."""
    t = logs.table.filter(pl.col("ts").is_not_null()).sort("ts")
    return (t.group_by_dynamic("ts", every=every, group_by=by, label="left").agg(records=pl.len().cast(pl.Int64))
            .sort("ts", by))


def _miner():
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = TemplateMinerConfig()
    cfg.drain_sim_th = 0.4
    cfg.drain_depth = 4
    cfg.drain_max_children = 100
    cfg.drain_max_clusters = None
    cfg.parametrize_numeric_tokens = True
    cfg.masking_instructions = [MaskingInstruction(rx, name) for rx, name in MASKS]
    cfg.profiling_enabled = False
    return TemplateMiner(persistence_handler=None, config=cfg)


def mine(texts: list[str]) -> list[str]:
    """The final Drain template of each text (same order)."""
    tm = _miner()
    for t in texts:
        tm.add_log_message(t)
    out = []
    for t in texts:
        c = tm.match(t, full_search_strategy="fallback")
        out.append(c.get_template() if c is not None else tm.add_log_message(t)["template_mined"])
    return out


def error_records(logs, min_severity: int = 50) -> pl.DataFrame:
    """Records that report a failure: severity error or worse, an ``err`` (Node's warnings count
    only by their level), or an HTTP status >= 500 (pino-http logs failed requests at info unless
    told otherwise)."""
    has_err = pl.col("err_type").is_not_null() & (pl.col("format") != "node-warning")
    return logs.table.filter((pl.col("severity") >= min_severity) | has_err | (pl.col("status").fill_null(0) >= 500))


def error_templates(logs, every: str | None = None, min_severity: int = 50) -> pl.DataFrame:
    """Errors grouped by template: template, records, first_ts, last_ts, levels, example (one
    message as written); with ``every``, one row per (template, time bucket) instead: ts, template,
    records."""
    e = error_records(logs, min_severity).sort("ts", nulls_last=True)
    text = pl.when(pl.col("err_type").is_not_null() & pl.col("err_message").is_not_null()) \
        .then(pl.col("err_type") + ": " + pl.col("err_message")).otherwise(pl.coalesce("msg", "err_type", pl.lit("")))
    e = e.with_columns(text=text.str.replace_all(r"\s+", " "))
    if e.is_empty():
        schema = {"template": pl.Utf8, "records": pl.Int64, "first_ts": logs.table.schema["ts"],
                  "last_ts": logs.table.schema["ts"], "levels": pl.List(pl.Utf8), "example": pl.Utf8}
        return pl.DataFrame(schema=schema)
    e = e.with_columns(template=pl.Series(mine(e["text"].to_list()), dtype=pl.Utf8))
    if every:
        return (e.filter(pl.col("ts").is_not_null()).group_by_dynamic("ts", every=every, group_by="template")
                .agg(records=pl.len().cast(pl.Int64)).sort("ts", "template"))
    return (e.group_by("template").agg(records=pl.len().cast(pl.Int64), first_ts=pl.col("ts").min(),
                                       last_ts=pl.col("ts").max(), levels=pl.col("level").unique().sort(),
                                       example=pl.col("text").first())
            .sort("records", "template", descending=[True, False]))
