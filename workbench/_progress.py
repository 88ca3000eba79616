"""tqdm progress bars that pick the notebook widget in Jupyter and stay silent when asked."""
from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm

# Below this many units of work a bar is noise: loads under ~1 s show nothing.
DEFAULT_MIN_TOTAL = 32 * 1024 * 1024


def progress(total: int | None, desc: str, *, quiet: bool = False, unit: str = "B",
             min_total: int = DEFAULT_MIN_TOTAL):
    """A bar over ``total`` units, disabled when quiet, when the work is small, or when the
    environment variable WORKBENCH_QUIET is set (CI logs)."""
    disable = (
        quiet
        or bool(os.environ.get("WORKBENCH_QUIET"))
        or (total is not None and total < min_total)
    )
    scale = unit == "B"
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=scale, unit_divisor=1024 if scale else 1000,
                disable=disable, file=sys.stderr, leave=False, dynamic_ncols=True)
