"""environment.yml lists the same dependencies as pyproject.toml (the design card's promise)."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _names(specs):
    return {re.split(r"[<>=!~\[ ;]", s.strip(), maxsplit=1)[0].lower().replace("_", "-") for s in specs}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _names(project["dependencies"])
    test = _names(project["optional-dependencies"]["test"])
    env_lines = [ln.split("#")[0].strip()[2:] for ln in (ROOT / "environment.yml").read_text().splitlines()
                 if ln.strip().startswith("- ")]
    env = _names([e for e in env_lines if e])
    missing = (runtime | test) - env
    assert not missing, f"in pyproject.toml but not in environment.yml: {sorted(missing)}"
