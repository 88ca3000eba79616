"""A small synchronous client of the Chrome DevTools Protocol as Node's inspector speaks it.

Built on ``websockets.sync.client`` (the maintained ``websockets`` package, threaded sync API), so it
works the same in a script and inside Jupyter, whose kernel already runs an asyncio loop. One
request at a time: ``call(method, params)`` sends ``{"id", "method", "params"}`` and reads messages
until the response with that id arrives, handing protocol events (messages with ``method`` and no
``id``, e.g. ``HeapProfiler.addHeapSnapshotChunk``) to an optional callback meanwhile.

Timeouts are *idle* timeouts: a call fails when the target sends nothing for ``timeout`` seconds,
so a long heap snapshot that keeps streaming chunks never times out, while a hung target does.
A closed connection (the target exited or was killed) becomes a ``CaptureError`` naming the method
in flight and, when the pid is known, whether the process is gone.
"""
from __future__ import annotations

import contextlib
import json
import tempfile
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from ..errors import CaptureError
from . import discover

try:  # websockets >= 13: the sync client
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
    from websockets.sync.client import connect as _ws_connect
except ImportError as e:  # pragma: no cover - declared dependency
    raise ImportError("workbench.capture needs the 'websockets' package (>= 13)") from e

# V8 sends whole profiles in one message; allow up to 1 GiB per message.
MAX_MESSAGE = 1 << 30


class Inspector:
    """A connection to one inspector target. Use ``workbench.attach(...)`` to make one.

    Capture methods write files and return their paths; load them with the usual readers:
    ``take_heap_snapshot(path)``, ``cpu_profile(seconds, path)``, ``sampling_heap_profile(seconds, path)``,
    ``sample_metrics(every, for_, path)``, ``three_snapshots(interval, directory)``;
    ``evaluate(expression)`` runs JavaScript in the target and returns its JSON value.
    """

    def __init__(self, url: str, *, timeout: float = 30.0, allow_remote: bool = False, pid: int | None = None,
                 out_dir: str | Path | None = None, quiet: bool = False):
        host = urlsplit(url).hostname or ""
        discover.check_host(host, allow_remote)
        self.url = url
        self.pid = pid
        self.timeout = float(timeout)
        self.quiet = quiet
        self._out_dir = Path(out_dir) if out_dir is not None else None
        self._next_id = 0
        self._in_flight: str | None = None
        self._stack = contextlib.ExitStack()
        try:
            # websockets 17 wants connect() used as a context manager; the stack closes it.
            self._ws = self._stack.enter_context(_ws_connect(
                url, open_timeout=min(self.timeout, 10.0), max_size=MAX_MESSAGE, compression=None,
                proxy=None, ping_interval=None, close_timeout=2.0))
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as e:
            raise CaptureError(f"cannot connect to the inspector at {url}: {e}") from None
        self.closed = False

    # ------------------------------------------------------------------ protocol
    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        pid = f" pid {self.pid}" if self.pid else ""
        return f"<Inspector {self.url}{pid} ({state})>"

    def _dead(self, while_doing: str, cause: object = None) -> CaptureError:
        self.closed = True
        msg = f"the target closed the inspector connection during {while_doing}"
        if self.pid is not None:
            # The socket closes a moment before the kernel marks a killed process dead.
            deadline = time.monotonic() + 1.0
            while discover.process_exists(self.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            msg += f" (process {self.pid} " + ("has exited)" if not discover.process_exists(self.pid)
                                                else "is still running)")
        else:
            msg += " (did the process exit?)"
        return CaptureError(msg)

    def _recv(self, deadline_s: float, doing: str) -> dict | None:
        """One message, or None when ``deadline_s`` passes first (monotonic seconds)."""
        remaining = deadline_s - time.monotonic()
        if remaining <= 0:
            return None
        try:
            raw = self._ws.recv(timeout=remaining)
        except TimeoutError:
            return None
        except ConnectionClosed as e:
            raise self._dead(doing, e) from None
        try:
            msg = json.loads(raw)
        except ValueError:
            raise CaptureError(f"the target sent a message that is not JSON during {doing}") from None
        if not isinstance(msg, dict):
            raise CaptureError(f"the target sent a message that is not a JSON object during {doing}")
        return msg

    def call(self, method: str, params: dict | None = None, *, timeout: float | None = None,
             on_event: Callable[[dict], None] | None = None) -> dict:
        """Send one CDP command and return its ``result``; protocol errors become CaptureError.
        ``timeout`` (default: the session's) is the longest silence tolerated from the target."""
        if self.closed:
            raise CaptureError(f"the inspector connection is closed; cannot call {method}")
        self._next_id += 1
        mid = self._next_id
        idle = self.timeout if timeout is None else float(timeout)
        try:
            self._ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        except ConnectionClosed as e:
            raise self._dead(method, e) from None
        deadline = time.monotonic() + idle
        while True:
            msg = self._recv(deadline, method)
            if msg is None:
                raise CaptureError(f"{method}: no answer from the target for {idle:g} s (timeout)")
            deadline = time.monotonic() + idle
            if msg.get("id") == mid:
                if "error" in msg:
                    err = msg["error"] if isinstance(msg["error"], dict) else {"message": str(msg["error"])}
                    raise CaptureError(f"{method} failed in the target: {err.get('message', err)}")
                return msg.get("result") or {}
            if "method" in msg and on_event is not None:
                on_event(msg)

    def wait(self, seconds: float, doing: str = "the capture") -> None:
        """Sleep ``seconds`` while watching the connection, so a target that dies is noticed now."""
        deadline = time.monotonic() + max(0.0, float(seconds))
        while time.monotonic() < deadline:
            self._recv(deadline, doing)  # events nobody asked for are dropped

    def evaluate(self, expression: str, *, timeout: float | None = None, await_promise: bool = True):
        """Run JavaScript in the target's main context; return its value (JSON-serialisable).
        ``require`` is available (Node's command-line API)."""
        res = self.call("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": await_promise,
            "includeCommandLineAPI": True, "silent": True}, timeout=timeout)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            text = (d.get("exception") or {}).get("description") or d.get("text") or "exception"
            raise CaptureError(f"Runtime.evaluate: the expression threw: {text.splitlines()[0]}")
        return (res.get("result") or {}).get("value")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self._stack.close()
            except Exception:  # noqa: BLE001 - closing a dead socket must not mask the real error
                pass

    def __enter__(self) -> "Inspector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ where files go
    @property
    def out_dir(self) -> Path:
        """Where captures without an explicit path go (a fresh temp directory unless given)."""
        if self._out_dir is None:
            self._out_dir = Path(tempfile.mkdtemp(prefix="workbench-capture-"))
        self._out_dir.mkdir(parents=True, exist_ok=True)
        return self._out_dir

    def _default_path(self, stem: str, ext: str) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        pid = f"-{self.pid}" if self.pid else ""
        n = 0
        while True:
            p = self.out_dir / f"{stem}{pid}-{stamp}{f'-{n}' if n else ''}{ext}"
            if not p.exists():
                return p
            n += 1

    # ------------------------------------------------------------------ captures (see artefacts.py)
    def take_heap_snapshot(self, path=None, **kw) -> Path:
        from .artefacts import take_heap_snapshot
        return take_heap_snapshot(self, path, **kw)

    def cpu_profile(self, seconds: float, path=None, **kw) -> Path:
        from .artefacts import cpu_profile
        return cpu_profile(self, seconds, path, **kw)

    def sampling_heap_profile(self, seconds: float, path=None, **kw) -> Path:
        from .artefacts import sampling_heap_profile
        return sampling_heap_profile(self, seconds, path, **kw)

    def sample_metrics(self, every: float, for_: float, path=None, **kw) -> Path:
        from .artefacts import sample_metrics
        return sample_metrics(self, every, for_, path, **kw)

    def three_snapshots(self, interval: float, directory=None, **kw) -> tuple[Path, Path, Path]:
        from .artefacts import three_snapshots
        return three_snapshots(self, interval, directory, **kw)
