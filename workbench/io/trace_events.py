"""Reader for CPU profiles inside Chrome trace event files (DevTools Performance exports, Node's
``node_trace.*.log`` with ``disabled-by-default-v8.cpu_profiler``).

Format (research note §1.4): a JSON array of events or ``{traceEvents: [...]}``. A ``Profile`` event
(``ph: "P"``) carries ``args.data.startTime``; ``ProfileChunk`` events with the same ``id`` (and pid)
carry ``args.data.cpuProfile.{nodes, samples}`` (nodes with ``parent``), ``args.data.timeDeltas`` and
optionally ``endTime``; chunks are concatenated in ``ts`` order, as speedscope's
``importFromChromeTimeline`` and Perfetto's legacy V8 tracker do. Older traces carry one ``CpuProfile``
event with ``args.data.cpuProfile``.

A trace may hold several profiles (threads, workers, several profiler sessions). ``profile=`` picks one
by ``"pid:id"``; by default the one with the most samples is read and the others are listed in
``meta["trace_profiles"]``. Timing semantics then follow ``workbench.io.cpuprofile``; the end time is
the last chunk's ``endTime`` or else the last sample's time.
"""
from __future__ import annotations

from ..errors import FormatError, UsageError
from ._jsonfile import load_json
from .cpuprofile import profile_from_cdp


def list_trace_profiles(path, events) -> dict:
    profiles: dict[str, dict] = {}
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            raise FormatError(path, f"traceEvents[{i}]", None, "event is not an object")
        name = e.get("name")
        if name not in ("Profile", "ProfileChunk", "CpuProfile"):
            continue
        args = e.get("args")
        data = args.get("data") if isinstance(args, dict) else None
        if not isinstance(data, dict):
            raise FormatError(path, f"traceEvents[{i}].args.data", None, f"{name} event without data")
        who = (e.get("pid"), e.get("id", e.get("tid")))
        if not all(v is None or isinstance(v, (str, int, float)) for v in who):
            raise FormatError(path, f"traceEvents[{i}]", None, f"{name} event whose pid/id is not a number or string")
        key = f"{who[0]}:{who[1]}"
        prof = profiles.setdefault(key, {"start": None, "chunks": [], "single": None, "tid": e.get("tid")})
        if name == "Profile":
            prof["start"] = data.get("startTime")
        elif name == "CpuProfile":
            prof["single"] = (i, data.get("cpuProfile"))
        else:
            ts = e.get("ts", 0)
            if not isinstance(ts, (int, float)):
                raise FormatError(path, f"traceEvents[{i}].ts", None, "not a number")
            prof["chunks"].append((ts, i, data))
    return profiles


def read_trace(path, *, profile: str | None = None, quiet: bool = False):
    repaired: list = []
    d = load_json(path, "traceEvents", quiet=quiet, notes=repaired)
    events = d.get("traceEvents") if isinstance(d, dict) else d
    if not isinstance(events, list):
        raise FormatError(path, "traceEvents", None, "no trace event array")
    profiles = list_trace_profiles(path, events)
    if not profiles:
        raise FormatError(path, "traceEvents", None,
                          "no CPU profile in this trace (no Profile/ProfileChunk/CpuProfile events; record with "
                          "the disabled-by-default-v8.cpu_profiler category)")

    def count(cpu) -> int:
        samples = cpu.get("samples") if isinstance(cpu, dict) else None
        return len(samples) if isinstance(samples, list) else 0

    def n_samples(p):
        if p["single"] is not None:
            return count(p["single"][1])
        return sum(count(c[2].get("cpuProfile")) for c in p["chunks"])

    sizes = {k: n_samples(p) for k, p in profiles.items()}
    if profile is None:
        key = max(sizes, key=lambda k: sizes[k])
    elif profile in profiles:
        key = profile
    else:
        raise UsageError(f"no profile {profile!r} in this trace; it has {', '.join(sorted(profiles))}", path)
    p = profiles[key]
    meta = {"trace_profile": key, "trace_profiles": sizes}
    others = [f"{k} ({v:,} samples)" for k, v in sizes.items() if k != key]
    notes = repaired + [("traceEvents", len(others), f"the trace holds {len(sizes)} CPU profiles; read {key}, not "
              f"{', '.join(others)} (choose with profile='pid:id', --trace-profile)")] if others else []
    if p["single"] is not None:
        i, cpu = p["single"]
        return profile_from_cdp(path, cpu, section=f"traceEvents[{i}].args.data.cpuProfile.nodes",
                                source="trace", meta=meta, notes=notes)
    chunks = sorted(p["chunks"], key=lambda c: (c[0], c[1]))
    nodes, samples, deltas, end = [], [], [], None
    for ts, i, data in chunks:
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
                            section=f"profile {key} nodes", source="trace", meta=meta, notes=notes)
