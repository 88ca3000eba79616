"""Hostile and broken files: a FormatError naming file, section and byte offset; the CLI prints
one line and exits 2. No kernel ever sees unvalidated indices."""
import gzip
import json
import subprocess
import sys

import pytest

import workbench as wb
from workbench.cli import main
from workbench.errors import FormatError

from .builder import rooted
from .conftest import ROOT

HEALTHY = ROOT / "datasets/heap/healthy/baseline.heapsnapshot.gz"


def small_text() -> str:
    g, root = rooted()
    a = g.node("object", "A", 32)
    b = g.node("object", "B", 16)
    g.edge(root, a, "element", 2)
    g.edge(a, b, "property", "child")
    return g.text()


def check(path, section=None, offset=True):
    with pytest.raises(FormatError) as ei:
        wb.load_snapshot(path)
    e = ei.value
    assert e.path == str(path)
    if section is not None:
        assert e.section == section, str(e)
    if offset:
        assert e.offset is not None and e.offset >= 0, str(e)
    return e


def write(tmp_path, text, name="bad.heapsnapshot"):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def test_empty_file(tmp_path):
    e = check(write(tmp_path, ""), "header")
    assert "empty" in e.message


def test_not_json(tmp_path):
    check(write(tmp_path, "hello, I am a text file\n"), "header")


@pytest.mark.parametrize("text", ['{"a": 1}', "[1, 2, 3]", '{"snapshot": 5}', '{"snapshot": {"meta": {}}}'])
def test_json_that_is_not_a_snapshot(tmp_path, text):
    check(write(tmp_path, text))


@pytest.mark.parametrize("field", ["node_fields", "node_types", "edge_fields", "edge_types"])
def test_missing_meta_fields(tmp_path, field):
    doc = json.loads(small_text())
    del doc["snapshot"]["meta"][field]
    e = check(write(tmp_path, json.dumps(doc)), "snapshot")
    assert field in e.message


def test_missing_required_node_field(tmp_path):
    doc = json.loads(small_text())
    doc["snapshot"]["meta"]["node_fields"][3] = "size"
    e = check(write(tmp_path, json.dumps(doc)), "snapshot")
    assert "self_size" in e.message


def test_truncated_at_every_section(tmp_path):
    text = small_text()
    for cut in range(1, len(text) - 1, 7):
        check(write(tmp_path, text[:cut]))


def test_truncated_real_snapshot(tmp_path):
    raw = gzip.decompress(HEALTHY.read_bytes())
    for frac in (0.01, 0.2, 0.5, 0.8, 0.95, 0.999):
        cut = int(len(raw) * frac)
        e = check(write(tmp_path, raw[:cut]))
        assert e.offset <= cut


def test_to_node_out_of_range(tmp_path):
    doc = json.loads(small_text())
    doc["edges"][-1] = 7 * 99
    e = check(write(tmp_path, json.dumps(doc)), "edges")
    assert "points to node 99" in e.message


def test_to_node_not_a_multiple_of_field_count(tmp_path):
    doc = json.loads(small_text())
    doc["edges"][-1] = 15
    e = check(write(tmp_path, json.dumps(doc)), "edges")
    assert "not a multiple" in e.message


def test_offset_points_at_the_bad_value(tmp_path):
    text = small_text()
    doc = json.loads(text)
    doc["edges"][-1] = 700
    p = write(tmp_path, json.dumps(doc, separators=(",", ":")))
    e = check(p, "edges")
    assert p.read_bytes()[e.offset:e.offset + 3] == b"700"


def test_edge_counts_do_not_sum_to_edge_total(tmp_path):
    doc = json.loads(small_text())
    doc["nodes"][4] += 1  # root claims one more edge
    e = check(write(tmp_path, json.dumps(doc)), "nodes")
    assert "sum to" in e.message


def test_edge_count_header_mismatch(tmp_path):
    doc = json.loads(small_text())
    doc["snapshot"]["edge_count"] += 1
    check(write(tmp_path, json.dumps(doc)), "edges")


def test_string_index_out_of_range(tmp_path):
    doc = json.loads(small_text())
    doc["nodes"][7 * 2 + 1] = 10_000
    e = check(write(tmp_path, json.dumps(doc)), "nodes")
    assert "string" in e.message
    doc = json.loads(small_text())
    doc["edges"][-2] = 10_000  # name of the property edge
    check(write(tmp_path, json.dumps(doc)), "edges")


def test_node_type_out_of_range(tmp_path):
    doc = json.loads(small_text())
    doc["nodes"][7 * 2] = 40
    check(write(tmp_path, json.dumps(doc)), "nodes")


def test_negative_numbers(tmp_path):
    text = small_text().replace('"nodes":[9,', '"nodes":[-9,', 1)
    e = check(write(tmp_path, text), "nodes")
    assert "negative" in e.message


def test_fractions_and_huge_numbers(tmp_path):
    check(write(tmp_path, small_text().replace('"nodes":[9,', '"nodes":[9.5,', 1)), "nodes")
    check(write(tmp_path, small_text().replace('"nodes":[9,', '"nodes":[99999999999,', 1)), "nodes")


def test_absurd_counts_do_not_allocate(tmp_path):
    doc = json.loads(small_text())
    doc["snapshot"]["node_count"] = 10 ** 12
    e = check(write(tmp_path, json.dumps(doc)), "snapshot")
    assert "cannot fit" in e.message


def test_bad_root_index(tmp_path):
    doc = json.loads(small_text())
    doc["snapshot"]["root_index"] = 7
    check(write(tmp_path, json.dumps(doc)), "snapshot")


def test_trailing_garbage(tmp_path):
    check(write(tmp_path, small_text() + "xyz"), "document")


def test_corrupt_gzip(tmp_path):
    data = bytearray(HEALTHY.read_bytes())
    for i in range(200, len(data) // 2, 997):
        data[i] ^= 0xFF
    check(write(tmp_path, bytes(data), "c.heapsnapshot.gz"), "gzip")
    check(write(tmp_path, HEALTHY.read_bytes()[: len(data) // 3], "t.heapsnapshot.gz"), "gzip")


def test_missing_strings_section(tmp_path):
    text = small_text()
    text = text[: text.index(',\n"strings"')] + "}"
    check(write(tmp_path, text), "strings")


def test_cli_prints_one_line_and_exits_2(tmp_path, capsys):
    p = write(tmp_path, small_text()[:100])
    assert main(["summary", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"workbench: error: {p}: section")


def test_cli_subprocess_no_traceback(tmp_path):
    p = write(tmp_path, "{}")
    res = subprocess.run([sys.executable, "-m", "workbench", "summary", str(p)], capture_output=True, text=True)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
