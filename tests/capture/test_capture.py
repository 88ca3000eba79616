"""Live capture against real node children: each artefact kind is captured over the inspector and
loaded with the project's readers; a snapshot taken over the protocol matches v8.writeHeapSnapshot
in the same state; a target killed mid-snapshot gives a clear error and no file."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import polars as pl
import pytest

import workbench as wb
from workbench.capture import attach, list_targets, open_inspector
from workbench.errors import CaptureError, UsageError

SESSIONS = 3000


def _parts(d):
    return [p for p in os.listdir(d) if p.endswith(".part")]


def test_snapshot_equals_writeheapsnapshot_in_same_state(node_target, tmp_path):
    t = node_target("--sessions", SESSIONS)
    ref = tmp_path / "ref.heapsnapshot"
    with attach(pid=t.pid, quiet=True) as s:
        assert s.evaluate("1 + 2") == 3
        # Warm up: compile the very expression used below, so both snapshots see the same code.
        expr = "require('v8').writeHeapSnapshot({!r})"
        s.evaluate(expr.format(str(tmp_path / "warm.heapsnapshot")))
        live = s.take_heap_snapshot(tmp_path / "live.heapsnapshot")
        s.evaluate(expr.format(str(ref)))
    assert live == tmp_path / "live.heapsnapshot" and not _parts(tmp_path)
    a = wb.load_snapshot(live, quiet=True).summary()
    b = wb.load_snapshot(ref, quiet=True).summary()
    # The planted objects: exactly the sessions the target created, same sizes as V8's own file.
    sa, sb = a.filter(pl.col("class") == "Session"), b.filter(pl.col("class") == "Session")
    assert sa["count"].to_list() == [SESSIONS] == sb["count"].to_list()
    assert sa.select("self_size", "retained_size").rows() == sb.select("self_size", "retained_size").rows()
    # Everything else within allocation noise (the inspector session itself, code compiled on the way).
    j = a.join(b, on="class_key", how="full", suffix="_ref", coalesce=True).fill_null(0)
    big = j.filter(pl.col("count_ref") >= 100)
    assert len(big) >= 10
    worst = big.with_columns(d=(pl.col("count") - pl.col("count_ref")).abs(),
                             lim=pl.max_horizontal(pl.lit(20), pl.col("count_ref") * 0.01))
    assert worst.filter(pl.col("d") > pl.col("lim")).is_empty(), worst.sort("d").tail(5)
    assert abs(a["self_size"].sum() - b["self_size"].sum()) <= 0.01 * b["self_size"].sum()
    assert len(set(a["class_key"]) ^ set(b["class_key"])) <= 5


def test_cpu_heap_sampling_and_metrics_load_with_readers(node_target, tmp_path):
    t = node_target("--load", 5)
    with attach(pid=t.pid, quiet=True, out_dir=tmp_path) as s:
        cpu = s.cpu_profile(1.0, tmp_path / "x.cpuprofile", interval_us=500)
        alloc = s.sampling_heap_profile(1.0, tmp_path / "x.heapprofile", interval_bytes=4096)
        met = s.sample_metrics(0.2, 1.0, tmp_path / "x.jsonl")
        default = s.cpu_profile(0.3)  # no path: a fresh file in out_dir
    assert default.parent == tmp_path and default.suffix == ".cpuprofile"
    prof = wb.load_profile(cpu)
    assert prof.kind == "cpu"
    assert 0.8 <= prof.duration_ms / 1000 <= 3.0
    fns_cpu = prof.functions()
    # the scenario's per-request work is sampled: renderPage, or (when TurboFan has inlined it into
    # its caller, which depends on timing) the request handler of the same file
    app = fns_cpu.filter(pl.col("url").str.contains("capture_leaky_service.js"))
    assert app["total_samples"].sum() > 0, fns_cpu.head(10)
    assert {"renderPage", "login", "(anonymous)"} & set(app["function"].to_list())
    hp = wb.load_profile(alloc)
    assert hp.kind == "alloc"
    fns = hp.functions()
    assert fns["self_size"].sum() > 0
    # a sampling heap profile keeps samples of objects still alive: the leaking login() path (or
    # the handler it was inlined into)
    app_alloc = fns.filter(pl.col("url").str.contains("capture_leaky_service.js"))
    assert app_alloc["self_size"].sum() > 0
    assert {"login", "Session", "(anonymous)"} & set(app_alloc["function"].to_list())
    m = wb.load_metrics(met)
    heap_used = m.series("heap_used")
    assert len(heap_used) == 6  # 1.0 s / 0.2 s + the first sample
    assert heap_used["value"].min() > 1e6
    rows = [json.loads(x) for x in met.read_text().splitlines()]
    assert "utilization" not in rows[0] and all(0 <= r["utilization"] <= 1 for r in rows[1:])
    ts = [r["ts"] for r in rows]
    assert all(150 <= b - a <= 600 for a, b in zip(ts, ts[1:]))  # sampled every ~200 ms
    assert rows[-1]["used_heap_size_bytes"] > 0 and "number_of_native_contexts" in rows[-1]


def test_three_snapshots_show_the_growing_sessions(node_target, tmp_path):
    t = node_target("--load", 5)
    with attach(pid=t.pid, quiet=True) as s:
        paths = s.three_snapshots(0.7, tmp_path, gz=True)
    assert [p.name for p in paths] == ["baseline.heapsnapshot.gz", "target.heapsnapshot.gz", "final.heapsnapshot.gz"]
    counts = []
    for p in paths:
        summ = wb.load_snapshot(p, quiet=True).summary()
        counts.append(summ.filter(pl.col("class") == "Session")["count"].sum())
    assert counts[0] < counts[1] < counts[2]


def test_target_killed_mid_snapshot_leaves_no_file(node_target, tmp_path):
    t = node_target("--ballast", 300_000)
    final = tmp_path / "big.heapsnapshot"
    killed = threading.Event()

    def killer():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            parts = _parts(tmp_path)
            if parts and os.path.getsize(tmp_path / parts[0]) > 1_000_000:  # streaming has begun
                os.kill(t.pid, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.01)

    with attach(pid=t.pid, quiet=True) as s:
        th = threading.Thread(target=killer)
        th.start()
        with pytest.raises(CaptureError) as ei:
            s.take_heap_snapshot(final)
        th.join()
    assert killed.is_set()
    msg = str(ei.value)
    assert "HeapProfiler.takeHeapSnapshot" in msg and f"process {t.pid} has exited" in msg
    assert not final.exists() and os.listdir(tmp_path) == []


def test_silent_target_times_out(node_target):
    t = node_target()
    with attach(pid=t.pid, quiet=True, timeout=1.0) as s:
        os.kill(t.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            with pytest.raises(CaptureError, match="no answer from the target for 1 s"):
                s.evaluate("1")
            assert time.monotonic() - t0 < 5
        finally:
            os.kill(t.pid, signal.SIGCONT)


def test_attach_by_url_port_and_pid_reach_the_same_process(node_target):
    t = node_target("--sessions", 7, inspect=True)
    probe = "process.pid"
    with attach(t.ws_url, quiet=True) as s:
        assert s.evaluate(probe) == t.pid
    with attach(port=t.inspector_port, quiet=True) as s:
        assert s.evaluate(probe) == t.pid
    with attach(f"ws://127.0.0.1:{t.inspector_port}", quiet=True) as s:  # looked up in /json/list
        assert s.evaluate(probe) == t.pid
    with attach(pid=t.pid, quiet=True) as s:  # already listening: no new port, found by /proc
        assert s.evaluate(probe) == t.pid
    assert list_targets("127.0.0.1", t.inspector_port)[0]["webSocketDebuggerUrl"] == t.ws_url


def test_protocol_error_and_js_exception_are_capture_errors(node_target):
    t = node_target(inspect=True)
    with attach(t.ws_url, quiet=True) as s:
        with pytest.raises(CaptureError, match="No.such.Method|not found|wasn't found"):
            s.call("No.such.Method")
        with pytest.raises(CaptureError, match="the expression threw: Error: boom"):
            s.evaluate("throw new Error('boom')")
        assert s.evaluate("2 * 21") == 42  # the session survives both


def test_loopback_only_unless_asked():
    with pytest.raises(UsageError, match="not a loopback address"):
        attach("ws://192.0.2.1:9229/abc")
    with pytest.raises(UsageError, match="not a loopback address"):
        attach(port=9229, host="192.0.2.1")
    with pytest.raises(UsageError, match="exactly one"):
        attach()


def test_refuses_to_signal_a_process_that_is_not_node():
    p = subprocess.Popen(["sleep", "30"])
    try:
        with pytest.raises(UsageError, match="not a node process"):
            open_inspector(p.pid, timeout=1)
        time.sleep(0.2)
        assert p.poll() is None  # not signalled: SIGUSR1 would have terminated sleep
    finally:
        p.kill()
        p.wait()


def test_dead_pid_is_a_capture_error():
    p = subprocess.Popen(["node", "-e", "0"])
    p.wait()
    with pytest.raises(CaptureError, match=f"process {p.pid} does not exist"):
        attach(pid=p.pid)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench", "--quiet", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_cli_capture_each_kind(node_target, tmp_path):
    t = node_target("--load", 10, "--sessions", 50)
    r = _cli("capture", "heap", "--pid", t.pid, "-o", tmp_path / "h.heapsnapshot.gz")
    assert r.returncode == 0, r.stderr
    assert wb.load_snapshot(tmp_path / "h.heapsnapshot.gz", quiet=True).summary().filter(
        pl.col("class") == "Session")["count"].item() >= 50
    port = wb.attach(pid=t.pid, quiet=True)  # the inspector is open now; find its port
    iport = int(port.url.split(":")[2].split("/")[0])
    port.close()
    r = _cli("capture", "cpu", "--port", iport, "-o", tmp_path / "c.cpuprofile", "--seconds", 0.5)
    assert r.returncode == 0, r.stderr
    assert wb.load_profile(tmp_path / "c.cpuprofile").kind == "cpu"
    r = _cli("capture", "heap-sampling", "--port", iport, "-o", tmp_path / "a.heapprofile", "--seconds", 0.5)
    assert r.returncode == 0, r.stderr
    assert wb.load_profile(tmp_path / "a.heapprofile").kind == "alloc"
    r = _cli("capture", "metrics", "--port", iport, "-o", tmp_path / "m.jsonl", "--seconds", 0.4, "--every", 0.2)
    assert r.returncode == 0, r.stderr
    assert len(wb.load_metrics(tmp_path / "m.jsonl").series("heap_used")) == 3


def test_cli_errors_are_one_line(tmp_path):
    p = subprocess.Popen(["node", "-e", "0"])
    p.wait()
    r = _cli("capture", "heap", "--pid", p.pid, "-o", tmp_path / "x.heapsnapshot")
    assert r.returncode == 2
    assert r.stderr.strip() == f"workbench: error: process {p.pid} does not exist"
    r = _cli("capture", "heap", "--url", "ws://192.0.2.1:9229/x", "-o", tmp_path / "x.heapsnapshot")
    assert r.returncode == 2 and "not a loopback address" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.heapsnapshot").exists()
