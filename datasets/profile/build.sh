#!/usr/bin/env bash
# Regenerates the profile datasets from datasets/scenarios/profile_service.js with this machine's node,
# then writes MANIFEST (node version, command lines, sha256, counts). Run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scen="$here/../scenarios/profile_service.js"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

run() { echo "+ $*" >&2; "$@" >/dev/null; }

# CPU profiles: a before/after pair (sampling every 250 us for 2 s).
run node --cpu-prof --cpu-prof-interval 250 --cpu-prof-name cpu_slow.cpuprofile "$scen" 2 slow
run node --cpu-prof --cpu-prof-interval 250 --cpu-prof-name cpu_fast.cpuprofile "$scen" 2 fast
# Sampling heap profile (allocation profile) of the same service, one sample per 2 KiB on average.
run node --heap-prof --heap-prof-interval 2048 --heap-prof-name alloc.heapprofile "$scen" 2 slow
# A Chrome trace whose ProfileChunk events come from the same V8 profiler as the twin .cpuprofile.
run node --cpu-prof --cpu-prof-interval 500 --cpu-prof-name trace_twin.cpuprofile \
    --trace-event-categories 'v8,disabled-by-default-v8.cpu_profiler' --trace-event-file-pattern 'trace.json' \
    "$scen" 1 slow

cp cpu_slow.cpuprofile cpu_fast.cpuprofile alloc.heapprofile trace_twin.cpuprofile "$here/" && chmod 644 "$here"/*.cpuprofile "$here"/*.heapprofile
gzip -9 -n -c trace.json > "$here/trace.json.gz"

cd "$here"
python3 - "$(node --version)" <<'PY' > MANIFEST
import gzip, hashlib, json, sys
files = ["cpu_slow.cpuprofile", "cpu_fast.cpuprofile", "alloc.heapprofile", "trace_twin.cpuprofile", "trace.json.gz"]
cmds = {
    "cpu_slow.cpuprofile": "node --cpu-prof --cpu-prof-interval 250 datasets/scenarios/profile_service.js 2 slow",
    "cpu_fast.cpuprofile": "node --cpu-prof --cpu-prof-interval 250 datasets/scenarios/profile_service.js 2 fast",
    "alloc.heapprofile": "node --heap-prof --heap-prof-interval 2048 datasets/scenarios/profile_service.js 2 slow",
    "trace_twin.cpuprofile": "node --cpu-prof --cpu-prof-interval 500 --trace-event-categories v8,disabled-by-default-v8.cpu_profiler datasets/scenarios/profile_service.js 1 slow",
    "trace.json.gz": "(same run as trace_twin.cpuprofile; node_trace file, gzipped)",
}
print(f"# profile datasets; regenerate with datasets/profile/build.sh\nnode {sys.argv[1]}\n")
for f in files:
    raw = open(f, "rb").read()
    data = gzip.decompress(raw) if f.endswith(".gz") else raw
    d = json.loads(data)
    if "traceEvents" in d:
        ev = d["traceEvents"]
        counts = f"events={len(ev)} profile_chunks={sum(e.get('name') == 'ProfileChunk' for e in ev)}"
    elif "head" in d:
        def count(n):
            return 1 + sum(count(c) for c in n["children"])
        counts = f"nodes={count(d['head'])} samples={len(d['samples'])}"
    else:
        counts = f"nodes={len(d['nodes'])} samples={len(d['samples'])}"
    print(f"{f}\tsha256={hashlib.sha256(raw).hexdigest()}\t{counts}\t{cmds[f]}")
PY
cat MANIFEST
