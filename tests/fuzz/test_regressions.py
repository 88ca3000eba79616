"""One small hand-made input per reader bug the fuzzing found (``test_readers_fuzz.py``,
``benchmarks/fuzz_readers.py``). Each was a crash (a non-workbench exception, a segfault), a hang or
an allocation out of proportion to the file; each must now be a FormatError naming the file, the
section and (where the reader knows it) the byte offset, or a clean read.

Inputs that used to kill or hang the interpreter (a numba kernel looping forever, polars overflowing
its stack) run in a subprocess with a timeout.
"""
import gzip
import json
import os
import subprocess
import sys
import time
import tracemalloc

import pytest

import workbench as wb
from workbench.cli import main
from workbench.errors import FormatError
from workbench.io import _files
from workbench.io.diagnostic_report import read_report
from workbench.io.folded import read_folded
from workbench.io.gclog import read_gclog
from workbench.io.heapprofile import read_heapprofile
from workbench.io.memory_samples import read_jsonl
from workbench.io.trace_events import read_trace

from . import fuzzlib

ROOT = fuzzlib.ROOT
PROFILES = ROOT / "datasets" / "profiles"
METRICS = ROOT / "datasets" / "metrics"
MiB = 1 << 20


def raises(load, *args, section=None, **kw) -> FormatError:
    with pytest.raises(FormatError) as ei:
        load(*args, **kw)
    e = ei.value
    assert e.path is not None and os.path.exists(e.path), e
    if section is not None:
        assert e.section == section, e
    return e


def measured(fn):
    """(exception or result, seconds, tracemalloc peak in bytes)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001
        out = e
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, dt, peak


def in_subprocess(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (a segfault or a hang must not take pytest with it)."""
    try:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env=dict(os.environ, WORKBENCH_QUIET="1"))
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung for {timeout} s")


def small_snapshot() -> dict:
    return json.loads(fuzzlib._small_graph(7).text())


def write_json(path, doc, gz=False):
    data = json.dumps(doc).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# ---- the gzip layer and the file layer -------------------------------------------------------------
def test_multi_member_gzip_longer_than_a_block(tmp_path):
    # members after the first were looked for at the wrong offset once the file passed 1 MiB
    noise = b"".join(b"# " + os.urandom(100).hex().encode() + b"\n" for _ in range(8000))   # incompressible lines
    text = (METRICS / "blocked" / "gc.log").read_bytes() + noise + noise
    cuts = [0, len(text) // 3, 2 * len(text) // 3, len(text)]
    p = tmp_path / "gc.log.gz"
    p.write_bytes(b"".join(gzip.compress(text[a:b]) for a, b in zip(cuts, cuts[1:])))
    assert p.stat().st_size > MiB
    assert _files.read_bytes(p) == text
    plain = tmp_path / "gc.log"
    plain.write_bytes(text)
    assert len(wb.load_metrics(p, quiet=True).gc_events) == len(wb.load_metrics(plain, quiet=True).gc_events)


@pytest.mark.parametrize("name,load", [
    ("x.heapsnapshot", wb.load_snapshot),
    ("x.cpuprofile", lambda p: wb.load_profile(p, format="cpuprofile")),
    ("x.heapprofile", lambda p: wb.load_profile(p, format="heapprofile")),
    ("x.folded", lambda p: wb.load_profile(p, format="folded")),
    ("x.hpy", wb.load_hpy),
])
def test_a_folder_where_a_file_is_expected(tmp_path, name, load):
    (tmp_path / name).mkdir()   # was IsADirectoryError
    e = raises(load, tmp_path / name, section="file")
    assert "directory" in e.message


def test_a_folder_inside_a_doctor_recording(tmp_path):
    d = tmp_path / "run.clinic-doctor"
    d.mkdir()
    for q in (METRICS / "io" / "doctor.clinic-doctor").iterdir():
        (d / q.name).write_bytes(q.read_bytes())
    (d / "doctor.clinic-doctor-traceevent").unlink()
    (d / "doctor.clinic-doctor-traceevent").mkdir()   # was IsADirectoryError
    raises(wb.load_metrics, d, section="file", quiet=True)


@pytest.mark.parametrize("name,unit,reader,section", [
    ("gc.log", b"\x00", read_gclog, "gc trace"),                # text readers: NUL at the start
    ("gc.log", b"[", read_gclog, "gc trace"),                   # one endless line
    ("memory.jsonl", b"{", read_jsonl, "jsonl"),
    ("report.json", b"[", read_report, "report"),               # JSON documents: nesting
    ("x.heapprofile", b"\x00", read_heapprofile, "document"),   # JSON: a control character
    ("x.heapprofile", b'{"a":[', read_heapprofile, "document"),
    ("x.trace.json", b"[", read_trace, "traceEvents"),
    ("x.folded", b"a;", read_folded, "line"),
])
def test_gzip_bomb_is_refused_before_it_inflates(tmp_path, name, unit, reader, section):
    # (the doors already refuse most of these from their first 4 KiB; the readers must too)
    p = tmp_path / name
    p.write_bytes(fuzzlib.bomb(unit, total=1 << 30))   # about 1 MB that inflates to 1 GiB
    err, seconds, peak = measured(lambda: reader(p))
    assert isinstance(err, FormatError) and err.section == section, err
    assert peak < 256 * MiB and seconds < 10, (peak, seconds)   # was the whole GiB, and more


def test_gzip_bomb_in_a_doctor_processstat(tmp_path):
    d = tmp_path / "run.clinic-doctor"
    d.mkdir()
    (d / "doctor.clinic-doctor-systeminfo").write_bytes(
        (METRICS / "io" / "doctor.clinic-doctor" / "doctor.clinic-doctor-systeminfo").read_bytes())
    for unit in (b"\x00", b"["):   # empty frames; frames of 0x5b5b bytes that do not decode
        (d / "doctor.clinic-doctor-processstat.gz").write_bytes(fuzzlib.bomb(unit, total=1 << 30))
        err, seconds, peak = measured(lambda: wb.load_metrics(d, quiet=True))
        assert isinstance(err, FormatError) and err.section == "processstat", err
        assert peak < 64 * MiB and seconds < 10, (peak, seconds)


# ---- heap snapshots ------------------------------------------------------------------------------------
def test_deep_trace_tree_loads(tmp_path):
    doc = fuzzlib._timeline_doc(fuzzlib._small_graph(7))
    doc["trace_tree"] = "TREE"
    # one nested array per stack frame: V8 writes them so for deep allocation stacks
    tree = "".join(f"[{i},0,1,8," for i in range(1, 3001)) + "[]" + "]" * 3000
    p = tmp_path / "deep.heaptimeline"
    p.write_bytes(fuzzlib._v8_layout(doc).replace(b'"TREE"', tree.encode()))
    # in a fresh interpreter: a 3,000-deep object freed inside a long pytest session can trip
    # pytest's unraisable-exception hook, which is not what this test is about
    r = subprocess.run([sys.executable, "-c", "import sys, workbench as wb; s = wb.load_snapshot(sys.argv[1], "
                        "quiet=True); print(s.trace_tree[0])", str(p)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "1", r.stderr[-2000:]   # was RecursionError


def test_deeply_nested_header(tmp_path):
    p = tmp_path / "x.heapsnapshot"
    p.write_bytes(b'{"snapshot":' + b"[" * 100_000 + b"]" * 100_000 + b"}")   # was RecursionError
    raises(wb.load_snapshot, p, section="snapshot")


@pytest.mark.parametrize("change", [
    lambda m, h: m.__setitem__("node_fields", m["node_fields"] + [["x"]]),       # was TypeError (unhashable)
    lambda m, h: m.__setitem__("location_fields", 4),                            # was TypeError (len of int)
    lambda m, h: m.__setitem__("sample_fields", {"a": 1}),
    lambda m, h: h.__setitem__("trace_function_count", "2"),                     # was TypeError (int - str)
])
def test_header_fields_of_the_wrong_type(tmp_path, change):
    doc = fuzzlib._timeline_doc(fuzzlib._small_graph(7))
    change(doc["snapshot"]["meta"], doc["snapshot"])
    p = tmp_path / "x.heaptimeline"
    p.write_bytes(fuzzlib._v8_layout(doc))
    raises(wb.load_snapshot, p, section="snapshot")


def test_gzip_declared_count_is_not_preallocated(tmp_path):
    # a 1 MB gzip file may declare 78M nodes (1100:1 inflation); only what arrives is allocated now
    doc = small_snapshot()
    doc["snapshot"]["node_count"] = 50_000_000
    text = json.dumps(doc)
    text = text.replace('"nodes":', '"padding":"' + os.urandom(600_000).hex() + '","nodes":', 1)
    p = tmp_path / "x.heapsnapshot.gz"
    p.write_bytes(gzip.compress(text.encode()))
    err, _, peak = measured(lambda: wb.load_snapshot(p))
    assert isinstance(err, FormatError) and err.section == "nodes", err
    assert peak < 200 * MiB, peak   # was 1.4 GB


def test_unknown_section_is_skipped_not_kept(tmp_path):
    prefix = gzip.compress(b'{"snapshot":' + json.dumps(small_snapshot()["snapshot"]).encode() + b',"future":[')
    p = tmp_path / "x.heapsnapshot.gz"
    p.write_bytes(prefix + gzip.compress(b"0," * (MiB // 2)) * 256)   # a 256 MiB section
    err, _, peak = measured(lambda: wb.load_snapshot(p))
    assert isinstance(err, FormatError), err
    assert peak < 64 * MiB, peak


# ---- CPU profiles --------------------------------------------------------------------------------------
def test_streamed_profile_with_trailing_data(tmp_path):
    p = tmp_path / "x.cpuprofile"
    p.write_bytes((PROFILES / "regex.cpuprofile").read_bytes() + b'{"more": 1}')   # the stream accepted it
    assert raises(wb.load_profile, p, section="document").offset == (PROFILES / "regex.cpuprofile").stat().st_size
    raises(wb.load_profile, p, format="cpuprofile", stream=False, section="document")
    assert main(["--quiet", "hotspots", str(p)]) == 2


def test_streamed_profile_nested_bomb(tmp_path):
    p = tmp_path / "x.cpuprofile"
    p.write_bytes(fuzzlib.bomb(b"[", gzip.decompress(gzip.compress(b'{"nodes":')), 1 << 30))
    err, seconds, peak = measured(lambda: wb.load_profile(p))
    assert isinstance(err, FormatError) and "nested too deeply" in err.message, err
    assert peak < 64 * MiB and seconds < 10


def test_long_string_among_time_deltas(tmp_path):
    d = json.loads((PROFILES / "regex.cpuprofile").read_text())
    d["timeDeltas"][3] = "x" * 100_000   # np.asarray made an array of 100k-character strings
    p = write_json(tmp_path / "x.cpuprofile", d)
    err, _, peak = measured(lambda: wb.load_profile(p, format="cpuprofile", stream=False))
    assert isinstance(err, FormatError) and err.section == "timeDeltas[3]", err
    assert peak < 64 * MiB, peak


def test_line_number_past_int32(tmp_path):
    d = json.loads((PROFILES / "regex.cpuprofile").read_text())
    d["nodes"][2]["callFrame"]["lineNumber"] = 2**31   # was InvalidOperationError (i64 -> i32)
    p = write_json(tmp_path / "x.cpuprofile", d)
    raises(wb.load_profile, p, section="nodes[2]")


@pytest.mark.parametrize("stream", [True, False])
def test_start_time_past_a_float(tmp_path, stream):
    d = json.loads((PROFILES / "regex.cpuprofile").read_text())
    d["startTime"] = 10**400   # float() raised OverflowError
    p = write_json(tmp_path / "x.cpuprofile", d)
    raises(wb.load_profile, p, format="cpuprofile", stream=stream, section="startTime")


def test_deeply_nested_node_field_does_not_crash(tmp_path):
    d = json.loads((PROFILES / "regex.cpuprofile").read_text())
    d["nodes"][1]["callFrame"]["url"] = "DEEP"
    p = tmp_path / "x.cpuprofile"
    p.write_text(json.dumps(d).replace('"DEEP"', "[" * 50_000 + "]" * 50_000))
    r = in_subprocess(f"import workbench as wb\ntry:\n    wb.load_profile({str(p)!r}, format='cpuprofile', "
                      "stream=False)\nexcept wb.FormatError as e:\n    print('FormatError', e.section)")
    assert r.returncode == 0 and "FormatError nodes[1]" in r.stdout, r   # polars segfaulted


# ---- heap profiles, traces, --prof JSON, Clinic Flame, folded -----------------------------------------
@pytest.mark.parametrize("edit,section", [
    (lambda d: d["head"].__setitem__("id", 2**70), "head"),                              # OverflowError
    (lambda d: d["head"].__setitem__("selfSize", 10**400), "head"),                      # OverflowError
    (lambda d: d["samples"][0].__setitem__("size", 10**400), "samples[0]"),              # StopIteration
    (lambda d: d["head"]["callFrame"].__setitem__("lineNumber", 2**40), "head"),         # i64 -> i32
])
def test_heapprofile_numbers_out_of_range(tmp_path, edit, section):
    d = json.loads((PROFILES / "regex.heapprofile").read_text())
    edit(d)
    raises(wb.load_profile, write_json(tmp_path / "x.heapprofile", d), section=section)


@pytest.mark.parametrize("field", ["selfSize", "scriptId"])
def test_heapprofile_deep_value_in_an_error_message(tmp_path, field):
    d = json.loads((PROFILES / "regex.heapprofile").read_text())
    target = d["head"] if field == "selfSize" else d["head"]["callFrame"]
    target[field] = "DEEP"
    p = tmp_path / "x.heapprofile"
    p.write_text(json.dumps(d).replace('"DEEP"', "[" * 5000 + "]" * 5000))   # repr() raised RecursionError
    raises(wb.load_profile, p, section="head")


@pytest.mark.parametrize("edit", [
    lambda ev: ev.__setitem__("args", ["data"]),                                  # AttributeError on a list
    lambda ev: ev["args"]["data"].__setitem__("cpuProfile", [1, 2]),              # AttributeError on a list
    lambda ev: ev["args"]["data"]["cpuProfile"].__setitem__("samples", 7),        # TypeError: len(int)
])
def test_trace_event_parts_of_the_wrong_type(tmp_path, edit):
    doc = json.loads(fuzzlib._old_trace((PROFILES / "json.cpuprofile").read_bytes()))
    edit(doc["traceEvents"][1])
    raises(wb.load_profile, write_json(tmp_path / "x.trace.json", doc))


def cut_v8log() -> dict:
    return json.loads(fuzzlib._cut_v8log_json(PROFILES / "sync_logging.v8log.json.gz", 50))


@pytest.mark.parametrize("edit,section", [
    (lambda d: d["ticks"][3].__setitem__("s", ["x", 1]), "ticks[3].s"),             # ValueError (fromiter)
    (lambda d: d["ticks"][3].__setitem__("s", [[1], 1]), "ticks[3].s"),             # TypeError
    (lambda d: d["ticks"][4].__setitem__("tm", 10**400), "ticks[4].tm"),            # OverflowError
])
def test_v8log_ticks_of_the_wrong_type(tmp_path, edit, section):
    d = cut_v8log()
    edit(d)
    raises(wb.load_profile, write_json(tmp_path / "x.v8log.json", d), section=section)


def test_v8log_code_line_past_int64(tmp_path):
    d = cut_v8log()
    i = next(i for i, c in enumerate(d["code"]) if c["type"] == "JS" and c["name"].count(":") >= 2)
    d["code"][i]["name"] = d["code"][i]["name"].rsplit(":", 2)[0] + ":99999999999999999999:1"   # str -> i64
    raises(wb.load_profile, write_json(tmp_path / "x.v8log.json", d), section=f"code[{i}]")


def clinic_folder(tmp_path, ticks) -> "os.PathLike":
    d = tmp_path / "x.clinic-flame"
    d.mkdir()
    (d / "run.clinic-flame-samples").write_text(ticks if isinstance(ticks, str) else json.dumps(ticks))
    return d


def test_clinic_deep_frame_field_does_not_crash(tmp_path):
    d = clinic_folder(tmp_path, '[[{"name": "f", "type": ' + "[" * 50_000 + "]" * 50_000 + "}]]")
    r = in_subprocess(f"import workbench as wb\ntry:\n    wb.load_profile({str(d)!r})\n"
                      "except wb.FormatError as e:\n    print('FormatError', e.section)")
    assert r.returncode == 0 and "FormatError samples[0]" in r.stdout, r   # polars segfaulted


def test_clinic_line_past_int32(tmp_path):
    d = clinic_folder(tmp_path, [[{"name": "f file:///a.js:3000000000:1", "type": "JS"}]])
    raises(wb.load_profile, d, section="code[0]")   # was InvalidOperationError (i64 -> i32)


def test_folded_line_past_int64(tmp_path):
    p = tmp_path / "x.folded"
    p.write_text("main a.js:1:1;f b.js:18446744073709551616:3 5\n")   # was InvalidOperationError
    raises(wb.load_profile, p, section="line 1")


@pytest.mark.parametrize("name,fmt", [("x.heapprofile", "heapprofile"), ("x.trace.json", "trace"),
                                      ("x.cpuprofile", "cpuprofile")])
def test_json_integer_with_5000_digits(tmp_path, name, fmt):
    p = tmp_path / name
    src = {"heapprofile": "regex.heapprofile", "cpuprofile": "regex.cpuprofile"}.get(fmt)
    text = (PROFILES / src).read_text() if src else fuzzlib._old_trace((PROFILES / "json.cpuprofile").read_bytes()).decode()
    i = text.index('"id":') + 5
    p.write_text(text[:i] + "1" * 5000 + text[i + 1:])   # json.loads raised a plain ValueError
    kw = {"stream": False} if fmt == "cpuprofile" else {}
    e = raises(wb.load_profile, p, format=fmt, **kw)
    assert e.offset == i


# ---- metrics -------------------------------------------------------------------------------------------
def jsonl(tmp_path, *lines):
    p = tmp_path / "memory.jsonl"
    p.write_text("\n".join(['{"ts": 1700000000000, "rss": 1, "heapUsed": 2}'] + list(lines)) + "\n")
    return p


@pytest.mark.parametrize("line", [
    '{"ts": 1700000001000, "rss": NaN}',               # polars: ComputeError
    '{"a":' + "[" * 5000 + "]" * 5000 + "}",           # json.loads in the slow path: RecursionError
], ids=["nan", "deep"])
def test_jsonl_lines_polars_cannot_hold_are_problems(tmp_path, line):
    m = wb.load_metrics(jsonl(tmp_path, line), quiet=True)
    assert m.problems["line"].to_list() == [2]


def test_jsonl_line_key_and_list_time(tmp_path):
    m = wb.load_metrics(jsonl(tmp_path, '{"ts": 1700000001000, "rss": 3, "line": 9}'), quiet=True)  # DuplicateError
    assert "_line" in m.table["metric"].to_list()
    p = tmp_path / "t.jsonl"
    p.write_text('{"ts": [1, 2], "rss": 1}\n{"ts": [3], "rss": 2}\n')   # InvalidOperationError: list -> f64
    raises(wb.load_metrics, p, section="jsonl", quiet=True)


def test_csv_time_past_what_a_datetime_holds(tmp_path):
    p = tmp_path / "eventloop.csv"
    p.write_text("ts,utilization\n1700000000000,0.5\n9000000000000000,0.7\n")
    m = wb.load_metrics(p, quiet=True)
    assert m.problems["reason"].to_list() == ["time is not a timestamp"]
    assert main(["--quiet", "metrics", str(p)]) == 0   # the CLI panicked formatting the datetime


def test_csv_header_with_a_million_columns(tmp_path):
    p = tmp_path / "eventloop.csv"
    p.write_text("ts,utilization" + "," * 1_000_000 + "\n1700000000000,0.5\n")   # hung (a polars call per column)
    t0 = time.perf_counter()
    raises(wb.load_metrics, p, section="csv", quiet=True)
    assert time.perf_counter() - t0 < 10


def test_csv_repeated_and_line_columns(tmp_path):
    p = tmp_path / "eventloop.csv"
    p.write_text("ts,rss,rss,line\n1700000000000,1,2,3\n")
    assert sorted(wb.load_metrics(p, quiet=True).table["metric"].to_list()) == ["_line", "rss", "rss_"]


def test_prometheus_timestamp_out_of_range(tmp_path):
    p = tmp_path / "x.prom"
    p.write_text("# TYPE up gauge\nup 1 1700000000000\nup 1 1e300\n")   # was InvalidOperationError
    m = wb.load_metrics(p, quiet=True)
    assert m.problems.select("line", "reason").rows() == [(3, "timestamp out of range")]


def test_gclog_numbers_out_of_range(tmp_path):
    p = tmp_path / "gc.log"
    ok = "[123:0x5e0e000]       50 ms: Scavenge 2.3 (3.0) -> 1.9 (4.0) MB, 0.8 / 0.0 ms  (average mu = 1.000, current mu = 1.000) allocation failure;"
    p.write_text("\n".join([ok,
                            ok.replace("[123:", "[123456789012345678901234567890:"),    # pid: i64 overflow
                            ok.replace("50 ms", "1" * 400 + " ms"),                    # t: i64 overflow of us
                            "[123:0x5e0e000]    60 ms: pause=1.2 mutator=3.1 gc=s line=7 pid=9"]) + "\n")  # pivot
    m = wb.load_metrics(p, quiet=True)
    assert m.problems.select("line", "reason").rows() == [(3, "time out of range")]
    assert len(m.gc_events) == 3


def doctor_folder(tmp_path, processstat: bytes | None = None, systeminfo=None, traceevent=None):
    src = METRICS / "io" / "doctor.clinic-doctor"
    d = tmp_path / "run.clinic-doctor"
    d.mkdir(exist_ok=True)
    parts = {"processstat": processstat, "systeminfo": systeminfo, "traceevent": traceevent}
    for q in src.iterdir():
        kind = q.name.rsplit("-", 1)[1]
        data = parts[kind]
        (d / q.name).write_bytes(q.read_bytes() if data is None else data if isinstance(data, bytes)
                                 else json.dumps(data).encode() if not isinstance(data, str) else data.encode())
    return d


def processstat_frames(n=3) -> bytes:
    data = (METRICS / "io" / "doctor.clinic-doctor" / "doctor.clinic-doctor-processstat").read_bytes()
    return fuzzlib._cut_processstat(data, n)


def test_processstat_huge_field_length_does_not_hang(tmp_path):
    ps = processstat_frames(1)
    msg = bytes([(7 << 3) | 2]) + bytes.fromhex("f5ffffffffffffffff01") + ps[2:]   # length 2**64 - 11
    d = doctor_folder(tmp_path, len(msg).to_bytes(2, "big") + msg)
    r = in_subprocess(f"import workbench as wb\ntry:\n    wb.load_metrics({str(d)!r}, quiet=True)\n"
                      "except wb.FormatError as e:\n    print('FormatError', e.section, e.offset)", timeout=60)
    assert r.returncode == 0 and "FormatError processstat 13" in r.stdout, r   # the kernel walked back forever


def test_processstat_of_zeros_allocates_little(tmp_path):
    d = doctor_folder(tmp_path, b"\x00" * (64 * MiB))   # 32M empty frames: np.full((32M, 10)) was 2.7 GB
    err, _, peak = measured(lambda: wb.load_metrics(d, quiet=True))
    assert isinstance(err, FormatError) and err.section == "processstat" and err.offset == 0, err
    assert peak < 200 * MiB, peak


def test_processstat_timestamp_not_a_time(tmp_path):
    import struct

    ps = bytearray(processstat_frames(2))
    i = ps.index(b"\x09", 2)   # the timestamp double of the first message
    ps[i + 1:i + 9] = struct.pack("<d", float("inf"))
    raises(wb.load_metrics, doctor_folder(tmp_path, bytes(ps)), section="processstat", quiet=True)


@pytest.mark.parametrize("systeminfo", [
    '{"clock": {"hrtime": ' + "[" * 5000 + "]" * 5000 + "}}",                       # RecursionError
    {"clock": {"hrtime": [10**400, 0], "unixtime": 1}, "nodeVersions": {"node": "20"}},  # OverflowError
    {"clock": {"hrtime": [1, 0], "unixtime": 1e300}, "nodeVersions": {"node": "20"}},
    {"clock": {"hrtime": [1, 0], "unixtime": 1}, "nodeVersions": {"node": ["20"]}},
], ids=["deep", "huge-int", "huge-time", "version-list"])
def test_doctor_systeminfo_of_the_wrong_shape(tmp_path, systeminfo):
    raises(wb.load_metrics, doctor_folder(tmp_path, systeminfo=systeminfo), section="systeminfo", quiet=True)


@pytest.mark.parametrize("events,section", [
    ([1, 2], "traceevent[0]"),                                                        # polars: TypeError
    ([{"cat": "v8", "name": "V8.GCScavenger", "ts": "soon", "dur": 5}], "traceevent[0]"),
    ([{"cat": "v8", "name": "V8.GCScavenger", "ts": 1e300, "dur": 5}], "traceevent[0]"),  # cast overflow
])
def test_doctor_traceevents_of_the_wrong_shape(tmp_path, events, section):
    raises(wb.load_metrics, doctor_folder(tmp_path, traceevent={"traceEvents": events}), section=section, quiet=True)


def test_doctor_traceevent_deep_field_does_not_crash(tmp_path):
    # json.loads goes 990 deep: enough for polars to fall over
    ev = '{"traceEvents": [{"cat": "v8", "name": "V8.GCScavenger", "ts": 1, "dur": 2, "ph": ' \
        + "[" * 900 + "]" * 900 + "}]}"
    d = doctor_folder(tmp_path, traceevent=ev)
    r = in_subprocess(f"import workbench as wb\ntry:\n    wb.load_metrics({str(d)!r}, quiet=True)\n"
                      "except wb.FormatError as e:\n    print('FormatError', e.section)")
    assert r.returncode == 0 and "FormatError traceevent[0]" in r.stdout, r   # polars segfaulted


def report(tmp_path, edit):
    rep = json.loads((METRICS / "io" / "report.json").read_text())
    edit(rep)
    return write_json(tmp_path / "report.json", rep)


def test_report_values_out_of_range_are_skipped(tmp_path):
    p = report(tmp_path, lambda r: r["resourceUsage"].update(rss=10**400, maxRss="lots"))  # OverflowError, ValueError
    metrics = wb.load_metrics(p, quiet=True).table["metric"].to_list()
    assert "resourceUsage.rss" not in metrics and "resourceUsage.maxRss" not in metrics
    assert "javascriptHeap.usedMemory" in metrics


@pytest.mark.parametrize("edit,section", [
    (lambda r: r["javascriptHeap"].__setitem__("heapSpaces", [1]), "javascriptHeap.heapSpaces"),  # AttributeError
    (lambda r: r.__setitem__("libuv", [[1]]), "libuv[0]"),                                        # AttributeError
    (lambda r: r["header"].__setitem__("dumpEventTimeStamp", "1e400"), "header"),                # OverflowError
])
def test_report_of_the_wrong_shape(tmp_path, edit, section):
    raises(wb.load_metrics, report(tmp_path, edit), section=section, quiet=True)


def test_report_nested_too_deeply(tmp_path):
    p = tmp_path / "report.json"
    p.write_text('{"header": {"dumpEventTimeStamp": "1"}, "x": ' + "[" * 5000 + "]" * 5000 + "}")  # RecursionError
    raises(read_report, p, section="report")


def test_hpy_message_does_not_quote_a_whole_line(tmp_path):
    p = tmp_path / "x.hpy"
    p.write_text(".loader: _load_stat\n.format: SetFormat\n.timemade: 1." + "9" * 1_000_000 + "x\n.count: 0\n.size: 0\n"
                 ".numrows: 0\n.end: .loader: _load_stat\n")
    assert len(raises(wb.load_hpy, p, section="package 0").message) < 300   # was the whole megabyte


def test_hpy_row_count_past_int64(tmp_path):
    p = tmp_path / "x.hpy"
    big = 10**30
    p.write_text(f".loader: _load_stat\n.format: SetFormat\n.timemade: 1.5\n.count: {big}\n.size: 60\n"
                 f".kindname: \n.kindheader: Kind\n.numrows: 1\n.r: {big} 60 str\n.end: .loader: _load_stat\n")
    e = raises(wb.load_hpy, p, section="package 0")   # was InvalidOperationError (str -> i64)
    assert e.offset == p.read_text().index(".r:")


def test_folded_counts_past_int64(tmp_path):
    p = tmp_path / "x.folded"
    p.write_text("a;b 10000000000000000000000\n")   # np.rint(hits).astype(int64): a RuntimeWarning and garbage
    raises(wb.load_profile, p, section="line 1")
    p.write_text("a;b 9000000000000000\n" * 2000)
    raises(wb.load_profile, p, section="line")


def test_lone_surrogates_are_repaired_and_noted(tmp_path):
    d = json.loads((PROFILES / "regex.heapprofile").read_text())
    d["head"]["children"][0]["callFrame"]["url"] = "x\ud800y"   # json.dumps writes the \ud800 escape
    p = write_json(tmp_path / "x.heapprofile", d)
    prof = wb.load_profile(p)   # polars raised UnicodeEncodeError
    assert "x\ufffdy" in prof.frames["url"].to_list()
    assert prof.notes["count"].to_list()[0] == 1 and "surrogate" in prof.notes["what"][0]
    c = json.loads((PROFILES / "regex.cpuprofile").read_text())
    c["nodes"][1]["callFrame"]["functionName"] = "f\udc00"
    for stream in (True, False):
        assert "f\ufffd" in wb.load_profile(write_json(tmp_path / "x.cpuprofile", c), format="cpuprofile",
                                            stream=stream).frames["function"].to_list()


def test_repeated_snapshot_section(tmp_path):
    text = fuzzlib._small_graph(7).text()
    i = text.index('"edges":')
    p = tmp_path / "x.heapsnapshot"
    p.write_text(text[:i] + text[i:text.index("],", i) + 2] * 3 + text[i:])   # each repeat parsed again
    raises(wb.load_snapshot, p, section="edges")


def test_gclog_pause_that_is_not_a_number(tmp_path):
    p = tmp_path / "gc.log"
    ok = "[123:0x5e0e000]       50 ms: Scavenge 2.3 (3.0) -> 1.9 (4.0) MB, 0.8 / 0.0 ms  (average mu = 1.000, current mu = 1.000) allocation failure;"
    p.write_text(ok + "\n" + ok.replace("0.8 / 0.0", "0..8 / 0.0") + "\n")   # strict cast: InvalidOperationError
    m = wb.load_metrics(p, quiet=True)
    assert len(m.gc_events) == 1 and m.problems.select("line", "reason").rows() == [(2, "not a GC trace line")]


def test_trace_event_with_a_deep_pid(tmp_path):
    doc = json.loads(fuzzlib._old_trace((PROFILES / "json.cpuprofile").read_bytes()))
    doc["traceEvents"][1]["pid"] = "DEEP"
    p = tmp_path / "x.trace.json"
    p.write_text(json.dumps(doc).replace('"DEEP"', "[" * 5000 + "]" * 5000))   # f"{pid}": RecursionError
    raises(wb.load_profile, p, section="traceEvents[1]")


def test_jsonl_millions_of_tiny_bad_lines_stay_small(tmp_path):
    p = tmp_path / "memory.jsonl.gz"
    p.write_bytes(gzip.compress(b'{"ts": 1700000000000, "rss": 1}\n' + b"x\n" * 2_000_000))
    _, _, peak = measured(lambda: wb.load_metrics(p, quiet=True))   # Python lists of every line: 200 B each
    assert peak < 64 * MiB, peak


def rss_growth(call: str) -> int:
    """Peak RSS growth (bytes) of ``call`` in a fresh interpreter, after one warm-up load of the same
    reader; polars' allocator is told to give pages back at once so the peak is the call's own."""
    code = ("import workbench as wb\nfrom workbench.io.gclog import read_gclog\n"
            "from workbench.io.prometheus import read_prometheus\n"
            f"wb.load_metrics({str(METRICS / 'io')!r}, quiet=True)\n"
            "def hwm():\n    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
            "open('/proc/self/clear_refs', 'w').write('5')\nh0 = hwm()\n"
            f"try:\n    {call}\nexcept wb.WorkbenchError:\n    pass\nprint((hwm() - h0) * 1024)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                       env=dict(os.environ, WORKBENCH_QUIET="1", _RJEM_MALLOC_CONF="dirty_decay_ms:0,muzzy_decay_ms:0"))
    assert r.returncode == 0, r.stderr
    return int(r.stdout.split()[-1])


@pytest.mark.parametrize("name,line,call", [
    # 25 captures per line, 16 bytes each even when they do not match: ~400 bytes a line
    ("gc.log", b"x\n", "read_gclog(P)"),
    ("x.prom", b"y\n", "read_prometheus(P)"),                           # str.split: a Python str per line
])
def test_short_lines_cost_little(tmp_path, name, line, call):
    p = tmp_path / name
    p.write_bytes((b"up 1 1700000000000\n" if name.endswith(".prom") else b"") + line * (4 << 20))   # 8 MiB
    assert rss_growth(call.replace("P", repr(str(p)))) < 40 * 8 * MiB


def test_jsonl_long_key_is_refused(tmp_path):
    p = tmp_path / "memory.jsonl"
    key = "k" * 100_000   # the metric name of every row of the long table: 100 kB x rows
    p.write_text("".join(f'{{"ts": {1700000000000 + i}, "rss": 1, "{key}": {i}}}\n' for i in range(200)))
    raises(wb.load_metrics, p, section="jsonl", quiet=True)


@pytest.mark.parametrize("key", [b"fut\xed\xa0\x80ure", b"fut\\ud800ure"])   # CESU-8 surrogate; escaped one
def test_snapshot_section_key_with_a_surrogate(tmp_path, key):
    text = fuzzlib._small_graph(7).text().encode()
    p = tmp_path / "x.heapsnapshot"
    p.write_bytes(text.replace(b'"locations":', b'"' + key + b'":[1],\n"locations":'))
    if b"\\" in key:   # the notes frame (printed by every CLI command) raised UnicodeEncodeError
        assert wb.load_snapshot(p).notes["section"].to_list() == ["fut\ufffdure"]
    else:
        raises(wb.load_snapshot, p, section="document")
    assert main(["--quiet", "summary", str(p)]) == (0 if b"\\" in key else 2)


@pytest.mark.parametrize("value", ["1e999", "-1e999", "NaN", "1" * 40])   # json allows these numbers
def test_jaeger_log_time_out_of_range(tmp_path, value):
    p = tmp_path / "t.jaeger.json"
    p.write_text('{"data": [{"traceID": "a1", "spans": [{"traceID": "a1", "spanID": "b1", "operationName": "GET",'
                 ' "startTime": 1700000000000000, "duration": 10, "logs": [{"timestamp": ' + value + ','
                 ' "fields": [{"key": "event", "value": "x"}]}]}]}]}')
    raises(wb.load_traces, p, section="data[0].spans[0].logs.timestamp")


def test_zipkin_tag_nested_too_deep(tmp_path):
    from workbench.io.zipkin import read_zipkin
    p = tmp_path / "t.zipkin.json"
    deep = "[" * 5000 + "]" * 5000
    p.write_text('[{"traceId": "a1", "id": "b1", "name": "GET", "timestamp": 1700000000000000, "duration": 5,'
                 ' "tags": {"x": ' + deep + '}}]')
    raises(read_zipkin, p, section="spans")


def _nested_otlp(path, depth: int, spans: int):
    value = {"stringValue": "x"}
    for i in range(depth):
        value = {"kvlistValue": {"values": [{"key": f"k{i}", "value": value}]}}
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                              "scopeSpans": [{"scope": {"name": "s"}, "spans": [
                                  {"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": "op", "kind": 1,
                                   "startTimeUnixNano": "1000", "endTimeUnixNano": "2000",
                                   "attributes": [{"key": "a", "value": value}]} for i in range(spans)]}]}]}
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")


@pytest.mark.parametrize("depth", [30, 150])
def test_otlp_attributes_nested_deep_cost_little(tmp_path, depth):
    """Arrow inferred one struct type per nesting level: 300 spans nested 150 deep (1.2 MB) took 4.8 GB
    and 11.6 s. Deep pieces now go to Python's json; lines polars' parser gives up on (past ~128
    levels) are judged by Python's json too, so the spans are kept, not refused."""
    p = tmp_path / "deep.otlp.json"
    _nested_otlp(p, depth, 300)
    t = wb.load_traces(p)
    assert len(t.spans) == 300
    assert f'"key":"k{depth - 1}"' in t.spans["attributes"][0][0]["value"]
    assert rss_growth(f"wb.load_traces({str(p)!r})") < 160 * MiB
