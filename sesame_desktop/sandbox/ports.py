"""Which TCP ports a session's own processes listen on.

Only sockets owned by a process of the session count: a sandbox may share the network with
this computer (the local provider, and the local E2B-compatible test server, have no network
namespace of their own), so a socket of some other program must never show up as the
session's.

- Local sandboxes (isolated or not, on Linux, macOS and Windows): psutil lists the TCP
  sockets in LISTEN state of each process in the session's command trees
  (:class:`~sesame_desktop.sandbox.local_process.ProcessTree`: each command's descendants,
  plus every process seen in its tree before, so a server whose parent died is still found).
  It asks per process (``Process.net_connections``), in an executor: the cost follows the
  session's processes, and on macOS a user may ask about their own processes while the
  system-wide table needs root. On Linux the kernel's table of listening sockets is asked
  once instead (netlink, with the inodes of the processes' open sockets), which costs a
  fraction of a millisecond where psutil parses every connection of the computer per process.
  A scan command run *inside* an isolated local sandbox would not do: each command gets its
  own PID namespace there.
- Other sandboxes (E2B, always Linux): one short shell command inside the sandbox (run as
  root, as envd allows, so that servers started with ``sudo`` are seen too) prints the LISTEN
  lines of the socket tables and the socket links of every process (its ``/proc`` shows only
  the sandbox's processes), each with the process's pid (:data:`PORTS_SCAN_COMMAND`, every
  poll). To tell which command's process tree holds each port (:func:`port_owners`, when the
  ports change), :data:`SCAN_COMMAND` adds every process's parent, process group and
  session. Either prints at most :data:`MAX_SCAN_BYTES`; the text is parsed here
  (:mod:`sesame_desktop.core.port_scan`, which trusts none of it). They need ``grep``,
  ``head``, ``awk`` and GNU ``find``, as in E2B's templates.

envd's own port (49983) is never reported, nor the ports of a local E2B-compatible server
(:func:`service_ports`). ``bench/ports.py`` measures both paths.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import urlsplit

import psutil

from sesame_desktop.core.config import Provider as ProviderKind
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.port_scan import PortScan, parse_port_scan, ports_by_command
from sesame_desktop.core.ports import (
    EXCLUDED_PORTS,
    NETLINK_SOCK_DIAG,
    ListeningSocket,
    inet_diag_request,
    owned_listening_ports,
    parse_inet_diag,
    socket_inode,
)
from sesame_desktop.sandbox.base import CommandResult, Sandbox
from sesame_desktop.sandbox.local import LocalSandbox
from sesame_desktop.sandbox.local_process import ProcessTree, parent_map

log = logging.getLogger(__name__)
T = TypeVar("T")

SCAN_TIMEOUT_S = 10.0
MAX_SCAN_BYTES = 256 * 1024
"""The most a scan prints (and the app reads): a few thousand processes' worth."""
_TABLES = "grep -h ' 0A ' /proc/net/tcp /proc/net/tcp6; "
_SOCKETS = "find /proc/[0-9]*/fd -lname 'socket:*' -printf '%h %l\\n'; "
_FAMILIES = ("LC_ALL=C awk '{ s = $0; if (sub(/.*\\) /, \"\", s) && split(s, f, \" \") >= 20) "
             "print FILENAME, f[2], f[3], f[4] }' /proc/[0-9]*/stat; ")
SCAN_COMMAND = f"{{ {_TABLES}{_SOCKETS}{_FAMILIES}}} 2>/dev/null | head -c {MAX_SCAN_BYTES}; true"
"""Run inside a sandbox: LISTEN lines of the socket tables, ``/proc/<pid>/fd socket:[inode]``
lines, then ``/proc/<pid>/stat <ppid> <pgrp> <session>`` lines (the fields after the last
``)`` of a whole ``stat`` line; a process's name is too short to make one). The most telling
lines come first, in case the output is cut."""
PORTS_SCAN_COMMAND = f"{{ {_TABLES}{_SOCKETS}}} 2>/dev/null | head -c {MAX_SCAN_BYTES}; true"
"""The same without the family ties: enough for which ports listen (the scan every poll makes)."""
PARSE_IN_EXECUTOR_BYTES = 64 * 1024
"""A scan longer than this is parsed off the event loop."""


class PortScanFailed(UserFacingError):
    """The scan command did not work in this sandbox (an unusual template, say)."""


async def listening_ports(sandbox: Sandbox) -> set[int]:
    """The TCP ports in LISTEN state held by processes of ``sandbox``'s session.

    Raises:
        UserFacingError: the sandbox could not be asked (gone, unreachable, no shell tools).
    """
    if isinstance(sandbox, LocalSandbox):
        trees = sandbox.process_trees()
        if not trees:
            return set()
        return await asyncio.get_running_loop().run_in_executor(None, tree_listening_ports, trees)
    excluded = EXCLUDED_PORTS | service_ports(sandbox)
    text = await _scan_inside(sandbox, PORTS_SCAN_COMMAND)
    return await _parse_scan(text, lambda scan: scan.owned_ports(excluded))


async def port_owners(sandbox: Sandbox, commands: Iterable[int] = ()) -> dict[int, frozenset[int]]:
    """The listening ports of each command, by the pid of the command that leads its tree.

    Args:
        commands: the pids of the session's commands (E2B: the pids envd gave them). Local
            sessions know their own command trees and need none.

    Raises:
        UserFacingError: the sandbox could not be asked (E2B).
    """
    if not isinstance(sandbox, LocalSandbox):
        pids, excluded = [pid for pid in commands if pid > 1], EXCLUDED_PORTS | service_ports(sandbox)
        if not pids:
            return {}
        text = await _scan_inside(sandbox, SCAN_COMMAND)
        return await _parse_scan(text, lambda scan: ports_by_command(scan, pids, excluded))
    trees = sandbox.command_trees()
    if not trees:
        return {}

    def owners() -> dict[int, frozenset[int]]:
        return {pid: frozenset(tree_listening_ports([tree])) for pid, tree in trees}

    return await asyncio.get_running_loop().run_in_executor(None, owners)


async def _scan_inside(sandbox: Sandbox, command: str) -> str:
    """The text ``command`` (a scan) prints in ``sandbox``: whole lines, at most :data:`MAX_SCAN_BYTES`."""
    out = bytearray()
    err = bytearray()

    def on_stdout(chunk: bytes | str) -> None:  # never more than the scan may print
        if len(out) < MAX_SCAN_BYTES:
            data = chunk.encode() if isinstance(chunk, str) else chunk
            out.extend(data[:MAX_SCAN_BYTES - len(out)])

    def on_stderr(chunk: bytes | str) -> None:
        if len(err) < 4096:
            data = chunk.encode() if isinstance(chunk, str) else chunk
            err.extend(data[:4096 - len(err)])

    result = await _run_scan(sandbox, command, on_stdout, on_stderr)
    if not result.ok:
        raise PortScanFailed(UserMessage(
            "Ports not checked", "The sandbox could not list its listening ports.",
            details=(bytes(err) or bytes(out)).decode(errors="replace")[:500]))
    if len(out) >= MAX_SCAN_BYTES:  # cut short: its last line may be a part of one
        del out[out.rfind(b"\n") + 1:]
    return out.decode(errors="replace")


async def _run_scan(sandbox: Sandbox, command: str, on_stdout: Callable[[bytes | str], None],
                    on_stderr: Callable[[bytes | str], None]) -> CommandResult:
    """Run a scan ``command``; in an E2B sandbox as root (as envd lets every client), so that
    the sockets of servers started with ``sudo`` are seen too, not only the user's."""
    if sandbox.kind is ProviderKind.E2B:  # checked by kind: importing the e2b SDK here would slow the start-up
        from sesame_desktop.sandbox.e2b_provider import E2BCommand, E2BSandbox

        if isinstance(sandbox, E2BSandbox):
            handle = await sandbox.call(sandbox.sdk.commands.run(
                command, background=True, user="root", cwd="/", timeout=SCAN_TIMEOUT_S,
                on_stdout=on_stdout, on_stderr=on_stderr, retain_output=False))
            return await E2BCommand(handle, sandbox).wait()
    return await sandbox.run(command, on_stdout=on_stdout, on_stderr=on_stderr, cwd="/", timeout_s=SCAN_TIMEOUT_S)


async def _parse_scan(text: str, answer: Callable[[PortScan], T]) -> T:
    """``answer`` about the scan in ``text``; off the event loop when the text is long."""
    if len(text) <= PARSE_IN_EXECUTOR_BYTES:
        return answer(parse_port_scan(text))
    return await asyncio.get_running_loop().run_in_executor(None, lambda: answer(parse_port_scan(text)))


def service_ports(sandbox: Sandbox) -> frozenset[int]:
    """Ports of the provider's own endpoints that a sandbox might see as its own.

    E2B's envd answers inside the sandbox on 49983 (excluded everywhere). An E2B-compatible
    server on this computer (``E2B_SANDBOX_URL=http://127.0.0.1:…``, domain ``localhost:…``)
    shares the network with its sandboxes; where it cannot hide its processes from them
    (no isolation), its envd and preview-proxy ports would look like the sandbox's.
    """
    if sandbox.kind is not ProviderKind.E2B:
        return frozenset()  # checked by kind: importing the e2b SDK here would slow the start-up
    from sesame_desktop.sandbox.e2b_provider import E2BSandbox

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
    """The owned listening ports in the output of :data:`SCAN_COMMAND` or :data:`PORTS_SCAN_COMMAND`."""
    return parse_port_scan(text).owned_ports()


# -- this computer: psutil ------------------------------------------------------------------

def tree_listening_ports(trees: Iterable[ProcessTree], *, kernel_table: bool | None = None) -> set[int]:
    """Ports that the processes of ``trees`` listen on (blocking: run it in an executor)."""
    parents = parent_map()  # one look at every process for all the session's commands
    procs: dict[int, psutil.Process] = {}
    for tree in trees:
        procs.update((p.pid, p) for p in tree.members(parents))
    return process_listening_ports(procs.values(), kernel_table=kernel_table)


def process_listening_ports(procs: Iterable[psutil.Process], *, kernel_table: bool | None = None) -> set[int]:
    """TCP ports in LISTEN state held by any of ``procs`` (IPv4 and IPv6; blocking).

    Args:
        kernel_table: on Linux, ask the kernel for the listening sockets once (sock_diag
            netlink, as ``ss -l`` does: about 0.05 ms) and match their inodes with the
            processes' open files, instead of psutil's per-process lookup, which parses the
            whole connection table for every process that holds any socket (milliseconds
            each on a busy computer). None: where it works; False: psutil everywhere.
    """
    procs = list(procs)
    if kernel_table is not False and sys.platform.startswith("linux"):
        try:
            sockets = _sock_diag(socket.AF_INET) + _sock_diag(socket.AF_INET6)
        except (OSError, AttributeError) as exc:
            log.debug("sock_diag unavailable (%s); asking psutil", exc)
        else:
            return owned_listening_ports(sockets, _socket_inodes(p.pid for p in procs)) if sockets else set()
    ports: set[int] = set()
    for proc in procs:
        try:
            connections = proc.net_connections(kind="tcp")
        except psutil.Error:
            continue  # gone, or not ours to read
        ports.update(c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN and c.laddr)
    return ports


def _sock_diag(family: int) -> list[ListeningSocket]:
    """The listening TCP sockets of ``family`` in this network namespace (Linux netlink)."""
    if not sys.platform.startswith("linux"):
        raise OSError("netlink exists on Linux only")
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(2.0)
        nl.sendall(inet_diag_request(family))
        found: list[ListeningSocket] = []
        while True:
            sockets, done = parse_inet_diag(nl.recv(1 << 16))
            found += sockets
            if done:
                return found


def _socket_inodes(pids: Iterable[int]) -> set[int]:
    """Inodes of the sockets the processes ``pids`` hold open (Linux: ``/proc/<pid>/fd``)."""
    inodes: set[int] = set()
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
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
    return inodes
