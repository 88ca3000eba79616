"""Reports: run an investigation notebook headless with parameters and write ONE self-contained HTML
file (widgets embedded with their state, charts drawn offline) plus a JSON manifest of the inputs.

How (sources: research note sections C1-C3, D1; nbclient, papermill and nbconvert docs):

- Execution is papermill's (``execute_notebook``): parameters are injected after the cell tagged
  ``parameters``; papermill runs the notebook through nbclient, whose ``store_widget_state`` (default
  on) records every widget model the kernel opened into ``metadata.widgets``
  (``application/vnd.jupyter.widget-state+json``). A failing cell becomes one ``WorkbenchError``
  naming the notebook, the cell and the exception.
- HTML is nbconvert's ``lab`` template with images embedded. Its CDN script tags are replaced by
  inlined copies: require.js and ``@jupyter-widgets/html-manager``'s ``embed-amd.js`` (vendored in
  ``report_assets/``, see its MANIFEST) and ``report_assets/anywidget_static.js``, workbench's AMD
  module that renders anywidgets (altair's ``JupyterChart``, the flame graph) from the ES module stored
  in their state. MathJax is dropped (no notebook uses TeX). Identical anywidget ES modules (altair's
  offline bundle of vega, vega-lite and vega-embed made by vl-convert, ~1 MB) are stored once.
  Nothing in the page is fetched from the network; ``check_offline(html)`` lists anything that would be.
- Static pages have no kernel (ipywidgets' embedding docs): Python callbacks do not run, so a widget
  shows the state it had when the notebook finished; charts keep vega's own hover and tooltips.
- The manifest (``OUT.manifest.json`` beside ``OUT.html`` and a copy inside the page) lists the
  notebook and every parameter that names a file or folder with its size and sha256 (a folder:
  sha256 over its files' relative paths and sha256s, in path order), the workbench, Python and node
  versions and the command that re-runs the investigation.

Notebooks call ``use_offline_charts()`` so that charts draw in JupyterLab without a network too, and
``find_file()`` to resolve their ``parameters`` relative to the working directory or the repository.

Where the template notebooks come from: the top-level ``notebooks/`` folder ships inside the wheel as
the package data of ``workbench.notebooks`` (pyproject.toml maps that package to the folder), and
``template_dir()`` finds it through ``importlib.resources``, so ``workbench investigate`` and
``workbench report NAME`` work from any folder once installed with ``pip install .``. An editable
install cannot import that mapped package (setuptools' editable finder does not serve a folder
without ``__init__.py`` under another package's name), so there the checkout's ``notebooks/`` is used:
the same files. ``CHECKOUT`` is the source checkout the package runs from, or None when installed.
"""
from __future__ import annotations

import ast
import base64
import datetime as _dt
import gzip
import hashlib
import json
import os
import platform
import re
import shlex
import subprocess
from importlib import resources
from pathlib import Path

from .charts import use_offline_charts  # noqa: F401  (notebooks import it from here)
from .errors import UsageError, WorkbenchError

ASSETS = Path(__file__).with_name("report_assets")
TEMPLATE_PACKAGE = "workbench.notebooks"   # the package data holding the template notebooks


def _checkout() -> Path | None:
    """The source checkout this package is imported from (an editable install, or the repository on
    sys.path): the folder above the package, when it holds pyproject.toml and datasets/. None when
    the package is installed (site-packages has neither)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "datasets").is_dir() else None


CHECKOUT = _checkout()

_REQUIRE = "WORKBENCH-INLINE-REQUIREJS"
_RENDERER = "WORKBENCH-INLINE-WIDGET-RENDERER"
_MATHJAX = "WORKBENCH-NO-MATHJAX"


# ---------------------------------------------------------------------------------------------
# helpers for notebooks
def find_file(path, *, must_exist: bool = True) -> Path | None:
    """Resolve a notebook parameter naming a file or folder: as given (absolute, or relative to the
    working directory), else relative to the workbench checkout (where ``datasets/`` lives; only when
    the package runs from one, see ``CHECKOUT``), else relative to the working directory's parent (a
    kernel started in ``ROOT/notebooks/`` by ``workbench lab --root ROOT``).
    ``""``/``None`` returns None (an optional input that was not given)."""
    if path is None or str(path) == "":
        return None
    p = Path(os.path.expanduser(str(path)))
    if p.is_absolute():
        candidates = [p]
    else:
        cwd = Path.cwd()
        candidates = [cwd / p, *([CHECKOUT / p] if CHECKOUT is not None else []), cwd.parent / p]
    for cand in candidates:
        if cand.exists():
            return cand.resolve()
    if must_exist:
        raise WorkbenchError("no such file", p)
    return p


def as_list(value) -> list[Path]:
    """A parameter that may hold one path, several (a list, or a string separated by ``,``/``;``)
    or none, as a list of resolved paths."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[;,]", str(value))
    return [find_file(v) for v in items if str(v).strip()]


# ---------------------------------------------------------------------------------------------
# parameters and manifest
def notebook_parameters(notebook) -> dict:
    """The parameters a notebook declares (papermill's reading of its ``parameters`` cell):
    name -> {"default": source text, "inferred_type_name": ...}."""
    from papermill.inspection import inspect_notebook
    try:
        return inspect_notebook(str(notebook))
    except ValueError as e:     # no kernel name in its metadata, ...
        raise WorkbenchError(f"cannot read its parameters: {e}", notebook) from None


def parse_value(text: str):
    """A ``-p name value`` value as papermill's CLI reads it: int, float, bool, None, else str."""
    low = text.strip()
    if low in ("True", "true"):
        return True
    if low in ("False", "false"):
        return False
    if low in ("None", "none"):
        return None
    for cast in (int, float):
        try:
            return cast(low)
        except ValueError:
            pass
    return text


def _absolutize(value):
    """Paths given relative to the caller's directory stay valid when the kernel runs elsewhere."""
    if isinstance(value, str) and value and not value.startswith(("http:", "https:")):
        parts = [v for v in re.split(r"([;,])", value)]
        out = []
        for v in parts:
            p = Path(os.path.expanduser(v)) if v not in (",", ";") else None
            out.append(str(p.resolve()) if p is not None and v.strip() and p.exists() else v)
        return "".join(out)
    if isinstance(value, (list, tuple)):
        return [_absolutize(v) for v in value]
    return value


def _sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def describe_input(path) -> dict:
    """Path, size and sha256 of one input (a folder: its files, hashed in path order)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(q for q in p.rglob("*") if q.is_file())
        h = hashlib.sha256()
        size = 0
        for q in files:
            h.update(f"{q.relative_to(p).as_posix()}\0{_sha256_file(q)}\n".encode())
            size += q.stat().st_size
        return {"path": str(p), "kind": "folder", "files": len(files), "bytes": size, "sha256": h.hexdigest()}
    return {"path": str(p), "kind": "file", "bytes": p.stat().st_size, "sha256": _sha256_file(p)}


def node_version() -> str | None:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def manifest(notebook, parameters: dict, out_html=None) -> dict:
    """What a report was made from, enough to re-run it (see module docstring)."""
    from ._version import __version__
    notebook = find_notebook(notebook)
    declared = {}
    try:
        declared = notebook_parameters(notebook)
    except Exception:  # noqa: BLE001 - a manifest must not fail on an odd notebook
        pass
    inputs = {}
    for name, value in parameters.items():
        values = value if isinstance(value, (list, tuple)) else re.split(r"[;,]", value) if isinstance(value, str) else []
        described = [describe_input(find_file(v)) for v in values
                     if isinstance(v, str) and v.strip() and find_file(v, must_exist=False).exists()]
        if described:
            inputs[name] = described if len(described) > 1 or isinstance(value, (list, tuple)) else described[0]
    defaults_used = sorted(set(declared) - set(parameters))
    for name in defaults_used:  # inputs the notebook took from its own defaults are inputs too
        try:
            v = ast.literal_eval(declared[name]["default"])   # literals only: never run notebook code here
        except (ValueError, SyntaxError, TypeError):
            continue
        vals = v if isinstance(v, (list, tuple)) else re.split(r"[;,]", v) if isinstance(v, str) else []
        found = [find_file(x, must_exist=False) for x in vals if isinstance(x, str) and x.strip()]
        found = [f for f in found if f is not None and f.exists()]
        if found:
            inputs[name] = [describe_input(f) for f in found] if len(found) > 1 else describe_input(found[0])
    nb = Path(notebook)
    cmd = ["workbench", "report", nb.stem if is_template(nb) else str(notebook)]
    for k, v in parameters.items():
        if isinstance(v, (list, tuple)):
            v = ",".join(map(str, v))
        cmd += ["-p", k, str(v)]
    cmd += ["-o", str(out_html or "report.html")]
    return {
        "notebook": {"path": str(nb.resolve()), "sha256": _sha256_file(nb)},
        "parameters": parameters,
        "defaults_used": defaults_used,
        "inputs": inputs,
        "versions": {"workbench": __version__, "python": platform.python_version(), "node": node_version()},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "rerun": shlex.join(cmd),
    }


# ---------------------------------------------------------------------------------------------
# execution
def execute(notebook, parameters: dict | None = None, *, cwd=None, timeout: int = 900,
            kernel_name: str = "python3", quiet: bool = False, output_path=None):
    """Run ``notebook`` (a path, or the name of a template: ``find_notebook``) headless with
    ``parameters`` (papermill); returns the executed notebook (with widget state in its metadata).
    Unknown parameter names are a UsageError. The kernel runs in ``cwd``, by default the notebook's
    folder, or the caller's working directory for a template read from the installed package."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    notebook = find_notebook(notebook)
    if cwd is None:
        cwd = Path.cwd() if _installed_template(notebook) else notebook.parent
    parameters = {k: _absolutize(v) for k, v in (parameters or {}).items()}
    declared = notebook_parameters(notebook)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise UsageError(f"unknown parameter(s) {', '.join(unknown)}; this notebook takes: "
                         f"{', '.join(declared) or 'none'}", notebook)
    env_quiet = os.environ.get("WORKBENCH_QUIET")
    os.environ["WORKBENCH_QUIET"] = "1"  # the kernel inherits it: no tqdm bars in the report
    try:
        nb = pm.execute_notebook(str(notebook), str(output_path) if output_path else None,
                                 parameters=parameters, cwd=str(cwd),
                                 kernel_name=kernel_name, progress_bar=not quiet, log_output=False,
                                 request_save_on_cell_execute=False, execution_timeout=timeout,
                                 # the kernel's own start-up warnings (loopback TCP) are noise here
                                 extra_arguments=["--IPKernelApp.log_level=ERROR"])
    except PapermillExecutionError as e:
        raise WorkbenchError(f"cell {e.exec_count} failed: {e.ename}: {_ansi_strip(str(e.evalue))[:500]}",
                             notebook) from None
    finally:
        if env_quiet is None:
            os.environ.pop("WORKBENCH_QUIET", None)
        else:
            os.environ["WORKBENCH_QUIET"] = env_quiet
    return nb


def _ansi_strip(s: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", s)


# ---------------------------------------------------------------------------------------------
# HTML
def _asset(name: str) -> str:
    p = ASSETS / name
    data = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    return data.decode("utf-8")


def _script_safe(js: str) -> str:
    # "</script" inside inline code would close the tag early; "<\/" means the same to JS.
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def _dedupe_esm(nb) -> dict:
    """Move identical anywidget ES modules out of the widget state into one table (sha -> source)."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    table = {}
    for model in state.get("state", {}).values():
        s = model.get("state", {})
        esm = s.get("_esm")
        if model.get("model_module") == "anywidget" and isinstance(esm, str) and len(esm) > 256:
            sha = hashlib.sha256(esm.encode()).hexdigest()[:16]
            table[sha] = esm
            s["_esm"] = f"wb-esm:{sha}"
    return table


def to_html(nb, *, title: str | None = None, manifest_data: dict | None = None, no_input: bool = False) -> str:
    """One self-contained HTML page for an executed notebook (see module docstring); ``no_input``
    hides the code cells and prompts (the outputs, Markdown and widgets stay)."""
    import copy

    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    esm = _dedupe_esm(nb)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    exporter.require_js_url = _REQUIRE
    exporter.widget_renderer_url = _RENDERER
    exporter.mathjax_url = _MATHJAX
    if no_input:
        exporter.exclude_input = exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)

    body = body.replace(f'<script src="{_REQUIRE}"></script>',
                        "<script>" + _script_safe(_asset("require.js.gz")) + "</script>", 1)
    body = re.sub(r'<script src="' + _MATHJAX + r'">\s*</script>', "", body)
    # nbconvert's mermaid loader imports mermaid from a CDN when a diagram is present; none of ours has one
    body = re.sub(r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded", async \(\) => \{\s*'
                  r'const diagrams = document\.querySelectorAll\("\.jp-Mermaid.*?</script>', "", body, flags=re.S)
    # nbconvert's loader appends <script src=widget_renderer_url> on DOMContentLoaded; we inline the
    # renderer instead (it waits for the page's load event itself) and our anywidget module.
    loader = re.compile(r"<script>\s*\(function\(\) \{\s*function addWidgetsRenderer\(\).*?\}\(\)\);\s*</script>",
                        re.S)
    inline = ("<script>" + _script_safe(_asset("html-manager-embed-amd.js.gz")) + "</script>\n"
              "<script>" + _script_safe(_asset("anywidget_static.js")) + "</script>")
    if "widgets" in nb.metadata:
        body, n = loader.subn(lambda _m: inline, body, count=1)
        if n != 1:
            raise WorkbenchError("nbconvert's widget loader was not found; cannot inline the widget renderer")
    # JupyterLab styles widgets with its own font variables; without them the static manager falls
    # back to the browser's serif font, and the Comparison's padded columns lose their alignment
    extra = ("<style>.jupyter-widgets, .jupyter-widgets button, .widget-label, .widget-html-content "
             "{font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px}\n"
             ".widget-select select {font-family: var(--jp-code-font-family, monospace); font-size: 12px}</style>\n")
    if esm:
        extra += ('<script type="application/json" id="wb-esm">'
                  + json.dumps(esm).replace("</", "<\\/") + "</script>\n")
    if manifest_data is not None:
        extra += ('<script type="application/json" id="workbench-manifest">'
                  + json.dumps(manifest_data, indent=1, default=str).replace("</", "<\\/") + "</script>\n")
    body = body.replace("</body>", extra + "</body>", 1)
    return with_csp(body)


_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script\s*>", re.S | re.I)
_JS_TYPES = ("", "text/javascript", "application/javascript", "module")


def with_csp(page: str) -> str:
    """``page`` with a Content-Security-Policy ``<meta>`` first in its ``<head>`` that lets only the
    page's own inline scripts run (each by its sha256; research note 5.4): injected ``<script>``
    elements and inline handlers (``onerror=``, ``onload=``, ``javascript:`` URLs) are refused by the
    browser even if markup from a file got through. Data blocks (JSON, widget state) are not
    scripts and are not hashed. Vega compiles its expressions with ``Function`` (``'unsafe-eval'``);
    the anywidget loader imports each widget's ES module from a ``blob:`` URL."""
    hashes = []
    for m in _SCRIPT.finditer(page):
        kind = re.search(r"""\btype\s*=\s*["']?([^"'\s>]+)""", m.group("attrs"), re.I)
        if kind is not None and kind.group(1).lower() not in _JS_TYPES:
            continue
        if re.search(r"\bsrc\s*=", m.group("attrs"), re.I):
            raise WorkbenchError("report page loads a script from elsewhere; everything must be inlined")
        digest = base64.b64encode(hashlib.sha256(m.group("body").encode("utf-8")).digest()).decode()
        if f"'sha256-{digest}'" not in hashes:
            hashes.append(f"'sha256-{digest}'")
    policy = ("default-src 'none'; script-src " + " ".join(hashes) + " 'unsafe-eval' blob:; "
              "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'; "
              "base-uri 'none'; form-action 'none'; object-src 'none'")
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    head = re.search(r"<head[^>]*>", page, re.I)
    if head is None:
        raise WorkbenchError("report page has no <head> for its Content-Security-Policy")
    return page[:head.end()] + "\n" + meta + page[head.end():]


_REMOTE = re.compile(r"""(<script[^>]+src\s*=\s*["']?(https?:)?//|<link[^>]+href\s*=\s*["']?(https?:)?//|"""
                     r"""import\s*\(?\s*["']https?://|(?<!/\* )@import\s+url\(\s*["']?https?://)""", re.I)


def check_offline(html: str) -> list[str]:
    """Anything in the page that would be fetched from the network (should be empty)."""
    return [m.group(0)[:120] for m in _REMOTE.finditer(html)]


def path_scrubber(base=None, extra=()):
    """A function that rewrites the absolute paths of this machine inside any JSON-like value (str,
    list, dict) as the report's readers should see them: relative to ``base`` (the working directory;
    ``file://`` URLs too), the checkout and the ``extra`` paths relative as well, the home folder as
    ``~``. Longest prefixes first, so a path under the working directory never shows the home."""
    base = Path(base or Path.cwd()).resolve()
    pairs = {f"file://{base}/": "", f"{base}/": ""}
    for p in [*extra, *([CHECKOUT] if CHECKOUT else [])]:
        p = Path(p).resolve()
        rel = os.path.relpath(p, base)
        pairs.setdefault(f"{p}/", rel + "/" if rel != "." else "")
        pairs.setdefault(str(p), rel)
    home = str(Path.home())
    if home not in ("/", "") and not str(base).startswith(home + "/"):
        pairs.setdefault(home + "/", "~/")
    elif home not in ("/", ""):
        pairs.setdefault(home + "/", os.path.relpath(home, base) + "/")
    order = sorted(pairs, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(k) for k in order))

    def scrub(value):
        if isinstance(value, str):
            return pattern.sub(lambda m: pairs[m.group(0)], value) if value else value
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        return value
    return scrub


def render(notebook, out, parameters: dict | None = None, *, cwd=None, timeout: int = 900,
           quiet: bool = False, save_notebook=None, title: str | None = None, keep_paths: bool = False,
           no_input: bool = False) -> dict:
    """Execute ``notebook`` (a path, or the name of a template) with ``parameters`` and write ``out``
    (HTML) and ``out`` with suffix ``.manifest.json``; returns the manifest. ``save_notebook``: also
    write the executed .ipynb. Paths of this machine in the page and the manifest are shown relative
    to the working directory (``path_scrubber``) unless ``keep_paths``."""
    import nbformat

    notebook = find_notebook(notebook)
    out = Path(out)
    parameters = {k: _absolutize(v) for k, v in (parameters or {}).items()}
    nb = execute(notebook, parameters, cwd=cwd, timeout=timeout, quiet=quiet)
    man = manifest(notebook, parameters, out)
    if not keep_paths:
        inputs = [i for v in man["inputs"].values() for i in (v if isinstance(v, list) else [v])]
        scrub = path_scrubber(extra=[Path(notebook).parent, *(Path(i["path"]) for i in inputs),
                                     *(Path(i["path"]).parent for i in inputs)])
        nb = nbformat.reads(json.dumps(scrub(json.loads(nbformat.writes(nb)))), as_version=4)
        man = scrub(man)
    html = to_html(nb, title=title or Path(notebook).stem.replace("_", " "), manifest_data=man, no_input=no_input)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    man_path = out.with_suffix(".manifest.json")
    page = {"path": str(out), "bytes": out.stat().st_size}
    written = dict(man, html=page if keep_paths else scrub(page))
    man_path.write_text(json.dumps(written, indent=1, default=str) + "\n", encoding="utf-8")
    if save_notebook:
        nbformat.write(nb, str(save_notebook))
    return man


# ---------------------------------------------------------------------------------------------
# template notebooks: package data of workbench.notebooks (see module docstring)
TEMPLATES = {
    "heap": "01_api_gateway_memory_leak.ipynb",
    "cpu": "02_cpu_regex_hotspot.ipynb",
    "event_loop": "03_event_loop_blocking.ipynb",
}


def packaged_dir() -> Path | None:
    """The folder of the installed ``workbench.notebooks`` package data (``importlib.resources``), or
    None when that package cannot be imported (an editable install, or the checkout on sys.path)."""
    try:
        probe = resources.files(TEMPLATE_PACKAGE) / TEMPLATES["heap"]
    except ImportError:
        return None
    if not probe.is_file():
        return None
    try:
        return Path(os.fspath(probe)).parent
    except TypeError:       # not on disk (a zipped install): papermill cannot read it there
        return None


def template_dir() -> Path:
    """The folder of the template notebooks: the installed package data, else the checkout's
    ``notebooks/``. A WorkbenchError when neither is there."""
    d = packaged_dir()
    if d is None and CHECKOUT is not None and (CHECKOUT / "notebooks" / TEMPLATES["heap"]).is_file():
        d = CHECKOUT / "notebooks"
    if d is None:
        raise WorkbenchError(f"the template notebooks are not installed (no package data {TEMPLATE_PACKAGE}); "
                             "reinstall workbench")
    return d


def templates() -> list[str]:
    """The names of the template notebooks, which ``workbench report NAME`` takes."""
    return sorted(p.stem for p in template_dir().glob("*.ipynb"))


def is_template(notebook) -> bool:
    """Whether ``notebook`` is one of the template notebooks (the files of ``template_dir()``)."""
    try:
        return Path(notebook).resolve().parent == template_dir().resolve()
    except WorkbenchError:
        return False


def _installed_template(notebook) -> bool:
    """A template read from an installed package (no checkout): its folder is no place to work in."""
    d = packaged_dir() if CHECKOUT is None else None
    return d is not None and Path(notebook).resolve().parent == d.resolve()


def find_notebook(notebook) -> Path:
    """A notebook as ``workbench report`` takes it: the path of a notebook file, else the bare name of
    a template (``02_cpu_regex_hotspot``, with or without ``.ipynb``)."""
    p = Path(os.path.expanduser(str(notebook)))
    if p.is_file():
        return p
    if len(p.parts) == 1 and p.suffix in ("", ".ipynb"):
        try:
            d = template_dir()
        except WorkbenchError:
            d = None
        if d is not None:
            cand = d / (p.stem + ".ipynb")
            if cand.is_file():
                return cand
            raise WorkbenchError(f"no such notebook, nor a template ({', '.join(templates())})", p)
    raise WorkbenchError("no such notebook", p)


# ---------------------------------------------------------------------------------------------
# investigate: choose the template for the files given
def investigation(snapshots=(), profile=None, metrics=()) -> tuple[Path, dict]:
    """The template notebook and its parameters for these files:
    three snapshots -> the memory-leak notebook (with the profile and metrics, if given);
    a profile and metrics -> the event-loop notebook; a profile alone -> the CPU notebook;
    metrics alone -> the event-loop notebook without its profile part."""
    snapshots = list(snapshots or [])
    metrics = list(metrics or [])
    for p in [*snapshots, *([profile] if profile else []), *metrics]:
        if not Path(p).exists():
            raise WorkbenchError("no such file", p)
    if snapshots:
        if len(snapshots) != 3:
            raise UsageError(f"--snapshots takes three files (baseline, target, final), got {len(snapshots)}")
        params = dict(baseline=snapshots[0], target=snapshots[1], final=snapshots[2],
                      metrics=",".join(map(str, metrics)), profile=str(profile or ""))
        return template_dir() / TEMPLATES["heap"], params
    if profile and not metrics:
        # no "after the fix" profile: the notebook's default is a bundled recording, not the user's
        return template_dir() / TEMPLATES["cpu"], dict(profile=str(profile), fixed_profile="")
    if metrics:
        return template_dir() / TEMPLATES["event_loop"], dict(metrics=",".join(map(str, metrics)),
                                                               profile=str(profile or ""))
    raise UsageError("nothing to investigate: give --snapshots, --profile and/or --metrics")


__all__ = ["use_offline_charts", "find_file", "as_list", "execute", "to_html", "render", "manifest",
           "describe_input", "check_offline", "investigation", "notebook_parameters", "parse_value",
           "find_notebook", "template_dir", "templates", "is_template", "packaged_dir"]
