"""Redaction is safe by default (issue "Safe to share", point 2).

- ``datasets/scenarios/share_secrets.js``, run now with node into a tmp folder, leaks sessions in a Map
  and plants secrets built at run time in string values, Map keys, Set members, dictionary keys
  (``bySid[sid]``), e-mail-, URL- and number-shaped keys, integer keys (element indices), closure
  variables (a string and a number), a regexp source, heap numbers and a bigint, plus source text
  (a comment and a function's text). ``workbench redact a b c -o dir`` with default options leaves
  none of them in the redacted files' bytes, and the Summary (class names, counts, sizes),
  Statistics, retained sizes and ``find_leaks`` (top suspect's class, count, retained size, holder
  and path shape) are those of the originals. The report counts each planted category.
- ``--keep-edge-names`` keeps the dictionary keys; ``--edge-names`` replaces every property name.
- The rule's parts: data-looking names, tokens unique and keyed, and (without node) a committed
  dataset's Summary and leak answer.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.cli import main
from workbench.io.heapsnapshot import read_raw
from workbench.redact import CATEGORIES, Tokens, looks_like_data, redact_many

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "datasets" / "scenarios" / "share_secrets.js"
NAMES = ("baseline", "target", "final")
# the scenario's dictionaries (context variables) and how many keys each has at least
DICTIONARIES = {"bySid": lambda n: n, "byEmail": lambda n: n // 5, "byUrl": lambda n: n // 5,
                "byNumber": lambda n: n // 5, "byAccount": lambda n: n // 5, "byName": lambda n: n // 5,
                "featureFlags": lambda n: 6}
TOKEN = re.compile(r"^(get |set |<symbol )?redacted:[0-9a-f]{12,64}>?$")

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def _bytes(p: Path) -> bytes:
    b = p.read_bytes()
    return gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b


def _run_cli(args: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--quiet", "redact", *args]) == 0
    return out.getvalue()


def _report_counts(text: str) -> list[dict]:
    """The CLI's 'replaced:' line of each file, as {category: count}."""
    rows = []
    for line in text.splitlines():
        if line.strip().startswith("replaced:"):
            pairs = re.findall(r"([\d,]+) ([A-Za-z][A-Za-z ]*[a-z])", line.split(":", 1)[1])
            rows.append({cat: int(n.replace(",", "")) for n, cat in pairs})
    return rows


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The three snapshots of share_secrets.js and the secrets it planted (markers.json)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    d = tmp_path_factory.mktemp("secrets")
    seed = "k" + secrets.token_hex(4)
    subprocess.run(["node", "--expose-gc", str(SCENARIO), str(d), seed], check=True, capture_output=True, timeout=300)
    markers = json.loads((d / "markers.json").read_text())
    markers["source_text"] = sorted(set(re.findall(r"SECRET-[A-Z-]+-[0-9a-f]+", SCENARIO.read_text())))
    assert len(markers["source_text"]) == 2
    return [d / f"{n}.heapsnapshot" for n in NAMES], markers


@pytest.fixture(scope="module")
def redacted(planted, tmp_path_factory):
    files, _ = planted
    out = tmp_path_factory.mktemp("redacted_secrets")
    text = _run_cli([*map(str, files), "-o", str(out)])
    return [out / p.name for p in files], _report_counts(text)


def _dictionaries(snap) -> dict:
    """node id of each module-level dictionary of the scenario (its context variable)."""
    e = snap.edges
    ctx = e.filter((e["type"] == "context") & e["name"].is_in(list(DICTIONARIES)))
    return dict(zip(ctx["name"].to_list(), ctx["to_id"].to_list()))


def _string_markers(markers) -> list[str]:
    skip = {"element_keys", "requests"}
    return [m for cat, vals in markers.items() if cat not in skip for m in vals]


@needs_node
def test_planted_secrets_are_in_the_originals(planted):
    files, markers = planted
    data = _bytes(files[2])
    for cat, vals in markers.items():
        if cat in ("requests", "element_keys"):
            continue
        present = [v for v in vals if v.encode() in data]
        if cat == "bigints":
            assert present == [], "node 20 writes no bigint values; if it does now, they must be redacted"
        else:
            assert present == vals, cat
    # word-like keys are caught by where they are (one dictionary), not by how they look
    assert not any(looks_like_data(k) for k in markers["word_keys"] + markers["small_dictionary_keys"])
    # featureFlags is a fast-mode object: its keys are in a hidden class (a descriptor array)
    snap = wb.load_snapshot(files[2], quiet=True)
    nodes, edges = snap.nodes, snap.edges
    flag_ids = nodes.filter(nodes["name"].is_in(markers["small_dictionary_keys"]) & (nodes["type"] == "string"))["id"]
    desc_ids = nodes.filter(nodes["name"] == "system / DescriptorArray")["id"]
    held = edges.filter(edges["to_id"].is_in(flag_ids.implode()) & edges["from_id"].is_in(desc_ids.implode()))
    assert held["to_id"].n_unique() == 6
    raw = read_raw(files[2], quiet=True)
    element = raw.header["meta"]["edge_types"][0].index("element")
    elements = set(np.asarray(raw.edges["name_or_index"])[np.asarray(raw.edges["type"]) == element].tolist())
    assert {int(v) for v in markers["element_keys"]} <= elements


@needs_node
def test_no_planted_secret_survives_default_redaction(planted, redacted):
    _, markers = planted
    files, _ = redacted
    wanted = [m.encode() for m in _string_markers(markers)]
    assert len(wanted) > 100
    for p in files:
        data = _bytes(p)
        assert [m for m in wanted if m in data] == [], p.name
        raw = read_raw(p, quiet=True)
        etype = raw.header["meta"]["edge_types"][0]
        idx = np.asarray(raw.edges["name_or_index"])[np.asarray(raw.edges["type"]) == etype.index("element")]
        assert not ({int(v) for v in markers["element_keys"]} & set(idx.tolist())), p.name
        # every value of the string table is either kept (a name) or a token: no marker inside
        for m in markers["element_keys"]:
            assert b"," + m.encode() + b"," not in data


@needs_node
def test_analyses_answer_the_same(planted, redacted):
    orig, _ = planted
    red, _ = redacted
    a = wb.load_snapshot(orig[2], quiet=True)
    b = wb.load_snapshot(red[2], quiet=True)
    assert a.summary().equals(b.summary())                     # class names, counts, sizes
    assert a.statistics() == b.statistics()
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.retained_sizes, b.retained_sizes)
    assert np.array_equal(a.distances, b.distances)
    cols = ["from_id", "to_id", "type"]
    assert a.edges.select(cols).equals(b.edges.select(cols))
    la, lb = wb.find_leaks(*orig, quiet=True), wb.find_leaks(*red, quiet=True)
    assert la.suspects.height >= 1
    top_a, top_b = la.suspects.row(0, named=True), lb.suspects.row(0, named=True)
    assert top_a["class"] == "Session" and top_a["count"] >= 500
    for k in ("class", "count", "retained_size", "holder"):
        assert top_a[k] == top_b[k], k
    assert "sessions" in top_a["holder"] and "Map" in top_a["holder"]
    cols = ["class", "count", "retained_size", "holder"]
    assert la.suspects.select(cols).equals(lb.suspects.select(cols))
    for pa, pb in zip(la.paths, lb.paths):  # path shape: edge types and node classes
        assert pa["edge_type"].to_list() == pb["edge_type"].to_list()
        assert pa["class"].to_list() == pb["class"].to_list()


@needs_node
def test_readable_names_are_kept_and_dictionary_keys_replaced(planted, redacted):
    orig, markers = planted
    red, _ = redacted
    a = wb.load_snapshot(orig[2], quiet=True)
    b = wb.load_snapshot(red[2], quiet=True)
    ea, eb = a.edges, b.edges
    # a shape's names (Session's fields, {name, locale}) and the variables stay
    sess = set(a.nodes.filter(a.nodes["class"] == "Session")["id"].to_list())
    session_names = set(eb.filter(eb["from_id"].is_in(sess) & (eb["type"] == "property"))["name"].to_list())
    assert {"sid", "user", "apiToken", "lastSeen", "profile"} <= session_names
    assert "{name, locale}" in set(b.summary()["class"].to_list())
    assert {"sessions", "bySid", "byEmail"} <= set(eb.filter(eb["type"] == "context")["name"].to_list())
    # every key of every dictionary is a token, and distinct keys stay distinct
    dicts = _dictionaries(a)
    assert set(dicts) == set(DICTIONARIES)
    def keys(e, node_id):
        return e.filter((e["from_id"] == node_id) & e["type"].is_in(["property", "element"]) & (e["name"] != "__proto__"))

    for name, node_id in dicts.items():
        ka, kb = keys(ea, node_id), keys(eb, node_id)
        assert ka.height == kb.height >= DICTIONARIES[name](markers["requests"]), name
        assert kb["name"].n_unique() == ka["name"].n_unique() == ka.height, name
        if name == "byAccount":
            assert not set(ka["name"].to_list()) & set(kb["name"].to_list())
        else:
            assert kb["name"].str.starts_with("redacted:").all(), name
    # no object has two equal property names where it had distinct ones
    pa = ea.filter(ea["type"] == "property").group_by("from_id").agg(n=pl.col("name").n_unique()).sort("from_id")
    pb = eb.filter(eb["type"] == "property").group_by("from_id").agg(n=pl.col("name").n_unique()).sort("from_id")
    assert pa.equals(pb)
    # every string value is a token (string-table entries re-indexed, names kept beside them)
    strings = b.nodes.filter(b.nodes["type"] == "string")["name"]
    assert strings.str.starts_with("redacted:").all()


@needs_node
def test_report_counts_each_category(planted, redacted, tmp_path):
    files, markers = planted
    _, counts = redacted
    assert len(counts) == 3
    final = counts[2]
    assert set(final) <= set(CATEGORIES)
    n = markers["requests"]
    fifth = (n + 4) // 5
    planted_categories = {
        "string values": n,                        # apiToken, sid, user per session
        "Map and Set entries": n + fifth,          # the Map's keys, the Set's members
        "closure variables": 2,                    # signingKey, pinCode
        "regexp sources": 1,
        "script sources": 1,
        "numbers": n,                              # lastSeen per session
        "property names": n + 4 * fifth + 6,       # bySid, byEmail, byUrl, byNumber, byName, featureFlags
        "element indices": fifth,                  # byAccount keys
    }
    for cat, at_least in planted_categories.items():
        assert final.get(cat, 0) >= at_least, (cat, final)
    assert "bigints" not in final                  # node 20 writes none (see the scenario test)
    # the CLI prints the counts the API reports
    outs = [tmp_path / p.name for p in files]
    for printed, rep in zip(counts, redact_many(files, outs, quiet=True)):
        assert {k: v for k, v in rep["replaced"].items() if v} == printed


@needs_node
def test_keep_edge_names_keeps_dictionary_keys(planted, tmp_path):
    files, markers = planted
    out = tmp_path / "kept.heapsnapshot"
    _run_cli([str(files[2]), "-o", str(out), "--keep-edge-names"])
    data = _bytes(out)
    for cat in ("dictionary_keys", "email_keys", "url_keys", "number_keys", "word_keys", "small_dictionary_keys"):
        assert all(m.encode() in data for m in markers[cat]), cat
    assert not any(m.encode() in data for m in markers["string_values"] + markers["heap_numbers"])
    a, b = wb.load_snapshot(files[2], quiet=True), wb.load_snapshot(out, quiet=True)
    cols = ["from_id", "to_id", "type", "name"]
    assert a.edges.select(cols).equals(b.edges.select(cols))


@needs_node
def test_edge_names_replaces_every_property_name(planted, tmp_path):
    files, markers = planted
    out = tmp_path / "all.heapsnapshot.gz"
    _run_cli([str(files[2]), "-o", str(out), "--edge-names"])
    b = wb.load_snapshot(out, quiet=True)
    names = b.edges.filter(b.edges["type"] == "property")["name"]
    assert names.len() > 1000 and names.str.contains(TOKEN.pattern).all()
    data = _bytes(out)
    assert not any(m.encode() in data for m in _string_markers(markers))
    a = wb.load_snapshot(files[2], quiet=True)
    assert a.statistics() == b.statistics() and np.array_equal(a.retained_sizes, b.retained_sizes)
    sa, sb = a.summary(), b.summary()
    assert sa["count"].sum() == sb["count"].sum() and sa["self_size"].sum() == sb["self_size"].sum()


def test_data_looking_names():
    for name in ("alice@example.com", "https://x.example.com/cb", "www.example.com", "/srv/app/index.js",
                 "C:\\app\\x", "12345", "3.25", "0x1f", "10.0.0.12", "5f0c2a9e-3b1d-4c7e-9a2b-0d6e8f1a2b3c",
                 "3f9a0c1d2e3f4a5b6c7d", "user1234567", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0",
                 "a1B2c3D4e5F6g7H8i9"):
        assert looks_like_data(name), name
    for name in ("user", "apiToken", "lastSeen", "Uint8Array", "get length", "__proto__", "sha256",
                 "isUint8ArrayOrUint16Array", "content-type", "en-GB", "ERR_HTTP2_INVALID_SETTING_VALUE", "$1"):
        assert not looks_like_data(name), name


def test_tokens_are_keyed_unique_and_stable():
    t1, t2, t3 = Tokens(b"k" * 32), Tokens(b"k" * 32), Tokens(b"x" * 32)
    contents = [f"name{i}".encode() for i in range(20000)]
    toks = [t1.token(c) for c in contents]
    assert len(set(toks)) == len(contents)
    assert toks == [t2.token(c) for c in contents] and toks[0] != t3.token(contents[0])
    # a 48-bit collision gives the later content a longer token, never the same one
    t4 = Tokens(b"k" * 32)
    t4.owner[toks[0]] = b"an earlier content with the same 12 hex digits"
    longer = t4.token(contents[0])
    assert longer != toks[0] and longer.startswith(toks[0]) and len(longer) == len(toks[0]) + 12
    assert len({t1.index(i) for i in range(5000)}) == 5000 and all(0 <= t1.index(i) < 2**32 - 1 for i in range(50))


def test_committed_dataset_answers_the_same(tmp_path):
    """Without node: the committed api_gateway recording, redacted with default options."""
    d = ROOT / "datasets" / "heap" / "api_gateway"
    src = [d / f"{n}.heapsnapshot.gz" for n in NAMES]
    out = [tmp_path / f"{n}.heapsnapshot" for n in NAMES]
    reports = redact_many(src, out, key=b"k" * 32)
    assert all(r["replaced"]["property names"] > 0 for r in reports)
    a, b = wb.load_snapshot(src[2], quiet=True), wb.load_snapshot(out[2], quiet=True)
    assert a.summary().equals(b.summary()) and a.statistics() == b.statistics()
    la, lb = wb.find_leaks(*src, quiet=True), wb.find_leaks(*out, quiet=True)
    cols = ["class", "count", "retained_size", "holder"]
    assert la.suspects.select(cols).equals(lb.suspects.select(cols))
    assert [p["edge_type"].to_list() for p in la.paths] == [p["edge_type"].to_list() for p in lb.paths]


def test_keep_and_replace_rule_on_a_built_graph(tmp_path):
    """Each branch of the rule on a hand-built graph (V8's layout: maps, descriptor arrays)."""
    from tests.heap.builder import rooted

    g, root = rooted()
    glob = g.node("object", "global")
    g.edge(root, glob, "shortcut", "global")
    obj_map = lambda *keys: _map_with(g, *keys)  # noqa: E731
    # two objects of one shape, declared by their hidden class: kept
    m = obj_map("x", "y", "user@example.com")
    for k in range(2):
        p = g.node("object", "Point", 32)
        g.edge(glob, p, "element", k)
        for name in ("x", "y", "user@example.com"):
            g.edge(p, g.node("number", "heap number", 16), "property", name)
        g.edge(p, m, "internal", "map")
    # a singleton's own hidden class: declared by one object only, replaced
    single = g.node("object", "Config", 24)
    g.edge(glob, single, "property", "config")                         # a global: kept
    g.edge(single, g.node("string", "v1", 16), "property", "onlyHere")
    g.edge(single, g.node("string", "v2", 16), "property", "fromCode")  # in a constant pool: kept
    g.edge(single, g.node("closure", "isArray", 32), "property", "isArray")   # a function under its name
    g.edge(single, g.node("closure", "get", 32), "property", "get secretish")  # accessor of a data name
    g.edge(single, g.node("symbol", "symbol", 16), "property", "<symbol kState>")
    g.edge(single, obj_map("onlyHere", "fromCode"), "internal", "map")
    pool = g.node("code", "(constant pool)", 32)
    g.edge(glob, pool, "internal", "pool")
    g.edge(pool, g.node("string", "fromCode", 16), "internal", "0")
    # a dictionary (no descriptors) and an integer-keyed one: replaced
    d = g.node("object", "Object", 24)
    g.edge(glob, d, "property", "bySid")
    for key in ("alice", "bob"):
        g.edge(d, g.node("number", "smi number"), "property", key)
    g.edge(d, obj_map(), "internal", "map")
    ids = g.node("object", "Object", 24)
    g.edge(glob, ids, "property", "byId")
    for key in (5000000, 7000000):
        g.edge(ids, g.node("string", f"row{key}", 16), "element", key)
    arr = g.node("object", "Array", 32)
    g.edge(glob, arr, "property", "list")
    for k in range(3):
        g.edge(arr, g.node("string", f"item{k}", 16), "element", k)
    src = g.write(tmp_path / "g.heapsnapshot")
    out = tmp_path / "r.heapsnapshot"
    rep = redact_many([src], [out], key=b"k" * 32)[0]
    e = wb.load_snapshot(out, quiet=True).edges
    names = set(e.filter(e["type"] == "property")["name"].to_list())
    assert {"x", "y", "config", "fromCode", "isArray", "<symbol kState>", "bySid", "byId", "list"} <= names
    assert not names & {"onlyHere", "alice", "bob", "user@example.com", "get secretish"}
    assert any(n.startswith("get redacted:") for n in names)
    elements = e.filter(e["type"] == "element")
    assert not set(elements["name"].to_list()) & {"5000000", "7000000"}
    assert {"0", "1", "2"} <= set(elements["name"].to_list())
    assert rep["replaced"]["property names"] == 6   # user@example.com twice, onlyHere, alice, bob, get secretish
    assert rep["replaced"]["element indices"] == 2
    data = out.read_bytes()
    for secret in (b"alice", b"onlyHere", b"secretish", b"user@example.com", b"row5000000", b"v1"):
        assert secret not in data


def _map_with(g, *keys):
    """A ``system / Map`` whose descriptor array holds ``keys`` (V8's slots 0, 3, 6, ...)."""
    m = g.node("object shape", "system / Map", 40)
    d = g.node("object shape", "system / DescriptorArray", 16 + 24 * len(keys))
    g.edge(m, d, "internal", "descriptors")
    for k, key in enumerate(keys):
        g.edge(d, g.node("string", key, 16), "internal", str(3 * k))
    return m
