"""Finding a Node process's inspector: loopback checks, ``/json/list``, and opening the inspector of
a running pid with SIGUSR1.

Semantics (Node's "Debugging guide" and ``node --help``): a Node process that receives SIGUSR1
starts its inspector as ``node --inspect`` would, listening on ``--inspect-port`` (127.0.0.1:9229
unless the process was started with another ``--inspect-port``; 0 means a random port). The HTTP
endpoint ``http://HOST:PORT/json/list`` lists the debuggable targets, each with a
``webSocketDebuggerUrl`` (``ws://HOST:PORT/<uuid>``).

Which port did the signalled process open? On Linux we read it from the kernel instead of
guessing: the pid's socket inodes (``/proc/PID/fd``) matched against listening sockets in
``/proc/PID/net/tcp{,6}``. Ports that appear after the signal are probed first, so an HTTP server
of the same process is only asked for ``/json/list`` when the inspector was already open.
Elsewhere we fall back to the given port (default 9229).

Loopback only: every host we connect to (the one the user gave, and the one inside the
``webSocketDebuggerUrl`` the target reports) must resolve to loopback addresses unless the caller
passes ``allow_remote=True``; the inspector grants code execution in the target, so exposing it
off-host must be an explicit choice.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from ..errors import CaptureError, UsageError

DEFAULT_PORT = 9229


def is_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to is a loopback address."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addrs = {info[4][0] for info in infos}
    return bool(addrs) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs)


def check_host(host: str, allow_remote: bool) -> None:
    if not allow_remote and not is_loopback(host):
        raise UsageError(f"refusing to connect to {host!r}: not a loopback address (the inspector "
                         "can run code in the target); pass allow_remote=True / --allow-remote to do it anyway")


def list_targets(host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, timeout: float = 2.0,
                 allow_remote: bool = False) -> list[dict]:
    """The inspector's ``/json/list``: one dict per target (id, title, type, url, webSocketDebuggerUrl)."""
    check_host(host, allow_remote)
    url = f"http://{_hostport(host, port)}/json/list"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read(1 << 20)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise CaptureError(f"no inspector answers at {url}: {getattr(e, 'reason', e)}") from None
    try:
        targets = json.loads(body)
    except ValueError:
        raise CaptureError(f"{url} did not answer with JSON: not a V8 inspector") from None
    if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
        raise CaptureError(f"{url} did not answer with a list of targets: not a V8 inspector")
    return targets


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def ws_url_from_targets(targets: list[dict], where: str, allow_remote: bool) -> str:
    """The first target's webSocketDebuggerUrl (a Node process has one main target; the first
    listed is the main thread)."""
    for t in targets:
        url = t.get("webSocketDebuggerUrl")
        if isinstance(url, str) and url.startswith("ws"):
            check_host(urlsplit(url).hostname or "", allow_remote)
            return url
    raise CaptureError(f"{where}: the inspector lists no debuggable target")


def resolve_url(url: str | None = None, *, pid: int | None = None, port: int | None = None,
                host: str = "127.0.0.1", allow_remote: bool = False, timeout: float = 10.0,
                signal_pid: bool = True) -> str:
    """A ``ws://`` debugger URL from exactly one of: a ws/http URL, a pid, or a port."""
    given = sum(x is not None for x in (url, pid)) + (port is not None and pid is None)
    if given != 1:
        raise UsageError("give exactly one of url, pid or port")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
            raise UsageError(f"{url!r}: expected ws://HOST:PORT/ID (or http://HOST:PORT to look it up)")
        check_host(parts.hostname, allow_remote)
        if parts.scheme in ("ws", "wss") and parts.path not in ("", "/"):
            return url
        targets = list_targets(parts.hostname, parts.port or DEFAULT_PORT, allow_remote=allow_remote)
        return ws_url_from_targets(targets, url, allow_remote)
    if pid is not None:
        return open_inspector(pid, port=port, timeout=timeout, signal_pid=signal_pid)
    targets = list_targets(host, int(port), allow_remote=allow_remote)
    return ws_url_from_targets(targets, f"{host}:{port}", allow_remote)


# ---------------------------------------------------------------------------- pid -> port
def process_exists(pid: int) -> bool:
    """Alive and not a zombie (a killed child that was not reaped yet still answers kill(pid, 0))."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] != b"Z"
    except (OSError, ValueError):
        return True


def _looks_like_node(pid: int) -> bool | None:
    """True/False from /proc; None when we cannot tell (no /proc)."""
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        exe = ""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = os.path.basename(f.read().split(b"\0", 1)[0].decode("utf-8", "replace"))
    except OSError:
        return None if not exe else exe.startswith("node")
    return exe.startswith("node") or argv0.startswith("node")


def listening_ports(pid: int) -> list[int] | None:
    """Loopback TCP ports the process listens on (Linux /proc); None when /proc is unavailable."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    inodes = set()
    for fd in fds:
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    ports: list[int] = []
    for table, loop in (("tcp", "0100007F"), ("tcp6", "00000000000000000000000001000000")):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) < 10 or cols[3] != "0A" or cols[9] not in inodes:  # 0A = LISTEN
                continue
            addr, port_hex = cols[1].split(":")
            if addr == loop:
                ports.append(int(port_hex, 16))
    return sorted(set(ports))


def open_inspector(pid: int, *, port: int | None = None, timeout: float = 10.0, signal_pid: bool = True) -> str:
    """Open the inspector of a local Node process (SIGUSR1 unless it is already listening) and
    return its debugger URL. Refuses pids that are not node: SIGUSR1 terminates most programs."""
    if not process_exists(pid):
        raise CaptureError(f"process {pid} does not exist")
    node = _looks_like_node(pid)
    if node is False:
        raise UsageError(f"process {pid} is not a node process; SIGUSR1 would likely terminate it")
    before = listening_ports(pid)
    if signal_pid:
        try:
            os.kill(pid, signal.SIGUSR1)
        except PermissionError:
            raise CaptureError(f"not allowed to signal process {pid}") from None
        except ProcessLookupError:
            raise CaptureError(f"process {pid} exited before its inspector opened") from None
    started = time.monotonic()
    deadline = started + timeout
    last = None
    while time.monotonic() < deadline:
        if not process_exists(pid):
            raise CaptureError(f"process {pid} exited before its inspector opened")
        now = listening_ports(pid)
        if now is None:
            candidates = [port or DEFAULT_PORT]
        else:
            new = [p for p in now if p not in (before or [])]
            # An inspector that was already open adds no port: probe the old ones only after a
            # grace period, so the process's own HTTP server is rarely asked for /json/list.
            grace = time.monotonic() - started > 1.0 or not signal_pid
            candidates = new if (new or before is None or not grace) else list(now)
            if port is not None:
                candidates = [port] if port in now else []
        for p in candidates:
            try:
                return ws_url_from_targets(list_targets("127.0.0.1", p, timeout=1.0), f"process {pid} port {p}",
                                           False)
            except CaptureError as e:
                last = e
        time.sleep(0.05)
    where = f"; last error: {last.message}" if last else ""
    raise CaptureError(f"process {pid} did not open an inspector within {timeout:g} s{where}")
