import os

import pytest

from . import fuzzlib


@pytest.fixture(scope="session")
def fuzz_pool(tmp_path_factory):
    """Two worker processes (this machine has two cores) fed with the seeds, for the whole session."""
    work = tmp_path_factory.mktemp("fuzz")
    seeds = fuzzlib.build_seeds(work / "seeds.pickle")
    pool = fuzzlib.Pool(work, seeds, n=int(os.environ.get("WORKBENCH_FUZZ_WORKERS", "2")))
    yield pool
    pool.close()
