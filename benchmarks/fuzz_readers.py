"""The long fuzzing run of every reader (issue "Safe to share", point 4): the mutators and worker pool of
``tests/fuzz/fuzzlib.py`` (the CI runs a bounded number of the same cases in ``tests/fuzz``), many more
cases per reader, round-robin over the readers in batches until each has its cases or the time limit
is reached. Prints one row per reader: cases, accepted (still valid after the mutation), rejected with
a WorkbenchError, other exceptions, crashes (worker died or hung), other failures (over the time
limit or the memory budget, a CLI that did not print one error line), max seconds per case, max
peak memory (the larger of peak RSS growth and tracemalloc peak), then every failing case by name
(``python -m tests.fuzz.fuzzlib --show READER INDEX`` writes it again).

    python benchmarks/fuzz_readers.py --cases 2000 --time-limit 1800
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz import fuzzlib  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=2000, help="cases per reader (default 2000; readers with a cap, "
                    "the raw --prof logs that run node, stop at it)")
    ap.add_argument("--time-limit", type=float, default=1800, help="seconds for the whole run (default 1800)")
    ap.add_argument("--readers", default="", help="comma-separated reader names (default: all)")
    ap.add_argument("--start", type=int, default=0, help="first case index (default 0; CI runs the first ones)")
    ap.add_argument("--seed", type=int, default=fuzzlib.MASTER_SEED)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=50, help="cases per reader per round")
    ap.add_argument("--cli-every", type=int, default=10, help="every n-th case also goes through the CLI")
    ap.add_argument("--json", type=Path, help="write every failing result here")
    args = ap.parse_args(argv)

    names = [n for n in args.readers.split(",") if n] or list(fuzzlib.TARGETS)
    want = {n: min(args.cases, fuzzlib.TARGETS[n].max_cases or args.cases) for n in names}
    work = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
    seeds = fuzzlib.build_seeds(work / "seeds.pickle", names)
    t0 = time.monotonic()
    pool = fuzzlib.Pool(work, seeds, n=args.workers, master=args.seed)
    stats = {n: collections.Counter() for n in names}
    worst = {n: {"seconds": 0.0, "mem": 0} for n in names}
    failures = []
    done = {n: 0 for n in names}

    def seen(r):
        n = r["target"]
        s = stats[n]
        s["cases"] += 1
        s[r["outcome"]] += 1
        if r.get("problems") and r["outcome"] not in ("error", "crashed", "hung"):
            s["failed"] += 1
        if r.get("problems"):
            failures.append(r)
        secs = max([(r.get(k) or {}).get("seconds", 0.0) for k in ("door", "direct")])
        worst[n]["seconds"] = max(worst[n]["seconds"], secs)
        worst[n]["mem"] = max(worst[n]["mem"], r.get("peak_rss", 0), r.get("peak_traced", 0))

    try:
        while any(done[n] < want[n] for n in names):
            if time.monotonic() - t0 > args.time_limit:
                print(f"time limit of {args.time_limit:.0f} s reached", file=sys.stderr)
                break
            for n in names:
                k = min(args.batch, want[n] - done[n])
                if k <= 0:
                    continue
                reqs = fuzzlib.requests_for(n, k, args.start + done[n], args.cli_every)
                pool.run(reqs, on_result=seen)
                done[n] += k
                if time.monotonic() - t0 > args.time_limit:
                    break
            total = sum(s["cases"] for s in stats.values())
            print(f"{time.monotonic() - t0:7.0f} s  {total} cases  {len(failures)} failures", file=sys.stderr,
                  flush=True)
    finally:
        pool.close()
    elapsed = time.monotonic() - t0

    print(f"| reader | cases | accepted | rejected (WorkbenchError) | other exceptions | crashes | other failures "
          f"| max s/case | max peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    tot = collections.Counter()
    for n in names:
        s = stats[n]
        tot.update(s)
        print(f"| {n} | {s['cases']:,} | {s['accepted']:,} | {s['rejected']:,} | {s['error']} | "
              f"{s['crashed'] + s['hung']} | {s['failed']} | {worst[n]['seconds']:.2f} | "
              f"{worst[n]['mem'] / fuzzlib.MiB:.0f} |")
    print(f"| all | {tot['cases']:,} | {tot['accepted']:,} | {tot['rejected']:,} | {tot['error']} | "
          f"{tot['crashed'] + tot['hung']} | {tot['failed']} | | |")
    print(f"\n{tot['cases']:,} cases in {elapsed / 60:.1f} min ({args.workers} workers, seed {args.seed}, "
          f"every {args.cli_every}th case through the CLI)")
    for r in failures:
        print(f"\nFAILED {r['name']} (input {r.get('input')}):\n  " + "\n  ".join(p.splitlines()[0] for p in r["problems"]))
    if args.json:
        args.json.write_text(json.dumps(failures, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
