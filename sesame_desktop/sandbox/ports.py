"""Which TCP ports a session's own processes listen on.

Only sockets owned by a process of the session count: the socket tables in
``/proc/net/tcp{,6}`` list every socket of the network namespace, and a sandbox may share it
with this computer (the local provider, and the local E2B-compatible test server, have no
network namespace of their own). A socket is the session's when one of the session's
processes holds it open (``/proc/<pid>/fd/* -> socket:[inode]``).

- Local sandboxes (isolated or not): this computer's ``/proc`` is read directly, in an
  executor, for the session's running commands (:meth:`LocalSandbox.process_groups`) and
  every descendant, found through the kernel's children lists, so the cost follows the
  session's processes and not the computer's. A scan command run *inside* an isolated local
  sandbox would not do: each command gets its own PID namespace there, so it would see no
  other command's processes. (Without isolation, a process whose parent died while its
  command still runs is no longer anyone's descendant, and is missed.)
- Other sandboxes (E2B): one short shell command inside the sandbox prints the LISTEN lines
  of the socket tables and the socket links of every process it can see (its ``/proc`` shows
  only the sandbox's processes, and only those of its own user can be read), and the text is
  parsed here. It needs ``grep`` and GNU ``find``, as in E2B's templates; no Python.

envd's own port (49983) is never reported, nor the ports of a local E2B-compatible server
(:func:`service_ports`). Processes the sandbox's user cannot read (started with ``sudo`` in an
E2B sandbox) are not seen. Measured here (``bench/ports.py``): a local scan takes well under
1 ms in an executor thread (the listening sockets come from the kernel's sock_diag netlink
interface in 0.05 ms; 0.25 ms with 1,000 other processes running); an E2B scan is one
command, about 50 ms of wall time against the local server and 4–5 ms of this process's CPU.

Local sandboxes need Linux (``/proc``): on other systems the local scan finds nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.ports import (
    NETLINK_SOCK_DIAG,
    ListeningSocket,
    ProcStat,
    inet_diag_request,
    owned_listening_ports,
    parse_inet_diag,
    parse_proc_net_tcp,
    parse_proc_stat,
    session_processes,
    socket_inode,
)
from sesame_desktop.sandbox.base import Sandbox
from sesame_desktop.sandbox.e2b_provider import E2BSandbox
from sesame_desktop.sandbox.local import LocalSandbox

log = logging.getLogger(__name__)

SCAN_TIMEOUT_S = 10.0
SCAN_COMMAND = (
    "grep -h ' 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null; "
    "find /proc/[0-9]*/fd -lname 'socket:*' -printf '%l\\n' 2>/dev/null; true"
)
"""Run inside a sandbox: LISTEN lines of the socket tables, then ``socket:[inode]`` lines."""


class PortScanFailed(UserFacingError):
    """The scan command did not work in this sandbox (an unusual template, say)."""


async def listening_ports(sandbox: Sandbox) -> set[int]:
    """The TCP ports in LISTEN state held by processes of ``sandbox``'s session.

    Raises:
        UserFacingError: the sandbox could not be asked (gone, unreachable, no shell tools).
    """
    if isinstance(sandbox, LocalSandbox):
        groups = sandbox.process_groups()
        if not groups:
            return set()
        return await asyncio.get_running_loop().run_in_executor(None, host_listening_ports, groups)
    return await _scan_inside(sandbox)


async def _scan_inside(sandbox: Sandbox) -> set[int]:
    out = bytearray()
    err = bytearray()
    result = await sandbox.run(SCAN_COMMAND, on_stdout=out.extend, on_stderr=err.extend, cwd="/",
                               timeout_s=SCAN_TIMEOUT_S)
    if not result.ok:
        raise PortScanFailed(UserMessage(
            "Ports not checked", "The sandbox could not list its listening ports.",
            details=(bytes(err) or bytes(out)).decode(errors="replace")[:500]))
    return parse_scan_output(out.decode(errors="replace")) - service_ports(sandbox)


def service_ports(sandbox: Sandbox) -> frozenset[int]:
    """Ports of the provider's own endpoints that a sandbox might see as its own.

    E2B's envd answers inside the sandbox on 49983 (excluded everywhere). An E2B-compatible
    server on this computer (``E2B_SANDBOX_URL=http://127.0.0.1:…``, domain ``localhost:…``)
    shares the network with its sandboxes; where it cannot hide its processes from them
    (no isolation), its envd and preview-proxy ports would look like the sandbox's.
    """
    if not isinstance(sandbox, E2BSandbox):
        return frozenset()
    ports: set[int] = set()
    for url in (sandbox.sdk.envd_api_url, f"http://{sandbox.sdk.sandbox_domain}"):
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            continue
        loopback = host in ("localhost", "::1") or host.endswith(".localhost") or host.startswith("127.")
        if loopback and port:
            ports.add(port)
    return frozenset(ports)


def parse_scan_output(text: str) -> set[int]:
    """The owned listening ports in the output of :data:`SCAN_COMMAND`."""
    tables: list[str] = []
    inodes: set[int] = set()
    for line in text.splitlines():
        inode = socket_inode(line.strip())
        if inode is not None:
            inodes.add(inode)
        else:
            tables.append(line)
    return owned_listening_ports(parse_proc_net_tcp("\n".join(tables)), inodes)


# -- this computer's /proc ------------------------------------------------------------------

def host_listening_ports(groups: Iterable[int], proc: str = "/proc", *,
                         by_children: bool | None = None) -> set[int]:
    """Ports that the processes of ``groups`` and their descendants listen on, from ``proc``.

    Blocking (it reads ``/proc``): run it in an executor.

    Args:
        groups: process group ids of the session's commands (each command leads its group).
        by_children: follow ``/proc/<pid>/task/<tid>/children`` from the group leaders, which
            costs in proportion to the session's processes, not the computer's; False reads
            every process's ``stat`` instead (which also finds members of the groups whose
            parent has died). None: by children where the kernel lists them.
    """
    sockets = host_listening_sockets(proc)
    if not sockets:
        return set()
    if by_children is None:
        by_children = _children_listed(proc)
    pids = descendants(groups, proc) if by_children else session_processes(proc_stats(proc), groups)
    inodes: set[int] = set()
    for pid in pids:
        fd_dir = f"{proc}/{pid}/fd"
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to read
        for name in names:
            try:
                inode = socket_inode(os.readlink(f"{fd_dir}/{name}"))
            except OSError:
                continue
            if inode is not None:
                inodes.add(inode)
    return owned_listening_ports(sockets, inodes)


def host_listening_sockets(proc: str = "/proc") -> list[ListeningSocket]:
    """Every listening TCP socket of this computer's network namespace.

    Asked through netlink (sock_diag, as ``ss -l`` does: about 0.05 ms); where that is not
    available, read from ``/proc/net/tcp{,6}`` (milliseconds with many connections open).
    """
    try:
        return _sock_diag(socket.AF_INET) + _sock_diag(socket.AF_INET6)
    except (OSError, AttributeError) as exc:  # AttributeError: no AF_NETLINK on this OS
        log.debug("sock_diag unavailable (%s); reading %s/net/tcp", exc, proc)
        return parse_proc_net_tcp(_read(f"{proc}/net/tcp") + _read(f"{proc}/net/tcp6"))


def _sock_diag(family: int) -> list[ListeningSocket]:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(2.0)
        nl.sendall(inet_diag_request(family))
        found: list[ListeningSocket] = []
        while True:
            sockets, done = parse_inet_diag(nl.recv(1 << 16))
            found += sockets
            if done:
                return found


def descendants(roots: Iterable[int], proc: str = "/proc") -> set[int]:
    """``roots`` that still run and all their descendants, through the kernel's children lists."""
    found: set[int] = set()
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        try:
            tids = os.listdir(f"{proc}/{pid}/task")
        except OSError:
            continue  # gone
        found.add(pid)
        for tid in tids:
            stack.extend(int(child) for child in _read(f"{proc}/{pid}/task/{tid}/children").split())
    return found


def _children_listed(proc: str) -> bool:
    """Whether this kernel lists children in ``/proc`` (CONFIG_PROC_CHILDREN, as Debian's)."""
    pid = os.getpid()
    return os.path.exists(f"{proc}/{pid}/task/{pid}/children")


def proc_stats(proc: str = "/proc") -> list[ProcStat]:
    """Parent, group and session of every process in ``proc`` (blocking)."""
    stats: list[ProcStat] = []
    try:
        names = os.listdir(proc)
    except OSError:
        return stats  # no /proc here
    for name in names:
        if name.isdigit():
            stat = parse_proc_stat(_read(f"{proc}/{name}/stat"))
            if stat is not None:
                stats.append(stat)
    return stats


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return ""
