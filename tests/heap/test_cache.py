"""The heap reader's on-disk cache (workbench.io.cache): a re-opened snapshot equals a fresh parse
in every array, string, note and DevTools number; a changed file is parsed again; the folder stays
within its bound; two processes can open one file at once; a damaged entry is never trusted."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.io import cache

from . import test_devtools_golden as golden
from .builder import rooted
from .conftest import DATASET_FILES, ROOT

API_FINAL = ROOT / "datasets" / "heap" / "api_gateway" / "final.heapsnapshot.gz"


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(d))
    monkeypatch.delenv("WORKBENCH_CACHE_MAX", raising=False)
    monkeypatch.delenv("WORKBENCH_CACHE", raising=False)
    monkeypatch.setenv("WORKBENCH_CACHE_MIN", "0")   # the small test files count
    return d


def open_twice(path, before_save=None):
    """(fresh, cached): a parse whose passes are written to the cache, then the re-open."""
    fresh = wb.load_snapshot(path, quiet=True)
    assert fresh.cache_file is None
    if before_save:
        before_save(fresh)
    fresh.summary()          # runs every pass; the entry is written after them
    cache.wait()
    again = wb.load_snapshot(path, quiet=True)
    assert again.cache_file is not None, "the second open did not use the cache"
    return fresh, again


def _arrays(obj, prefix=""):
    """Every numpy array reachable from an object's attributes (tuples included), by name."""
    out = {}
    items = obj.__dict__.items() if hasattr(obj, "__dict__") else []
    for k, v in items:
        if isinstance(v, np.ndarray):
            out[prefix + k] = v
        elif isinstance(v, tuple):
            for i, x in enumerate(v):
                if isinstance(x, np.ndarray):
                    out[f"{prefix}{k}.{i}"] = x
        elif k in ("strings", "cons_values"):
            out.update(_arrays(v, f"{prefix}{k}."))
            if k == "cons_values":
                out.update(_arrays(v.table, f"{prefix}{k}.table."))
        elif k == "sections":
            out.update({f"{prefix}sections.{s}": a for s, a in v.items()})
    return out


def assert_same_snapshot(a, b):
    for s in (a, b):   # recomputed after a re-open rather than kept
        s.retainer_counts, s._dominated
    arrs_a, arrs_b = _arrays(a), _arrays(b)
    assert sorted(arrs_a) == sorted(arrs_b)
    for name, x in arrs_a.items():
        y = arrs_b[name]
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert len(a.strings) == len(b.strings)
    assert a.strings.get_many(range(a.strings.n_original, len(a.strings))) == \
        b.strings.get_many(range(b.strings.n_original, len(b.strings)))
    assert a.notes.equals(b.notes)
    assert a.summary().equals(b.summary())
    assert a.statistics() == b.statistics()
    for attr in ("header", "node_types", "edge_types", "root", "node_count", "edge_count", "trace_tree",
                 "unknown_sections", "extra_native_bytes", "file_size"):
        assert getattr(a, attr) == getattr(b, attr), attr


@pytest.mark.parametrize("path", [API_FINAL] + [p for p in DATASET_FILES if "versions/node8" in str(p)],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reopened_snapshot_equals_the_parse(path):
    # cons values, the retainer index and the id order computed before the save travel with it
    fresh, again = open_twice(path, lambda s: (s.display_names(), s.retainers(int(s.ids[5])), s.ordinals_of([1])))
    assert "_summary_frame" in again.__dict__ and "_retainers" in again.__dict__
    assert_same_snapshot(fresh, again)
    # analyses that run only after the re-open agree with a parse that never saw the cache
    plain = wb.load_snapshot(path, quiet=True, cache=False)
    assert plain.cache_file is None
    for s in (again, plain):
        s.analyze()
    assert again.display_names().equals(plain.display_names())
    nid = int(plain.ids[np.argsort(plain.retained_sizes, kind="stable")[-10]])
    assert again.retainers(nid).equals(plain.retainers(nid))
    assert again.retainer_paths(nid, k=2).equals(plain.retainer_paths(nid, k=2))
    assert again.nodes.equals(plain.nodes)
    assert again.duplicate_strings(top=5).equals(plain.duplicate_strings(top=5))


def test_comparison_of_two_reopened_snapshots_equals_the_parse():
    base = ROOT / "datasets" / "heap" / "api_gateway" / "baseline.heapsnapshot.gz"
    _, b = open_twice(base)
    _, f = open_twice(API_FINAL)
    pb = wb.load_snapshot(base, quiet=True, cache=False)
    pf = wb.load_snapshot(API_FINAL, quiet=True, cache=False)
    assert f.compare(b).equals(pf.compare(pb))
    target = ROOT / "datasets" / "heap" / "api_gateway" / "target.heapsnapshot.gz"
    _, t = open_twice(target)
    pt = wb.load_snapshot(target, quiet=True, cache=False)
    ours, theirs = wb.find_leaks(b, t, f), wb.find_leaks(pb, pt, pf)
    assert len(theirs.suspects) and ours.suspects.equals(theirs.suspects)


@pytest.mark.parametrize("path", DATASET_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reopened_snapshot_equals_devtools(path):
    """The DevTools goldens hold for the snapshot mapped from the cache, cons strings included."""
    _, again = open_twice(path, lambda s: s.display_names())
    get = lambda p: again  # noqa: E731
    golden.test_per_node_numbers_equal_devtools(path, get)
    golden.test_summary_rows_equal_devtools(path, get)
    golden.test_statistics_equal_devtools(path, get)


def _hand_built(path, size=100):
    g, root = rooted()
    a = g.node("object", "Session", size)
    b = g.node("object", "Buffer", 20)
    g.edge(root, a, "shortcut", "s")
    g.edge(a, b, "property", "buf")
    return g.write(path)


def _sizes(snap):
    return dict(snap.summary().select("class", "self_size").iter_rows())


def test_a_changed_file_is_parsed_again(tmp_path):
    p = _hand_built(tmp_path / "s.heapsnapshot", size=100)
    _, again = open_twice(p)
    assert _sizes(again)["Session"] == 100
    st = os.stat(p)
    # same size, new mtime
    _hand_built(p, size=300)
    assert os.path.getsize(p) == st.st_size
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    s = wb.load_snapshot(p, quiet=True)
    assert s.cache_file is None and _sizes(s)["Session"] == 300
    cache.wait()
    assert _sizes(wb.load_snapshot(p, quiet=True))["Session"] == 300
    # same size, same mtime as before, new content
    st = os.stat(p)
    _hand_built(p, size=700)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(p).st_mtime_ns == st.st_mtime_ns and os.path.getsize(p) == st.st_size
    s = wb.load_snapshot(p, quiet=True)
    assert s.cache_file is None and _sizes(s)["Session"] == 700
    # one entry per input file: the stale ones were replaced, not piled up
    cache.wait()
    assert len(cache.entries()) == 1


def test_the_key_hashes_head_and_tail(tmp_path):
    """Only content the key sees can be detected without a stat change: the first and last MiB."""
    big = tmp_path / "big.bin"
    big.write_bytes(b"a" * (3 << 20))
    k1 = cache.file_key(big, "heap", "x")
    data = bytearray(big.read_bytes())
    st = os.stat(big)
    for pos, seen in ((10, True), (len(data) - 10, True), (len(data) // 2, False)):
        d = bytearray(data)
        d[pos] = ord("b")
        big.write_bytes(bytes(d))
        os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns))
        k2 = cache.file_key(big, "heap", "x")
        assert (k1["head_tail"] != k2["head_tail"]) == seen, pos
        assert k1["mtime_ns"] == k2["mtime_ns"]
    # a change of the reader's or the model's code retires every entry
    assert cache.file_key(big, "heap", "y") != cache.file_key(big, "heap", "x")


def test_cache_false_and_the_environment_turn_it_off(tmp_path, cache_dir, monkeypatch):
    s = wb.load_snapshot(API_FINAL, quiet=True, cache=False)
    s.summary()
    cache.wait()
    assert cache.entries() == []
    monkeypatch.setenv("WORKBENCH_CACHE", "0")
    s = wb.load_snapshot(API_FINAL, quiet=True)
    s.summary()
    cache.wait()
    assert cache.entries() == []
    monkeypatch.delenv("WORKBENCH_CACHE")
    # below the size floor nothing is cached unless asked
    monkeypatch.setenv("WORKBENCH_CACHE_MIN", str(os.path.getsize(API_FINAL) + 1))
    wb.load_snapshot(API_FINAL, quiet=True).summary()
    cache.wait()
    assert cache.entries() == []
    wb.load_snapshot(API_FINAL, quiet=True, cache=True).summary()
    cache.wait()
    assert [p.parent for p, _, _ in cache.entries()] == [cache_dir]


def test_the_oldest_entries_are_evicted(tmp_path, monkeypatch):
    files = [_hand_built(tmp_path / f"{i}.heapsnapshot", size=10 + i) for i in range(4)]
    _, one = open_twice(files[0])
    entry = os.path.getsize(one.cache_file)
    # room for two entries (the hand-built ones differ by a few bytes at most)
    monkeypatch.setenv("WORKBENCH_CACHE_MAX", str(2 * entry + entry // 2))
    open_twice(files[1])
    os.utime(one.cache_file, (1, 1))
    os.utime(cache.entries()[-1][0], (2, 2))
    # a hit refreshes an entry's last use: file 0 is now the newest
    assert wb.load_snapshot(files[0], quiet=True).cache_file is not None
    open_twice(files[2])
    assert len(cache.entries()) == 2
    assert sum(n for _, n, _ in cache.entries()) <= 2 * entry + entry // 2
    names = {p.name for p, _, _ in cache.entries()}
    assert {_entry_file(f).name for f in (files[0], files[2])} == names   # (named by the path only)
    # an entry larger than the whole bound is not written at all
    monkeypatch.setenv("WORKBENCH_CACHE_MAX", str(entry // 2))
    s = wb.load_snapshot(files[3], quiet=True)
    s.summary()
    cache.wait()
    assert _entry_file(files[3]).name not in {p.name for p, _, _ in cache.entries()}


def _entry_file(snap_path) -> Path:
    return cache.entry_path(cache.file_key(snap_path, "heap", ""))


def _header_span(b: bytearray):
    """(offset, length) of an entry's header: recorded after the magic and again at the end."""
    return int.from_bytes(b[8:16], "little"), int.from_bytes(b[16:24], "little")


def _damage_header(b: bytearray):
    hoff, hlen = _header_span(b)
    b[hoff:hoff + hlen] = b"{" + b"x" * (hlen - 1)


def _damage_array(b: bytearray):
    hoff, hlen = _header_span(b)
    header = json.loads(bytes(b[hoff:hoff + hlen]))
    off = header["arrays"]["to"][0]
    b[off:off + 8] = bytes(8) if b[off:off + 8] != bytes(8) else b"\xff" * 8


@pytest.mark.parametrize("damage", [
    lambda b: b[:len(b) // 2],                       # truncated (a copy cut short)
    lambda b: bytearray(b"NOTCACHE") + b[8:],        # another file under the name
    _damage_header,
    _damage_array,                                   # edge targets overwritten: checksum
    lambda b: b[:-16] + bytearray(16),               # trailer gone
    lambda b: bytearray(),                           # empty
], ids=["truncated", "magic", "header", "array", "trailer", "empty"])
def test_a_damaged_entry_is_discarded_and_the_file_parsed(damage):
    fresh, again = open_twice(API_FINAL)
    p = Path(again.cache_file)
    del again
    b = bytearray(p.read_bytes())
    out = damage(b)
    p.write_bytes(bytes(out if out is not None else b))
    s = wb.load_snapshot(API_FINAL, quiet=True)
    assert s.cache_file is None
    notes = s.notes.filter(pl.col("section") == "cache")
    assert len(notes) == 1 and "damaged" in notes["what"][0]
    assert s.summary().equals(fresh.summary())
    cache.wait()
    # the damage is not kept: the entry was rewritten after the parse, without the note
    s2 = wb.load_snapshot(API_FINAL, quiet=True)
    assert s2.cache_file is not None
    assert s2.notes.equals(fresh.notes)
    assert_same_snapshot(fresh, s2)


def test_a_half_written_entry_is_ignored(tmp_path):
    fresh, again = open_twice(API_FINAL)
    p = Path(again.cache_file)
    del again
    data = p.read_bytes()
    os.unlink(p)
    # a writer that died mid-way leaves its temporary file, never a half entry under the name
    p.with_name(p.name + ".tmp.99999.1").write_bytes(data[: len(data) // 3])
    s = wb.load_snapshot(API_FINAL, quiet=True)
    assert s.cache_file is None and len(s.notes.filter(pl.col("section") == "cache")) == 0


def test_writes_to_a_mapped_array_do_not_reach_the_entry():
    _, again = open_twice(API_FINAL)
    first = int(again.ids[1])
    again.ids[1] = first + 2          # the arrays are writeable, like a parse's (copy-on-write)
    del again
    s = wb.load_snapshot(API_FINAL, quiet=True)
    assert s.cache_file is not None and int(s.ids[1]) == first


CHILD = """
import json, sys, workbench as wb
from workbench.io import cache
s = wb.load_snapshot(sys.argv[1], quiet=True)
rows = s.summary().rows()
st = s.statistics()
cache.wait()
print(json.dumps({"cached": s.cache_file is not None, "rows": rows, "stats": st,
                  "numba": "numba" in sys.modules}))
"""


def _child(path, env):
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_two_processes_open_one_file_at_once(cache_dir):
    env = dict(os.environ)
    procs = [_child(API_FINAL, env) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        outs.append(json.loads(out))
    assert outs[0]["rows"] == outs[1]["rows"] and outs[0]["stats"] == outs[1]["stats"]
    # one whole entry, no temporary file left behind
    assert [p.suffix for p in cache_dir.iterdir()] == [".wbc"]
    third = _child(API_FINAL, env)
    out, err = third.communicate(timeout=300)
    res = json.loads(out)
    assert res["cached"] and res["rows"] == outs[0]["rows"] and res["stats"] == outs[0]["stats"]
    # the re-open needs no numba kernel at all (that import alone costs a quarter of a second)
    assert not res["numba"]


def _entry_appears(cache_dir, timeout=120) -> bool:
    """Whether the folder comes to hold exactly one whole entry (the child that writes it may not
    have created the folder yet)."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cache_dir.exists() and [p.suffix for p in cache_dir.iterdir()] == [".wbc"]:
            return True
        time.sleep(0.1)
    return False


def test_a_process_that_exits_mid_write_hands_the_entry_over(cache_dir):
    """The CLI exits without waiting for the background write: a forked child finishes it, and
    leaves no temporary file behind."""
    import time
    code = ("import sys, time, workbench as wb\nfrom workbench.io import cache\n"
            "slow = cache.Writer._step\n"   # a write still running at exit, as on a big file
            "cache.Writer._step = lambda self, op: (time.sleep(0.3), slow(self, op))[1]\n"
            "s = wb.load_snapshot(sys.argv[1], quiet=True)\ns.summary()\n"
            "assert any(w.alive() for ws in cache._pending.values() for w in ws)\n")   # no cache.wait()
    r = subprocess.run([sys.executable, "-c", code, str(API_FINAL)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert _entry_appears(cache_dir)
    res = json.loads(_child(API_FINAL, dict(os.environ)).communicate(timeout=300)[0])
    assert res["cached"]


def _writers() -> set:
    """This process's cache writers still pending (an earlier test's may linger until collected)."""
    return {w for ws in list(cache._pending.values()) for w in ws}


def test_the_parsed_arrays_are_written_before_the_passes_and_not_twice(tmp_path):
    before = _writers()
    s = wb.load_snapshot(API_FINAL, quiet=True)
    (w,) = _writers() - before
    assert w.state == "open" and "to" in w.table and "ename" in w.table   # handed over at load
    assert "_dominators.0" not in w.table
    early = {name: rec[0] for name, rec in w.table.items()}
    s.summary()
    cache.wait()
    b = bytearray(Path(w.p).read_bytes())
    hoff, hlen = _header_span(b)
    table = json.loads(bytes(b[hoff:hoff + hlen]))["arrays"]
    # the parse's arrays stayed where they were first written; the passes' came after them
    assert all(table[name][0] == off for name, off in early.items() if name in table)
    assert min(table[n][0] for n in table if n.startswith("_dominators")) > max(early.values())


def test_a_writer_writes_the_final_array_under_a_name_whose_array_changed(tmp_path):
    key = {"format": cache.FORMAT, "kind": "test", "path": str(tmp_path / "x"), "code": "1"}
    w = cache.Writer(key)
    first = np.arange(100_000, dtype=np.uint32)
    w.add("a", first)
    w.add("b", np.ones(10, np.uint8))
    w.finish({"a": first * 2, "b": w.objs["b"]}, {"note": "done"})
    cache.wait()
    e, problem = cache.lookup(key)
    assert problem is None and e.info == {"note": "done"}
    assert np.array_equal(e.arrays["a"], first * 2) and e.arrays["b"].tolist() == [1] * 10


def test_a_snapshot_dropped_before_its_passes_leaves_nothing(cache_dir):
    import gc
    before = _writers()
    s = wb.load_snapshot(API_FINAL, quiet=True)
    (w,) = _writers() - before
    del s
    gc.collect()
    w.thread.join(30)
    assert not w.alive() and w.state == "abandoned"
    assert not cache_dir.exists() or list(cache_dir.iterdir()) == []
    # and a process that exits before analysing leaves no temporary file either
    code = "import sys, workbench as wb\ns = wb.load_snapshot(sys.argv[1], quiet=True)\n"
    r = subprocess.run([sys.executable, "-c", code, str(API_FINAL)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not cache_dir.exists() or list(cache_dir.iterdir()) == []


def test_the_command_writes_its_entry_after_it_exits(cache_dir):
    """``workbench summary`` defers the entry to a child forked at exit (the passes' arrays, the
    Statistics and the header are made there); the next open finds it whole."""
    import time
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "workbench", "--quiet", "summary", str(API_FINAL), "--format", "json"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(r.stdout)
    assert _entry_appears(cache_dir)
    res = json.loads(_child(API_FINAL, env).communicate(timeout=300)[0])
    assert res["cached"] and not res["numba"]
    fresh = wb.load_snapshot(API_FINAL, quiet=True, cache=False)
    assert res["stats"] == fresh.statistics()
    assert [row["class"] for row in rows] == fresh.summary()["class"].to_list()
