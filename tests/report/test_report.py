"""Reports and redaction.

- A report rendered from snapshots the notebooks have never seen (the `sessions` service, freshly
  recorded with node when it is installed, else its committed recording), after redaction, names
  the leaking class and its holder as the scenario planted them (heap_sessions.js: Session objects
  held by the module-level Map `sessions`).
- The page is self-contained: nothing in it points at the network, the widget state and the
  inlined widget manager are there, and the manifest's sizes and sha256 are those of the files.
- Redaction keeps every number of the graph (DevTools Summary, Statistics, retained sizes, ids,
  edges) and removes the string contents (checked against contents read from the original file).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import workbench as wb
from workbench.cli import main
from workbench.redact import redact
from workbench.report import check_offline, describe_input

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = ROOT / "datasets" / "heap" / "sessions"
NAMES = ("baseline", "target", "final")


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def new_snapshots(tmp_path_factory) -> list[Path]:
    """Three snapshots of the sessions service: recorded now when node is here, else the dataset."""
    d = tmp_path_factory.mktemp("fresh")
    if shutil.which("node"):
        subprocess.run(["node", "--expose-gc", str(ROOT / "datasets/scenarios/heap_sessions.js"), str(d)],
                       check=True, capture_output=True, timeout=300)
        return [d / f"{n}.heapsnapshot" for n in NAMES]
    return [SESSIONS / f"{n}.heapsnapshot.gz" for n in NAMES]


@pytest.fixture(scope="module")
def redacted(new_snapshots, tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("redacted")
    rc = main(["--quiet", "redact", *map(str, new_snapshots), "-o", str(out)])
    assert rc == 0
    return [out / p.name for p in new_snapshots]


@pytest.fixture(scope="module")
def report(redacted, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "sessions.html"
    rc = main(["--quiet", "investigate", "--snapshots", *map(str, redacted),
               "--profile", str(ROOT / "datasets/profiles/regex.cpuprofile"),
               "--metrics", str(ROOT / "datasets/metrics/leak"), "-o", str(out)])
    assert rc == 0
    return out


def test_report_from_new_redacted_files_names_class_and_holder(report):
    html = report.read_text()
    assert re.search(r"Leaking class: <code>Session</code>", html)
    held = re.search(r"Held by:</strong> <code>([^<]*)</code>", html).group(1)
    assert "sessions" in held and "Map" in held


def test_report_is_self_contained(report):
    html = report.read_text()
    assert check_offline(html) == []
    assert "cdnjs.cloudflare.com" not in html   # require.js, mathjax and mermaid loaders are gone
    state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">\s*(.*?)</script>', html, re.S)
    models = json.loads(state.group(1))["state"]
    kinds = {m["model_name"] for m in models.values()}
    assert {"SelectModel", "HTMLModel", "VBoxModel"} <= kinds          # the comparison widget
    assert 'define("@jupyter-widgets/base"' in html                      # the manager, inlined
    assert 'define("anywidget"' in html
    # charts are anywidgets (altair JupyterChart): their ES module is stored once for all of them
    charts = [m for m in models.values() if m["model_module"] == "anywidget"]
    assert len(charts) >= 2                                             # metrics timeline, flame graph
    refs = {m["state"]["_esm"] for m in charts}
    assert len(refs) == 1 and next(iter(refs)).startswith("wb-esm:")
    table = json.loads(re.search(r'<script type="application/json" id="wb-esm">(.*?)</script>', html, re.S).group(1))
    assert list(table) == [next(iter(refs))[7:]] and "vega" in next(iter(table.values()))
    # the comparison widget was filtered to the leaking class before the page was written
    labels = [o for m in models.values() if m["model_name"] == "SelectModel"
              for o in m["state"].get("_options_labels", [])]
    assert any(label.startswith("Session ") for label in labels)


def test_manifest_describes_inputs(report, redacted):
    man = json.loads(report.with_suffix(".manifest.json").read_text())
    assert man["inputs"]["profile"]["sha256"] == _sha(ROOT / "datasets/profiles/regex.cpuprofile")
    leak = man["inputs"]["metrics"]
    assert leak["kind"] == "folder" and leak["files"] == sum(1 for p in (ROOT / "datasets/metrics/leak").rglob("*") if p.is_file())
    assert man["notebook"]["path"].endswith("01_api_gateway_memory_leak.ipynb")
    for name, path in zip(NAMES, redacted):
        entry = man["inputs"][name]
        assert entry["sha256"] == _sha(path)
        assert entry["bytes"] == path.stat().st_size
    assert man["versions"]["workbench"] == wb.__version__
    # the rerun names the input as the report shows paths: relative to the working directory
    assert man["rerun"].startswith("workbench report ") and os.path.relpath(redacted[0]) in man["rerun"]
    embedded = re.search(r'<script type="application/json" id="workbench-manifest">(.*?)</script>',
                         report.read_text(), re.S).group(1)
    assert json.loads(embedded)["inputs"] == man["inputs"]


def test_folder_digest_is_content_based(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    (a / "x.txt").write_text("one")
    (a / "y.txt").write_text("two")
    d1 = describe_input(a)
    assert d1["files"] == 2 and d1["bytes"] == 6
    (a / "y.txt").write_text("tw0")
    assert describe_input(a)["sha256"] != d1["sha256"]


def test_redaction_keeps_the_graph(new_snapshots, redacted):
    a = wb.load_snapshot(new_snapshots[2], quiet=True)
    b = wb.load_snapshot(redacted[2], quiet=True)
    assert a.summary().equals(b.summary())
    assert a.statistics() == b.statistics()
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.retained_sizes, b.retained_sizes)
    assert np.array_equal(a.distances, b.distances)
    # the graph is the same edge for edge; property names that name data (dictionary keys) are replaced
    assert a.edges.select("from_id", "to_id", "type").equals(b.edges.select("from_id", "to_id", "type"))
    # the leak analysis gives the same answer
    la = wb.find_leaks(*new_snapshots, quiet=True).suspects.select("class", "count", "retained_size", "holder")
    lb = wb.find_leaks(*redacted, quiet=True).suspects.select("class", "count", "retained_size", "holder")
    assert la.equals(lb)


def test_redaction_removes_string_contents(new_snapshots, redacted):
    a = wb.load_snapshot(new_snapshots[2], quiet=True)
    nodes = a.nodes
    strings = nodes.filter(nodes["type"] == "string")["name"].to_list()
    # session tokens are 32 hex chars from crypto.randomBytes: data, not code
    tokens = [s for s in strings if re.fullmatch(r"[0-9a-f]{32}", s)]
    assert len(tokens) >= 100
    raw = redacted[2].read_bytes()
    raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    assert not any(t.encode() in raw for t in tokens[:500])
    b = wb.load_snapshot(redacted[2], quiet=True).nodes
    red = b.filter(b["type"] == "string")["name"]
    assert red.str.starts_with("redacted:").all()
    # equal contents stay equal: as many distinct tokens as distinct contents
    assert red.n_unique() == len(set(strings))


def test_redaction_key_makes_tokens_reproducible(tmp_path):
    src = SESSIONS / "baseline.heapsnapshot.gz"
    redact(src, tmp_path / "a.heapsnapshot", key=b"k" * 32)
    redact(src, tmp_path / "b.heapsnapshot", key=b"k" * 32)
    redact(src, tmp_path / "c.heapsnapshot", key=b"x" * 32)
    assert (tmp_path / "a.heapsnapshot").read_bytes() == (tmp_path / "b.heapsnapshot").read_bytes()
    assert (tmp_path / "a.heapsnapshot").read_bytes() != (tmp_path / "c.heapsnapshot").read_bytes()


def test_redact_bad_input_is_one_line(tmp_path, capsys):
    bad = tmp_path / "cut.heapsnapshot"
    bad.write_bytes(gzip.decompress((SESSIONS / "baseline.heapsnapshot.gz").read_bytes())[:200_000])
    assert main(["redact", str(bad), "-o", str(tmp_path / "out.heapsnapshot")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("workbench: error: ") and str(bad) in err and "\n" not in err
    assert not (tmp_path / "out.heapsnapshot").exists()


def test_report_errors_are_one_line(tmp_path, capsys):
    nb = ROOT / "notebooks" / "02_cpu_regex_hotspot.ipynb"
    assert main(["report", str(nb), "-p", "profil", "x", "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter(s) profil" in err and err.count("\n") == 1
    assert main(["investigate", "--snapshots", str(SESSIONS / "baseline.heapsnapshot.gz"),
                 str(SESSIONS / "final.heapsnapshot.gz"), "-o", str(tmp_path / "r.html")]) == 2
    assert "three files" in capsys.readouterr().err
    # a failing cell names the notebook, the cell and the exception
    assert main(["report", str(nb), "-p", "profile", str(tmp_path / "missing.cpuprofile"),
                 "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "02_cpu_regex_hotspot.ipynb" in err and "failed" in err and "no such file" in err
    assert not (tmp_path / "r.html").exists()
