"""Sizes and durations in findings (workbench._markup.human_bytes, human_ms)."""
import pytest

import workbench as wb


@pytest.mark.parametrize("n, text", [(0, "0 B"), (1023, "1,023 B"), (1024, "1.0 KiB"), (5 * 2**20, "5.0 MiB"),
                                     (int(1.5 * 2**30), "1.5 GiB"), (-3 * 2**20, "-3.0 MiB"), (2**50, "1,024.0 TiB")])
def test_bytes(n, text):
    assert wb.human_bytes(n) == text


@pytest.mark.parametrize("ms, text", [(0.25, "250 µs"), (16.34, "16.3 ms"), (250, "250 ms"), (2_345, "2.35 s"),
                                      (42_000, "42.0 s"), (90_500, "1 min 30 s"), (120_000, "2 min"),
                                      (3_600_000, "1 h"), (5_460_000, "1 h 31 min")])
def test_durations(ms, text):
    assert wb.human_ms(ms) == text
