"""Regenerate datasets/profiles/: the four CPU stories of the seeds, captured in every profile format
workbench reads, and the profile_service recordings, with this machine's node; writes MANIFEST.json (the
shape of datasets/_manifest.py: node version, command lines, sha256, counts) and node's own
``--prof-process`` text output as goldens under tests/golden/profile/.

Scenarios (datasets/scenarios/cpu_*.js): sync_logging (fs.appendFileSync in a payment handler),
regex (catastrophic backtracking), json (heavy JSON.stringify/parse), worker_loop (a CPU-bound report
on the main thread). Each runs ~1.5 s; "slow" is the story, "fast" its fix (a before/after pair).

Per scenario (slow):
  <s>.cpuprofile + <s>.trace.json.gz  one run: --cpu-prof and --trace-events (the ProfileChunk events
                                      come from the same V8 profiler session as the .cpuprofile)
  <s>.v8.log.gz                       node --prof isolate log (raw)
  <s>.heapprofile                     node --heap-prof
  <s>.folded                          folded stacks of <s>.cpuprofile by cpu_folded_export.js (node)
  <s>.clinic-flame/                   a Clinic.js Flame data folder (@clinic/flame collect)
  tests/golden/profile/<s>.prof-process.txt   node --prof-process on <s>.v8.log (text, bottom-up)
plus <s>_fast.cpuprofile, and sync_logging.v8log.json.gz (node --prof-process --preprocess output).

Service (datasets/scenarios/profile_service.js; the inputs of tests/golden/profile/make_goldens.sh):
  cpu_slow.cpuprofile, cpu_fast.cpuprofile   a before/after pair, sampled every 250 us for 2 s
  alloc.heapprofile                          sampling heap profile, one sample per 2 KiB on average
  trace_twin.cpuprofile + trace.json.gz      one run: --cpu-prof and trace events (same V8 profiler)

Usage: python datasets/build_profiles.py [stories|service]   (default both; needs node; the stories
install @clinic/flame into .peers/profile/clinic; a partial run keeps the other part's MANIFEST entries)
"""
from __future__ import annotations

import glob
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "datasets"))
import _manifest  # noqa: E402

OUT = ROOT / "datasets" / "profiles"
SCEN = ROOT / "datasets" / "scenarios"
GOLD = ROOT / "tests" / "golden" / "profile"
CLINIC = ROOT / ".peers" / "profile" / "clinic"
CLINIC_VERSION = "13.0.0"
SCENARIOS = ["sync_logging", "regex", "json", "worker_loop"]
SECONDS = "1.5"
# "node" (node.fs.sync events) would show the sync writes too, but makes the files ~50x larger
TRACE_CATS = "v8,node.async_hooks,disabled-by-default-v8.cpu_profiler"
SERVICE = SCEN / "profile_service.js"
SERVICE_TRACE_CATS = "v8,disabled-by-default-v8.cpu_profiler"


def run(cmd, cwd, stdout=None):
    print("+", " ".join(map(str, cmd)), file=sys.stderr)
    subprocess.run([str(c) for c in cmd], cwd=cwd, check=True, stdout=stdout or subprocess.DEVNULL)


def gz(src: Path, dst: Path) -> None:
    with open(src, "rb") as f, gzip.GzipFile(dst, "wb", compresslevel=9, mtime=0) as g:
        shutil.copyfileobj(f, g)


def clinic_flame() -> Path:
    pkg = CLINIC / "node_modules" / "@clinic" / "flame"
    if not pkg.exists():
        CLINIC.mkdir(parents=True, exist_ok=True)
        (CLINIC / "package.json").write_text('{"name":"wb-clinic-peer","private":true,"version":"0.0.0"}')
        run(["npm", "install", "--no-audit", "--no-fund", f"@clinic/flame@{CLINIC_VERSION}"], CLINIC)
    return pkg


def service(cmds: dict[str, str]) -> None:
    """The profile_service recordings (once a separate build.sh; the same node command lines)."""
    rel = SERVICE.relative_to(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        # CPU profiles: a before/after pair (sampling every 250 us for 2 s).
        run(["node", "--cpu-prof", "--cpu-prof-interval", "250", "--cpu-prof-name", "cpu_slow.cpuprofile",
             SERVICE, "2", "slow"], t)
        run(["node", "--cpu-prof", "--cpu-prof-interval", "250", "--cpu-prof-name", "cpu_fast.cpuprofile",
             SERVICE, "2", "fast"], t)
        # Sampling heap profile (allocation profile) of the same service, one sample per 2 KiB on average.
        run(["node", "--heap-prof", "--heap-prof-interval", "2048", "--heap-prof-name", "alloc.heapprofile",
             SERVICE, "2", "slow"], t)
        # A Chrome trace whose ProfileChunk events come from the same V8 profiler as the twin .cpuprofile.
        run(["node", "--cpu-prof", "--cpu-prof-interval", "500", "--cpu-prof-name", "trace_twin.cpuprofile",
             "--trace-event-categories", SERVICE_TRACE_CATS, "--trace-event-file-pattern", "trace.json",
             SERVICE, "1", "slow"], t)
        for f in ("cpu_slow.cpuprofile", "cpu_fast.cpuprofile", "alloc.heapprofile", "trace_twin.cpuprofile"):
            shutil.copy(t / f, OUT / f)
        with open(OUT / "trace.json.gz", "wb") as f:  # GNU gzip, as the committed file was made
            run(["gzip", "-9", "-n", "-c", t / "trace.json"], t, stdout=f)
    cmds["cpu_slow.cpuprofile"] = f"node --cpu-prof --cpu-prof-interval 250 {rel} 2 slow"
    cmds["cpu_fast.cpuprofile"] = f"node --cpu-prof --cpu-prof-interval 250 {rel} 2 fast"
    cmds["alloc.heapprofile"] = f"node --heap-prof --heap-prof-interval 2048 {rel} 2 slow"
    cmds["trace_twin.cpuprofile"] = (f"node --cpu-prof --cpu-prof-interval 500 --trace-event-categories "
                                     f"{SERVICE_TRACE_CATS} {rel} 1 slow")
    cmds["trace.json.gz"] = "(same run as trace_twin.cpuprofile; node_trace file, gzipped)"


def main(argv: list[str]) -> None:
    parts = argv or ["stories", "service"]
    if not set(parts) <= {"stories", "service"}:
        sys.exit("usage: python datasets/build_profiles.py [stories|service]")
    OUT.mkdir(parents=True, exist_ok=True)
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    cmds: dict[str, str] = {}
    if "stories" in parts:
        stories(cmds)
    if "service" in parts:
        service(cmds)
    write_manifest(node_version, cmds)


def stories(cmds: dict[str, str]) -> None:
    """The four CPU stories in every format (and their --prof-process goldens)."""
    GOLD.mkdir(parents=True, exist_ok=True)
    flame = clinic_flame()
    for s in SCENARIOS:
        js = SCEN / f"cpu_{s}.js"
        rel = js.relative_to(ROOT)
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            # .cpuprofile and trace from one run (main thread profile; a worker writes its own file)
            run(["node", "--cpu-prof", "--cpu-prof-dir", t / "cpu", "--trace-events-enabled",
                 "--trace-event-categories", TRACE_CATS, "--trace-event-file-pattern", "trace.json",
                 js, SECONDS, "slow"], t)
            main_cpu = sorted(glob.glob(str(t / "cpu" / "*.0.001.cpuprofile")))[0]
            shutil.copy(main_cpu, OUT / f"{s}.cpuprofile")
            gz(t / "trace.json", OUT / f"{s}.trace.json.gz")
            cmds[f"{s}.cpuprofile"] = (f"node --cpu-prof --trace-events-enabled --trace-event-categories {TRACE_CATS} "
                                       f"{rel} {SECONDS} slow  (main thread's file)")
            cmds[f"{s}.trace.json.gz"] = f"(same run as {s}.cpuprofile; trace.json gzipped)"
            # the fix, for before/after diffs, under the same flags (trace events with async_hooks change the
            # stacks: callbackTrampoline appears under the root)
            run(["node", "--cpu-prof", "--cpu-prof-dir", t / "fast", "--trace-events-enabled",
                 "--trace-event-categories", TRACE_CATS, "--trace-event-file-pattern", "fast-trace.json",
                 js, SECONDS, "fast"], t)
            shutil.copy(sorted(glob.glob(str(t / "fast" / "*.0.001.cpuprofile")))[0], OUT / f"{s}_fast.cpuprofile")
            cmds[f"{s}_fast.cpuprofile"] = (f"node --cpu-prof --trace-events-enabled --trace-event-categories "
                                            f"{TRACE_CATS} {rel} {SECONDS} fast  (main thread's file)")
            # node --prof: the raw isolate log, node's own text report (golden), and its preprocessed JSON
            (t / "prof").mkdir()
            run(["node", "--prof", js, SECONDS, "slow"], t / "prof")
            log = Path(sorted(glob.glob(str(t / "prof" / "isolate-*-v8.log")))[0])
            gz(log, OUT / f"{s}.v8.log.gz")
            cmds[f"{s}.v8.log.gz"] = f"node --prof {rel} {SECONDS} slow  (isolate-*-v8.log gzipped)"
            with open(GOLD / f"{s}.prof-process.txt", "wb") as f:
                run(["node", "--prof-process", log], t / "prof", stdout=f)
            if s == "sync_logging":
                with open(t / "pre.json", "wb") as f:
                    run(["node", "--prof-process", "--preprocess", log], t / "prof", stdout=f)
                gz(t / "pre.json", OUT / f"{s}.v8log.json.gz")
                cmds[f"{s}.v8log.json.gz"] = f"node --prof-process --preprocess {s}.v8.log  (gzipped)"
            # sampling heap profile
            run(["node", "--heap-prof", "--heap-prof-dir", t / "heap", "--heap-prof-interval", "4096",
                 js, SECONDS, "slow"], t)
            shutil.copy(sorted(glob.glob(str(t / "heap" / "*.0.001.heapprofile")))[0], OUT / f"{s}.heapprofile")
            cmds[f"{s}.heapprofile"] = f"node --heap-prof --heap-prof-interval 4096 {rel} {SECONDS} slow"
            # folded stacks, written by an independent converter
            with open(OUT / f"{s}.folded", "wb") as f:
                run(["node", SCEN / "cpu_folded_export.js", OUT / f"{s}.cpuprofile"], t, stdout=f)
            cmds[f"{s}.folded"] = f"node datasets/scenarios/cpu_folded_export.js {s}.cpuprofile"
            # Clinic.js Flame data folder
            run(["node", SCEN / "cpu_clinic_collect.js", flame, t / "clinic", js, SECONDS, "slow"], t)
            dst = OUT / f"{s}.clinic-flame"
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(t / "clinic" / "run.clinic-flame", dst)
            for p in list(dst.iterdir()):
                if p.name.endswith("-systeminfo"):  # names the build directory: keep it, not the tmp path
                    info = json.loads(p.read_text())
                    info["mainDirectory"] = str(rel.parent)
                    p.write_text(json.dumps(info, indent=2))
                if p.name.endswith("-samples"):  # 2 MB of JSON each: committed gzipped (the reader takes both)
                    gz(p, p.with_name(p.name + ".gz"))
                    p.unlink()
            cmds[f"{s}.clinic-flame"] = (f"clinic flame collect (@clinic/flame {CLINIC_VERSION} via "
                                         f"datasets/scenarios/cpu_clinic_collect.js) {rel} {SECONDS} slow")


def counts(p: Path) -> dict:
    """Counts of one file, straight from the raw data (a Clinic.js Flame folder's ticks on its samples file)."""
    raw = p.read_bytes()
    if p.parent.name.endswith(".clinic-flame"):
        if "-samples" not in p.name:
            return {}
        ticks = json.loads(gzip.decompress(raw) if p.name.endswith(".gz") else raw)
        return {"ticks": len(ticks), "empty_ticks": sum(1 for t in ticks if not t)}
    data = gzip.decompress(raw) if p.name.endswith(".gz") else raw
    if p.name.endswith(".v8.log.gz"):
        lines = data.split(b"\n")
        return {"lines": len(lines), "ticks": sum(1 for ln in lines if ln.startswith(b"tick,"))}
    if p.name.endswith(".folded"):
        lines = [ln for ln in data.decode().splitlines() if ln.strip()]
        return {"stacks": len(lines), "samples": sum(int(ln.rsplit(" ", 1)[1]) for ln in lines)}
    d = json.loads(data)
    if isinstance(d, dict) and "traceEvents" in d:
        ev = d["traceEvents"]
        return {"events": len(ev), "profile_chunks": sum(e.get("name") == "ProfileChunk" for e in ev)}
    if isinstance(d, dict) and "ticks" in d:
        return {"code": len(d["code"]), "ticks": len(d["ticks"])}
    if isinstance(d, dict) and "head" in d:
        n, st = 0, [d["head"]]
        while st:
            x = st.pop()
            n += 1
            st.extend(x["children"])
        return {"nodes": n, "samples": len(d["samples"])}
    return {"nodes": len(d["nodes"]), "samples": len(d["samples"])}


def entries(cmds: dict) -> dict[str, dict]:
    """Manifest entries for the recorded names (a folder such as <s>.clinic-flame: one per file in it)."""
    files = {}
    for name in sorted(cmds):
        p = OUT / name
        for f in sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]:
            files[f.relative_to(OUT).as_posix()] = _manifest.entry(f, cmds[name], counts(f))
    return files


def write_manifest(node_version: str, cmds: dict) -> None:
    # a partial run keeps the entries of what it did not record
    files = {k: e for k, e in _manifest.load(OUT).items() if k.split("/", 1)[0] not in cmds}
    files.update(entries(cmds))
    for p in OUT.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    print(_manifest.write(OUT, node_version, "python datasets/build_profiles.py", files).read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
