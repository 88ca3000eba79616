import atexit
import os
import shutil
import tempfile

os.environ.setdefault("WORKBENCH_QUIET", "1")
# The heap reader's on-disk cache (workbench.io.cache) goes to a folder of this session, never to
# the user's cache folder; child processes (CLI runs, notebook kernels, Dask workers) inherit it.
_cache = tempfile.mkdtemp(prefix="workbench-test-cache-")
os.environ["WORKBENCH_CACHE_DIR"] = _cache
atexit.register(shutil.rmtree, _cache, True)
# Ahead-of-time kernels (workbench._aot): off for the suite, so that no command starts a background
# build beside the tests; tests/test_aot.py turns them on in its own folder.
os.environ.setdefault("WORKBENCH_AOT", "0")
_kernels = tempfile.mkdtemp(prefix="workbench-test-kernels-")
os.environ["WORKBENCH_KERNEL_DIR"] = _kernels
atexit.register(shutil.rmtree, _kernels, True)


def pytest_collection_modifyitems(config, items):
    """The fleet tests run last: a Dask client leaves its IO-loop and nanny-watch threads behind in
    this process after it is closed, and their allocations would show up in the tests that count
    the objects a Python heap gains (tests/pyheap)."""
    items.sort(key=lambda item: "/tests/fleet/" in str(item.fspath).replace(os.sep, "/"))
