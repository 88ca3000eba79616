"""Reports from files whose names and contents are HTML/JavaScript payloads run none of them.

A real Node service (``datasets/scenarios/share_hostile_heap.js``) keeps markup in class names,
property names, the leak's holder and strings; a CPU profile is recorded from a script whose file
name is a payload; the snapshot and profile file names are payloads too. ``workbench investigate``
and ``workbench report`` render them; headless Chromium opens the pages (offline, from file://) and
the test asserts that no payload ran (``window.__wb_pwned`` stays unset), that no injected element
exists in the DOM, and that the names are shown as text. Each page is checked twice: as written
(escaping and the Content-Security-Policy together) and with its CSP removed (escaping alone).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import workbench as wb
from workbench.cli import main

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
NAMES = {"baseline": 'b"<img src=y onerror=window.__wb_pwned=21>', "target": "t<svg onload=window.__wb_pwned=22>",
         "final": "f`<img src=y onerror=window.__wb_pwned=23>`"}   # no "/" in a file name


def _browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium missing in CI (.ci/run installs it)")
        pytest.skip("chromium not installed (outside CI)")
    from playwright.sync_api import sync_playwright
    return sync_playwright()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    subprocess.run(["node", "--expose-gc", str(ROOT / "datasets/scenarios/share_hostile_heap.js"), str(d / "raw")],
                   check=True, timeout=120)
    snaps = []
    for step, name in NAMES.items():
        dest = d / f"{name}.heapsnapshot"
        (d / "raw" / f"{step}.heapsnapshot").rename(dest)
        snaps.append(dest)
    script = d / "<img src=y onerror=window.__wb_pwned=24>.js"
    shutil.copy(ROOT / "datasets/scenarios/share_hostile_cpu.js", script)
    subprocess.run(["node", "--cpu-prof", "--cpu-prof-name", "p<svg onload=window.__wb_pwned=25>.cpuprofile",
                    "--cpu-prof-interval", "500", script.name, "800"], cwd=d, check=True, timeout=60)
    profile = d / "p<svg onload=window.__wb_pwned=25>.cpuprofile"
    return d, snaps, profile


@pytest.fixture(scope="module")
def pages(hostile, tmp_path_factory):
    d, snaps, profile = hostile
    out = tmp_path_factory.mktemp("pages")
    cwd = os.getcwd()
    os.chdir(d)   # the reports show paths relative to here
    try:
        rc1 = main(["--quiet", "investigate", "--snapshots", *map(str, snaps), "--profile", str(profile),
                    "-o", str(out / "leak.html")])
        rc2 = main(["--quiet", "report", "02_cpu_regex_hotspot", "-p", "profile", str(profile),
                    "-p", "fixed_profile", "", "-o", str(out / "cpu.html")])
    finally:
        os.chdir(cwd)
    assert rc1 == 0 and rc2 == 0
    return out / "leak.html", out / "cpu.html"


def test_the_scenario_plants_markup_where_the_report_shows_it(hostile):
    _, snaps, _ = hostile
    top = wb.find_leaks(*snaps, quiet=True).suspects.row(0, named=True)
    assert "window.__wb_pwned=1" in top["class"] and "<script>window.__wb_pwned=2</script>" in top["holder"]


def _visit(page, path: Path, strip_csp: bool):
    html = path.read_text(encoding="utf-8")
    if strip_csp:
        html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        path = path.with_name(path.stem + ".nocsp.html")
        path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri())
    page.wait_for_selector(".jupyter-widgets", timeout=60_000)
    page.wait_for_timeout(2500)           # widgets and charts finish drawing
    # hover over every chart mark and widget row, as a reader would (tooltips, onmouseover)
    for el in page.locator(".vega-embed path, .widget-select option, td").all()[:200]:
        try:
            el.hover(timeout=200)
        except Exception:  # noqa: BLE001 - hidden or detached elements
            pass
    return page.evaluate("window.__wb_pwned"), page.locator("img[src='y'], svg[onload]").count(), \
        page.inner_text("body")


@pytest.mark.parametrize("strip_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_reports_run_no_injected_code(pages, strip_csp):
    with _browser() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for path in pages:
                page = b.new_page(viewport={"width": 1300, "height": 1600})
                pwned, injected, text = _visit(page, path, strip_csp)
                assert pwned is None, f"{path.name}: payload {pwned} ran"
                assert injected == 0, f"{path.name}: markup from a file became elements"
                if path.name == "leak.html":
                    # the names are shown, as text
                    assert 'Leaking class: {"`</code><img src=y onerror=\\"window.__wb_pwned=1\\">", body, note}' in text
                    assert "<script>window.__wb_pwned=2</script> Map" in text
                page.close()
        finally:
            b.close()


def test_reports_carry_a_csp_that_allows_only_their_own_scripts(pages):
    import base64
    import hashlib
    for path in pages:
        html = path.read_text(encoding="utf-8")
        head = html[: html.index("</head>")]
        assert head.index('<meta http-equiv="Content-Security-Policy"') < head.index("<script")
        policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head).group(1)
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["default-src"] == "'none'" and "'unsafe-inline'" not in directives["script-src"]
        allowed = set(re.findall(r"'sha256-([^']+)'", directives["script-src"]))
        code = []
        for m in re.finditer(r"<script(\s[^>]*)?>(.*?)</script>", html, re.S):
            kind = re.search(r"type=[\"']?([^\"'\s>]+)", m.group(1) or "")
            if kind is None or kind.group(1) in ("text/javascript", "module"):
                code.append(base64.b64encode(hashlib.sha256(m.group(2).encode()).digest()).decode())
        assert code and set(code) == allowed      # every script of the page, and nothing else


def test_reports_show_no_absolute_paths(pages, hostile):
    d, _, _ = hostile
    for path in pages:
        html = path.read_text(encoding="utf-8")
        man = path.with_suffix(".manifest.json").read_text()
        for text in (html, man):
            for local in (d, ROOT, Path.home()):
                # an absolute path: not the tail of a relative one (../../work/main is fine)
                hits = [m.start() for m in re.finditer(re.escape(str(local) + "/"), text)
                        if not text[max(0, m.start() - 2):m.start()] == ".."]
                assert hits == [], f"{path.name}: {local} at {text[hits[0] - 60:hits[0] + 60]!r}" if hits else ""
        assert json.loads(man)["inputs"]


def test_keep_paths_keeps_them(hostile, tmp_path):
    d, snaps, _ = hostile
    rc = main(["--quiet", "investigate", "--snapshots", *map(str, snaps), "--keep-paths", "-o", str(tmp_path / "k.html")])
    assert rc == 0
    assert str(d) in (tmp_path / "k.manifest.json").read_text()
