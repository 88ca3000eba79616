"""workbench.fleet on a local cluster of 2 workers over a generated fleet: each file's tables equal
what the single-file CLI prints for it, a corrupt file is a files.error row while the rest complete,
a killed worker loses no file, a rerun adds only new files, and the planted leaking instance is the
top outlier of its class."""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

import polars as pl
import pytest

import workbench.fleet as fl
from workbench.cli import main

ROOT = Path(__file__).resolve().parents[2]
PATTERN = "{version}/{host}/{pid}"   # the layout datasets/build_fleet.py writes


def cli_json(*argv):
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(list(argv)) == 0
    return json.loads(buf.getvalue())


def files_of(fleet, prefix):
    return sorted(str(p) for p in Path(fleet["dir"]).rglob(f"{prefix}*"))


@pytest.fixture(scope="module")
def run(fleet, cluster, tmp_path_factory):
    """The fleet plus one corrupt snapshot (a good one cut in half), summarised into a dataset."""
    good = files_of(fleet, "Heap.")[0]
    bad_dir = Path(fleet["dir"]) / "v1" / "host-09" / "999"
    bad_dir.mkdir(parents=True, exist_ok=True)
    bad = bad_dir / "Heap.20260101.000000.999.0.001.heapsnapshot"
    data = Path(good).read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    out = tmp_path_factory.mktemp("ds") / "fleet.ds"
    res = fl.summarize([str(Path(fleet["dir"]) / "**" / "*")], out=out, client=cluster, instance=PATTERN, quiet=True)
    return {"res": res, "ds": fl.open_dataset(out), "out": out, "bad": str(bad)}


def test_every_file_has_a_row_and_the_corrupt_one_its_error(fleet, run):
    ds, res = run["ds"], run["res"]
    inputs = sorted(str(p) for p in Path(fleet["dir"]).rglob("*") if p.is_file())
    assert sorted(ds.files["path"]) == inputs
    assert res.new == len(inputs) and res.unchanged == 0
    errors = ds.files.filter(pl.col("error").is_not_null())
    assert errors["path"].to_list() == [run["bad"]]
    assert "section" in errors["error"][0]            # the reader's FormatError, one line
    assert "\n" not in errors["error"][0]
    assert run["bad"] not in ds.classes["file"].to_list()
    # the rest are complete: every good snapshot has Summary rows, every profile hotspots and stacks
    good = ds.files.filter(pl.col("error").is_null())
    assert set(ds.classes["file"]) == set(good.filter(pl.col("kind") == "heap")["path"])
    assert set(ds.hotspots["file"]) == set(good.filter(pl.col("kind") == "profile")["path"]) == set(ds.stacks["file"])
    assert set(ds.metrics["file"]) == set(good.filter(pl.col("kind") == "metrics")["path"])
    # instances from the pattern: version/host/pid of the layout build_fleet.py wrote
    assert set(good["instance"]) == {i["instance"] for i in fleet["instances"]}


def test_classes_rows_equal_workbench_summary(fleet, run):
    ds = run["ds"]
    cols = ["class", "count", "distance", "self_size", "retained_size"]
    for path in files_of(fleet, "Heap.")[:5]:
        if path == run["bad"]:
            continue
        want = cli_json("--quiet", "summary", path, "--format", "json")
        got = ds.classes.filter(pl.col("file") == path).select(cols).to_dicts()
        assert len(want) > 50
        key = lambda r: (r["class"], r["retained_size"], r["count"], r["self_size"], r["distance"])  # noqa: E731
        assert sorted(got, key=key) == sorted(want, key=key), path


def test_hotspots_rows_equal_workbench_hotspots(fleet, run):
    ds = run["ds"]
    keys = ["function", "url", "line", "column", "category", "self_samples", "total_samples", "self_ms", "total_ms"]
    for path in files_of(fleet, "CPU."):
        want = cli_json("--quiet", "hotspots", path, "--top", "0", "--format", "json")
        got = ds.hotspots.filter(pl.col("file") == path).select(keys).to_dicts()
        key = lambda r: (r["function"], r["url"], r["line"], r["column"])  # noqa: E731
        assert len(want) > 10
        assert sorted(got, key=key) == sorted(want, key=key), path
        # folded stacks: every sample of the raw file, once
        raw = json.loads(Path(path).read_text())
        assert ds.stacks.filter(pl.col("file") == path)["samples"].sum() == len(raw["samples"])


def test_planted_leaking_instance_is_the_top_outlier_of_its_class(fleet, run):
    leaking = [i for i in fleet["instances"] if i["leaking"]]
    assert len(leaking) == 1 and leaking[0]["planted_ThumbnailJob"] > 200
    z = fl.outliers(run["ds"], by="count", cls="ThumbnailJob")
    top = z.row(0, named=True)
    assert top["instance"] == leaking[0]["instance"] and top["outlier"]
    assert top["value"] == leaking[0]["planted_ThumbnailJob"]      # every job is kept by the leaking Map
    assert set(z["value"][1:]) == {40}                                # the LRU's bound in fleet_service.js
    assert not z["outlier"][1:].any()
    # by bytes too, and over all classes the leaking instance is the furthest above the fleet
    flagged = fl.outliers(run["ds"])
    assert flagged.filter(pl.col("class") == "ThumbnailJob")["instance"].to_list() == [leaking[0]["instance"]]
    inst = fl.outlier_instances(run["ds"])
    assert inst["instance"][0] == leaking[0]["instance"]
    assert inst["excess"][0] == flagged.filter(pl.col("instance") == leaking[0]["instance"])["excess"].sum()
    assert inst["excess"][0] > 10 * inst["excess"][1:].max()
    # the same instance has the steepest post-GC floor (GC log), at least twice the next one's
    rising = fl.rising_floor(run["ds"], all=True)
    assert rising["instance"][0] == leaking[0]["instance"] and rising["verdict"][0] == "growth"
    assert rising["basis"][0].startswith("heap used after full GCs")
    assert rising["slope_mb_per_hour"][0] > 2 * rising["slope_mb_per_hour"][1]
    assert rising["slope_z"][0] == rising["slope_z"].max()


def test_the_outliers_own_class_holds_its_other_outlying_classes(fleet, run):
    """Opened with the single-instance tools: in the leaking instance's snapshot, ThumbnailJob is the
    outlying class no other outlying class dominates (its Buffers and history entries hang from it)."""
    import workbench as wb
    leaking = [i for i in fleet["instances"] if i["leaking"]][0]["instance"]
    cand = fl.outliers(run["ds"], by="count").filter((pl.col("instance") == leaking) & (pl.col("ratio") >= 5))
    assert {"ThumbnailJob", "Buffer", "{note}"} <= set(cand["class"])
    snap = wb.load_snapshot(fl.latest_snapshots(run["ds"]).filter(pl.col("instance") == leaking)["path"][0], quiet=True)
    h = fl.holding_classes(snap, cand["class"])
    assert h["class"][0] == "ThumbnailJob" and h["held_by_others"][0] == 0
    assert (h["held_by_others"][1:] > 0.5).all()


def test_top_classes_aggregate_the_instances(run):
    ds = run["ds"]
    top = fl.top_classes(ds, by="count", top=None)
    grid = fl.class_grid(ds, "count")
    row = top.filter(pl.col("class") == "ThumbnailJob").row(0, named=True)
    per = grid.filter(pl.col("class") == "ThumbnailJob")
    assert row["total_count"] == per["count"].sum() == ds.classes.filter(pl.col("class") == "ThumbnailJob")["count"].sum()
    assert row["instances"] == 5 and row["max_count"] == per["count"].max()
    assert row["max_instance"] == per.sort("count")["instance"][-1]
    assert row["median_count"] == 40


def test_fleet_flame_graphs_sum_the_stacks(run):
    ds = run["ds"]
    p = fl.flame(ds)
    cpu = ds.hotspots.filter(pl.col("profile_kind") == "cpu")
    assert int(p.hit_count.sum()) == cpu["self_samples"].sum()
    d = fl.flame_diff(ds, "version", "v1", "v2")
    status = dict(zip(d.functions["function"], d.functions["status"]))
    assert status["escapeHtmlV2"] == "added" and status["escapeHtmlV1"] == "removed"   # v2's escaping
    by_version = fl.hotspots(ds, group_by="version")
    assert set(by_version["version"]) == {"v1", "v2"}
    assert by_version.group_by("version").agg(pl.col("self_pct").sum())["self_pct"].round(6).to_list() == [100.0, 100.0]


def test_local_workers_run_without_a_fixed_malloc_trim_threshold(cluster):
    # Dask sets MALLOC_TRIM_THRESHOLD_=65536 in workers, which doubles the readers' time on big files
    assert set(cluster.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()) == {None}
    assert set(cluster.run(lambda: os.environ.get("OMP_NUM_THREADS")).values()) == {"1"}   # the rest kept


def test_rerun_adds_only_new_files(fleet, run, cluster):
    out = run["out"]
    before = {p.name: p.stat().st_mtime_ns for p in (Path(out) / "classes").glob("*.parquet")}
    n = len(run["ds"].files)
    new_dir = Path(fleet["dir"]) / "v2" / "host-07" / "4242"
    new_dir.mkdir(parents=True)
    shutil.copy(ROOT / "datasets" / "profiles" / "cpu_fast.cpuprofile", new_dir / "CPU.20260101.000000.4242.0.001.cpuprofile")
    shutil.copy(files_of(fleet, "CPU.")[0], new_dir / "copy.cpuprofile")   # same content as a summarised one
    res = fl.summarize([str(Path(fleet["dir"]) / "**" / "*")], out=out, client=cluster, instance=PATTERN, quiet=True)
    assert res.new == 1 and res.unchanged == n and len(res.same_content) == 1
    ds = fl.open_dataset(out)
    assert len(ds.files) == n + 1
    assert ds.files.filter(pl.col("instance") == "v2/host-07/4242")["kind"].to_list() == ["profile"]
    after = {p.name: p.stat().st_mtime_ns for p in (Path(out) / "classes").glob("*.parquet")}
    assert after == before                                   # nothing rewritten
    again = fl.summarize([str(Path(fleet["dir"]) / "**" / "*")], out=out, client=cluster, instance=PATTERN, quiet=True)
    assert again.new == 0 and again.unchanged == n + 1


def test_cli_against_a_running_scheduler(fleet, cluster, run, tmp_path, capsys):
    """--scheduler ADDRESS, with the tables written by the client (--write-on-client): the same rows."""
    out = tmp_path / "cli.ds"
    leaking = [i for i in fleet["instances"] if i["leaking"]][0]
    heaps = [p for p in files_of(fleet, "Heap.") if "host-09" not in p]
    assert main(["--quiet", "fleet", "summarize", *heaps, "-o", str(out), "--scheduler", cluster.scheduler.address,
                 "--instance", PATTERN, "--write-on-client"]) == 0
    assert "workers have a memory limit" not in capsys.readouterr().err        # 2 GiB each: enough
    rows = cli_json("fleet", "outliers", str(out), "--by", "count", "--class", "ThumbnailJob", "--format", "json")
    assert rows[0]["instance"] == leaking["instance"] and rows[0]["outlier"] is True
    by_inst = cli_json("fleet", "outliers", str(out), "--by-instance", "--format", "json")
    assert by_inst[0]["instance"] == leaking["instance"]
    files = cli_json("fleet", "files", str(out), "--format", "json")
    assert sorted(f["path"] for f in files) == sorted(heaps)
    cols = ["file", "class", "class_key", "count", "self_size", "retained_size"]
    mine = fl.open_dataset(out).classes.select(cols).sort(cols)
    assert mine.equals(run["ds"].classes.filter(pl.col("file").is_in(heaps)).select(cols).sort(cols))


def test_a_killed_worker_leaves_no_file_missing(fleet, cluster, tmp_path):
    """SIGKILL one worker process while it holds tasks: Dask's Nanny starts a new one and the
    scheduler reruns its tasks; every file ends with a committed row."""
    out = tmp_path / "killed.ds"
    inputs = sorted(str(p) for p in Path(fleet["dir"]).rglob("*") if p.is_file()
                    and not {"host-09", "host-07"} & set(p.parts))    # only the generated instances' files
    pids = cluster.run(os.getpid)
    result, killed = {}, {}

    def go():
        result["res"] = fl.summarize(inputs, out=out, client=cluster, instance=PATTERN, quiet=True)

    t = threading.Thread(target=go)
    t.start()
    deadline = time.monotonic() + 60
    while not killed and time.monotonic() < deadline and t.is_alive():
        for addr, tasks in cluster.processing().items():
            if tasks and addr in pids:
                killed["addr"], killed["tasks"] = addr, list(tasks)
                os.kill(pids[addr], signal.SIGKILL)
                break
        time.sleep(0.005)
    t.join(180)
    assert killed, "no worker was seen holding a task"
    assert not t.is_alive()
    ds = fl.open_dataset(out)
    assert sorted(ds.files["path"]) == sorted(inputs)
    assert ds.files["error"].null_count() == len(inputs)
    cluster.wait_for_workers(2, timeout=60)
    assert pids[killed["addr"]] not in cluster.run(os.getpid).values()   # the killed process was replaced
    assert result["res"].new == len(inputs)


def test_a_file_whose_worker_keeps_dying_is_an_error_row_and_a_rerun_reads_it(fleet, cluster, tmp_path):
    """With Dask's allowed-failures at 0 a killed worker's tasks fail at once (KilledWorker): their
    files get a one-line error row (keyed by path, no sha256), the other files finish, and the next
    run reads them again and drops the failure rows."""
    import dask
    from distributed import Client
    out = tmp_path / "dying.ds"
    heaps = [p for p in files_of(fleet, "Heap.") if "host-09" not in p]
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        lc = fl.local_cluster(1, "2GiB")
    c = Client(lc)
    try:
        pid = next(iter(c.run(os.getpid).values()))
        result = {}
        t = threading.Thread(target=lambda: result.update(res=fl.summarize(heaps, out=out, client=c, instance=PATTERN,
                                                                           quiet=True, retries=0)))
        t.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(c.processing().values()):
            time.sleep(0.005)
        os.kill(pid, signal.SIGKILL)
        t.join(120)
        assert not t.is_alive()
    finally:
        c.close()
        lc.close()
    res = result["res"]
    assert res.errors and all("worker died" in e for _, e in res.errors)
    ds = fl.open_dataset(out)
    assert sorted(ds.files["path"]) == sorted(heaps)                     # a row for every file
    failed = ds.files.filter(pl.col("error").is_not_null())
    assert sorted(failed["path"]) == sorted(p for p, _ in res.errors) and failed["sha256"].is_null().all()
    again = fl.summarize(heaps, out=out, client=cluster, instance=PATTERN, quiet=True)
    assert again.new == len(res.errors) and again.unchanged == len(heaps) - len(res.errors)
    ds = fl.open_dataset(out)
    assert ds.files["error"].null_count() == len(heaps) and sorted(ds.files["path"]) == sorted(heaps)
    assert not list((out / "files").glob("fail-*"))


def test_cli_starts_its_own_local_cluster(fleet, tmp_path, capsys):
    """Without --scheduler the CLI starts a local cluster (here --workers 1) and says so."""
    out = tmp_path / "own.ds"
    inputs = sorted(str(p) for p in Path(fleet["dir"]).rglob("memory.jsonl") if "host-0" in str(p))
    assert main(["--quiet", "fleet", "summarize", *inputs, "-o", str(out), "--workers", "1",
                 "--instance", PATTERN]) == 0
    err = capsys.readouterr().err
    assert f"{len(inputs)} files: {len(inputs)} summarised (0 could not be read)" in err
    assert "local cluster of 1 workers" in err
    trends = cli_json("fleet", "trends", str(out), "--all", "--format", "json")
    assert sorted(t["instance"] for t in trends) == sorted(i["instance"] for i in fleet["instances"])
