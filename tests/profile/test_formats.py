"""Every reader on the four CPU-story datasets (datasets/profiles/, built by datasets/build_profiles.py):
per-function sample counts equal counts taken straight from the raw files, and the node --prof reader
agrees with node's own ``--prof-process`` bottom-up on the same run (goldens in tests/golden/profile/)."""
from __future__ import annotations

import collections
import gzip
import json
import re
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.cli import main
from workbench.errors import FormatError, WorkbenchError

ROOT = Path(__file__).resolve().parents[2]
DS = ROOT / "datasets" / "profiles"
GOLD = ROOT / "tests" / "golden" / "profile"
STORIES = ["sync_logging", "regex", "json", "worker_loop"]


def raw_json(path: Path):
    data = path.read_bytes()
    return json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)


def ours(p) -> dict:
    """(function label) -> self_samples, label = 'name url:line:col' or 'name'."""
    hs = p.hotspots()
    lab = pl.when(pl.col("url") != "").then(pl.concat_str([pl.col("function"), pl.lit(" "), pl.col("url"), pl.lit(":"),
                                                           pl.col("line").cast(pl.String), pl.lit(":"),
                                                           pl.col("column").cast(pl.String)])) \
        .otherwise(pl.col("function"))
    agg = hs.with_columns(lab.alias("k")).group_by("k").agg(pl.col("self_samples").sum())
    return {k: v for k, v in zip(agg["k"], agg["self_samples"]) if v}


def cdp_label(cf) -> str:
    name = cf.get("functionName") or "(anonymous)"  # trace chunks leave out empty fields
    url = cf.get("url", "")
    return f"{name} {url}:{cf.get('lineNumber', -1) + 1}:{cf.get('columnNumber', -1) + 1}" if url else name


def cdp_counts(nodes, samples) -> dict:
    by_id = {n["id"]: n for n in nodes}
    c = collections.Counter(cdp_label(by_id[s]["callFrame"]) for s in samples)
    c.pop("(root)", None)
    return dict(c)


@pytest.mark.parametrize("story", STORIES)
def test_cpuprofile_counts_equal_the_raw_samples(story):
    d = raw_json(DS / f"{story}.cpuprofile")
    p = wb.load_profile(DS / f"{story}.cpuprofile")
    assert p.n_samples == len(d["samples"])
    assert ours(p) == cdp_counts(d["nodes"], d["samples"])
    # the streaming reader and json.loads agree on every array
    from workbench.io.cpuprofile import read_cpuprofile
    q = read_cpuprofile(DS / f"{story}.cpuprofile", stream=False)
    assert np.array_equal(p.sample_node, q.sample_node) and np.array_equal(p.sample_ts_us, q.sample_ts_us)


@pytest.mark.parametrize("story", STORIES)
def test_trace_counts_equal_the_raw_chunks(story):
    t = wb.load_profile(DS / f"{story}.trace.json.gz")
    events = raw_json(DS / f"{story}.trace.json.gz")["traceEvents"]
    key = t.meta["trace_profile"]
    pid, pid_id = key.split(":", 1)
    chunks = sorted((e for e in events if e.get("name") == "ProfileChunk" and str(e.get("pid")) == pid
                     and str(e.get("id")) == pid_id), key=lambda e: e["ts"])
    nodes, samples = [], []
    for e in chunks:
        cpu = e["args"]["data"].get("cpuProfile", {})
        nodes += cpu.get("nodes", [])
        samples += cpu.get("samples", [])
    assert t.n_samples == len(samples) > 0
    assert ours(t) == cdp_counts(nodes, samples)


def test_trace_with_the_old_single_cpuprofile_event(tmp_path):
    """Older Chrome traces carry one CpuProfile event with the whole profile in args.data.cpuProfile."""
    d = raw_json(DS / "regex.cpuprofile")
    trace = {"traceEvents": [
        {"name": "TracingStartedInBrowser", "ph": "I", "pid": 1, "tid": 1, "ts": 0, "args": {"data": {}}},
        {"name": "CpuProfile", "ph": "I", "pid": 1, "tid": 7, "ts": d["endTime"],
         "args": {"data": {"cpuProfile": d}}}]}
    f = tmp_path / "old.json"
    f.write_text(json.dumps(trace))
    t = wb.load_profile(f)
    p = wb.load_profile(DS / "regex.cpuprofile")
    assert t.source == "trace" and ours(t) == ours(p)
    np.testing.assert_allclose(t.hotspots()["self_ms"].to_numpy(), p.hotspots()["self_ms"].to_numpy())


def v8log_counts(d) -> dict:
    """Leaf code per tick straight from --preprocess JSON, named as --prof-process names them."""
    c = collections.Counter()
    for t in d["ticks"]:
        s = t["s"]
        if not s:
            continue
        if s[0] == -1:
            c["UNKNOWN"] += 1
            continue
        code = d["code"][s[0]]
        m = re.match(r"^(.*?) ?(\S+):(\d+):(\d+)$", code["name"]) if code["type"] == "JS" else None
        if m:
            c[f"{m.group(1) or '(anonymous)'} {m.group(2)}:{m.group(3)}:{m.group(4)}"] += 1
        elif code.get("kind") in ("RegExp", "Builtin", "BytecodeHandler", "Stub", "Handler"):
            c[f"{code['kind']}: {code['name']}"] += 1
        else:
            c[code["name"]] += 1
    return dict(c)


def test_preprocessed_v8log_counts_equal_the_raw_ticks():
    d = raw_json(DS / "sync_logging.v8log.json.gz")
    p = wb.load_profile(DS / "sync_logging.v8log.json.gz")
    assert p.n_samples == len(d["ticks"])
    assert ours(p) == v8log_counts(d)


def bottom_up(story) -> list[tuple[int, str]]:
    """Top-level rows of --prof-process's "[Bottom up (heavy) profile]" (self ticks per function)."""
    text = (GOLD / f"{story}.prof-process.txt").read_text()
    rows = []
    for line in text.split("[Bottom up (heavy) profile]:")[1].splitlines():
        m = re.match(r"^ {3,6}(\d+)\s+[\d.]+%  (\S.*)$", line)  # callers are indented further
        if m:
            rows.append((int(m.group(1)), m.group(2)))
    return rows


def flat_sections(story) -> dict:
    """Self ticks per function from the flat [Shared libraries], [JavaScript] and [C++] sections, where
    --prof-process lists every code entry (one row per optimisation tier: added up here)."""
    text = (GOLD / f"{story}.prof-process.txt").read_text()
    out = collections.Counter()
    for sec in ("[Shared libraries]:", "[JavaScript]:", "[C++]:"):
        body = text.split(sec)[1].split("\n\n")[0]
        for line in body.splitlines():
            m = re.match(r"^\s+(\d+)\s+[\d.]+%\s+(?:[\d.]+%)?\s+(\S.*)$", line)
            if m:
                out[prof_name(m.group(2))] += int(m.group(1))
    return dict(out)


def prof_name(name: str) -> str:
    if name.startswith("JS: "):
        name = name[4:].lstrip("*~^+")
        name = re.sub(r"^<anonymous> ", "(anonymous) ", name)
    return name


@pytest.mark.skipif(shutil.which("node") is None, reason="reading a raw --prof log runs node --prof-process")
@pytest.mark.parametrize("story", STORIES)
def test_raw_prof_log_agrees_with_node_prof_process_bottom_up(story):
    p = wb.load_profile(DS / f"{story}.v8.log.gz")
    header = (GOLD / f"{story}.prof-process.txt").read_text().splitlines()[0]
    ticks, unaccounted = map(int, re.search(r"\((\d+) ticks, (\d+) unaccounted", header).groups())
    assert p.n_samples == ticks and p.meta["unaccounted_ticks"] == unaccounted
    counts = ours(p)
    flat = flat_sections(story)
    flat["UNKNOWN"] = unaccounted
    for name, n in flat.items():  # every code entry --prof-process lists, with the same ticks
        assert counts.get(name) == n, name
    rows = bottom_up(story)
    assert len(rows) >= 2
    for n, name in rows:  # its bottom-up view (rows under 1% hidden, tiers apart): never more than ours
        assert counts.get(prof_name(name), 0) >= n, name
    # and the heaviest function is the same
    assert prof_name(rows[0][1]) == max(counts, key=counts.get)


def test_raw_log_lines_count_the_ticks():
    text = gzip.decompress((DS / "regex.v8.log.gz").read_bytes()).decode()
    assert sum(1 for ln in text.splitlines() if ln.startswith("tick,")) == \
        wb.load_profile(DS / "regex.v8.log.gz").n_samples


@pytest.mark.parametrize("story", STORIES)
def test_folded_counts_equal_the_lines(story):
    c = collections.Counter()
    for line in (DS / f"{story}.folded").read_text().splitlines():
        stack, n = line.rsplit(" ", 1)
        c[stack.split(";")[-1]] += int(n)
    p = wb.load_profile(DS / f"{story}.folded")
    assert ours(p) == dict(c)
    # written by an independent converter from the .cpuprofile of the same run: the same counts
    assert ours(p) == ours(wb.load_profile(DS / f"{story}.cpuprofile"))


@pytest.mark.parametrize("story", STORIES)
def test_clinic_flame_counts_equal_the_ticks(story):
    folder = DS / f"{story}.clinic-flame"
    ticks = raw_json(next(folder.glob("*-samples*")))
    c = collections.Counter()
    for t in ticks:
        if not t:
            continue
        leaf = t[-1]  # root first
        c[v8log_counts({"ticks": [{"s": [0, 0]}], "code": [leaf]}).popitem()[0]] += 1
    p = wb.load_profile(folder)
    assert p.n_samples == len(ticks) and p.meta["empty_ticks"] == sum(1 for t in ticks if not t)
    assert ours(p) == dict(c)


@pytest.mark.parametrize("story", STORIES)
def test_heapprofile_sample_counts(story):
    d = raw_json(DS / f"{story}.heapprofile")
    p = wb.load_profile(DS / f"{story}.heapprofile")
    nodes, st = {}, [d["head"]]
    while st:
        n = st.pop()
        nodes[n["id"]] = n
        st.extend(n["children"])
    known = [s for s in d["samples"] if s["nodeId"] in nodes]
    assert ours(p) == cdp_counts(list(nodes.values()), [s["nodeId"] for s in known])
    hs = p.hotspots()
    assert hs["self_size"].sum() == sum(n["selfSize"] for n in nodes.values())


def test_the_stories_show_their_culprits():
    """Each dataset tells its story: the hot frame a person should find first."""
    def top_app(story, by="total_samples"):
        h = wb.load_profile(DS / f"{story}.cpuprofile").filter(categories=["app"]).hotspots(sort="self")
        return h["function"][0]

    assert top_app("regex") == "validateEmail"
    assert top_app("json") in ("cloneForResponse", "serialiseHistory")
    sync = wb.load_profile(DS / "sync_logging.cpuprofile").hotspots()
    assert sync.filter(pl.col("function") == "appendFileSync")["total_pct"][0] > 50
    work = wb.load_profile(DS / "worker_loop.cpuprofile").hotspots(sort="total")
    assert work.filter(pl.col("function") == "buildReport")["total_pct"][0] > 15
    fast = wb.load_profile(DS / "worker_loop_fast.cpuprofile").hotspots()
    assert fast.filter(pl.col("function") == "buildReport").height == 0  # moved to the worker thread


# ---- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,fmt", [("regex.cpuprofile", None), ("regex.trace.json.gz", "trace"),
                                      ("sync_logging.v8log.json.gz", "v8log"), ("regex.heapprofile", None)])
def test_truncated_files_are_one_line_errors(tmp_path, capsys, name, fmt):
    data = (DS / name).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    f = tmp_path / ("cut_" + name.removesuffix(".gz"))
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError) as e:
        wb.load_profile(f, format=fmt)
    assert str(f) in e.value.one_line() and "truncated" in e.value.message
    assert main(["hotspots", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("workbench: error: ")


def test_foreign_files_are_refused(tmp_path, capsys):
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert main(["hotspots", str(png)]) == 2
    assert "not a profile" in capsys.readouterr().err
    js = tmp_path / "x.json"
    js.write_text('{"hello": [1, 2, 3]}')
    with pytest.raises(WorkbenchError):
        wb.load_profile(js)
    empty = tmp_path / "empty.clinic-flame"
    empty.mkdir()
    with pytest.raises(WorkbenchError):
        wb.load_profile(empty, format="clinic")


def test_negative_time_deltas_sort_samples_as_devtools(tmp_path):
    """DevTools' CPUProfileDataModel.sortSamples: timestamps = startTime + cumulative deltas, then the
    samples are stably sorted by timestamp (V8 can emit out-of-order samples)."""
    cf = {"scriptId": "1", "url": "a.js", "lineNumber": 0, "columnNumber": 0}
    nodes = [{"id": 1, "callFrame": {**cf, "functionName": "(root)", "url": ""}, "children": [2, 3, 4]},
             {"id": 2, "callFrame": {**cf, "functionName": "a"}}, {"id": 3, "callFrame": {**cf, "functionName": "b"}},
             {"id": 4, "callFrame": {**cf, "functionName": "c"}}]
    d = {"nodes": nodes, "startTime": 1000, "endTime": 5000, "samples": [2, 3, 4, 2],
         "timeDeltas": [0, 1000, -500, 2000]}  # times 1000, 2000, 1500, 3500
    f = tmp_path / "neg.cpuprofile"
    f.write_text(json.dumps(d))
    p = wb.load_profile(f)
    assert p.samples["node_id"].to_list() == [2, 4, 3, 2]
    assert p.sample_ts_us.tolist() == [1000, 1500, 2000, 3500]
    assert p.meta["reordered_samples"] == 2
    fc = p.flame_chart_rects()
    assert fc["name"].to_list() == ["a", "c", "b", "a"]


@pytest.mark.parametrize("doc,section", [
    ({"code": [{"name": "f a.js:1:1", "type": "JS"}], "ticks": [{"tm": 1, "vm": 0, "s": [5, 0]}]}, "ticks[0].s"),
    ({"code": [{"name": "f a.js:1:1"}], "ticks": []}, "code[0]"),
    ({"code": [], "ticks": [{"vm": 0, "s": []}]}, "ticks[0]"),
])
def test_bad_v8log_json_names_the_entry(tmp_path, doc, section):
    f = tmp_path / "bad.v8log.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(FormatError) as e:
        wb.load_profile(f, format="v8log")
    assert e.value.section == section


def test_unknown_sample_node_id_is_reported(tmp_path):
    d = raw_json(DS / "regex.cpuprofile")
    d["samples"][7] = 999_999
    f = tmp_path / "u.cpuprofile"
    f.write_text(json.dumps(d))
    with pytest.raises(FormatError) as e:
        wb.load_profile(f)
    assert e.value.section == "samples[7]" and "999999" in e.value.message


def test_raw_log_without_node_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WorkbenchError) as e:
        wb.load_profile(DS / "regex.v8.log.gz")
    assert "node on PATH" in e.value.one_line()
