"""The heap widgets on big snapshots, timed in Python: SnapshotComparison on two ~7M-node snapshots of
one process and RetainerExplorer on one (issue 16, point 3).

    node --max-old-space-size=16384 benchmarks/gen_large_pair.js benchmarks/data/pair-before.heapsnapshot \\
        benchmarks/data/pair-after.heapsnapshot 2
    python benchmarks/bench_heap_widgets.py [BEFORE AFTER]

Every interaction is the Python method the browser's event calls (a click on a class row sets the
Select's value, which calls ``select_class``, and so on), timed from the call to the widget state
being set; "rows" is how many rows the interaction put into widget state (what goes to the browser),
"state KiB" the JSON size of the state of every widget the interaction changed. The loads use the
reader's cache (a second run maps both files), so the load line is a re-open unless the cache is cold.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _state_bytes(widgets) -> int:
    n = 0
    for w in widgets:
        st = w.get_state()
        n += len(json.dumps({k: v for k, v in st.items() if not isinstance(v, (bytes, memoryview))}, default=str))
    return n


def _all_widgets(root):
    out, stack = [], [root]
    while stack:
        w = stack.pop()
        out.append(w)
        stack.extend(getattr(w, "children", ()) or ())
    return out


class Recorder:
    def __init__(self, root_widget):
        self.root = root_widget
        self.rows = []

    def snapshot(self):
        return {id(w): (w, json.dumps(w.get_state(), default=str)) for w in _all_widgets(self.root())}

    def time(self, what, fn, rows_of):
        before = self.snapshot()
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        after = self.snapshot()
        changed = [w for k, (w, s) in after.items() if k not in before or before[k][1] != s]
        self.rows.append((what, dt, rows_of(), _state_bytes(changed) / 1024))
        print(f"| {what} | {dt:.3f} | {self.rows[-1][2]} | {self.rows[-1][3]:.1f} |", flush=True)


def main() -> None:
    before_p = sys.argv[1] if len(sys.argv) > 2 else str(HERE / "data" / "pair-before.heapsnapshot")
    after_p = sys.argv[2] if len(sys.argv) > 2 else str(HERE / "data" / "pair-after.heapsnapshot")
    import numpy as np

    import workbench as wb
    from workbench.io import cache
    from workbench.widgets.heap import RetainerExplorer, SnapshotComparison

    t = time.perf_counter()
    b = wb.load_snapshot(before_p, quiet=True)
    a = wb.load_snapshot(after_p, quiet=True)
    b.analyze(), a.analyze()
    cache.wait()
    load = time.perf_counter() - t
    print(f"{a!r}\n{b!r}\nload + passes of both: {load:.2f} s (from the cache: {a.cache_file is not None and b.cache_file is not None})")
    print(f"load average {os.getloadavg()[0]:.1f}\n")
    print("| interaction | s | rows sent | state KiB |\n|---|---|---|---|")

    box = {}
    rec = Recorder(lambda: box["w"].widget)
    t = time.perf_counter()
    w = SnapshotComparison(b, a)
    box["w"] = w
    rec.rows.append(("SnapshotComparison(before, after): Comparison of every class", time.perf_counter() - t,
                     len(w.class_list.options), _state_bytes(_all_widgets(w.widget)) / 1024))
    print(f"| {rec.rows[-1][0]} | {rec.rows[-1][1]:.3f} | {rec.rows[-1][2]} | {rec.rows[-1][3]:.1f} |")
    opts = lambda: len(w.class_list.options)  # noqa: E731
    rec.time("filter 'Sess'", lambda: setattr(w.filter_box, "value", "Sess"), opts)
    rec.time("filter cleared", lambda: setattr(w.filter_box, "value", ""), opts)
    rec.time("sort by new_count", lambda: setattr(w.sort_dd, "value", "new_count"), opts)
    rec.time("next page of classes", lambda: w.next_b.click(), opts)
    key = w.table.filter(w.table["class"] == "Session")["class_key"][0]
    rec.time("select class Session (200,000 new objects)", lambda: setattr(w.class_list, "value", key),
             lambda: len(w.object_list.options))
    rec.time("next page of objects", lambda: w.obj_next.click(), lambda: len(w.object_list.options))
    nid = w.object_list.options[0][1]
    rec.time("select an object: 3 retainer paths (first)", lambda: setattr(w.object_list, "value", nid),
             lambda: int(w.paths["path"].n_unique()) if w.paths is not None else 0)
    nid2 = w.object_list.options[1][1]
    rec.time("select another object: 3 retainer paths", lambda: setattr(w.object_list, "value", nid2),
             lambda: int(w.paths["path"].n_unique()) if w.paths is not None else 0)
    big = w.table.sort("size_delta", descending=True)["class_key"][0]
    rec.time(f"select class {big} (largest growth)", lambda: setattr(w.class_list, "value", big),
             lambda: len(w.object_list.options))

    # the retainers of one Order (held by the orders Map): one level at a time
    order_class = next(i for i in np.unique(a.class_index).tolist() if a.strings[i] == "Order")
    order = int(np.flatnonzero(a.class_index == order_class)[0])
    oid = int(a.ids[order])
    box2 = {}
    rec2 = Recorder(lambda: box2["x"].widget)
    t = time.perf_counter()
    ex = RetainerExplorer(a, oid)
    box2["x"] = ex
    rec.rows.append(("RetainerExplorer(after, Order): first level", time.perf_counter() - t, len(ex.rows_of()),
                     _state_bytes(_all_widgets(ex.widget)) / 1024))
    print(f"| {rec.rows[-1][0]} | {rec.rows[-1][1]:.3f} | {rec.rows[-1][2]} | {rec.rows[-1][3]:.1f} |")
    row = ex.rows_of()[0]
    rec2.time("expand a retainer row", lambda: row.toggle.click(), lambda: len(row.loaded))
    sub = row.loaded[0] if row.loaded else row
    rec2.time("expand the next level", lambda: sub.toggle.click(), lambda: len(sub.loaded))
    rec2.time("show weak edges (rebuild)", lambda: setattr(ex.weak_cb, "value", True), lambda: len(ex.rows_of()))
    # a node with many retainers: paging
    counts = a.retainer_counts
    many = int(np.argmax(counts))
    ex2 = RetainerExplorer(a, int(a.ids[many]))
    box2["x"] = ex2
    rec2.time(f"'more…' on a node with {int(counts[many]):,} retainers", lambda: ex2.root.more.click(),
              lambda: len(ex2.rows_of()))


if __name__ == "__main__":
    main()
