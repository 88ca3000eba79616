"""workbench works installed from a wheel, away from its checkout.

The wheel of the working tree (``pip wheel --no-deps``, as ``pip install .`` builds it) is installed
into a fresh virtual environment, not editable, and run from empty folders:

- ``workbench investigate --snapshots a b c -o r.html`` writes a report that names the leaking class
  (``ThumbnailJob``, planted by datasets/scenarios/heap_api_gateway.js) and the manifest beside it;
- ``workbench report 02_cpu_regex_hotspot -p profile my.cpuprofile`` runs a template by its name;
- the template notebooks are the package data inside the venv (``workbench.notebooks``), and the
  kernel imports the venv's workbench, not the checkout.

The venv is made with ``--system-site-packages`` so that numpy, numba, polars and jupyter come from
this environment (fast, offline; ``pip install --no-deps``). Seen through that option, those
packages' data files (nbconvert's HTML templates, the python3 kernelspec) lie under this
environment's prefix, where jupyter, run from the venv, does not look: JUPYTER_PATH points there, as
a venv that installed jupyter itself would not need. The kernel is the venv's python because
jupyter_client starts a ``python`` kernelspec with ``sys.executable``, the python of the venv's
``workbench`` script.
"""
from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAP = ROOT / "datasets" / "heap" / "api_gateway"
PROFILE = ROOT / "datasets" / "profiles" / "regex.cpuprofile"
TEMPLATES = ("01_api_gateway_memory_leak", "02_cpu_regex_hotspot", "03_event_loop_blocking",
             "04_compare_deploys", "05_library_tour")

# what the wheel is built from: the working tree without history, data, build output and caches
_SKIP_TOP = {".git", "datasets", "build", "dist", ".benchmarks", "benchmarks", "tests"}
_SKIP_ANY = {"__pycache__", ".hypothesis", ".pytest_cache", ".grimp_cache", ".ipynb_checkpoints",
             "node_modules", ".peers"}


def _ignore(folder, names):
    top = Path(folder).resolve() == ROOT
    return {n for n in names if n in _SKIP_ANY or n.endswith(".egg-info") or (top and n in _SKIP_TOP)}


def _run(cmd, *, cwd, env=None, timeout=900) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd} exited {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def test_every_package_is_in_the_wheel_list():
    """pyproject.toml lists its packages (packages.find cannot name workbench.notebooks, which is
    the top-level notebooks/ folder): every package folder under workbench/ must be in that list."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(tool["packages"])
    on_disk = {".".join(d.relative_to(ROOT).parts) for d in [ROOT / "workbench", *(ROOT / "workbench").rglob("*")]
               if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))}
    assert on_disk - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"
    assert tool["package-dir"]["workbench.notebooks"] == "notebooks"
    assert "*.ipynb" in tool["package-data"]["workbench.notebooks"]
    assert listed - on_disk == {"workbench.notebooks"}, "packages listed in pyproject.toml that are not there"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src") / "workbench"
    shutil.copytree(ROOT, src, ignore=_ignore, symlinks=True)
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, src], cwd=out, timeout=600)
    (whl,) = out.glob("workbench-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> dict:
    """A fresh venv with the wheel installed (not editable); returns its paths and environment."""
    root = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--system-site-packages", root], cwd=root.parent, timeout=300)
    py = root / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # this python is a venv itself: --system-site-packages shows the base interpreter's packages,
        # not ours, so add ours after the new venv's own (which keeps its workbench first)
        purelib = _run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=root).stdout.strip()
        Path(purelib, "outer-env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([py, "-m", "pip", "install", "--no-deps", "--quiet", wheel], cwd=root, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH")}
    jupyter_data = Path(sysconfig.get_path("data")) / "share" / "jupyter"
    env.update(PATH=f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(root),
               JUPYTER_PATH=os.pathsep.join([str(jupyter_data), *filter(None, [os.environ.get("JUPYTER_PATH")])]))
    return {"root": root.resolve(), "python": py, "workbench": root / "bin" / "workbench", "env": env}


def _inside(path, folder) -> bool:
    return Path(path).resolve().is_relative_to(folder)


def test_wheel_ships_the_template_notebooks(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for t in TEMPLATES:
        assert f"workbench/notebooks/{t}.ipynb" in names
    assert "workbench/report_assets/require.js.gz" in names and "workbench/report.py" in names
    assert not any(n.startswith(("notebooks/", "datasets/", "tests/")) for n in names)


def test_installed_package_finds_its_own_notebooks(venv, tmp_path):
    code = ("import json, sys, workbench, workbench.report as r; print(json.dumps({'python': sys.executable, "
            "'workbench': workbench.__file__, 'checkout': str(r.CHECKOUT), 'packaged': str(r.packaged_dir()), "
            "'templates': str(r.template_dir()), 'names': r.templates()}))")
    info = json.loads(_run([venv["python"], "-c", code], cwd=tmp_path, env=venv["env"]).stdout)
    assert _inside(info["workbench"], venv["root"]), info
    assert not _inside(info["workbench"], ROOT), info
    assert info["checkout"] == "None"
    assert _inside(info["packaged"], venv["root"]) and info["templates"] == info["packaged"]
    assert set(TEMPLATES) <= set(info["names"])
    # `python` on PATH, which a kernelspec names, is the venv's too
    assert Path(shutil.which("python", path=venv["env"]["PATH"])).parent == venv["root"] / "bin"


def test_investigate_from_an_empty_folder(venv, tmp_path):
    work = tmp_path / "empty"
    work.mkdir()
    names = ("baseline", "target", "final")
    r = _run([venv["workbench"], "--quiet", "investigate", "--snapshots",
              *[HEAP / f"{n}.heapsnapshot.gz" for n in names], "-o", "r.html"], cwd=work, env=venv["env"])
    assert "wrote r.html" in r.stdout
    html = (work / "r.html").read_text()
    assert "Leaking class: <code>ThumbnailJob</code>" in html
    man = json.loads((work / "r.manifest.json").read_text())
    # the manifest shows paths relative to the folder the report was made in (no local paths shared)
    assert not any(Path(man["inputs"][n]["path"]).is_absolute() for n in names)
    assert _inside(work / man["notebook"]["path"], venv["root"])          # the packaged template ran
    assert man["notebook"]["path"].endswith("workbench/notebooks/01_api_gateway_memory_leak.ipynb")
    assert [(work / man["inputs"][n]["path"]).resolve() for n in names] == \
        [(HEAP / f"{n}.heapsnapshot.gz").resolve() for n in names]
    assert man["rerun"].startswith("workbench report 01_api_gateway_memory_leak ")


def test_report_on_a_template_by_name_and_kernel_uses_the_venv(venv, tmp_path):
    work = tmp_path / "mine"
    work.mkdir()
    shutil.copyfile(PROFILE, work / "my.cpuprofile")
    # fixed_profile's default is a bundled recording (datasets/...), not installed: give it empty
    _run([venv["workbench"], "--quiet", "report", "02_cpu_regex_hotspot", "-p", "profile", "my.cpuprofile",
          "-p", "fixed_profile", "", "-o", "cpu.html"], cwd=work, env=venv["env"])
    html = (work / "cpu.html").read_text()
    assert "validateEmail" in html and "The CPU goes to" in html
    man = json.loads((work / "cpu.manifest.json").read_text())
    assert _inside(work / man["notebook"]["path"], venv["root"])
    assert man["inputs"]["profile"]["path"] == "my.cpuprofile"
    assert man["rerun"].startswith("workbench report 02_cpu_regex_hotspot ")

    # a notebook of the user's own: its kernel imports the venv's workbench and finds the templates there
    import nbformat
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    params = nbformat.v4.new_code_cell('tag = ""', metadata={"tags": ["parameters"]})
    probe = nbformat.v4.new_code_cell("import sys, workbench, workbench.report as r\n"
                                      "print('PROBE', tag, sys.executable, workbench.__file__, r.template_dir(), "
                                      "'END', sep='|')")
    nb.cells = [params, probe]
    nbformat.write(nb, str(work / "probe.ipynb"))
    _run([venv["workbench"], "--quiet", "report", "probe.ipynb", "-p", "tag", "x", "-o", "probe.html"],
         cwd=work, env=venv["env"])
    text = (work / "probe.html").read_text()
    _, tag, exe, wb_file, tdir, _ = text[text.index("PROBE|"):text.index("|END") + 4].split("|")
    assert tag == "x"
    assert Path(exe).parent == venv["root"] / "bin"
    assert _inside(wb_file, venv["root"]) and _inside(tdir, venv["root"])


def test_installed_lab_without_notebooks_says_what_to_do(venv, tmp_path):
    r = subprocess.run([venv["workbench"], "lab", "--no-browser"], cwd=tmp_path, env=venv["env"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "--root" in r.stderr and "--copy-notebooks" in r.stderr and r.stderr.count("\n") == 1
