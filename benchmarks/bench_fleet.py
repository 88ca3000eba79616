"""Fleet on Dask (issue 14): a serial loop against a local cluster over a generated fleet, and the
figures a cluster on paper needs (per-file cost, data moved per file, scheduler overhead per task).

    python benchmarks/bench_fleet.py [--instances 50] [--ms 1500] [--workers 2] [--ballast ROWS] [--fleet DIR]
                                     [--json OUT]

1. Generates ``--instances`` instances of datasets/scenarios/fleet_service.js (datasets/build_fleet.py):
   each leaves a heap snapshot, a CPU profile, memory.jsonl and a GC log (50 instances: 100 snapshot
   and profile files, 200 files in all).
2. Serial: one fresh process runs ``workbench.fleet.tasks.reduce_file`` (the task body: read, reduce,
   write the parts) on every file in a loop; wall time and peak RSS from ``wait4``.
3. Cluster: ``fleet.summarize`` on a LocalCluster of ``--workers`` processes (1 thread each), started
   before the clock; wall time, and each worker's peak RSS (``getrusage`` in the worker).
4. Per task: the time each task measured for itself (files.seconds), the bytes it wrote (its parquet
   parts) and returned (its pickled files row), and Dask's overhead per task: the wall time of 2,000
   no-op tasks on the same cluster, divided by 2,000.
5. Projection for 1,000 files on 50 workers (see the README for the formula).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATTERN = "{version}/{host}/{pid}"


def _noop(x):
    return x


def _maxrss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load():
    return os.getloadavg()[0]


def _warm():
    # the first snapshot a process reads loads numba's cached kernels (a fixed cost per process)
    import workbench as wb
    wb.load_snapshot(ROOT / "datasets" / "heap" / "healthy" / "baseline.heapsnapshot.gz", quiet=True).summary()
    return os.getpid()


def serial_child(list_file: str, out: str, result: str) -> None:
    """The serial loop (run in a fresh process): the task body on every file, one after the other."""
    from workbench.fleet.naming import InstancePattern
    from workbench.fleet.tasks import reduce_file
    paths = json.loads(Path(list_file).read_text())
    pat = InstancePattern(PATTERN)
    t0 = time.perf_counter()
    _warm()
    warm = time.perf_counter() - t0
    t1 = time.perf_counter()
    for p in paths:
        inst, fields, _ = pat.instance(p)
        reduce_file(p, out, inst, fields)
    Path(result).write_text(json.dumps({"warmup_s": warm, "loop_s": time.perf_counter() - t1}))


def load_build_fleet():
    spec = importlib.util.spec_from_file_location("build_fleet", ROOT / "datasets" / "build_fleet.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", type=int, default=50)
    ap.add_argument("--ms", type=int, default=1500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ballast", type=int, default=0, help="rows each instance keeps alive: bigger snapshots")
    ap.add_argument("--fleet", help="use this generated fleet instead of generating one")
    ap.add_argument("--json", help="write the figures here too")
    ap.add_argument("--dask-env", action="store_true", help="workers with Dask's default environment "
                    "(MALLOC_TRIM_THRESHOLD_=65536) instead of fleet.local_cluster's")
    ap.add_argument("--keep", action="store_true", help="keep the generated fleet (its folder is printed)")
    a = ap.parse_args(argv)

    # each file is read once on either side: no reader's on-disk cache (it would serve the second run)
    os.environ["WORKBENCH_CACHE"] = "0"
    import polars as pl
    from distributed import Client, LocalCluster

    import workbench.fleet as fl

    work = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    figures: dict = {"args": vars(a), "machine": {"cpus": os.cpu_count(), "node": subprocess.run(["node", "--version"],
                                 capture_output=True, text=True).stdout.strip()}}
    if a.fleet:
        fleet = Path(a.fleet)
    else:
        fleet = work / "fleet"
        t = time.perf_counter()
        load_build_fleet().generate(fleet, instances=a.instances, leaking=(2,), ms=a.ms, jobs=os.cpu_count() or 2,
                                    ballast=a.ballast)
        figures["generate_s"] = time.perf_counter() - t
    paths = fl.expand([str(fleet / "**" / "*")])
    kinds = {}
    for p in paths:
        k = "snapshot" if "Heap." in p else "profile" if "CPU." in p else "metrics"
        kinds[k] = kinds.get(k, 0) + 1
    figures["files"] = {"total": len(paths), **kinds, "bytes": sum(os.path.getsize(p) for p in paths)}
    print(f"fleet: {len(paths)} files {kinds}, {figures['files']['bytes'] / 2**20:,.0f} MiB", file=sys.stderr)

    # -- serial loop, in a fresh process
    lst = work / "paths.json"
    lst.write_text(json.dumps(paths))
    res_file = work / "serial.json"
    t = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--serial-child", str(lst), str(work / "serial.ds"), str(res_file)])
    _, status, ru = os.wait4(child.pid, 0)
    serial_wall = time.perf_counter() - t
    if status != 0:
        raise SystemExit("serial child failed")
    serial = json.loads(res_file.read_text())
    figures["serial"] = {"wall_s": serial_wall, "loop_s": serial["loop_s"], "warmup_s": serial["warmup_s"],
                         "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mib": ru.ru_maxrss / 1024,
                         "load_average_after": _load()}
    print(f"serial: {serial_wall:.1f} s (loop {serial['loop_s']:.1f} s), peak {ru.ru_maxrss / 1024:,.0f} MiB",
          file=sys.stderr)

    # -- the local cluster
    t = time.perf_counter()
    if a.dask_env:      # Dask's own worker environment (MALLOC_TRIM_THRESHOLD_=65536), for comparison
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               memory_limit=fl.plan(paths)["memory_limit"], silence_logs=40)
    else:
        cluster = fl.local_cluster(a.workers, fl.plan(paths)["memory_limit"])
    client = Client(cluster)
    started = time.perf_counter() - t
    t = time.perf_counter()
    client.run(_warm)
    warm = time.perf_counter() - t
    base_rss = client.run(_maxrss_mib)
    cpu0 = client.run(_cpu_s)
    t = time.perf_counter()
    run = fl.summarize(paths, out=work / "cluster.ds", client=client, instance=PATTERN, quiet=True)
    cluster_wall = time.perf_counter() - t
    rss = client.run(_maxrss_mib)
    cpu1 = client.run(_cpu_s)
    assert run.new == len(paths) and not run.errors, run
    figures["cluster"] = {"workers": a.workers, "start_s": started, "warmup_s": warm, "wall_s": cluster_wall,
                          "peak_rss_mib_per_worker": sorted(rss.values()),
                          "rss_after_warmup_mib_per_worker": sorted(base_rss.values()),
                          "workers_cpu_s": sum(cpu1[k] - cpu0[k] for k in cpu1 if k in cpu0),
                          "load_average_after": _load()}
    figures["speedup"] = serial["loop_s"] / cluster_wall
    figures["speedup_with_startup"] = serial_wall / (started + warm + cluster_wall)
    print(f"cluster: {cluster_wall:.1f} s (+ {started:.1f} s start, {warm:.1f} s warm-up), speed-up "
          f"{figures['speedup']:.2f}x; peak per worker {sorted(rss.values())} MiB", file=sys.stderr)

    # -- per task
    rows = pl.DataFrame([{"kind": r.get("kind"), "seconds": r["seconds"], "bytes": r["bytes"],
                          "part_bytes": r["part_bytes"], "returned_bytes": len(pickle.dumps(r))} for r in run.rows])
    per = (rows.group_by("kind").agg(pl.len().alias("files"), pl.col("seconds").median().alias("median_s"),
                                     pl.col("seconds").mean().alias("mean_s"), pl.col("bytes").mean().alias("input_bytes"),
                                     pl.col("part_bytes").mean().alias("written_bytes"),
                                     pl.col("returned_bytes").mean().alias("returned_bytes")).sort("kind"))
    figures["per_file"] = per.to_dicts()
    figures["mean_task_s"] = float(rows["seconds"].mean())
    figures["mean_written_bytes"] = float(rows["part_bytes"].mean())
    figures["mean_returned_bytes"] = float(rows["returned_bytes"].mean())

    # -- Dask's overhead per task: no-op tasks on the same cluster
    n = 2000
    t = time.perf_counter()
    client.gather(client.map(_noop, range(n), pure=False))
    figures["overhead_per_task_ms"] = (time.perf_counter() - t) / n * 1000
    used = float(rows["seconds"].sum())
    figures["utilisation"] = used / (cluster_wall * a.workers)
    client.close()
    cluster.close()

    # -- projection: 1,000 files on 50 workers, the files of this fleet
    N, W = 1000, 50
    figures["projection_1000_files_50_workers_s"] = (
        figures["cluster"]["warmup_s"] + (N / W) * figures["mean_task_s"] + N * figures["overhead_per_task_ms"] / 1000)
    figures["projection_formula"] = "warm-up per worker + (N / W) * mean task s + N * overhead per task"
    print(json.dumps(figures, indent=1, default=str))
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=1, default=str))
    if a.keep:
        print(f"kept {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serial-child":
        serial_child(*sys.argv[2:5])
        sys.exit(0)
    sys.exit(main())
