"""Real node children for the capture tests: started on loopback, bounded in time, killed in teardown."""
from __future__ import annotations

import json
import os
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "datasets" / "scenarios" / "capture_leaky_service.js"


class Target:
    def __init__(self, proc: subprocess.Popen, info: dict, ws_url: str | None):
        self.proc = proc
        self.pid = proc.pid
        self.port = info["port"]
        self.ws_url = ws_url
        self.inspector_port = int(ws_url.split(":")[2].split("/")[0]) if ws_url else None

    def alive(self) -> bool:
        return self.proc.poll() is None


def _readline(stream, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    buf = b""
    fd = stream.fileno()
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no line from the child within {timeout} s (got {buf!r})")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            b = os.read(fd, 1)
            if not b:
                raise EOFError(f"child closed its output (got {buf!r})")
            buf += b
    return buf.decode()


@pytest.fixture
def node_target():
    """start(*args, inspect=False): a running capture_leaky_service.js. With inspect=True it is
    started with --inspect=127.0.0.1:0 and its ws URL is read from stderr; otherwise with
    --inspect-port=0 so that SIGUSR1 opens the inspector on a free port."""
    procs: list[subprocess.Popen] = []

    def start(*args, inspect: bool = False) -> Target:
        flag = "--inspect=127.0.0.1:0" if inspect else "--inspect-port=0"
        proc = subprocess.Popen(["node", flag, str(SCENARIO), *map(str, args)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        procs.append(proc)
        ws = None
        if inspect:
            line = _readline(proc.stderr, 20)
            m = re.search(r"(ws://127\.0\.0\.1:\d+/[\w-]+)", line)
            assert m, line
            ws = m.group(1)
        info = json.loads(_readline(proc.stdout, 60))
        return Target(proc, info, ws)

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)
        for s in (p.stdout, p.stderr):
            s.close()
