"""Export a Profile to speedscope's file format (``https://www.speedscope.app/file-format-schema.json``).

speedscope ``src/lib/file-format-spec.ts`` (research note §1.9): ``{$schema, shared: {frames: [{name,
file, line, col}]}, profiles: [SampledProfile{type: "sampled", name, unit, startValue, endValue,
samples: [[frame index, root first]], weights}]}``. A CPU profile with samples is written in time
order, one stack per sample weighted by the DevTools per-hit interval in milliseconds, so
speedscope's Time Order view works; profiles without samples (allocation, folded, callers) are
written as one weighted stack per call-tree node with self > 0 (bytes for allocation profiles).
"""
from __future__ import annotations

import json

import numpy as np

SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def _stacks(parent: np.ndarray, frame: np.ndarray, order: np.ndarray) -> list[list[int]]:
    # one list per node, built parents-first; export is not a hot path (one pass over nodes)
    st: list = [None] * len(parent)
    st[order[0]] = []
    for i in order[1:]:
        st[i] = st[parent[i]] + [int(frame[i])]
    return st


def to_speedscope(p, path=None):
    f = p.frame_labels
    frames = [{"name": n, **({"file": u} if u else {}), **({"line": int(ln)} if ln else {}),
               **({"col": int(c)} if c else {})}
              for n, u, ln, c in zip(f["name"], f["url"], f["line"], f["column"])]
    stacks = _stacks(p.parent, p.frame, p.order)
    if p.kind == "cpu" and p.n_samples:
        samples = [stacks[i] for i in p.sample_node.tolist()]
        weights = p.sample_weight.tolist()
        unit = "milliseconds"
        start, end = 0.0, float(np.sum(p.sample_weight))
    else:
        nodes = np.nonzero(p.self_value > 0)[0]
        nodes = nodes[nodes != p.order[0]]
        samples = [stacks[i] for i in nodes.tolist()]
        weights = p.self_value[nodes].tolist()
        unit = "milliseconds" if p.kind == "cpu" else "bytes"
        start, end = 0.0, float(np.sum(weights))
    doc = {"$schema": SCHEMA, "shared": {"frames": frames},
           "profiles": [{"type": "sampled", "name": p.path or p.source, "unit": unit, "startValue": start,
                         "endValue": end, "samples": samples, "weights": weights}],
           "name": p.path or p.source, "activeProfileIndex": 0, "exporter": "workbench"}
    if path is None:
        return doc
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    return None


def to_svg(p, path=None, **kw):
    """The flame graph (``Profile.flame(**kw)``) as SVG text, or written to ``path`` (via vl-convert)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(p.flame(**kw).to_json())
    if path is None:
        return svg
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(svg)
    return None


def to_html(p, path=None, **kw):
    """The flame graph as a standalone HTML page (Vega's JavaScript inlined: opens offline), with tooltips."""
    import io

    chart = p.flame(**kw)
    if path is None:
        buf = io.StringIO()
        chart.save(buf, format="html", inline=True)
        return buf.getvalue()
    chart.save(str(path), format="html", inline=True)
    return None
