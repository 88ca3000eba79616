"""Pieces of workbench.fleet that need no cluster: instance patterns, the robust z-score on hand-made
values, the commit marker, the memory plan."""
from __future__ import annotations

import polars as pl
import pytest

import workbench.fleet as fl
from workbench.errors import UsageError
from workbench.fleet import store
from workbench.fleet.naming import InstancePattern, taken_at


def test_instance_pattern_matches_folders_then_the_file_name():
    p = InstancePattern("{host}/{pid}")
    assert p.instance("/data/fleet/web-1/4242/Heap.x.heapsnapshot") == ("web-1/4242", {"host": "web-1", "pid": "4242"}, True)
    q = InstancePattern("{host}/Heap.*.*.{pid}.*")   # Heap.<date>.<time>.<pid>.<tid>.<seq>
    assert q.instance("/d/web-2/Heap.20240101.101010.77.0.001.heapsnapshot")[:2] == ("web-2/77", {"host": "web-2", "pid": "77"})
    r = InstancePattern("pod-{n}")
    assert r.instance("/x/pod-3/sub/a.cpuprofile") == ("3", {"n": "3"}, True)     # one folder further up
    assert r.instance("/x/other/a.cpuprofile") == ("other", {}, False)           # no match: the folder
    assert InstancePattern(None).instance("/x/y/a.heapsnapshot") == ("y", {}, True)
    assert InstancePattern("label:instance").label == "instance"
    with pytest.raises(UsageError):
        InstancePattern("static/path")
    with pytest.raises(UsageError):
        InstancePattern("{a}/{a}")


def test_taken_at_from_node_file_names(tmp_path):
    f = tmp_path / "Heap.20240102.030405.12.0.001.heapsnapshot"
    f.write_text("{}")
    when, basis = taken_at(f)
    assert basis == "file name" and when.tzinfo is not None
    g = tmp_path / "x.heapsnapshot"
    g.write_text("{}")
    assert taken_at(g)[1] == "mtime"


def test_robust_z_on_hand_made_values():
    # MAD > 0: [1, 2, 3, 4, 100] -> median 3, MAD 1, z(100) = 0.6745 * 97
    g = pl.DataFrame({"instance": list("abcde"), "class": ["C"] * 5, "v": [1, 2, 3, 4, 100]})
    z = fl.robust_z(g, "v")
    assert z["median"][0] == 3 and z["mad"][0] == 1
    assert z["robust_z"][4] == pytest.approx(0.6745 * 97)
    # MAD = 0: [5, 5, 5, 5, 14] -> mean absolute deviation 1.8, z(14) = 9 / (1.253314 * 1.8)
    g = pl.DataFrame({"instance": list("abcde"), "class": ["C"] * 5, "v": [5, 5, 5, 5, 14]})
    z = fl.robust_z(g, "v")
    assert z["robust_z"][4] == pytest.approx(9 / (1.253314 * 1.8)) and z["robust_z"][0] == 0
    # all equal: z 0
    g = pl.DataFrame({"instance": list("abc"), "class": ["C"] * 3, "v": [7, 7, 7]})
    assert fl.robust_z(g, "v")["robust_z"].to_list() == [0.0, 0.0, 0.0]


def test_parts_without_a_files_row_are_never_read(tmp_path):
    out = tmp_path / "ds"
    row = {"path": "/a/Heap.heapsnapshot", "kind": "heap", "instance": "a", "sha256": "1" * 64, "error": None}
    store.write_part(out, "classes", "part-" + "1" * 64, pl.DataFrame(
        {"instance": ["a"], "file": [row["path"]], "sha256": ["1" * 64], "class": ["X"], "count": [3]}))
    store.write_part(out, "classes", "part-" + "2" * 64, pl.DataFrame(     # a task killed before its files row
        {"instance": ["b"], "file": ["/b/h"], "sha256": ["2" * 64], "class": ["X"], "count": [9]}))
    store.write_part(out, "files", "part-" + "1" * 64, pl.DataFrame([row]))
    ds = fl.open_dataset(out)
    assert ds.classes["count"].to_list() == [3]
    assert not list((out / "classes").glob(".*"))             # no temporary file left behind


def test_memory_plan_follows_the_largest_file(tmp_path):
    small = tmp_path / "a.heapsnapshot"
    small.write_bytes(b"x" * 1000)
    big = tmp_path / "b.heapsnapshot"
    with open(big, "wb") as f:      # sparse: 3 GiB by size, nothing on disk
        f.truncate(3 * 2**30)
    run = fl.run
    assert fl.plan([str(small)], memory=16 * 2**30, cpus=8)["memory_limit"] == run.MIN_LIMIT
    p = fl.plan([str(small), str(big)], memory=64 * 2**30, cpus=8)
    assert p["largest_file_bytes"] == 3 * 2**30
    assert p["memory_limit"] == run.BASE + run.FACTOR * 3 * 2**30
    assert p["workers"] == 2                                    # one per file
    many = fl.plan([str(big)] * 8, memory=16 * 2**30, cpus=8)
    assert many["workers"] == int(0.8 * 16 * 2**30 // many["memory_limit"]) == 2   # memory, not cores, limits
    assert fl.plan([str(big)] * 8, memory=16 * 2**30, cpus=1)["workers"] == 1     # cores
    gz = tmp_path / "c.heapsnapshot.gz"                         # gzip's ISIZE trailer: 1,000,000 bytes inside
    import gzip
    gz.write_bytes(gzip.compress(b"y" * 1_000_000))
    assert fl.run.raw_size(str(gz)) == 1_000_000
    assert fl.plan([str(small)], memory_limit="3GiB", memory=16 * 2**30, cpus=2)["memory_limit"] == 3 * 2**30


def test_expand_globs_and_missing_inputs(tmp_path):
    from workbench.errors import WorkbenchError
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.cpuprofile").write_text("{}")
    (tmp_path / "a" / "y.heapsnapshot").write_text("{}")
    assert fl.expand([str(tmp_path / "**" / "*.cpuprofile")]) == [str(tmp_path / "a" / "b" / "x.cpuprofile")]
    assert len(fl.expand([str(tmp_path / "a")])) == 2
    with pytest.raises(WorkbenchError):
        fl.expand([str(tmp_path / "nothing*")])


def test_cli_errors_are_one_line(tmp_path, capsys):
    from workbench.cli import main
    assert main(["fleet", "summarize", str(tmp_path / "none*.heapsnapshot"), "-o", str(tmp_path / "ds")]) == 2
    assert main(["fleet", "classes", str(tmp_path)]) == 2
    assert main(["fleet", "flame", str(tmp_path), "-o", "x.html", "--diff", "version"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("workbench: error: ") for line in err)
    assert "no file matches" in err[0] and "not a fleet dataset" in err[1] and "FIELD=A,B" in err[2]


def test_instances_from_a_metric_label(tmp_path):
    """label:NAME: one export of several instances (a federated scrape) splits by that label."""
    from workbench.fleet.tasks import reduce_file
    f = tmp_path / "federate" / "scrape.prom"
    f.parent.mkdir()
    f.write_text('# TYPE nodejs_heap_size_used_bytes gauge\nnodejs_heap_size_used_bytes{instance="a"} 100\n'
                 'nodejs_heap_size_used_bytes{instance="b"} 200\nnodejs_heap_size_used_bytes 300\n')
    pat = InstancePattern("label:instance")
    inst, fields, _ = pat.instance(f)
    row, tables = reduce_file(str(f), None, inst, fields, label=pat.label, write=False)
    assert row["error"] is None and row["kind"] == "metrics"
    got = dict(zip(tables["metrics"]["value"], tables["metrics"]["instance"]))
    assert got == {100.0: "a", 200.0: "b", 300.0: "federate"}     # no label: the file's folder


def test_a_given_clusters_workers_are_checked():
    class FakeClient:
        def scheduler_info(self):
            return {"workers": {"tcp://a": {"memory_limit": 2**30, "nthreads": 4},
                                "tcp://b": {"memory_limit": 8 * 2**30, "nthreads": 1}}}
    need = {"estimated_peak_per_task": 4 * 2**30}
    w = fl.run._check_workers(FakeClient(), need)
    assert len(w) == 2 and w[0].startswith("1 of 2 workers") and "4 threads" in w[1]
    assert fl.run._check_workers(FakeClient(), {"estimated_peak_per_task": 2**29}) == w[1:]   # memory enough
