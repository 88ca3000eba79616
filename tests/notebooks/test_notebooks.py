"""Every notebook in notebooks/ executes on the bundled datasets (papermill + nbclient, one kernel at
a time), is paired with its jupytext percent script, has a papermill ``parameters`` cell, and tells
its incident: the conclusions it prints name what the scenario under datasets/scenarios/ planted."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import jupytext
import mistune
import nbformat
import pytest

from workbench.report import execute, notebook_parameters

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# What each investigation must conclude, from the scenario sources (the planted problem), as a reader
# sees it: Markdown outputs are rendered (mistune, as nbconvert does) and read as text, so the checks
# hold however the notebook escapes names (workbench.md_code / md_text).
EXPECT = {
    # heap_api_gateway.js: ThumbnailJob objects held by cache.table, a Map in ThumbnailCache `cache`
    "01_api_gateway_memory_leak": [r"Leaking class: ThumbnailJob", r"Held by: [^\n]*ThumbnailCache[^\n]*\.table Map",
                                   r"heap floor rises by [\d,]+ MB/hour",
                                   r"ThumbnailJob"],
    # cpu_regex.js: the (a+)+ validator called from validateEmail
    "02_cpu_regex_hotspot": [r"The CPU goes to RegExp: \^\(\[a-zA-Z0-9\]\+\)\*@example", r"in validateEmail \(cpu_regex\.js:11\)"],
    # metrics_blocked.js (Doctor: event-loop) and cpu_sync_logging.js (appendFileSync from logLine)
    "03_event_loop_blocking": [r"Doctor's verdict: event-loop", r"The loop blocks in appendFileSync",
                               r"← logLine"],
    # the fast variant buffers log lines: the synchronous write shrinks; the gateway's heap grows in Buffers
    "04_compare_deploys": [r"Largest change: writeFileUtf8 \(shrank\)", r"Class that grew most: system / JSArrayBufferData",
                           r"Not one process"],
    "05_library_tour": [r"ThumbnailCache", r"cloneForResponse"],
    # fleet_service.js: one instance of the generated fleet leaks ThumbnailJobs into the allJobs Map
    "06_fleet_memory": [r"Outlier instance: [^\n]*ThumbnailJob", r"Held by:[^\n]*Map[^\n]*allJobs"],
    # datasets/scenarios/incident: the gateway's ThumbnailCache leaks; p99 jumps with the GC floor
    "07_high_latency_incident": [r"p99 latency changed at \d\d:\d\d:\d\d", r"Leaking class: RenderedThumbnail"],
    "heap_leak_widgets": [r"ThumbnailJob", "retainer paths of @"],
    "live_capture": [r"Session"],
    "python_heap": [r"orders_service\.Order"],
}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def _rendered(markdown: str) -> str:
    t = _Text()
    t.feed(mistune.html(markdown))
    return "".join(t.parts)


def _text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o.get("text", ""))
            for kind, v in (o.get("data") or {}).items():
                v = v if isinstance(v, str) else str(v)
                out.append(_rendered(v) if kind == "text/markdown" else v)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for model in state.get("state", {}).values():
        v = model.get("state", {}).get("value")
        if isinstance(v, str):
            out.append(v)
    return "\n".join(out)


def test_every_investigation_exists():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_api_gateway_memory_leak", "02_cpu_regex_hotspot", "03_event_loop_blocking",
            "04_compare_deploys", "05_library_tour"} <= names
    assert set(EXPECT) <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_paired_with_percent_script(path):
    script = path.with_suffix(".py")
    assert script.exists(), f"{script.name} missing: pair with jupytext --set-formats ipynb,py:percent"
    nb = nbformat.read(path, as_version=4)
    py = jupytext.read(script)
    src = lambda n: [(c.cell_type, c.source.strip()) for c in n.cells]  # noqa: E731
    assert src(nb) == src(py), f"{path.name} and {script.name} differ: run jupytext --sync"
    assert "py:percent" in nb.metadata.get("jupytext", {}).get("formats", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_has_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == (0 if path.stem == "heap_leak_widgets" else 1)
    if tagged:
        assert notebook_parameters(path), "papermill reads no parameter from the parameters cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executes_and_concludes(path):
    nb = execute(path, quiet=True, timeout=600)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = _text(nb)
    for pattern in EXPECT.get(path.stem, []):   # a notebook added later at least has to run clean
        assert re.search(pattern, text), f"{path.stem}: expected /{pattern}/ in the outputs"
    # the investigations read like a post-mortem: their finding is the report's first Markdown output
    if path.stem[:2] in ("01", "02", "03", "04", "07"):
        first = next(o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                     if "text/markdown" in (o.get("data") or {}))
        assert first.startswith(("**What happened.**", "**What changed.**")), first[:200]
    # widgets were stored for the report (nbclient store_widget_state)
    if path.stem in ("01_api_gateway_memory_leak", "02_cpu_regex_hotspot", "heap_leak_widgets"):
        assert nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]


def test_flame_graph_widget_carries_its_rectangles():
    """The FlameGraph's JupyterChart must ship its data (it once re-built its layers without it and
    rendered an empty frame in JupyterLab)."""
    nb = execute(ROOT / "notebooks" / "02_cpu_regex_hotspot.ipynb", {"fixed_profile": ""}, quiet=True)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    specs = [m["state"]["spec"] for m in state.values()
             if m["model_module"] == "anywidget" and m["state"].get("spec")]
    assert specs
    flame = specs[0]
    name = flame.get("data", {}).get("name")
    assert name and name != "empty" and len(flame["datasets"][name]) > 10
    assert {"validateEmail", "handleSignup"} <= {r["name"] for r in flame["datasets"][name]}
