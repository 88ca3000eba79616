"""Write small V8-format heap snapshots from a list of nodes and edges, the way V8 serialises
them (one record per line, strings last), for hand-built graphs and hostile-input tests."""
from __future__ import annotations

import json

NODE_TYPES = ["hidden", "array", "string", "object", "code", "closure", "regexp", "number", "native",
              "synthetic", "concatenated string", "sliced string", "symbol", "bigint", "object shape"]
EDGE_TYPES = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"]


class Graph:
    def __init__(self, fields: int = 7):
        self.fields = fields
        self.strings = ["<dummy>"]
        self.nodes = []   # dicts: type, name, id, size, detachedness
        self.edges = {}   # ordinal -> list of (type, name, to_ordinal)
        self.locations = []

    def s(self, value: str) -> int:
        if value not in self.strings:
            self.strings.append(value)
        return self.strings.index(value)

    def node(self, type_: str, name: str, size: int = 0, id_: int | None = None, detachedness: int = 0) -> int:
        ordinal = len(self.nodes)
        self.nodes.append({"type": NODE_TYPES.index(type_), "name": self.s(name),
                           "id": id_ if id_ is not None else 2 * ordinal + 1, "size": size,
                           "detachedness": detachedness})
        self.edges[ordinal] = []
        return ordinal

    def edge(self, src: int, dst: int, type_: str = "property", name: str | int = "x"):
        if type_ in ("element", "hidden"):
            nm = int(name)
        else:
            nm = self.s(str(name))
        self.edges[src].append((EDGE_TYPES.index(type_), nm, dst))

    def meta(self) -> dict:
        fields = ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"][: self.fields]
        return {
            "node_fields": fields,
            "node_types": [NODE_TYPES] + ["string", "number", "number", "number", "number", "number"][: self.fields - 1],
            "edge_fields": ["type", "name_or_index", "to_node"],
            "edge_types": [EDGE_TYPES, "string_or_number", "node"],
            "location_fields": ["object_index", "script_id", "line", "column"],
        }

    def text(self) -> str:
        nf = self.fields
        head = {"meta": self.meta(), "node_count": len(self.nodes),
                "edge_count": sum(len(v) for v in self.edges.values())}
        out = ['{"snapshot":' + json.dumps(head, separators=(",", ":")) + ",\n"]
        rows = []
        for i, n in enumerate(self.nodes):
            vals = [n["type"], n["name"], n["id"], n["size"], len(self.edges[i]), 0, n["detachedness"]][:nf]
            rows.append(",".join(map(str, vals)))
        out.append('"nodes":[' + "\n,".join(rows) + "],\n")
        erows = [f"{t},{nm},{dst * nf}" for i in range(len(self.nodes)) for (t, nm, dst) in self.edges[i]]
        out.append('"edges":[' + "\n,".join(erows) + "],\n")
        out.append('"trace_function_infos":[],\n"trace_tree":[],\n"samples":[],\n')
        lrows = [f"{o * nf},{s},{l},{c}" for (o, s, l, c) in self.locations]
        out.append('"locations":[' + "\n,".join(lrows) + "],\n")
        out.append('"strings":[' + "\n,".join(json.dumps(s) for s in self.strings) + "]}")
        return "".join(out)

    def write(self, path) -> str:
        with open(path, "w") as f:
            f.write(self.text())
        return str(path)


def rooted(fields: int = 7) -> tuple[Graph, int]:
    """A graph with V8's usual top: a synthetic root (ordinal 0) and a (GC roots) node."""
    g = Graph(fields)
    root = g.node("synthetic", "")
    gc = g.node("synthetic", "(GC roots)")
    g.edge(root, gc, "element", 1)
    return g, root
