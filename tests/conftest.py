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
