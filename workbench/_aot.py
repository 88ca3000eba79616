"""Ahead-of-time compiled kernels: every numba kernel a heap command uses, compiled once into one
extension module, so that a process does not load them one by one from numba's cache.

Why. numba's cache saves compiling, not loading: on the first call of each kernel in a process numba
sets up its LLVM target (0.13 s) and links that kernel's cached object code (5-20 ms each, 40 kernels
for ``workbench summary``), 0.4-0.6 s of a 2.4 s first open of a 569 MiB snapshot, and 50 MiB of
LLVM's memory. An extension module built by numba's own AOT compiler (``numba.pycc``) from the same
functions and the same signatures loads in under 1 ms.

Semantics (what is kept exact):

- **Same code, same types.** The module holds, for every kernel called during a *harvest* (the heap
  commands run on a bundled snapshot with the ordinary JIT), one export per signature numba compiled
  for it (``Dispatcher.overloads``), compiled by ``numba.pycc`` from the kernel's own Python function
  with that signature. A kernel with target options other than ``nogil``/``cache`` (fastmath, an
  error model, ...) is left to the JIT, since pycc would not apply them.
- **Exact types, else numba.** :func:`install` gives each kernel (``workbench._jit.Kernel``) a
  table from the argument types of each export (``_jit.type_key`` of the numba signature) to the
  compiled function. A call whose arguments have exactly those types (``_jit.value_key``, which
  follows ``numba.typeof``) runs it; any other call (a 64-bit array, a read-only view, a string)
  goes to numba's dispatcher as before, and only then is numba imported. A jitted kernel that
  calls another one still compiles against numba's dispatcher.
- **The GIL.** An export releases the GIL when its kernel is ``nogil=True`` (the reader parses in
  two threads); pycc's own wrappers would hold it.
- **Never stale.** The module lives in ``$WORKBENCH_KERNEL_DIR`` (else
  ``$XDG_CACHE_HOME/workbench-kernels``, else ``~/.cache/workbench-kernels``) under a fingerprint of
  the Python, numpy and numba versions, the CPU (model and flags: the code is built for this host's
  CPU, as numba's JIT is) and the size and mtime of every source file of the package. Any change
  means another folder; a folder that fails to load is ignored.
- **Built when asked, or after the first heap command.** ``workbench compile`` builds it in the
  foreground (about 30 s). The ``workbench`` command, once it has printed its answer, starts that
  build as a detached, low-priority process if a kernel ran and no module exists for this
  fingerprint (once: a marker records an attempt, and a failure is not retried).
  ``WORKBENCH_AOT=0`` turns loading and building off.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import pickle
import sys
import time
from pathlib import Path

from ._jit import KERNELS, Kernel, type_key

MODULE = "workbench_kernels_aot"
_PACKAGE = Path(__file__).resolve().parent
# target options a pycc export reproduces (anything else: left to the JIT)
_PLAIN_OPTIONS = {"nogil", "cache", "nopython", "boundscheck", "inline"}
_state: dict = {}


def enabled() -> bool:
    return os.environ.get("WORKBENCH_AOT", "1").strip().lower() not in ("0", "no", "off", "false")


def folder() -> Path:
    d = os.environ.get("WORKBENCH_KERNEL_DIR")
    if d:
        return Path(d).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "workbench-kernels"


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", "rb") as f:
            block = f.read(1 << 16).split(b"\n\n", 1)[0]
        keep = [ln for ln in block.splitlines() if ln.split(b":")[0].strip() in (b"model name", b"flags", b"vendor_id")]
        return b"\n".join(keep).decode(errors="replace")
    except OSError:
        import platform
        return platform.machine() + platform.processor()


def fingerprint() -> str:
    """What the compiled module depends on (see the module docstring), as a short hex digest."""
    if "fp" in _state:
        return _state["fp"]
    import numpy
    h = hashlib.sha256()
    try:
        from importlib.metadata import version
        nb = version("numba")
    except Exception:
        nb = "?"
    h.update(f"{sys.version}\n{numpy.__version__}\n{nb}\n{_cpu()}\n{os.environ.get('NUMBA_CPU_NAME', '')}\n".encode())
    for root, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                p = os.path.join(root, name)
                st = os.stat(p)
                h.update(f"{os.path.relpath(p, _PACKAGE)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    _state["fp"] = h.hexdigest()[:20]
    return _state["fp"]


def _paths():
    d = folder() / fingerprint()
    return d, d / "kernels.so", d / "table.pkl"


def install() -> bool:
    """Give each kernel (``_jit.Kernel``) its compiled exports, once per process. False when there is no
    module for this fingerprint (or it is switched off, or fails to load: then the JIT serves)."""
    if "installed" in _state:
        return _state["installed"]
    _state["installed"] = False
    if not enabled():
        return False
    d, so, table = _paths()
    if not so.exists():
        return False
    t = time.perf_counter()
    try:
        import importlib.util
        import json
        # checked before anything is loaded: a cut-short library faults (SIGBUS) inside dlopen
        manifest = json.loads((d / "manifest.json").read_text())
        blob, lib = table.read_bytes(), so.read_bytes()
        if (hashlib.sha256(blob).hexdigest() != manifest["table_sha256"]
                or hashlib.sha256(lib).hexdigest() != manifest["so_sha256"]):
            raise ValueError("the module or its table does not match its manifest")
        entries = pickle.loads(blob)   # plain tuples (no numba types: numba is not imported)
        spec = importlib.util.spec_from_file_location(MODULE, so)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules[MODULE] = mod
        n = 0
        for module, name, symbol, key in entries:
            kernel = getattr(importlib.import_module(module), name, None)
            if not isinstance(kernel, Kernel):
                continue
            if kernel.aot is None:
                kernel.aot = {}
            kernel.aot[key] = getattr(mod, symbol)
            n += 1
    except Exception as e:   # a module from a half-written or foreign folder: the JIT serves
        _state["error"] = f"{type(e).__name__}: {e}"
        return False
    _state.update(installed=True, kernels=n, load_s=time.perf_counter() - t, path=str(so))
    try:
        if time.time() - d.stat().st_mtime > 86400:
            os.utime(d)   # used: another version's build does not prune it
    except OSError:
        pass
    return True


def state() -> dict:
    """What :func:`install` did in this process (for tests and ``workbench compile``)."""
    return dict(_state)


def _dispatchers():
    """(module, name, dispatcher) of every workbench kernel that numba compiled or loaded."""
    out = []
    for k in KERNELS:
        d = k._dispatcher
        if d is not None and d.overloads and getattr(sys.modules.get(k.__module__), k.__name__, None) is k:
            out.append((k.__module__, k.__name__, d))
    return out


def build(harvest, *, quiet: bool = True) -> dict:
    """Run ``harvest()`` (the workload whose kernels to compile, on the JIT), then compile every
    overload it used into this fingerprint's folder. Returns a summary dict; raises on failure."""
    import shutil
    import tempfile

    d, so, table = _paths()
    t0 = time.perf_counter()
    harvest()
    import numba.pycc.compiler as pc
    from numba.pycc import CC

    entries, nogil = [], {}
    cc = CC(MODULE)
    cc.target_cpu = os.environ.get("NUMBA_CPU_NAME") or "host"
    for mname, name, disp in _dispatchers():
        opts = set(k for k, v in disp.targetoptions.items() if v is not None and v is not False)
        if not opts <= _PLAIN_OPTIONS or disp.targetoptions.get("boundscheck"):
            continue
        nogil[disp.py_func] = bool(disp.targetoptions.get("nogil"))
        for i, (argtypes, cres) in enumerate(disp.overloads.items()):
            key = type_key(argtypes)
            if cres.objectmode or key is None:
                continue
            symbol = f"{mname.replace('.', '_')}__{name}__{i}"
            cc.export(symbol, cres.signature)(disp.py_func)
            entries.append((mname, name, symbol, key))
    if not entries:
        raise RuntimeError("the harvest ran no kernel")
    t1 = time.perf_counter()
    orig = pc.compile_extra

    def compile_extra(typingctx, targetctx, func, args, return_type, flags, *a, **k):
        # pycc shares one Flags object between exports, and a compile changes it (the next export
        # then fails to type); and its wrappers would hold the GIL.
        flags = flags.copy()
        flags.release_gil = nogil.get(func, False)
        return orig(typingctx, targetctx, func, args, return_type, flags, *a, **k)

    d.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{fingerprint()}-", dir=d.parent))
    try:
        cc.output_dir = str(tmp)
        cc.output_file = so.name
        pc.compile_extra = compile_extra
        try:
            if quiet:
                with open(os.devnull, "w") as null:
                    fd1, fd2 = os.dup(1), os.dup(2)
                    os.dup2(null.fileno(), 1)
                    os.dup2(null.fileno(), 2)
                    try:
                        cc.compile()
                    finally:
                        os.dup2(fd1, 1)
                        os.dup2(fd2, 2)
                        os.close(fd1)
                        os.close(fd2)
            else:
                cc.compile()
        finally:
            pc.compile_extra = orig
        blob = pickle.dumps(entries)
        (tmp / table.name).write_bytes(blob)
        import json
        (tmp / "manifest.json").write_text(json.dumps({
            "so_sha256": hashlib.sha256((tmp / so.name).read_bytes()).hexdigest(),
            "table_sha256": hashlib.sha256(blob).hexdigest(), "kernels": len(entries),
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        if d.exists():   # --force: the old folder goes (a process that loaded it keeps its mapping)
            shutil.rmtree(d, ignore_errors=True)
        try:
            os.rename(tmp, d)   # whole folders only: a reader sees all of it or none
        except OSError:
            if not so.exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(d)
    return {"path": str(so), "kernels": len(entries), "harvest_s": t1 - t0, "compile_s": time.perf_counter() - t1}


PRUNE_AFTER_S = 30 * 86400


def _prune(keep: Path) -> None:
    """Modules of other fingerprints (an older workbench, numba or CPU) unused for 30 days go."""
    import shutil
    now = time.time()
    for p in keep.parent.iterdir():
        if p == keep or p.name.startswith(keep.name):
            continue
        try:
            if now - p.stat().st_mtime > PRUNE_AFTER_S:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        except OSError:
            pass


def _marker() -> Path:
    return folder() / f"{fingerprint()}.attempted"


def wanted() -> bool:
    """A build would help: on, a kernel module was used, no module loaded and none attempted."""
    if not enabled() or _state.get("installed"):
        return False
    if not any(m in sys.modules for m in ("workbench.heap._kernels", "workbench.io._json_kernels")):
        return False
    try:
        d, so, _ = _paths()
        return not so.exists() and not _marker().exists()
    except OSError:
        return False


def build_in_background(files: list[str]) -> None:
    """Start ``python -m workbench compile --background FILES`` detached, at low priority, once per
    fingerprint (the marker is written first, so two commands do not both start one)."""
    import subprocess
    try:
        folder().mkdir(parents=True, exist_ok=True)
        fd = os.open(_marker(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, f"started {time.time():.0f} by pid {os.getpid()}\n".encode())
        os.close(fd)
    except OSError:
        return
    try:
        subprocess.Popen([sys.executable, "-m", "workbench", "--quiet", "compile", "--background", *map(os.path.abspath, files)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True,
                         preexec_fn=(lambda: os.nice(19)) if hasattr(os, "nice") else None)
    except OSError:
        pass
