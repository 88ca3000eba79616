"""The console script's quick exit (``workbench.cli.run``): the output is whole, the exit status is
main's, and numba's BLAS probe is refused only in the command's own process."""
from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

from workbench.cli import main

ROOT = Path(__file__).resolve().parents[1]
SNAP = ROOT / "datasets/heap/healthy/baseline.heapsnapshot.gz"


def test_run_prints_everything_and_keeps_the_exit_status(tmp_path):
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["--quiet", "summary", str(SNAP), "--format", "csv"]) == 0
    expected = buf.getvalue()
    r = subprocess.run([sys.executable, "-m", "workbench", "--quiet", "summary", str(SNAP), "--format", "csv"],
                       capture_output=True, text=True, env={"WORKBENCH_CACHE": "0", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == expected and expected.count("\n") > 100
    bad = tmp_path / "bad.heapsnapshot"
    bad.write_text('{"snapshot": {"meta": ')
    r = subprocess.run([sys.executable, "-m", "workbench", "summary", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("workbench: error:") and r.stderr.count("\n") == 1


def test_blas_probe_is_refused_only_for_numba():
    code = (
        "import sys\n"
        "from workbench.cli import _quiet_blas_probe\n"
        "_quiet_blas_probe()\n"
        "import numpy as np\n"
        "from workbench.io import _json_kernels as K\n"
        "assert K.count_byte(np.frombuffer(b'1,2,3', np.uint8), 0, 5, 44) == 2\n"
        "print('scipy.linalg' in sys.modules)\n"
        "import importlib.util\n"
        "if importlib.util.find_spec('scipy') is not None:\n"
        "    import scipy.linalg\n"
        "    print(float(scipy.linalg.det(np.eye(2))))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert lines[0] == "False"   # numba started without importing scipy.linalg
    if importlib.util.find_spec("scipy") is not None:
        assert lines[1] == "1.0"   # and the user's own import of it still works


QUICK = r"""
import os, sys, threading
marker = sys.argv.pop(1)
real = os._exit
def _exit(rc):
    open(marker, "w").write(str(rc))
    real(rc)
os._exit = _exit
if sys.argv[1] == "--user-thread":
    sys.argv.pop(1)
    ev = threading.Event()
    threading.Thread(target=lambda: ev.wait(1.0), name="user-thread").start()
from workbench.cli import run
sys.argv[0] = "workbench"
run()
"""


def test_heap_command_takes_the_quick_exit_despite_its_idle_pools(tmp_path):
    """The reader's and the Summary's thread pools stay alive, idle, after a heap command: they
    must not send the command through the interpreter's teardown (0.1-0.2 s on 7M nodes). A
    user's own non-daemon thread still does (its work is waited for)."""
    plain = tmp_path / "b.heapsnapshot"
    import gzip
    plain.write_bytes(gzip.decompress(SNAP.read_bytes()))
    env = {"WORKBENCH_CACHE": "0", "PATH": "/usr/bin:/bin"}
    m1 = tmp_path / "m1"
    r = subprocess.run([sys.executable, "-c", QUICK, str(m1), "--quiet", "summary", str(plain), "--format", "csv"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert m1.read_text() == "0" and r.stdout.count("\n") > 100
    m2 = tmp_path / "m2"
    r = subprocess.run([sys.executable, "-c", QUICK, str(m2), "--user-thread", "--quiet", "summary", str(plain),
                        "--format", "csv"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert not m2.exists() and r.stdout.count("\n") > 100
