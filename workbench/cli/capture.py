"""CLI subcommands for live capture: ``workbench capture heap|cpu|heap-sampling|metrics``
(``--url WS | --pid PID | --port N``, ``-o OUT``, ``--seconds S``), and ``workbench pyheap``
for guppy3 ``.hpy`` dumps (summary of one dump, comparison of two)."""
from __future__ import annotations

import sys

from ..errors import UsageError
from ._common import add_format, emit_frame, print_notes


def _attach(args):
    from ..capture import attach
    return attach(args.url, pid=args.pid, port=args.port, host=args.host, timeout=args.timeout,
                  allow_remote=args.allow_remote, quiet=args.quiet)


def _need_seconds(args, default: float) -> float:
    s = default if args.seconds is None else args.seconds
    if s <= 0:
        raise UsageError("--seconds must be > 0")
    return s


def cmd_capture(args) -> int:
    with _attach(args) as insp:
        if args.what == "heap":
            out = insp.take_heap_snapshot(args.output, quiet=args.quiet)
        elif args.what == "cpu":
            out = insp.cpu_profile(_need_seconds(args, 10.0), args.output, interval_us=args.interval_us)
        elif args.what == "heap-sampling":
            out = insp.sampling_heap_profile(_need_seconds(args, 10.0), args.output,
                                             interval_bytes=args.interval_bytes)
        else:
            if args.every <= 0:
                raise UsageError("--every must be > 0")
            out = insp.sample_metrics(args.every, _need_seconds(args, 10.0), args.output, quiet=args.quiet)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_pyheap(args) -> int:
    from ..io import load_hpy
    if len(args.dumps) > 2:
        raise UsageError("pyheap takes one dump (Summary) or two (BEFORE AFTER: Comparison)")
    heaps = [load_hpy(p, index=args.index) for p in args.dumps]
    print_notes(*heaps)
    if len(heaps) == 1:
        emit_frame(heaps[0].summary(top=args.top).select("class", "count", "self_size"), args.format)
    else:
        df = heaps[1].compare(heaps[0]).drop("class_key")
        emit_frame(df.head(args.top) if args.top else df, args.format)
    return 0


def register(sub) -> None:
    p = sub.add_parser("capture", help="capture from a live node process over the inspector protocol")
    p.add_argument("what", choices=("heap", "cpu", "heap-sampling", "metrics"),
                   help="heap snapshot, CPU profile, sampling heap profile, or metric samples")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--url", help="ws://127.0.0.1:PORT/ID (or ws://HOST:PORT to look it up)")
    who.add_argument("--pid", type=int, help="a local node process: SIGUSR1 opens its inspector")
    who.add_argument("--port", type=int, help="inspector port on --host (9229 for node --inspect)")
    p.add_argument("--host", default="127.0.0.1", help="host for --port (loopback unless --allow-remote)")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback inspector address")
    p.add_argument("-o", "--output", required=True,
                   help="OUT.heapsnapshot[.gz] | OUT.cpuprofile | OUT.heapprofile | OUT.jsonl")
    p.add_argument("--seconds", type=float, default=None, help="recording length (cpu, heap-sampling, metrics; 10)")
    p.add_argument("--every", type=float, default=1.0, help="metrics: seconds between samples (1)")
    p.add_argument("--interval-us", type=int, default=None, help="cpu: sampling interval in µs")
    p.add_argument("--interval-bytes", type=int, default=32768, help="heap-sampling: mean bytes between samples")
    p.add_argument("--timeout", type=float, default=30.0, help="longest silence from the target, seconds (30)")
    p.set_defaults(func=cmd_capture)

    p = sub.add_parser("pyheap", help="guppy3 .hpy dumps: Summary of one, Comparison of two (BEFORE AFTER)")
    p.add_argument("dumps", nargs="+", help="one or two .hpy files")
    p.add_argument("--index", type=int, default=-1, help="which package of a multi-dump file (default: last)")
    p.add_argument("--top", type=int, default=None)
    add_format(p)
    p.set_defaults(func=cmd_pyheap)
