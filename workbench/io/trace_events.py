"""Reader for CPU profiles inside Chrome trace event files (DevTools Performance exports, Node's
``node_trace.*.log`` with ``disabled-by-default-v8.cpu_profiler``).

Format (research note §1.4): a JSON array of events or ``{traceEvents: [...]}``. A ``Profile`` event
(``ph: "P"``) carries ``args.data.startTime``; ``ProfileChunk`` events with the same ``id`` (and pid)
carry ``args.data.cpuProfile.{nodes, samples}`` (nodes with ``parent``), ``args.data.timeDeltas`` and
optionally ``endTime``; chunks are concatenated in ``ts`` order, as speedscope's
``importFromChromeTimeline`` and Perfetto's legacy V8 tracker do. Older traces carry one ``CpuProfile``
event with ``args.data.cpuProfile``. Profile events without ``args.data`` (current Chrome writes some)
carry nothing to read: they are skipped, as speedscope skips them, and counted in the notes.

A trace may hold several profiles (the main thread, workers, child processes, several profiler
sessions). ``read_traces`` returns all of them, in the order their ``Profile`` events start (speedscope's
order), each with ``meta`` ``pid``, ``tid``, ``thread_name`` (from the trace's ``thread_name`` metadata
events), ``process_name`` and ``trace_profile`` (``"pid:id"``); a declared profile that got no nodes is
skipped and noted. ``read_trace`` returns one: ``thread=`` picks it by tid, thread name or ``"pid:id"``
(``profile=`` is the older spelling of the last); by default the main thread's (``CrRendererMain``,
Node's ``JavaScriptMainThread``; of several, the one with the most samples), else the profile with the
most samples. Timing semantics then follow ``workbench.io.cpuprofile`` (``weights=``); the end time is
the last chunk's ``endTime`` or else the last sample's time.
"""
from __future__ import annotations

from ..errors import FormatError, UsageError
from ._jsonfile import load_json
from .cpuprofile import check_weights, profile_from_cdp

MAIN_THREADS = ("CrRendererMain", "JavaScriptMainThread")
_PROFILE_EVENTS = ("Profile", "ProfileChunk", "CpuProfile")


def _key_part(path, i, name, v):
    if not (v is None or isinstance(v, (str, int, float))) or isinstance(v, bool):
        raise FormatError(path, f"traceEvents[{i}]", None, f"{name} event whose pid/id is not a number or string")
    return v


def list_trace_profiles(path, events) -> tuple[dict, dict]:
    """(profiles by "pid:id" in the order they start, facts: skipped events, thread and process names)."""
    profiles: dict[str, dict] = {}
    threads: dict[str, str] = {}
    processes: dict[str, str] = {}
    no_data = []
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            raise FormatError(path, f"traceEvents[{i}]", None, "event is not an object")
        name = e.get("name")
        if name in ("thread_name", "process_name"):
            args = e.get("args")
            label = args.get("name") if isinstance(args, dict) else None
            if isinstance(label, str):
                where = f"{e.get('pid')}:{e.get('tid')}" if name == "thread_name" else f"{e.get('pid')}"
                (threads if name == "thread_name" else processes)[where] = label
            continue
        if name not in _PROFILE_EVENTS:
            continue
        pid = _key_part(path, i, name, e.get("pid"))
        tid = _key_part(path, i, name, e.get("tid"))
        pid_id = _key_part(path, i, name, e.get("id", tid))
        ts = e.get("ts", 0)
        if isinstance(ts, bool) or not isinstance(ts, (int, float)):
            if name == "ProfileChunk":
                raise FormatError(path, f"traceEvents[{i}].ts", None, "not a number")
            ts = 0
        args = e.get("args")
        if args is not None and not isinstance(args, dict):
            raise FormatError(path, f"traceEvents[{i}].args", None, f"{name} event whose args is not an object")
        data = args.get("data") if args is not None else None
        key = f"{pid}:{pid_id}"
        prof = profiles.get(key)
        if prof is None:
            prof = profiles[key] = {"start": None, "chunks": [], "single": None, "pid": pid, "tid": tid,
                                    "first": (ts, i), "skipped": 0}
        if name != "ProfileChunk":   # the declaring event names the profile's thread, not the profiler's
            prof["tid"] = tid
            prof["first"] = min(prof["first"], (ts, i))
        if data is None:
            no_data.append(i)
            prof["skipped"] += 1
            continue
        if not isinstance(data, dict):
            raise FormatError(path, f"traceEvents[{i}].args.data", None, f"{name} event whose data is not an object")
        if name == "Profile":
            prof["start"] = data.get("startTime")
        elif name == "CpuProfile":
            prof["single"] = (i, data.get("cpuProfile"))
        else:
            prof["chunks"].append((ts, i, data))
    ordered = dict(sorted(profiles.items(), key=lambda kv: kv[1]["first"]))
    return ordered, {"no_data": no_data, "threads": threads, "processes": processes}


def _count(cpu) -> int:
    samples = cpu.get("samples") if isinstance(cpu, dict) else None
    return len(samples) if isinstance(samples, list) else 0


def _n_samples(p) -> int:
    if p["single"] is not None:
        return _count(p["single"][1])
    return sum(_count(c[2].get("cpuProfile")) for c in p["chunks"])


def _n_nodes(p) -> int:
    if p["single"] is not None:
        cpu = p["single"][1]
        nodes = cpu.get("nodes") if isinstance(cpu, dict) else None
        return len(nodes) if isinstance(nodes, list) else 1   # let the reader say what is wrong
    out = 0
    for _ts, _i, data in p["chunks"]:
        cpu = data.get("cpuProfile")
        nodes = cpu.get("nodes") if isinstance(cpu, dict) else None
        out += len(nodes) if isinstance(nodes, list) else 1
    return out


def _load(path, quiet):
    repaired: list = []
    d = load_json(path, "traceEvents", quiet=quiet, notes=repaired)
    events = d.get("traceEvents") if isinstance(d, dict) else d
    if not isinstance(events, list):
        raise FormatError(path, "traceEvents", None, "no trace event array")
    profiles, facts = list_trace_profiles(path, events)
    if not profiles:
        raise FormatError(path, "traceEvents", None,
                          "no CPU profile in this trace (no Profile/ProfileChunk/CpuProfile events; record with "
                          "the disabled-by-default-v8.cpu_profiler category)")
    for p in profiles.values():
        p["thread_name"] = facts["threads"].get(f"{p['pid']}:{p['tid']}")
        p["process_name"] = facts["processes"].get(f"{p['pid']}")
        p["samples"] = _n_samples(p)
    notes = list(repaired)
    if facts["no_data"]:
        first = facts["no_data"][0]
        notes.append((f"traceEvents[{first}].args.data", len(facts["no_data"]),
                      "profile events without args.data (nothing to read), skipped"))
    return profiles, notes


def _describe(key, p) -> str:
    who = p["thread_name"] or f"tid {p['tid']}"
    return f"{key} ({who}, {p['samples']:,} samples)"


def _pick(path, profiles: dict, thread) -> str:
    if thread is None:
        live = [k for k, p in profiles.items() if _n_nodes(p)] or list(profiles)
        main = [k for k in live if profiles[k]["thread_name"] in MAIN_THREADS] or live
        return max(main, key=lambda k: profiles[k]["samples"])   # first of equals: the earliest
    t = str(thread)
    if t in profiles:
        return t
    hits = [k for k, p in profiles.items() if _n_nodes(p) and (str(p["tid"]) == t or p["thread_name"] == t
                                                                or f"{p['pid']}:{p['tid']}" == t)]
    if len(hits) == 1:
        return hits[0]
    listing = "; ".join(_describe(k, p) for k, p in profiles.items())
    if not hits:
        raise UsageError(f"no profile {t!r} in this trace; it has {listing}", path)
    raise UsageError(f"{len(hits)} profiles match {t!r}; choose one by 'pid:id': {listing}", path)


def _build(path, key, p, profiles, notes, weights):
    meta = {"trace_profile": key, "trace_profiles": {k: q["samples"] for k, q in profiles.items()},
            "pid": p["pid"], "tid": p["tid"], "thread_name": p["thread_name"], "process_name": p["process_name"]}
    if p["single"] is not None:
        i, cpu = p["single"]
        return profile_from_cdp(path, cpu, section=f"traceEvents[{i}].args.data.cpuProfile.nodes",
                                source="trace", meta=meta, notes=notes, weights=weights)
    if not p["chunks"]:
        raise FormatError(path, "traceEvents", None, f"profile {key} has no ProfileChunk with data: no nodes to read")
    chunks = sorted(p["chunks"], key=lambda c: (c[0], c[1]))
    nodes, samples, deltas, end = [], [], [], None
    for _ts, i, data in chunks:
        cpu = data.get("cpuProfile") or {}
        if not isinstance(cpu, dict):
            raise FormatError(path, f"traceEvents[{i}].args.data.cpuProfile", None, "not an object")
        cn, cs = cpu.get("nodes") or [], cpu.get("samples") or []
        td = data.get("timeDeltas") or []
        if not (isinstance(cn, list) and isinstance(cs, list) and isinstance(td, list)):
            raise FormatError(path, f"traceEvents[{i}].args.data", None, "nodes/samples/timeDeltas must be arrays")
        if len(td) != len(cs):
            raise FormatError(path, f"traceEvents[{i}].args.data.timeDeltas", None,
                              f"{len(td)} time deltas for {len(cs)} samples")
        nodes.extend(cn)
        samples.extend(cs)
        deltas.extend(td)
        if isinstance(data.get("endTime"), (int, float)):
            end = data["endTime"]
    start = p["start"]
    if start is None:
        raise FormatError(path, "traceEvents", None, f"profile {key} has chunks but no Profile event with startTime")
    return profile_from_cdp(path, {"nodes": nodes, "samples": samples, "timeDeltas": deltas,
                                   "startTime": start, "endTime": end},
                            section=f"profile {key} nodes", source="trace", meta=meta, notes=notes, weights=weights,
                            adopt_orphans=p["skipped"] > 0)


def read_trace(path, *, profile: str | None = None, thread=None, quiet: bool = False, weights: str = "devtools"):
    """One CPU profile of a trace: ``thread`` (tid, thread name or "pid:id"; ``profile`` is the same as
    a "pid:id") or by default the main thread's (module docstring)."""
    check_weights(weights)
    profiles, notes = _load(path, quiet)
    key = _pick(path, profiles, thread if thread is not None else profile)
    others = [_describe(k, q) for k, q in profiles.items() if k != key]
    if others:
        notes.append(("traceEvents", len(others), f"the trace holds {len(profiles)} CPU profiles; read "
                      f"{_describe(key, profiles[key])}, not {', '.join(others)} (choose with thread=, --thread; "
                      "all of them: load_profiles)"))
    return _build(path, key, profiles[key], profiles, notes, weights)


def read_traces(path, *, quiet: bool = False, weights: str = "devtools") -> list:
    """Every CPU profile of a trace, in the order they start; declared profiles without nodes are skipped
    (each profile's notes say which, with the other file-level notes)."""
    check_weights(weights)
    profiles, notes = _load(path, quiet)
    empty = [k for k, p in profiles.items() if not _n_nodes(p)]
    live = [k for k in profiles if k not in empty]
    if not live:
        raise FormatError(path, "traceEvents", None, "the trace's CPU profiles hold no nodes")
    if empty:
        notes.append(("traceEvents", len(empty), f"declared CPU profiles without any node ({', '.join(empty)}), "
                      "skipped"))
    return [_build(path, k, profiles[k], profiles, notes, weights) for k in live]
