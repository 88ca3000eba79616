"""CLI subcommands for the notebooks subject."""
from __future__ import annotations


def register(sub) -> None:
    """Add this subject's subcommands to the `workbench` parser (none yet)."""
