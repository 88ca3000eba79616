"""Generate a fleet: N instances of datasets/scenarios/fleet_service.js run with the local node, some of
them leaking, laid out as a fleet's collected files are::

    OUT/<version>/<host>/<pid>/Heap.<date>.<time>.<pid>.0.002.heapsnapshot
                               CPU.<date>.<time>.<pid>.0.001.cpuprofile
                               memory.jsonl     process.memoryUsage() every 50 ms
                               gc.log           --trace-gc (a full GC every 100 ms: the post-GC floor)

so ``--instance '{version}/{host}/{pid}'`` names each instance. Nothing is committed: tests, the
fleet notebook and benchmarks/bench_fleet.py generate a fleet into a scratch folder (5 instances take
about 10 s on 2 cores). ``generate`` returns one dict per instance with what was planted.

    python datasets/build_fleet.py OUT [--instances 5] [--leaking 2] [--ms 2500] [--jobs 2]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "scenarios" / "fleet_service.js"


def _start(out: Path, version: str, host: str, leak: bool, ms: int, node: str, ballast: int = 0):
    tmp = Path(tempfile.mkdtemp(prefix=f"{host}-", dir=out))
    log = open(tmp / "gc.log", "wb")
    cmd = [node, "--expose-gc", "--trace-gc", str(SCRIPT), str(tmp / "files"), "--version", version, "--ms", str(ms)]
    if leak:
        cmd.append("--leak")
    if ballast:
        cmd += ["--ballast", str(ballast)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.PIPE)
    return {"proc": proc, "log": log, "tmp": tmp, "version": version, "host": host, "leak": leak,
            "command": " ".join(["node", *cmd[1:3], "fleet_service.js", "DIR", *cmd[5:]])}


def _finish(out: Path, run: dict) -> dict:
    proc = run["proc"]
    _, err = proc.communicate()
    run["log"].close()
    if proc.returncode != 0:
        raise RuntimeError(f"{run['command']} failed ({proc.returncode}): {err.decode(errors='replace')[-500:]}")
    m = re.search(rb"planted: ThumbnailJob (\d+)", err)
    dest = out / run["version"] / run["host"] / str(proc.pid)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(run["tmp"] / "files"), dest)
    shutil.move(str(run["tmp"] / "gc.log"), dest / "gc.log")
    run["tmp"].rmdir()
    return {"instance": f"{run['version']}/{run['host']}/{proc.pid}", "version": run["version"],
            "host": run["host"], "pid": proc.pid, "leaking": run["leak"], "dir": str(dest),
            "planted_ThumbnailJob": int(m.group(1)) if m else 0, "command": run["command"]}


def generate(out, *, instances: int = 5, leaking=(2,), versions=("v1", "v2"), ms: int = 2500, jobs: int = 2,
             node: str = "node", ballast: int = 0) -> list[dict]:
    """Run ``instances`` instances (``jobs`` at a time); instance k runs version versions[k % len],
    host ``host-<k>``, and leaks when k is in ``leaking``; ``ballast`` rows kept alive in each make
    bigger heaps (benchmarks). Returns one dict per instance."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    todo = [(versions[k % len(versions)], f"host-{k:02d}", k in set(leaking)) for k in range(instances)]
    running, done = [], []
    while todo or running:
        while todo and len(running) < max(1, jobs):
            v, h, leak = todo.pop(0)
            running.append(_start(out, v, h, leak, ms, node, ballast))
        time.sleep(0.05)
        for r in [r for r in running if r["proc"].poll() is not None]:
            running.remove(r)
            done.append(_finish(out, r))
    return sorted(done, key=lambda d: d["host"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--instances", type=int, default=5)
    ap.add_argument("--leaking", default="2", help="comma-separated instance numbers that leak")
    ap.add_argument("--ms", type=int, default=2500, help="how long each instance serves requests")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--ballast", type=int, default=0, help="rows every instance keeps alive (bigger heaps)")
    a = ap.parse_args(argv)
    leaking = tuple(int(x) for x in a.leaking.split(",") if x.strip())
    for d in generate(a.out, instances=a.instances, leaking=leaking, ms=a.ms, jobs=a.jobs, ballast=a.ballast):
        print(f"{d['instance']}\tleaking={d['leaking']}\tThumbnailJob planted={d['planted_ThumbnailJob']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
