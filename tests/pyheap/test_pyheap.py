"""Python heaps through guppy3: the .hpy reader against guppy's own loader, live heaps against
guppy's own Stat rows, a planted leak (a growing module-level list) found with its retainer path,
and hostile .hpy input."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import polars as pl
import pytest
from guppy import hpy

import workbench as wb
import workbench.pyheap as ph
from workbench.io import hpy as hpy_reader
from workbench.errors import FormatError, UsageError

SERVICE = '''
"""A tiny request handler that remembers every request in a module-level list (the leak)."""
class Record:
    def __init__(self, i, user):
        self.i = i
        self.user = user
        self.payload = "x" * 40 + str(i)

_records = []

def handle(i):
    rec = Record(i, "user%d" % (i % 50))
    _records.append(rec)
    scratch = [rec.payload.upper() for _ in range(3)]  # garbage per request, freed
    return len(scratch)
'''


@pytest.fixture
def service(tmp_path, monkeypatch):
    (tmp_path / "leaky_service.py").write_text(SERVICE)
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("leaky_service")
    yield mod
    mod._records.clear()
    sys.modules.pop("leaky_service", None)


def _guppy_rows(stat) -> dict:
    out: dict = {}
    for r in stat.get_rows():
        c, s = out.get(r.name, (0, 0))
        out[r.name] = (c + r.count, s + r.size)
    return out


def _our_rows(df: pl.DataFrame) -> dict:
    return {k: (c, s) for k, c, s in df.select("class", "count", "self_size").iter_rows()}


# ----------------------------------------------------------------------------- the .hpy reader
def test_reader_equals_guppys_loader_for_every_format(tmp_path, service):
    hp = hpy()
    hp.setref()
    for i in range(300):
        service.handle(i)
    x1 = hp.heap()
    for i in range(300, 450):
        service.handle(i)
    x2 = hp.heap()
    f = tmp_path / "multi.hpy"
    x1.dump(str(f))            # SetFormat, Clodo
    x2.bytype.dump(str(f))     # SetFormat, by type
    x1.byid.dump(str(f))       # IdFormat: one row per object
    x2.diff(x1).dump(str(f))   # DiffFormat
    ours = hpy_reader.read_hpy(f)
    assert [h.format for h in ours] == ["SetFormat", "SetFormat", "IdFormat", "DiffFormat"]
    # guppy reads one package per call from an open file
    with open(f) as fh:
        for k, h in enumerate(ours):
            g = hp.load(fh, use_readline=True)
            assert h.timemade == pytest.approx(g.timemade, abs=1e-6)
            assert (h.count, h.size) == (g.count, g.size)
            rows = _guppy_rows(g)
            if h.format == "IdFormat":  # rows are objects "<kind>: <repr>": we group by kind
                grouped: dict = {}
                for name, (c, s) in rows.items():
                    kind = name.split(": ")[0]
                    gc_, gs = grouped.get(kind, (0, 0))
                    grouped[kind] = (gc_ + c, gs + s)
                rows = grouped
            assert {k: v for k, v in zip(h.kinds, zip(h.counts.tolist(), h.sizes.tolist()))} == rows
            if h.format == "DiffFormat":
                assert (h.b_count, h.b_size) == (g.b_count, g.b_size)
    assert ours[0].by == "Kind (class / dict of class)" and ours[1].by == "Type"
    assert _our_rows(ours[0].summary())["leaky_service.Record"][0] == 300
    assert wb.load_hpy(f).format == "DiffFormat" and wb.load_hpy(f, index=0).count == x1.count


def test_compare_of_two_dumps_equals_guppys_diff(tmp_path, service):
    hp = hpy()
    hp.setref()
    for i in range(200):
        service.handle(i)
    x1 = hp.heap()
    for i in range(200, 700):
        service.handle(i)
    x2 = hp.heap()
    x1.dump(str(tmp_path / "a.hpy"))
    x2.dump(str(tmp_path / "b.hpy"))
    diff = _guppy_rows(x2.diff(x1))
    cmp = wb.load_hpy(tmp_path / "b.hpy").compare(wb.load_hpy(tmp_path / "a.hpy"))
    assert cmp.columns == ["class", "class_key", "new_count", "deleted_count", "delta_count", "alloc_size", "freed_size",
                           "size_delta"]
    ours = {k: (c, s) for k, c, s in cmp.select("class", "delta_count", "size_delta").iter_rows()}
    assert ours == {k: v for k, v in diff.items() if v != (0, 0)}
    assert ours["leaky_service.Record"][0] == 500
    assert cmp["new_count"].null_count() == len(cmp)  # dumps hold totals: no identities


def test_written_hpy_is_read_back_by_guppy(tmp_path, service):
    for i in range(100):
        service.handle(i)
    h = ph.take_heap(hpy())
    out = tmp_path / "w.hpy"
    h.to_hpy(out)
    h.to_hpy(out, mode="a")
    with open(out) as fh:
        for _ in range(2):
            g = hpy().load(fh, use_readline=True)
            assert (g.count, g.size) == (h.count, h.size)
            assert _guppy_rows(g) == _our_rows(h.summary())
    assert len(hpy_reader.read_hpy(out)) == 2


# ----------------------------------------------------------------------------- live heaps
def test_live_heap_equals_guppys_own_stat_rows():
    # A clean interpreter, so that no earlier PyHeap is hidden from our side only.
    code = textwrap.dedent("""
        import json
        from guppy import hpy
        import workbench.pyheap as ph
        hp = hpy()
        keep = [{"k": i} for i in range(5000)] + [str(i) * 3 for i in range(5000)]
        x = hp.heap()
        rows = {}
        for r in x.byclodo.stat.get_rows():
            c, s = rows.get(r.name, (0, 0)); rows[r.name] = (c + r.count, s + r.size)
        h = ph.from_idset(x, hp)
        ours = {k: (c, s) for k, c, s in h.summary().select("class", "count", "self_size").iter_rows()}
        print(json.dumps({"guppy": rows, "ours": ours, "n": int(len(h.ids)), "uniq": int(len(set(h.ids.tolist())))}))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {k: tuple(v) for k, v in d["ours"].items()} == {k: tuple(v) for k, v in d["guppy"].items()}
    assert d["n"] == d["uniq"] == sum(v[0] for v in d["guppy"].values())
    assert d["guppy"]["dict (no owner)"][0] >= 5000


def test_python_leak_found_with_its_retainer_path(service):
    hp = hpy()
    baseline = ph.take_heap(hp, label="baseline")
    for i in range(2000):
        service.handle(i)
    target = ph.take_heap(hp, label="target")
    for i in range(2000, 3000):
        service.handle(i)
    final = ph.take_heap(hp, label="final")

    leaks = ph.find_leaks(baseline, target, final)
    rec = leaks.filter(pl.col("class") == "leaky_service.Record")
    assert rec["count"].item() == 2000  # allocated between baseline and target, alive in final
    assert leaks.filter(pl.col("class") == "list").is_empty()  # the per-request scratch lists were freed

    cmp = target.compare(baseline)
    row = cmp.filter(pl.col("class") == "leaky_service.Record").row(0, named=True)
    assert (row["new_count"], row["deleted_count"], row["delta_count"]) == (2000, 0, 2000)
    assert row["alloc_size"] == row["size_delta"] == 2000 * (row["alloc_size"] // 2000)
    lst = cmp.filter(pl.col("class") == "list").row(0, named=True)
    assert lst["size_delta"] > 0  # the module-level list grew in place

    who = target.retainers("leaky_service.Record", new_since=baseline, session=hp)
    assert who.rows() == [("list", 2000, row["alloc_size"])]

    paths = target.retainer_paths("leaky_service.Record", new_since=baseline, n=3, session=hp)
    assert paths["path"].unique().sort().to_list() == [0, 1, 2]
    p0 = paths.filter(pl.col("path") == 0)
    assert p0["class"].to_list()[-2:] == ["list", "leaky_service.Record"]
    assert "['_records']" in p0["edge"].to_list()
    assert "['leaky_service']" in p0["text"][0] and p0["text"][0].endswith("['_records'][0]")


def test_relative_heap_after_mark_holds_only_new_objects(service):
    hp = hpy()
    ph.mark(hp)
    for i in range(50):
        service.handle(i)
    h = ph.take_heap(hp)
    assert h.relative
    s = _our_rows(h.summary())
    assert s["leaky_service.Record"][0] == 50
    assert h.count < 1000  # not the whole interpreter
    full = ph.take_heap(hp, relative=False)
    assert not full.relative and full.count > 10 * h.count


def test_usage_errors(tmp_path, service):
    service.handle(1)
    f = tmp_path / "a.hpy"
    hpy().heap().dump(str(f))
    dump = wb.load_hpy(f)
    with pytest.raises(UsageError, match="per-object"):
        ph.find_leaks(dump, dump, dump)
    with pytest.raises(UsageError, match="live heap"):
        dump.retainer_paths("leaky_service.Record")
    live = ph.take_heap(hpy())
    with pytest.raises(UsageError, match="no objects of class"):
        live.retainers("no.such.Class")
    with pytest.raises(UsageError, match="mark"):
        ph.take_heap(hpy(), relative=True)


# ----------------------------------------------------------------------------- hostile input
GOOD = (".loader: _load_stat\n.format: SetFormat\n.timemade: 1.5\n.count: 3\n.size: 60\n.kindname: \n"
        ".kindheader: Kind (class / dict of class)\n.numrows: 2\n.r: 2 40 str\n.r: 1 20 int\n"
        ".end: .loader: _load_stat\n")


@pytest.mark.parametrize("text,section,offset,msg", [
    (GOOD[:-30], "package 0", None, "truncated"),
    (GOOD.replace(".numrows: 2", ".numrows: 3"), "package 0", None, "numrows: 3' but 2 rows"),
    (GOOD.replace(".r: 1 20 int", ".r: one 20 int"), "package 0", GOOD.index(".r: 1 20"), "bad row"),
    (GOOD.replace(".count: 3", ".count: 4"), "package 0", None, "header says 4"),
    (GOOD.replace("SetFormat", "PickleFormat"), "package 0", 0, "unknown format"),
    (GOOD.replace(".timemade: 1.5\n", ""), "package 0", 0, "no '.timemade:'"),
    (GOOD + GOOD.replace(".size: 60", ".size: x"), "package 1", len(GOOD), "not an integer"),
    ("{\"snapshot\": {}}", "package 0", 0, "not a guppy3 .hpy dump"),
    (GOOD.replace(".r: 2 40 str", ".r: -2 40 str"), "package 0", GOOD.index(".r: 2 40"), "negative"),
])
def test_bad_hpy_files_name_section_and_offset(tmp_path, text, section, offset, msg):
    f = tmp_path / "bad.hpy"
    f.write_text(text)
    with pytest.raises(FormatError) as ei:
        hpy_reader.read_hpy(f)
    e = ei.value
    assert e.path == str(f) and e.section == section and msg in str(e)
    if offset is not None:
        assert e.offset == offset
    assert e.offset is None or 0 <= e.offset <= len(text)


def test_binary_file_is_a_format_error(tmp_path):
    f = tmp_path / "x.hpy"
    f.write_bytes(b".loader: \xff\xfe\x00")
    with pytest.raises(FormatError, match="not UTF-8"):
        hpy_reader.read_hpy(f)


def test_cli_summary_comparison_and_error(tmp_path, service):
    hp = hpy()
    hp.setref()
    for i in range(100):
        service.handle(i)
    hp.heap().dump(str(tmp_path / "a.hpy"))
    for i in range(100, 400):
        service.handle(i)
    hp.heap().dump(str(tmp_path / "b.hpy"))
    run = lambda *a: subprocess.run([sys.executable, "-m", "workbench", *map(str, a)],  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    r = run("pyheap", tmp_path / "a.hpy", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = {d["class"]: d for d in json.loads(r.stdout)}
    assert rows["leaky_service.Record"]["count"] == 100
    r = run("pyheap", tmp_path / "a.hpy", tmp_path / "b.hpy", "--format", "csv")
    assert r.returncode == 0, r.stderr
    df = pl.read_csv(r.stdout.encode())
    assert df.filter(pl.col("class") == "leaky_service.Record")["delta_count"].item() == 300
    (tmp_path / "c.hpy").write_text(GOOD[:-30])
    r = run("pyheap", tmp_path / "c.hpy")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "truncated" in r.stderr


def test_snapshot_comparison_widget_on_two_python_heaps(service):
    """The same SnapshotComparison widget drives two live Python heaps: choose the leaking class,
    then one of its new objects, and its retainer path through the module-level list shows."""
    from workbench.widgets.heap import SnapshotComparison
    hp = hpy()
    before = ph.take_heap(hp, label="before")
    for i in range(300):
        service.handle(i)
    after = ph.take_heap(hp, label="after")
    w = SnapshotComparison(before, after, page_size=20)
    assert w.python
    assert len(w.page_rows) <= 20
    w.filter("Record")
    assert "leaky_service.Record" in w.rows["class"].to_list()
    objs = w.select_class("leaky_service.Record")
    assert len(w._objects) == 300 and len(objs) == 20          # one page reaches the browser
    assert objs["self_size"].min() > 0 and objs["retained_size"].is_null().all()
    oid = int(objs["node_id"][0])
    assert oid in {id(r) for r in service._records}               # a real new object's address
    paths = w.select_object(oid)
    assert not paths.is_empty()
    assert "['_records']" in paths["edge"].to_list()
    assert "leaky_service.Record" in w.paths_html.value and "_records" in w.paths_html.value
