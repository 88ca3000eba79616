"""A generated fleet (datasets/build_fleet.py: 5 instances of datasets/scenarios/fleet_service.js
with the local node, instance 2 leaking) and a local Dask cluster of 2 worker processes, shared by
the fleet tests."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATTERN = "{version}/{host}/{pid}"


def _build_fleet():
    spec = importlib.util.spec_from_file_location("build_fleet", ROOT / "datasets" / "build_fleet.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def fleet(tmp_path_factory):
    if shutil.which("node") is None:
        pytest.fail("the fleet tests need node (the machine's node, v20) to generate a fleet")
    out = tmp_path_factory.mktemp("fleet")
    instances = _build_fleet().generate(out, instances=5, leaking=(2,), ms=2500, jobs=2)
    return {"dir": out, "instances": instances}


@pytest.fixture(scope="package")   # closed when tests/fleet ends: its threads must not run under later tests
def cluster():
    from distributed import Client

    from workbench.fleet import local_cluster
    c = local_cluster(2, "2GiB")
    client = Client(c)
    yield client
    client.close()
    c.close()
