"""The layers of ../shared/DESIGN.md hold: readers -> models -> analyses -> views, no import cycle
anywhere, model hand-offs are lazy one-liners, no private names across subpackages, and no function
hides a module of the same name. The import-linter contracts are in pyproject.toml."""
import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import workbench

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "workbench"
GROUND = {"workbench.errors", "workbench._progress", "workbench._version", "workbench._notes", "workbench._arrays",
          "workbench._markup", "workbench._time", "workbench._memory", "workbench._aot", "workbench._jit"}
MODELS = {"workbench.heap.snapshot", "workbench.heap.strings", "workbench.heap.names", "workbench.heap._kernels",
          "workbench.profile.model", "workbench.profile.builder", "workbench.profile._kernels",
          "workbench.metrics.model", "workbench.metrics.builder", "workbench.metrics.names",
          "workbench.pyheap.model", "workbench.pyheap.builder"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("workbench", include_external_packages=True, exclude_type_checking_imports=True,
                             cache_dir=None)


def _modules():
    return sorted(m for m in grimp.build_graph("workbench", cache_dir=None).modules)


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    mods = [m for m in graph.modules if m.startswith("workbench")]
    succ = {m: [n for n in graph.find_modules_directly_imported_by(m) if n.startswith("workbench")] for m in mods}
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in mods:
        if start in index:
            continue
        work = [(start, iter(succ[start]))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ[w])))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_import_cycle_between_modules(graph):
    # lazy imports inside functions count: grimp reads every import statement
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_planted_cycle():
    g = grimp.ImportGraph()
    for m in ("workbench", "workbench.a", "workbench.b", "workbench.c"):
        g.add_module(m)
    g.add_import(importer="workbench.a", imported="workbench.b")
    g.add_import(importer="workbench.b", imported="workbench.c")
    g.add_import(importer="workbench.c", imported="workbench.a")
    assert _cycles(g) == [["workbench.a", "workbench.b", "workbench.c"]]


def test_lint_imports_passes():
    r = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                        "sys.argv=['lint-imports','--no-cache']; lint_imports_command()"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "broken" in r.stdout and " 0 broken" in r.stdout


def _imports_of(graph, importer, imported):
    return graph.get_import_details(importer=importer, imported=imported)


def test_models_hand_off_only_in_lazy_lines(graph):
    """A model module imports the ground, its own kernels, strings and name map, other model modules
    of its subject at the top; anything else (an analysis, a chart) only inside a method."""
    bad = []
    for m in sorted(MODELS):
        src = (PKG / (m.removeprefix("workbench.").replace(".", "/") + ".py")).read_text().splitlines()
        for imp in graph.find_modules_directly_imported_by(m):
            same_subject_helper = imp.rsplit(".", 1)[0] == m.rsplit(".", 1)[0] and imp.rsplit(".", 1)[1].startswith("_")
            if not imp.startswith("workbench") or imp in GROUND or imp in MODELS or same_subject_helper:
                continue
            for d in _imports_of(graph, m, imp):
                line = src[d["line_number"] - 1]
                if not line.startswith((" ", "\t")):
                    bad.append(f"{m}:{d['line_number']}: {line.strip()}")
    assert bad == []


def test_analyses_do_not_import_their_models(graph):
    """Analyses receive models; importing the model module at run time is what made the loops."""
    subjects = ("workbench.heap", "workbench.profile", "workbench.metrics", "workbench.pyheap")
    bad = []
    for m in graph.modules:
        if m.startswith(subjects) and m not in MODELS and m not in subjects:
            bad += [f"{m} -> {i}" for i in graph.find_modules_directly_imported_by(m) if i in MODELS
                    and not i.endswith(("_kernels", ".names", ".strings"))]
    assert bad == []


def _subpackage(mod: str) -> str:
    parts = mod.split(".")
    return ".".join(parts[:2])


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_no_private_names_across_subpackages():
    """No module reaches into another subpackage's private modules or names (the ground's modules,
    ``workbench._x``, are shared on purpose)."""
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        mod = "workbench." + ".".join(path.relative_to(PKG).with_suffix("").parts)
        mod = mod.removesuffix(".__init__")
        pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = pkg.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            names = [a.name for a in node.names]
            for n in names:
                full = f"{target}.{n}" if _is_module(f"{target}.{n}") else target
                private = any(p.startswith("_") and p != "__init__" for p in full.split(".")[1:]) or \
                    (n.startswith("_") and full == target)
                if private and _subpackage(full) != _subpackage(mod) and full not in GROUND \
                        and not _subpackage(full) in GROUND:
                    bad.append(f"{mod}: from {target} import {n}")
    assert bad == []


def test_no_function_hides_a_module_of_the_same_name():
    """``pkg.name`` is the submodule ``pkg/name.py`` for every package, the root included (a function
    exported under a submodule's name would hide it, or be hidden once the submodule is imported)."""
    packages = ["workbench"] + [i.name for i in pkgutil.walk_packages(workbench.__path__, "workbench.")
                                if i.ispkg]
    bad = []
    for name in packages:
        pkg = importlib.import_module(name)
        for sub in pkgutil.iter_modules(pkg.__path__):
            if sub.name == "__main__":   # running it starts the CLI
                continue
            child = importlib.import_module(f"{name}.{sub.name}")
            if getattr(pkg, sub.name) is not child:
                bad.append(f"{name}.{sub.name}")
    assert bad == []


def test_every_subpackage_is_under_a_contract(graph):
    """A new subpackage must be placed in the layers (pyproject's contracts name each of them)."""
    import tomllib
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    named = set()
    for c in contracts:
        for key in ("source_modules", "forbidden_modules", "modules", "layers"):
            for v in c.get(key, []):
                named.update(x.strip() for x in v.split("|"))
    subs = {m for m in graph.modules if m.count(".") == 1 and m.startswith("workbench.") and "__" not in m}
    assert subs - named == set()
