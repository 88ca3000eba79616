"""Hostile input for every reader (issue "Safe to share", point 4): mutations of real files
(truncation, bit flips, huge declared counts, deep nesting, invalid UTF-8, UTF-16, NUL bytes,
gzip bombs, folders where files are expected, ...) go through each reader's door, and every fourth
one through the CLI. Only WorkbenchErrors may come out; each case stays under its time limit and
its memory budget (see ``fuzzlib``). Cases run in worker processes, so a crash in a numba kernel or
a hang fails the case that caused it.

The cases are fixed (``fuzzlib.MASTER_SEED``); ``TARGETS[name].ci_cases`` per reader, times
``WORKBENCH_FUZZ_SCALE`` if set. ``python -m tests.fuzz.fuzzlib --show READER INDEX`` writes one case
to a temporary folder and prints its path. The long run is ``benchmarks/fuzz_readers.py``.
"""
import collections
import os

import pytest

from . import fuzzlib

SCALE = float(os.environ.get("WORKBENCH_FUZZ_SCALE", "1"))


@pytest.mark.parametrize("target", list(fuzzlib.TARGETS))
def test_reader_survives_hostile_input(fuzz_pool, target):
    t = fuzzlib.TARGETS[target]
    n = max(1, round(t.ci_cases * SCALE))
    results = fuzz_pool.run(fuzzlib.requests_for(target, n))
    assert len(results) == n
    outcomes = collections.Counter(r["outcome"] for r in results)
    # every mutator had its turn (the first cases go through them in a shuffled order)
    assert {r["name"].split()[1].removesuffix("+gz") for r in results} >= set(t.mutators or fuzzlib.MUTATORS) \
        or n < len(t.mutators or fuzzlib.MUTATORS)
    # the mutations reach the reader; a target with a handful of cases (raw --prof logs: node's tick
    # processor skips the lines it cannot parse) may accept them all
    assert outcomes["rejected"] > 0 or n < 10, "no case was rejected: the mutations do not reach the reader"
    bad = fuzzlib.report(results)
    assert not bad, f"{target}: {sum(1 for r in results if r.get('problems'))} of {n} cases failed:\n\n{bad}"
