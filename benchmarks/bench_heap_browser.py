"""The heap widgets in a real browser on two ~7-8M-node snapshots (issue 16, point 3): `workbench lab`
serves a notebook that opens benchmarks/data/pair-{before,after}.heapsnapshot (gen_large_pair.js) and
shows SnapshotComparison and RetainerExplorer; headless Chromium (Debian's /usr/bin/chromium through
Playwright, as tests/browser/test_jupyterlab.py drives it) clicks a class, an object and a retainer
row, and the time from the click to the rendered result is measured (--repeat times each, median),
with screenshots in benchmarks/data/shots/ (copies of one run in benchmarks/screenshots/).

    python benchmarks/bench_heap_browser.py [--repeat 3]

The kernel uses the reader's cache (WORKBENCH_CACHE_DIR as set, else the user's): run
bench_heap_widgets.py first and the notebook maps both snapshots instead of parsing them.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

CELLS = [
    "import time, numpy as np, workbench as wb\nt = time.perf_counter()\n"
    "b = wb.load_snapshot({before!r}, quiet=True)\na = wb.load_snapshot({after!r}, quiet=True)\n"
    "b.analyze(); a.analyze()\nprint(f'loaded in {{time.perf_counter() - t:.1f}} s; from the cache: '\n"
    "      f'{{a.cache_file is not None and b.cache_file is not None}}')",
    "t = time.perf_counter()\nw = wb.SnapshotComparison(b, a)\nprint(f'Comparison built in {{time.perf_counter() - t:.1f}} s')\nw",
    "order_class = next(i for i in np.unique(a.class_index).tolist() if a.strings[i] == 'Order')\n"
    "oid = int(a.ids[np.flatnonzero(a.class_index == order_class)[0]])\nx = wb.RetainerExplorer(a, oid)\nx",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default=str(HERE / "data" / "pair-before.heapsnapshot"))
    ap.add_argument("--after", default=str(HERE / "data" / "pair-after.heapsnapshot"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import nbformat
    from playwright.sync_api import sync_playwright

    shots = HERE / "data" / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-heap-lab-"))
    (root / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.format(before=args.before, after=args.after))
                                         for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(root / "notebooks" / "big_heaps.ipynb"))
    port, token = _free_port(), "wb-bench-" + os.urandom(8).hex()
    log = open(root / "lab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "lab", "--no-browser", "--port", str(port),
                             "--root", str(root), "--notebook", "big_heaps.ipynb"],
                            env=dict(os.environ, JUPYTER_TOKEN=token),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("workbench lab did not start:\n" + (root / "lab.log").read_text()[-3000:])
            time.sleep(0.5)
        results: dict[str, list[float]] = {}
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(str(root / "chromium"), executable_path=CHROMIUM,
                                                       headless=True, args=ARGS,
                                                       viewport={"width": 1500, "height": 1100})
            ctx.set_default_timeout(240_000)
            page = ctx.new_page()
            page.goto(f"{base}/lab/workspaces/big/tree/notebooks/big_heaps.ipynb?token={token}&reset")
            panel = page.locator(".jp-NotebookPanel:visible").first
            panel.locator(".jp-Cell").first.wait_for()
            page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
            t_run = time.perf_counter()
            accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")   # "Select Kernel"
            news = page.locator('.jp-toast-button:has-text("No")')   # "notified about Jupyter news?"
            for attempt in range(8):   # as tests/browser/test_jupyterlab.py: retry until the first cell runs
                try:
                    if accept.count():
                        accept.first.click()
                    if news.count():
                        news.first.click()
                    page.click('.lm-MenuBar-item:has-text("Run")', timeout=10_000)
                    page.click('.lm-Menu-itemLabel:text-is("Run All Cells")', timeout=10_000)
                    page.wait_for_function(
                        "el => { const p = el.querySelector('.jp-CodeCell .jp-InputPrompt');"
                        " return p && /^\\[(\\d+|\\*)\\]:$/.test(p.textContent.trim()); }",
                        arg=panel.element_handle(), timeout=20_000)
                    break
                except Exception as e:  # noqa: BLE001 - playwright's TimeoutError
                    print(f"run-all attempt {attempt + 1}: {str(e).splitlines()[0][:120]}", flush=True)
                    page.screenshot(path=str(shots / f"attempt{attempt + 1}.png"))
                    if accept.count():
                        accept.first.click()
                    else:
                        page.keyboard.press("Escape")
            classes = panel.locator(".widget-select select").first
            try:
                classes.locator("option").first.wait_for(state="attached")
            except Exception:
                page.screenshot(path=str(shots / "failed.png"))
                print("\n".join(panel.locator(".jp-OutputArea-output").all_inner_texts())[-3000:])
                raise
            explorer = panel.locator(".jp-OutputArea-output", has_text="show weak edges").first
            explorer.wait_for()
            print(f"notebook ran (load, Comparison, Retainers) in {time.perf_counter() - t_run:.1f} s; "
                  + " | ".join(panel.locator(".jp-OutputArea-output pre").all_inner_texts()[:2]).replace("\n", " "),
                  flush=True)
            objects = panel.locator(".widget-select select").nth(1)
            paths = panel.locator(".widget-html", has_text="retainer paths of @")

            def timed(name, action, done):
                t = time.perf_counter()
                action()
                try:
                    page.wait_for_function(done[0], arg=done[1], timeout=60_000)
                except Exception:
                    page.screenshot(path=str(shots / "failed.png"))
                    print(f"{name}: no result within 60 s", flush=True)
                    raise
                dt = time.perf_counter() - t
                results.setdefault(name, []).append(dt)
                print(f"{name}: {dt:.3f} s", flush=True)

            labels = classes.evaluate("s => Array.from(s.options).map(o => o.textContent.replace(/\\u00a0/g, ' '))")
            pick = [i for i, lab in enumerate(labels) if lab.startswith(("Session ", "(string) ", "Object "))]
            pick += [i for i in range(min(3, len(labels))) if i not in pick]   # three different classes
            for r in range(args.repeat):
                i = pick[r % len(pick)]
                before = objects.evaluate("s => s.options.length ? s.options[0].textContent : ''")
                timed("select a class (objects listed)", lambda: classes.select_option(index=i),
                      ("([s, b]) => s.options.length > 0 && s.options[0].textContent !== b",
                       [objects.element_handle(), before]))
                k = min(r % 3, objects.evaluate("s => s.options.length") - 1)
                timed("select an object (3 retainer paths drawn)",
                      lambda: objects.select_option(index=k),
                      ("([el, want]) => [...el.querySelectorAll('.widget-html')].some(h => h.textContent.includes("
                       "'retainer paths of @' + want))",
                       [panel.element_handle(),
                        objects.evaluate(f"s => s.options[{k}].textContent.match(/@(\\d+)/)[1]")]))
                if r == 0:
                    out = panel.locator(".jp-OutputArea-output", has=page.locator(".widget-select")).first
                    out.scroll_into_view_if_needed()
                    out.screenshot(path=str(shots / "big_comparison.png"))
                # expand the deepest collapsed retainer row
                toggles = explorer.locator("button:has-text('▸')")
                n_html = explorer.locator(".widget-html").count()
                n_open = explorer.locator("button:has-text('▾')").count()
                # drawn: the next level's rows, or (a row without retainers) the toggle turned
                timed("expand a retainer row (next level drawn)", lambda: toggles.last.click(),
                      ("([el, n, o]) => el.querySelectorAll('.widget-html').length > n || "
                       "[...el.querySelectorAll('button')].filter(b => b.textContent.includes('▾')).length > o",
                       [explorer.element_handle(), n_html, n_open]))
            explorer.scroll_into_view_if_needed()
            explorer.screenshot(path=str(shots / "big_retainers.png"))
            ctx.close()
        print(f"\nload average {os.getloadavg()[0]:.1f}; median of {args.repeat} (s), worst:")
        print("| interaction (click to rendered result) | median s | worst s |\n|---|---|---|")
        for k, v in results.items():
            print(f"| {k} | {statistics.median(v):.2f} | {max(v):.2f} |")
        print(f"screenshots: {shots}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
