"""Readers against counts taken straight from the raw files, and bad input against one-line errors."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.cli import main
from workbench.errors import FormatError, UsageError

ROOT = Path(__file__).resolve().parents[2]
DS = ROOT / "datasets" / "profiles"


def raw(name):
    with open(DS / name, "rb") as f:
        data = f.read()
    return json.loads(gzip.decompress(data) if name.endswith(".gz") else data)


def test_cpuprofile_counts_match_the_file():
    d = raw("cpu_slow.cpuprofile")
    p = wb.load_profile(DS / "cpu_slow.cpuprofile")
    assert p.n_nodes == len(d["nodes"]) and p.n_samples == len(d["samples"])
    assert sorted(p.node_id.tolist()) == sorted(n["id"] for n in d["nodes"])
    hits = {n["id"]: n.get("hitCount", 0) for n in d["nodes"]}
    # one sample convention: hit counts are the samples array's histogram, not the file's hitCount
    # (they disagree on real V8 files), and the disagreement is in the notes
    counted = {i: d["samples"].count(i) for i in hits}
    assert counted != hits
    assert dict(zip(p.node_id.tolist(), p.hit_count.tolist())) == counted
    note = p.notes.filter(p.notes["section"] == "nodes.hitCount")
    assert note["count"].to_list() == [sum(counted[i] != hits[i] for i in hits)]
    # samples in file order and time from startTime + cumulative deltas
    assert p.samples["node_id"].to_list() == d["samples"]
    ts = d["startTime"] + np.cumsum(d["timeDeltas"])
    np.testing.assert_allclose(p.sample_ts_us, ts)
    assert p.duration_ms == pytest.approx((d["endTime"] - d["startTime"]) / 1000)
    # lossy/odd facts of the real file are reported, not hidden
    assert p.meta["hit_count_minus_samples"] == sum(hits.values()) - len(d["samples"])


def test_trace_profile_equals_its_twin_cpuprofile():
    """The same V8 profiler session, read from trace ProfileChunks and from the .cpuprofile node wrote."""
    twin = wb.load_profile(DS / "trace_twin.cpuprofile")
    t = wb.load_profile(DS / "trace.json.gz", profile=next(
        k for k, n in wb.load_profile(DS / "trace.json.gz").meta["trace_profiles"].items() if n == twin.n_samples))
    assert t.source == "trace" and t.n_samples == twin.n_samples

    def stacks(p):
        lab = p.frame_labels
        names = lab["name"].to_numpy()[p.frame]
        lines = lab["line"].to_numpy()[p.frame]
        out = []
        for s in p.sample_node.tolist():
            st = []
            while s > 0:
                st.append((names[s], int(lines[s])))
                s = p.parent[s]
            out.append(tuple(st))
        return out

    assert stacks(t) == stacks(twin)
    np.testing.assert_allclose(t.sample_ts_us, twin.sample_ts_us)
    # hit counts counted from samples (traces have no hitCount) equal the sample histogram of the twin
    assert t.meta["hit_counts"] == "counted from samples"
    assert t.hit_count.sum() == twin.n_samples


def test_trace_lists_profiles_and_refuses_unknown_one():
    t = wb.load_profile(DS / "trace.json.gz")
    assert len(t.meta["trace_profiles"]) == 2
    assert t.n_samples == max(t.meta["trace_profiles"].values())
    with pytest.raises(UsageError, match="no profile"):
        wb.load_profile(DS / "trace.json.gz", profile="1:0x9")


def test_heapprofile_self_sizes_and_unknown_samples_counted():
    d = raw("alloc.heapprofile")
    p = wb.load_profile(DS / "alloc.heapprofile")
    nodes, stack = {}, [d["head"]]
    while stack:
        n = stack.pop()
        nodes[n["id"]] = n
        stack.extend(n["children"])
    assert p.n_nodes == len(nodes)
    assert dict(zip(p.node_id.tolist(), p.self_value.tolist())) == {k: v["selfSize"] for k, v in nodes.items()}
    unknown = [s for s in d["samples"] if s["nodeId"] not in nodes]
    assert p.meta["samples_with_unknown_node"] == len(unknown) > 0
    assert p.n_samples == len(d["samples"]) - len(unknown)
    assert p.total_value == sum(v["selfSize"] for v in nodes.values())
    # an ordinal window recomputes self sizes from the samples, as DevTools does
    lo = min(s["ordinal"] for s in d["samples"])
    hi = sorted(s["ordinal"] for s in d["samples"])[len(d["samples"]) // 2]
    w = p.window(lo, hi)
    expect = sum(s["size"] for s in d["samples"] if lo <= s["ordinal"] <= hi and s["nodeId"] in nodes)
    assert w.total_value == expect


def test_folded_roundtrip_keeps_the_call_tree(tmp_path):
    p = wb.load_profile(DS / "cpu_slow.cpuprofile")
    out = tmp_path / "slow.folded"
    p.to_folded(out)
    q = wb.load_profile(out, interval_ms=p.meta["interval_ms"])
    a = p.calltree().select("depth", "function", "line", "self_ms", "total_ms").sort("depth", "function", "line",
                                                                                     "total_ms")
    b = q.calltree().select("depth", "function", "line", "self_ms", "total_ms").sort("depth", "function", "line",
                                                                                     "total_ms")
    assert a["function"].to_list() == b["function"].to_list()
    np.testing.assert_allclose(a["total_ms"].to_numpy(), b["total_ms"].to_numpy(), rtol=1e-9)
    # every line's count equals the merged node's hit count; the file's total equals the hits off the root
    counts = [int(line.rsplit(" ", 1)[1]) for line in out.read_text().splitlines()]
    assert sum(counts) == int(p.hit_count.sum() - p.hit_count[0])


def test_folded_by_hand(tmp_path):
    f = tmp_path / "x.folded"
    f.write_text("main;a;b 3\nmain;a 2\nmain;c 5\n\nmain;a;b 1\n")
    p = wb.load_profile(f)
    ct = p.calltree()
    tot = dict(zip(ct["function"], ct["total_ms"]))
    assert tot == {"(root)": 11.0, "main": 11.0, "a": 6.0, "b": 4.0, "c": 5.0}
    assert p.meta["stacks"] == 4


def test_speedscope_export_reproduces_weights(tmp_path):
    p = wb.load_profile(DS / "cpu_fast.cpuprofile")
    doc = p.to_speedscope()
    prof = doc["profiles"][0]
    assert len(prof["samples"]) == p.n_samples == len(prof["weights"])
    frames = doc["shared"]["frames"]
    # the weight of samples whose stack contains makePayload equals its total over the samples
    mk = {i for i, f in enumerate(frames) if f["name"] == "makePayload"}
    w = sum(wt for st, wt in zip(prof["samples"], prof["weights"]) if mk & set(st))
    counted = p.window(0, 1e12).hotspots().filter(pl.col("function") == "makePayload")["total_ms"][0]
    assert w == pytest.approx(counted, rel=1e-9)


# ---- bad input ---------------------------------------------------------------------------------

def write(tmp_path, name, data: bytes):
    f = tmp_path / name
    f.write_bytes(data)
    return f


GOOD = {"nodes": [{"id": 1, "callFrame": {"functionName": "(root)", "scriptId": "0", "url": "", "lineNumber": -1,
                                          "columnNumber": -1}, "hitCount": 0, "children": [2]},
                  {"id": 2, "callFrame": {"functionName": "f", "scriptId": "1", "url": "a.js", "lineNumber": 0,
                                          "columnNumber": 0}, "hitCount": 2}],
        "startTime": 0, "endTime": 2000, "samples": [2, 2], "timeDeltas": [500, 1000]}


def variant(**kw):
    d = json.loads(json.dumps(GOOD))
    for k, v in kw.items():
        d[k] = v
    return d


@pytest.mark.parametrize("data,section", [
    (json.dumps(GOOD)[:-40].encode(), "document"),                                # truncated
    (b"", "document"),                                                             # empty
    (b"\x1f\x8b\x08\x00garbage", "gzip"),                                          # corrupt gzip
    (json.dumps(variant(samples=[2, 7])).encode(), "samples[1]"),                  # unknown sample id
    (json.dumps(variant(timeDeltas=[1])).encode(), "timeDeltas"),                  # lengths differ
    (json.dumps(variant(samples=[2, "x"])).encode(), "samples[1]"),                # wrong type
    (json.dumps(variant(endTime=-5)).encode(), "endTime"),                         # end before start
    (json.dumps(variant(nodes=[GOOD["nodes"][0], {**GOOD["nodes"][1], "children": [1]}])).encode(), "nodes"),  # cycle
    (json.dumps(variant(nodes=[GOOD["nodes"][0], {**GOOD["nodes"][1], "id": 1}])).encode(), "nodes"),  # dup id
    (json.dumps(variant(nodes=[GOOD["nodes"][0], 5])).encode(), "nodes[1]"),       # node not an object
    (json.dumps(variant(nodes=[])).encode(), "nodes"),                             # no nodes
])
def test_bad_cpuprofiles_raise_format_errors(tmp_path, data, section):
    f = write(tmp_path, "bad.cpuprofile", data)
    with pytest.raises(FormatError) as e:
        wb.load_profile(f, format="cpuprofile")
    assert e.value.section.startswith(section)
    assert str(f) in e.value.one_line()


def test_truncated_json_names_the_byte_offset(tmp_path):
    text = json.dumps(GOOD)
    f = write(tmp_path, "t.cpuprofile", text[:100].encode())
    with pytest.raises(FormatError) as e:
        wb.load_profile(f)
    assert e.value.offset == 100 and "truncated" in e.value.message


def test_bad_heapprofile_and_folded(tmp_path):
    f = write(tmp_path, "x.heapprofile", json.dumps({"head": {"callFrame": {}, "id": 1, "selfSize": -3,
                                                              "children": []}, "samples": []}).encode())
    with pytest.raises(FormatError, match="selfSize"):
        wb.load_profile(f)
    g = write(tmp_path, "x.folded", b"a;b 3\nnot a stack line\n")
    with pytest.raises(FormatError) as e:
        wb.load_profile(g)
    assert e.value.section == "line 2"


def test_deep_heapprofile_does_not_overflow(tmp_path):
    # json.dumps cannot nest this deep either: write the text by hand
    def cf(name, line):
        return ('{"functionName": "%s", "scriptId": 1, "url": "a.js", "lineNumber": %d, "columnNumber": 1}'
                % (name, line))
    head = "".join('{"callFrame": %s, "selfSize": 0, "id": %d, "children": [' % (cf(f"f{i % 3}", i % 3), i)
                   for i in range(1, 5000))
    leaf = '{"callFrame": %s, "selfSize": 8, "id": 5000, "children": []}' % cf("leaf", 1)
    text = '{"head": ' + head + leaf + "]}" * 4999 + ', "samples": [{"size": 8, "nodeId": 5000, "ordinal": 1}]}'
    p = wb.load_profile(write(tmp_path, "deep.heapprofile", text.encode()))
    assert p.n_nodes == 5000 and p.depth.max() == 4999
    fn = p.hotspots()
    # recursion counted once per stack: every function's total is the single 8-byte sample
    assert fn["total_size"].to_list() == [8.0] * fn.height


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    f = write(tmp_path, "bad.cpuprofile", b'{"nodes": [1, 2')
    assert main(["functions", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("workbench: error: ") and "bad.cpuprofile" in err[0]
    assert main(["functions", str(DS / "cpu_slow.cpuprofile"), "--focus", "noSuchFunction"]) == 2
    assert "noSuchFunction" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["cpu_slow.cpuprofile", "alloc.heapprofile", "trace.json.gz"])
def test_mutated_files_only_raise_workbench_errors(tmp_path, name):
    """Truncations and byte flips of real files: either a valid profile or a WorkbenchError, never another
    exception (the kernels only ever see validated arrays)."""
    import random

    from workbench.errors import WorkbenchError

    rng = random.Random(7)
    data = (DS / name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    raised = 0
    for k in range(30):
        d = bytearray(data)
        if k % 3 == 0:
            d = d[: rng.randrange(len(d))]
        else:
            for _ in range(rng.randint(1, 5)):
                d[rng.randrange(len(d))] = rng.choice(b'0123456789{}[],:"-aZ ')
        f = tmp_path / f"m{k}{Path(name.removesuffix('.gz')).suffix}"
        f.write_bytes(bytes(d))
        try:
            p = wb.load_profile(f, format="trace" if name.startswith("trace") else None)
            p.hotspots(), p.calltree(), p.flame_graph()
            if p.kind == "cpu" and p.n_samples:
                p.flame_chart_rects()
        except WorkbenchError as e:
            raised += 1
            assert str(f) in e.one_line()
    assert raised >= 10  # every truncation at least is refused
