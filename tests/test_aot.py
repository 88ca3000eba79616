"""Ahead-of-time kernels (workbench._aot): built after a first heap command, used by the next ones,
with the same answers as the JIT; never stale, never trusted when broken.

One build (numba's pycc, ~30 s) serves the module; it runs the way a user gets it: the ``workbench``
command starts it in the background after its first heap command."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEALTHY = ROOT / "datasets" / "heap" / "healthy"
BASE, FINAL = HEALTHY / "baseline.heapsnapshot.gz", HEALTHY / "final.heapsnapshot.gz"

def _can_build() -> bool:
    import sysconfig
    headers = os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h"))
    return headers and (shutil.which("gcc") is not None or shutil.which("cc") is not None)


# numba's pycc compiles a C module: it needs a C compiler (.ci/run installs gcc) and Python's
# headers (pyenv and python.org builds have them; Debian's python3 needs python3-dev). Without
# them workbench runs on the JIT, as these tests' "aot=0" halves check.
pytestmark = pytest.mark.skipif(not _can_build(), reason="no C compiler or no Python.h")


def _env(kernels: Path, aot: str = "1") -> dict:
    return dict(os.environ, WORKBENCH_KERNEL_DIR=str(kernels), WORKBENCH_AOT=aot, WORKBENCH_CACHE="0",
                WORKBENCH_QUIET="1")


def _wb(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", "--quiet", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> Path:
    """A kernel folder filled the way a user's is: a first heap command, then its background build."""
    d = tmp_path_factory.mktemp("kernels")
    env = _env(d)
    r = _wb(env, "summary", BASE, "--top", "3")
    assert r.returncode == 0, r.stderr
    deadline = time.time() + 420
    while time.time() < deadline and not list(d.glob("*/kernels.so")):
        markers = list(d.glob("*.attempted"))
        assert markers, "the command did not start the build"
        assert "failed" not in markers[0].read_text(), markers[0].read_text()
        time.sleep(0.5)
    assert list(d.glob("*/kernels.so")), "no module after 420 s"
    return d


PROBE = r"""
import json, sys
from workbench.cli import main
from workbench import _aot
rc = main(sys.argv[1:])
jit = sorted(f"{m}.{n}" for m, n, d in _aot._dispatchers())
print("\n@@" + json.dumps({"rc": rc, "state": _aot.state(), "jit": jit}))
"""


def _probe(env, *args):
    r = subprocess.run([sys.executable, "-c", PROBE, "--quiet", *map(str, args)], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    out, _, tail = r.stdout.rpartition("\n@@")
    return out, json.loads(tail)


@pytest.mark.parametrize("cmd", [("summary", BASE, "--format", "json"), ("stats", FINAL, "--format", "json"),
                                 ("diff", BASE, FINAL, "--format", "csv")])
def test_compiled_kernels_serve_and_answer_as_the_jit(kernels, cmd):
    out, info = _probe(_env(kernels), *cmd)
    assert info["rc"] == 0
    assert info["state"]["installed"] and info["state"]["kernels"] >= 20
    # every kernel this command ran came from the module: numba compiled or loaded none
    assert info["jit"] == []
    jit_out, jit_info = _probe(_env(kernels, aot="0"), *cmd)
    assert not jit_info["state"].get("installed") and jit_info["jit"]
    assert out == jit_out and len(out) > 150


def test_plain_snapshot_uses_the_module_too(kernels, tmp_path):
    """A decompressed file takes the reader's other path (split windows, two threads)."""
    import gzip
    plain = tmp_path / "baseline.heapsnapshot"
    plain.write_bytes(gzip.decompress(BASE.read_bytes()))
    out, info = _probe(_env(kernels), "summary", plain, "--format", "csv")
    assert info["jit"] == [] and info["state"]["installed"]
    assert out == _probe(_env(kernels, aot="0"), "summary", plain, "--format", "csv")[0]


def test_other_types_still_compile(kernels):
    """A call with types the module lacks (a uint16 buffer) goes to numba as before, beside it."""
    code = ("import numpy as np, sys\nfrom workbench import _aot\nassert _aot.install()\n"
            "from workbench.io import _json_kernels as K\n"
            "a = np.array([44, 9, 44], np.uint8)\nx = K.count_byte(a, 0, 3, 44)\nassert 'numba' not in sys.modules\n"
            "print(x, K.count_byte(a.astype(np.uint16), 0, 3, 44))\n")
    r = subprocess.run([sys.executable, "-c", code], env=_env(kernels), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["2", "2"]


@pytest.mark.parametrize("damage", ["cut", "flip", "table", "manifest"])
def test_a_broken_module_is_not_trusted(kernels, tmp_path, damage):
    d = tmp_path / "k"
    shutil.copytree(kernels, d)
    so = next(d.glob("*/kernels.so"))
    if damage == "cut":
        so.write_bytes(so.read_bytes()[:4096])   # cut short, as by a full disk (dlopen would fault)
    elif damage == "flip":
        b = bytearray(so.read_bytes())
        b[len(b) // 2] ^= 0xFF
        so.write_bytes(bytes(b))
    elif damage == "table":
        (so.parent / "table.pkl").write_bytes(b"\x80\x04garbage")
    else:
        (so.parent / "manifest.json").unlink()
    out, info = _probe(_env(d), "summary", BASE, "--format", "csv")
    assert not info["state"]["installed"] and "error" in info["state"]
    assert info["jit"]
    assert out == _probe(_env(kernels), "summary", BASE, "--format", "csv")[0]


def test_a_changed_source_means_another_module(tmp_path, monkeypatch):
    from workbench import _aot
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(_aot, "_PACKAGE", pkg)
    monkeypatch.setattr(_aot, "_state", {})
    first = _aot.fingerprint()
    monkeypatch.setattr(_aot, "_state", {})
    assert _aot.fingerprint() == first
    st = os.stat(pkg / "sub" / "b.py")
    os.utime(pkg / "sub" / "b.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    monkeypatch.setattr(_aot, "_state", {})
    assert _aot.fingerprint() != first


def test_switched_off_nothing_is_built_or_loaded(tmp_path):
    d = tmp_path / "k"
    r = _wb(_env(d, aot="0"), "summary", BASE, "--top", "1")
    assert r.returncode == 0
    time.sleep(1)
    assert not d.exists() or not any(d.iterdir())


def test_one_attempt_per_fingerprint(kernels, tmp_path):
    """With a module present no build starts; a marker of a failed build is not retried."""
    r = _wb(_env(kernels), "summary", BASE, "--top", "1")
    assert r.returncode == 0
    assert len(list(kernels.glob("*.attempted"))) == 1
    d = tmp_path / "k"
    d.mkdir()
    fp = next(kernels.glob("*.attempted")).name
    (d / fp).write_text("started 0\nfailed: RuntimeError: no compiler\n")
    r = _wb(_env(d), "summary", BASE, "--top", "1")
    assert r.returncode == 0
    time.sleep(1)
    assert sorted(p.name for p in d.iterdir()) == [fp]
