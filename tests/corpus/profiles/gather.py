"""Regenerates the profile corpus (tests/corpus/profiles/files/ and MANIFEST.json) from bare git mirrors
of the source repositories: files written by other projects, copied byte for byte (gzipped when large,
unzipped when the source keeps them in a .zip), each with its source, commit, path, licence and the
answer recorded by the project that made it.

Answers come from two places, never from workbench:
* ``speedscope``: the frames (name, file, line, col, selfWeight, totalWeight) of speedscope's own jest
  snapshots (``src/import/__snapshots__/*.snap``) for the files its tests import;
* ``raw``: counts taken straight from the file by the plain parsing below (json / line splitting):
  samples, nodes, the sum of ``hitCount``, trace profiles per pid/id, folded lines and their counts.

Usage: python tests/corpus/profiles/gather.py MIRRORS_DIR   (MIRRORS_DIR/<owner>+<name>/repo, the
bare git directories that the ``fetch`` tool or ``git clone --mirror`` makes).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "files"

SPEEDSCOPE = ("jlfwong/speedscope", "3613918de0dd55a263d0d04f85b0c8c2039c7bee", "MIT")
PUSHBASED = ("push-based/cpu-prof", "0af1768a925ba2bdc243aec5b223acc6c8707e4c", "MIT")

# (source, path in the repo, format, file name here, speedscope snapshot (file, test name) or None)
SS = "sample/profiles/"
FILES = [
    (SPEEDSCOPE, SS + "Chrome/65/simple.cpuprofile", "cpuprofile", "speedscope-chrome65-simple.cpuprofile",
     ("chrome", "importFromChromeCPUProfile")),
    (SPEEDSCOPE, SS + "Chrome/65/sucrase.cpuprofile", "cpuprofile", "speedscope-chrome65-sucrase.cpuprofile.gz",
     None),
    (SPEEDSCOPE, SS + "node/10.11.0/example.cpuprofile", "cpuprofile", "speedscope-node10-example.cpuprofile",
     ("chrome", "importFromV8Profiler Node 10")),
    (SPEEDSCOPE, SS + "Chrome/65/simple-timeline.json", "trace", "speedscope-chrome65-simple-timeline.json.gz",
     ("chrome", "importFromChromeTimeline")),
    (SPEEDSCOPE, SS + "Chrome/69/simple.json", "trace", "speedscope-chrome69-simple.json.gz",
     ("chrome", "importFromChromeTimeline Chrome 69")),
    (SPEEDSCOPE, SS + "Chrome/116/Trace-20230603T221323.json", "trace", "speedscope-chrome116-trace.json.gz",
     ("chrome", "importFromChromeTimeline Chrome 116")),
    (SPEEDSCOPE, SS + "Chrome/141/no-arg-data.json", "trace", "speedscope-chrome141-no-arg-data.json",
     ("chrome", "importTraceEvents Chrome 141 profile with missing arg data")),
    (SPEEDSCOPE, SS + "Chrome/66/worker.json", "trace", "speedscope-chrome66-worker.json.gz",
     ("chrome", "importFromChromeTimeline Workers Chrome 66")),
    (SPEEDSCOPE, SS + "Chrome/70/worker.json", "trace", "speedscope-chrome70-worker.json.gz",
     ("chrome", "importFromChromeTimeline Workers Chrome 70")),
    (SPEEDSCOPE, SS + "source-maps/chrome-85-esbuild.json", "trace", "speedscope-chrome85-esbuild.json.gz", None),
    (SPEEDSCOPE, SS + "source-maps/chrome-85-webpack.json", "trace", "speedscope-chrome85-webpack.json.gz", None),
    (SPEEDSCOPE, SS + "Chrome/69/Heap-20181005T144546.heapprofile", "heapprofile",
     "speedscope-chrome69-heap.heapprofile.gz", ("v8heapalloc", "importV8HeapAlloc from Chrome")),
    (SPEEDSCOPE, SS + "node/10.11.0/Heap-20181003T105432.heapprofile", "heapprofile",
     "speedscope-node10-heap.heapprofile", ("v8heapalloc", "importV8HeapAlloc from NodeJS")),
    (SPEEDSCOPE, SS + "node/8.5.0/simple.v8log.json.zip", "v8log", "speedscope-node8-simple.v8log.json.gz",
     ("v8proflog", "importFromV8ProfLog")),
    (SPEEDSCOPE, SS + "node/8.5.0/isolate-0x102802600-v8.log", "v8log", "speedscope-node8-isolate-v8.log.gz", None),
    (SPEEDSCOPE, SS + "stackcollapse/simple.txt", "folded", "speedscope-simple.folded",
     ("bg-flamegraph", "importFromBGFlameGraph")),
    (SPEEDSCOPE, SS + "stackcollapse/simple-crlf.txt", "folded", "speedscope-simple-crlf.folded",
     ("bg-flamegraph", "importFromBGFlameGraph with CRLF")),
    (SPEEDSCOPE, SS + "stackcollapse/simple-utf16-le.txt", "folded", "speedscope-simple-utf16-le.folded",
     ("bg-flamegraph", "importFromBGFlameGraph with UTF-16, Little Endian")),
    (SPEEDSCOPE, SS + "stackcollapse/simple-utf16-be.txt", "folded", "speedscope-simple-utf16-be.folded",
     ("bg-flamegraph", "importFromBGFlameGraph with UTF-16, Big Endian")),
    (SPEEDSCOPE, SS + "stackcollapse/simple-with-invalids.txt", "folded", "speedscope-simple-with-invalids.folded",
     ("bg-flamegraph", "importFromBGFlameGraph with invalid lines")),
    (SPEEDSCOPE, SS + "stackcollapse/alternating.txt", "folded", "speedscope-alternating.folded", None),
    (SPEEDSCOPE, SS + "stackcollapse/recursion.txt", "folded", "speedscope-recursion.folded", None),
    (SPEEDSCOPE, SS + "stackcollapse/tall.txt", "folded", "speedscope-tall.folded", None),
]
PB_EX = "packages/cpu-prof/docs/examples/"
PB_MIN = "packages/cpu-prof-e2e/mocks/minimal/"
for name in ("minimal-cpu-profile", "minimal-cpu-profile-nodes-call-frame-source-location",
             "minimal-cpu-profile-nodes-call-frame-synthetic-frames", "minimal-cpu-profile-nodes-call-frame-url",
             "minimal-cpu-profile-nodes-parent-child", "minimal-cpu-profile-timing-data-samples",
             "minimal-cpu-profile-timing-data-time-deltas", "minimal-cpu-profile-timing-data"):
    FILES.append((PUSHBASED, PB_EX + name + ".cpuprofile", "cpuprofile", f"cpuprof-{name}.cpuprofile", None))
for name in ("complex-profile-chunks", "simple-profile-chunks", "start-profiling"):
    FILES.append((PUSHBASED, PB_EX + f"minimal-trace-event-instant-event-{name}.json", "trace",
                  f"cpuprof-trace-{name}.json", None))
for name in ("alternating-peaks.20250519.000070.10001.0.001", "flat-line.20250519.050090.10002.0.001",
             "pyramide.20250519.110180.10003.0.001", "stair-down.20250519.200250.10004.0.001",
             "stair-up.20250519.200250.10004.1.001", "valley.20250519.270340.10004.2.001"):
    FILES.append((PUSHBASED, PB_MIN + name + ".cpuprofile", "cpuprofile", f"cpuprof-mock-{name.split('.')[0]}.cpuprofile",
                  None))
FILES += [
    (PUSHBASED, PB_MIN + "Trace-20250622T203446.json", "trace", "cpuprof-mock-Trace-20250622T203446.json", None),
    (PUSHBASED, "packages/cpu-prof-e2e/mocks/coloring-test.profile.json", "trace", "cpuprof-coloring-test.json", None),
    (PUSHBASED, "packages/cpu-prof-e2e/mocks/full-nx-integratoin/MERGED-CPU--nx-run-many-t-build.profile.json",
     "trace", "cpuprof-merged-nx-run-many.json", None),
    (PUSHBASED, "packages/cpu-prof-e2e/mocks/ng-build-cpu/CPU.20250519.000217.90620.4.005.cpuprofile", "cpuprofile",
     "cpuprof-ng-build-CPU.20250519.000217.90620.4.005.cpuprofile.gz", None),
    (PUSHBASED, "packages/cpu-prof-e2e/mocks/ng-build-cpu/CPU.20250519.000220.90620.16.011.cpuprofile", "cpuprofile",
     "cpuprof-ng-build-CPU.20250519.000220.90620.16.011.cpuprofile.gz", None),
    (PUSHBASED, "packages/cpu-prof/docs/case-study--eslint/nx.cpuprofile", "cpuprofile",
     "cpuprof-case-study-nx.cpuprofile.gz", None),
]

LEFT_OUT = [
    {"repository": "push-based/cpu-prof", "path": PB_EX + "minimal-trace-event-instant-event-tracing-started-in-browser.json",
     "licence": "MIT", "why": "holds no CPU profile (TracingStartedInBrowser and RunTask events only): not a profile "
     "file, and speedscope refuses it as well ('Could not find CPU profile in Timeline')"},
    {"repository": "brendangregg/FlameGraph", "path": "example-perf-stacks.txt.gz, test/results/*",
     "licence": "CDDL-1.0",
     "why": "CDDL is a file-level copyleft licence, outside the MIT/BSD/Apache set this project copies; "
            "speedscope's FlameGraph-derived sample (next entry) is left out for the same reason"},
    {"repository": "jlfwong/speedscope", "path": SS + "stackcollapse/perf-vertx-stacks-01-collapsed-all.txt",
     "licence": "CDDL-1.0 (origin)",
     "why": "a copy of brendangregg/FlameGraph test/results/perf-vertx-stacks-01-collapsed-all.txt (CDDL)"},
    {"repository": "jlfwong/speedscope", "path": SS + "Chrome/65/timeline.json", "licence": "MIT",
     "why": "not in the mirror (the blob is absent from the stored snapshot)"},
    {"repository": "v8/v8", "path": "test/mjsunit/tools/tickprocessor-test*.log", "licence": "BSD-3-Clause",
     "why": "its expected output needs V8's test doubles for nm (C++ symbols of a 32-bit 'shell'); node's "
            "--prof-process cannot reproduce it, so there is no peer answer to check against"},
]


def git_show(mirrors: Path, repo: str, commit: str, path: str) -> bytes:
    gd = mirrors / repo.replace("/", "+") / "repo"
    return subprocess.run(["git", "--git-dir", str(gd), "show", f"{commit}:{path}"], check=True,
                          capture_output=True).stdout


def head_commit(mirrors: Path, repo: str) -> str:
    gd = mirrors / repo.replace("/", "+") / "repo"
    return subprocess.run(["git", "--git-dir", str(gd), "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()


# ---- speedscope's jest snapshots ------------------------------------------------------------------
_EXPORT = re.compile(r"^exports\[`(?P<name>[^`\n]*?) (?P<n>\d+)`\] = `\n(?P<body>.*?)\n`;$", re.M | re.S)
_FIELD = re.compile(r'^\s+"(\w+)": (.*),$')


def _value(v: str):
    if v == "undefined":
        return None
    return json.loads(v)


def snapshot_profiles(snap: str, test: str) -> list[dict]:
    """The dumped profiles of one test: [{name, frames: [{name, file, line, col, self, total}], stacks}]."""
    out = []
    for m in _EXPORT.finditer(snap):
        if m["name"] != test:
            continue
        body = m["body"]
        frames, cur = [], None
        for line in body.splitlines():
            if line.strip() == "Frame {":
                cur = {}
            elif cur is not None and line.strip() == "},":
                frames.append({"name": cur["name"], "file": cur.get("file"), "line": cur.get("line"),
                               "col": cur.get("col"), "self": cur["selfWeight"], "total": cur["totalWeight"]})
                cur = None
            elif cur is not None:
                f = _FIELD.match(line)
                if f:
                    cur[f[1]] = _value(f[2])
        name = re.search(r'^  "name": (".*"),$', body, re.M)
        stacks = re.search(r'^  "stacks": \[(.*?)^  \],$', body, re.M | re.S)
        stack_list = [json.loads(s.strip().rstrip(",")) for s in stacks[1].splitlines() if s.strip()] if stacks \
            else []
        out.append({"index": int(m["n"]), "name": json.loads(name[1]) if name else None, "frames": frames,
                    "stacks": stack_list})
    return sorted(out, key=lambda p: p["index"])


# ---- counts straight from the raw file ------------------------------------------------------------
def _decode_text(raw: bytes) -> str:
    if raw.startswith(b"\xff\xfe"):
        return raw[2:].decode("utf-16-le")
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be")
    return raw.decode("utf-8-sig")


def raw_facts(fmt: str, raw: bytes) -> dict:
    if fmt == "folded":
        text = _decode_text(raw)
        good, bad, total = 0, [], 0
        for i, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
            if not line.strip():
                continue
            m = re.match(r"^(.*\S)\s+(\d+)$", line)
            if m:
                good += 1
                total += int(m[2])
            else:
                bad.append(i)
        return {"stack_lines": good, "invalid_lines": bad, "total_count": total}
    if fmt == "v8log":
        text = raw.decode("utf-8", "replace")
        if text.lstrip().startswith("v8-version") or not text.lstrip().startswith("{"):
            if "{" in text and not text.lstrip().startswith(("v8-version", "shared-library", "code-creation")):
                # a preprocessed log behind a line node printed first (a warning)
                start = text.index("{")
                d = json.loads(text[start:])
                return {"ticks": len(d["ticks"]), "code": len(d["code"]),
                        "lines_before_json": text[:start].count("\n")}
            lines = text.splitlines()
            return {"tick_lines": sum(1 for ln in lines if ln.startswith("tick,")), "lines": len(lines)}
        d = json.loads(text)
        return {"ticks": len(d["ticks"]), "code": len(d["code"])}
    d = json.loads(raw.decode("utf-8-sig"))
    if fmt == "cpuprofile":
        if "head" in d:  # the legacy tree: count the nested nodes
            n, hits, stack = 0, 0, [d["head"]]
            while stack:
                x = stack.pop()
                n += 1
                hits += x.get("hitCount", 0)
                stack.extend(x.get("children", []))
            return {"nodes": n, "samples": len(d.get("samples", [])), "hit_count_sum": hits, "legacy_head": True}
        return {"nodes": len(d["nodes"]), "samples": len(d.get("samples") or []),
                "hit_count_sum": sum(x.get("hitCount", 0) for x in d["nodes"]),
                "nodes_with_hit_count": sum(1 for x in d["nodes"] if "hitCount" in x)}
    if fmt == "heapprofile":
        n, size, stack, with_id = 0, 0, [d["head"]], 0
        while stack:
            x = stack.pop()
            n += 1
            size += x.get("selfSize", 0)
            with_id += "id" in x
            stack.extend(x.get("children", []))
        return {"nodes": n, "self_size_sum": size, "nodes_with_id": with_id, "samples": len(d.get("samples") or [])}
    if fmt == "trace":
        events = d["traceEvents"] if isinstance(d, dict) else d
        profs: dict = {}
        names = {}
        no_data = 0
        for e in events:
            if e.get("name") == "thread_name":
                names[f"{e.get('pid')}:{e.get('tid')}"] = (e.get("args") or {}).get("name")
            if e.get("name") not in ("Profile", "ProfileChunk", "CpuProfile"):
                continue
            data = (e.get("args") or {}).get("data")
            key = f"{e.get('pid')}:{e.get('id', e.get('tid'))}"
            p = profs.setdefault(key, {"pid": e.get("pid"), "tid": e.get("tid"), "samples": 0, "nodes": 0})
            if e.get("name") != "ProfileChunk":   # the declaring event is on the profiled thread
                p["tid"] = e.get("tid")
            if data is None:
                no_data += 1
                continue
            cpu = data.get("cpuProfile") or {}
            p["samples"] += len(cpu.get("samples") or [])
            p["nodes"] += len(cpu.get("nodes") or [])
        for p in profs.values():
            p["thread_name"] = names.get(f"{p['pid']}:{p['tid']}")
        return {"profiles": profs, "profile_events_without_data": no_data}
    raise ValueError(fmt)


def main(mirrors: Path) -> None:
    OUT.mkdir(exist_ok=True)
    snaps: dict = {}
    entries = []
    for (repo, commit, licence), path, fmt, name, snap in FILES:
        commit = commit or head_commit(mirrors, repo)
        raw = git_show(mirrors, repo, commit, path)
        if path.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                inner = [n for n in z.namelist() if not n.startswith("__MACOSX") and not n.endswith("/")]
                raw = z.read(inner[0])
        data = gzip.compress(raw, 9, mtime=0) if name.endswith(".gz") else raw
        (OUT / name).write_bytes(data)
        entry = {"file": name, "format": fmt, "repository": repo, "commit": commit, "path": path,
                 "licence": licence, "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw),
                 "raw": raw_facts(fmt, raw)}
        if snap:
            which, test = snap
            key = (repo, commit, which)
            if key not in snaps:
                snaps[key] = git_show(mirrors, repo, commit, f"src/import/__snapshots__/{which}.test.ts.snap") \
                    .decode("utf-8")
            entry["speedscope"] = {"snapshot": f"src/import/__snapshots__/{which}.test.ts.snap", "test": test,
                                   "profiles": snapshot_profiles(snaps[key], test)}
            assert entry["speedscope"]["profiles"], (name, test)
        entries.append(entry)
    doc = {"about": "Profile files written by other projects, with the answers their own tests record "
                    "(speedscope: its jest snapshots; raw: counts taken straight from the file). "
                    "Regenerate with tests/corpus/profiles/gather.py.",
           "files": entries, "left_out": LEFT_OUT}
    (HERE / "MANIFEST.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(entries)} files")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
