"""JupyterLab in a real browser: `workbench lab` serves a copy of the notebooks, headless Chromium
(Debian's /usr/bin/chromium driven by Playwright; no downloaded browser) runs notebook 1, picks the
leaking class in the Comparison widget and sees its retainer path; runs notebook 2, clicks a frame of
the flame graph and sees the zoom (breadcrumbs); then opens a rendered report with the network off
and sees its tables, widgets and charts. Screenshots go to $WORKBENCH_SCREENSHOTS (default: a
temporary folder, printed).

Skips only outside CI when chromium or playwright is missing; in CI (CI set) that is a failure.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT_MS = 180_000  # a fresh CI machine compiles the numba kernels inside the first notebook


def _require_browser():
    missing = [what for what, ok in (("chromium", Path(CHROMIUM).exists()),
                                     ("playwright", importlib.util.find_spec("playwright") is not None)) if not ok]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{' and '.join(missing)} missing in CI (.ci/run installs them)")
        pytest.skip(f"{' and '.join(missing)} not installed (outside CI)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def shots() -> Path:
    d = Path(os.environ.get("WORKBENCH_SCREENSHOTS") or tempfile.mkdtemp(prefix="workbench-shots-"))
    d.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {d}")
    return d


def _hostile_notebook(root: Path) -> None:
    """Snapshots of datasets/scenarios/share_hostile_heap.js (markup in class names, property names,
    holders, strings) and a CPU profile of a script whose file name is markup, under root/hostile, and
    a notebook that shows them in the Comparison, Retainers and FlameGraph widgets."""
    import nbformat
    d = root / "hostile"
    subprocess.run(["node", "--expose-gc", str(ROOT / "datasets/scenarios/share_hostile_heap.js"), str(d)],
                   check=True, timeout=120)
    script = d / "<img src=y onerror=window.__wb_pwned=31>.js"
    shutil.copy(ROOT / "datasets/scenarios/share_hostile_cpu.js", script)
    subprocess.run(["node", "--cpu-prof", "--cpu-prof-name", "hostile.cpuprofile", "--cpu-prof-interval", "500",
                    script.name, "600"], cwd=d, check=True, timeout=60)
    cells = [
        "import workbench as wb\nfrom workbench.report import use_offline_charts\nuse_offline_charts()\n"
        "snaps = [wb.load_snapshot(f'../hostile/{n}.heapsnapshot', quiet=True) for n in ('baseline', 'target', 'final')]\n"
        "top = wb.find_leaks(*snaps).suspects.row(0, named=True)",
        "from IPython.display import Markdown\n"
        "Markdown(f\"**Leaking class: {wb.md_code(top['class'])}**, held by {wb.md_code(top['holder'])}\")",
        "wb.SnapshotComparison(snaps[0], snaps[1])",
        "wb.RetainerExplorer(snaps[2], top['representative_id'])",
        "fg = wb.FlameGraph(wb.load_profile('../hostile/hostile.cpuprofile'), width=900)\nfg",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(root / "notebooks" / "hostile_widgets.ipynb"))


def _flame_views_notebook(root: Path) -> None:
    """A notebook with the FlameGraph widget's diff mode (two profiles) and its sandwich view."""
    import nbformat
    cells = [
        "import workbench as wb\nfrom workbench.report import use_offline_charts\nuse_offline_charts()\n"
        "A = wb.load_profile('../datasets/profiles/sync_logging.cpuprofile', quiet=True)\n"
        "B = wb.load_profile('../datasets/profiles/sync_logging_fast.cpuprofile', quiet=True)",
        "d = wb.FlameGraph(A, B, width=900)\nd",
        "s = wb.FlameGraph(A, width=900)\ns",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(root / "notebooks" / "flame_views.ipynb"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_browser()
    root = tmp_path_factory.mktemp("labroot")
    (root / "notebooks").mkdir()
    for p in (ROOT / "notebooks").glob("0[12]_*"):   # a copy: autosave must not touch the repository
        shutil.copy(p, root / "notebooks" / p.name)
    (root / "datasets").symlink_to(ROOT / "datasets")
    _hostile_notebook(root)
    _flame_views_notebook(root)
    port, token = _free_port(), "wb-test-" + os.urandom(8).hex()
    log = open(root / "lab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "lab", "--no-browser", "--port", str(port),
                             "--root", str(root)], env=dict(os.environ, JUPYTER_TOKEN=token),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.flush()
            pytest.fail("workbench lab did not start:\n" + (root / "lab.log").read_text()[-3000:])
        time.sleep(0.5)
    # token authentication is on: without the token the API refuses
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{base}/api/contents", timeout=5)
    assert e.value.code == 403
    yield base, token
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("chromium-profile")),
                                                   executable_path=CHROMIUM, headless=True, args=ARGS,
                                                   viewport={"width": 1400, "height": 1000})
        ctx.set_default_timeout(TIMEOUT_MS)
        yield ctx
        ctx.close()


def _open_and_run(page, base, token, name):
    """Open ``name`` alone (a fresh workspace) and run all its cells; returns its panel."""
    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/notebooks/{name}?token={token}&reset")
    panel = page.locator(".jp-NotebookPanel:visible").first
    panel.locator(".jp-Cell").first.wait_for()
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    news = page.locator('.jp-toast-button:has-text("No")')   # "notified about Jupyter news?" toast
    # JupyterLab sometimes asks which kernel to start ("Select Kernel", Python 3 preselected) when
    # the session is slow to come up: accept it (Escape would choose "No Kernel")
    accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    # "idle" can show before the kernel takes requests, and a run-all sent then is dropped: retry.
    # Only the kernel-selection dialog is accepted, and only once: accepting it again (or accepting
    # another dialog) starts a new kernel and shuts the old one down, which a retry loop would do
    # every few seconds without end.
    seen, accepted = [], False
    for attempt in range(6):
        try:
            if accept.count() and not accepted and "kernel" in page.locator(".jp-Dialog").first.inner_text().lower():
                seen.append(page.locator(".jp-Dialog-header").first.inner_text())
                accept.first.click()
                accepted = True
            if news.count():
                news.first.click()
            page.click('.lm-MenuBar-item:has-text("Run")', timeout=10_000)
            page.click('.lm-Menu-itemLabel:text-is("Run All Cells")', timeout=10_000)
            # the first code cell is queued or running ([*]) or done ([n]): the run started (counts
            # may not start at 1 when the kernel session already existed; the first cell imports
            # workbench and can take longer than this wait on a busy machine)
            page.wait_for_function(
                "el => { const p = el.querySelector('.jp-CodeCell .jp-InputPrompt');"
                " return p && /^\\[(\\d+|\\*)\\]:$/.test(p.textContent.trim()); }",
                arg=panel.element_handle(), timeout=60_000 if attempt == 0 else 20_000)
            return panel
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            if page.locator(".jp-Dialog").count():
                seen.append(page.locator(".jp-Dialog").first.inner_text()[:80])
            if not (accept.count() and not accepted and "kernel" in page.locator(".jp-Dialog").first.inner_text().lower()):
                page.keyboard.press("Escape")
    page.screenshot(path=str(Path(os.environ.get("WORKBENCH_SCREENSHOTS") or tempfile.gettempdir())
                             / f"failed_{Path(name).stem}.png"))
    raise AssertionError(f"JupyterLab did not run {name} (dialogs: {seen})")


def test_comparison_widget_shows_retainer_path(lab, browser, shots):
    base, token = lab
    page = browser.new_page()
    nb = _open_and_run(page, base, token, "01_api_gateway_memory_leak.ipynb")
    classes = nb.locator(".widget-select select").first
    classes.locator("option", has_text="ThumbnailJob").first.wait_for(state="attached")
    classes.scroll_into_view_if_needed()
    classes.select_option(index=0)                      # choose the leaking class
    objects = nb.locator(".widget-select select").nth(1)
    objects.locator("option").first.wait_for(state="attached")
    objects.select_option(index=0)                      # and one of its new objects
    paths = nb.locator(".widget-html", has_text="retainer paths of @")
    paths.wait_for()
    text = paths.inner_text()
    assert "ThumbnailCache" in text and ".table" in text and "ThumbnailJob" in text
    widget = nb.locator(".jp-OutputArea-output", has=page.locator(".widget-select")).first
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(shots / "lab_comparison_retainer_path.png"))
    nb.locator(".jp-OutputArea-output", has_text="show weak edges").screenshot(
        path=str(shots / "lab_retainer_explorer.png"))
    page.close()


def test_flame_graph_click_zooms(lab, browser, shots):
    base, token = lab
    page = browser.new_page()
    nb = _open_and_run(page, base, token, "02_cpu_regex_hotspot.ipynb")
    out = nb.locator(".jp-OutputArea-output", has=page.locator("button:has-text('Reset')")).first
    # the JupyterChart draws SVG in JupyterLab: every frame is a path labelled with its data
    frame = out.locator('.vega-embed g.mark-rect path[aria-label*="function: validateEmail;"]').first
    frame.wait_for()
    out.scroll_into_view_if_needed()
    crumbs = out.locator(".widget-hbox").nth(1).locator("button")
    assert crumbs.all_inner_texts() == ["(root)"]
    out.screenshot(path=str(shots / "lab_flame_graph.png"))
    frame.click()
    page.wait_for_function("el => el.querySelectorAll('button').length > 1",
                           arg=out.locator(".widget-hbox").nth(1).element_handle(), timeout=30_000)
    # zoomed: breadcrumbs lead from the root to the clicked frame, which is highlighted
    texts = crumbs.all_inner_texts()
    assert texts[0] == "(root)" and texts[-1] == "validateEmail", texts
    assert "handleSignup" in texts
    assert "mod-info" in (crumbs.last.get_attribute("class") or "")
    # the re-rooted graph: validateEmail is now the widest frame above its ancestors, and the rest is gone
    page.wait_for_function("el => !el.querySelector('g.mark-rect path[aria-label*=\"function: (anonymous); url: node:internal/main\"]')",
                           arg=out.element_handle(), timeout=30_000)
    page.wait_for_timeout(500)
    out.screenshot(path=str(shots / "lab_flame_graph_zoomed.png"))
    # Reset goes back to the root
    out.locator("button:has-text('Reset')").click()
    page.wait_for_function("el => el.querySelectorAll('button').length == 1",
                           arg=out.locator(".widget-hbox").nth(1).element_handle(), timeout=30_000)
    page.close()


def test_flame_graph_diff_and_sandwich_views(lab, browser, shots):
    """FlameGraph(before, after) draws Gregg's graph (new frames present, marked new in their
    tooltips); the sandwich toggle of FlameGraph(profile) shows callers and callees of the heaviest
    function, and a click on a caller re-centres the sandwich on it."""
    base, token = lab
    page = browser.new_page()
    nb = _open_and_run(page, base, token, "flame_views.ipynb")
    outs = nb.locator(".jp-OutputArea-output", has=page.locator("button:has-text('Reset')"))
    diff = outs.nth(0)
    new = diff.locator('.vega-embed g.mark-rect path[aria-label*="function: flushLogs;"]').first
    new.wait_for()
    assert "status: new" in (new.get_attribute("aria-label") or "")
    diff.scroll_into_view_if_needed()
    diff.screenshot(path=str(shots / "lab_flame_diff.png"))
    one = outs.nth(1)
    one.locator(".widget-toggle-button:has-text('sandwich')").click()
    status = one.locator(".widget-html", has_text="sandwich of")
    status.wait_for()
    first = status.inner_text()
    caller = one.locator('.vega-embed g.mark-rect path[aria-label*="function: writeFileSync;"]').first
    caller.wait_for()
    one.scroll_into_view_if_needed()
    one.screenshot(path=str(shots / "lab_flame_sandwich.png"))
    caller.click()
    page.wait_for_function("([el, before]) => el.innerText.includes('sandwich of writeFileSync') && el.innerText != before",
                           arg=[one.element_handle(), first], timeout=30_000)
    page.close()


def test_report_renders_offline(browser, shots, tmp_path):
    _require_browser()
    from workbench.report import render
    html = tmp_path / "investigation.html"
    render(ROOT / "notebooks" / "01_api_gateway_memory_leak.ipynb", html, quiet=True)
    page = browser.new_page()
    remote = []
    page.route("**/*", lambda route: (remote.append(route.request.url), route.abort())
               if route.request.url.startswith(("http:", "https:")) else route.continue_())
    browser.set_offline(True)
    try:
        page.goto(html.as_uri())
        page.wait_for_selector(".vega-embed :is(canvas, svg.marks)")
        page.locator(".widget-select select option", has_text="ThumbnailJob").first.wait_for(state="attached")
        assert page.locator("table").count() >= 4
        assert "Leaking class: ThumbnailJob" in page.inner_text("body")
        canvas = page.locator(".vega-embed :is(canvas, svg.marks)").first.bounding_box()
        assert canvas["width"] > 300 and canvas["height"] > 300   # the metrics dashboard was drawn
        assert page.locator("[data-wb-error]").count() == 0
        page.screenshot(path=str(shots / "report_offline.png"), full_page=True)
    finally:
        browser.set_offline(False)
        page.close()
    assert remote == []


def test_widgets_run_no_markup_from_the_heap(lab, browser, shots):
    """The Comparison, Retainers and FlameGraph widgets in JupyterLab show class names, property names,
    holders and file names made of HTML/JavaScript payloads as text, and none of them runs."""
    base, token = lab
    page = browser.new_page()
    nb = _open_and_run(page, base, token, "hostile_widgets.ipynb")
    md = nb.locator(".jp-RenderedMarkdown", has_text="Leaking class:").first
    md.wait_for()
    assert 'window.__wb_pwned=1\\">' in md.inner_text() and "<script>window.__wb_pwned=2</script>" in md.inner_text()
    classes = nb.locator(".widget-select select").first
    leak = classes.locator("option", has_text="window.__wb_pwned=1").first
    leak.wait_for(state="attached")
    classes.select_option(value=leak.get_attribute("value"))      # the class whose name is markup
    objects = nb.locator(".widget-select select").nth(1)
    objects.locator("option").first.wait_for(state="attached")
    objects.select_option(index=0)
    paths = nb.locator(".widget-html", has_text="retainer paths of @")
    paths.wait_for()
    assert "<script>window.__wb_pwned=2</script>" in paths.inner_text()   # the holder, as text
    # the Retainers tree: expand the first retainer
    tree = nb.locator(".jp-OutputArea-output", has_text="show weak edges").first
    tree.locator("button", has_text="▸").first.click()
    # the flame graph: hover its frames (tooltips) and search for the markup
    out = nb.locator(".jp-OutputArea-output", has=page.locator("button:has-text('Reset')")).first
    out.locator(".vega-embed g.mark-rect path").first.wait_for()
    for frame in out.locator(".vega-embed g.mark-rect path").all()[:30]:
        frame.hover(force=True, timeout=2000)   # labels lie over the frames: hover through them
    box = out.locator("input[placeholder='search function or file']")
    box.fill("<img src=y onerror=window.__wb_pwned=32>")
    box.press("Enter")
    page.wait_for_function("el => el.innerText.includes('of this view')", arg=out.element_handle(), timeout=30_000)
    page.wait_for_timeout(1000)
    assert page.evaluate("window.__wb_pwned") is None
    assert page.locator("img[src='y'], svg[onload]").count() == 0
    nb.screenshot(path=str(shots / "lab_hostile_widgets.png"))
    page.close()
