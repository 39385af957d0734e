"""The text of a port scan run inside a sandbox, and which command owns each listening port.

Pure text processing, no Qt and no sandbox. The scan (``SCAN_COMMAND`` in
:mod:`sesame_desktop.sandbox.ports`) prints three kinds of lines, in this order:

- LISTEN lines of ``/proc/net/tcp`` and ``/proc/net/tcp6``, as the kernel writes them;
- ``/proc/<pid>/fd socket:[<inode>]``: a socket that process ``pid`` holds open (``find``'s
  ``%h %l``; a bare ``socket:[<inode>]`` line, as older scans printed, is a socket of some
  process whose pid is not known);
- ``/proc/<pid>/stat <ppid> <pgrp> <session>``: the family ties of a process, taken by
  ``awk`` from its ``stat`` line (the fields after the *last* ``)``, only from a line with
  all its fields: a process's name, the second field, may hold ``)``, spaces and line
  breaks, up to 15 bytes, and so can never make such a line of its own).

Everything in it comes from an untrusted sandbox, whose tools may even have been replaced
to print anything at all. So every line is checked for its exact shape, numbers are ASCII
digits of bounded length, a process with more than one ``stat`` line is not believed, walks
up the parent chain stop at loops and after :data:`MAX_DEPTH` steps, and the cost stays
linear in the length of the text. Nothing here can do more than put a port under the wrong
command or under "other ports".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sesame_desktop.core.ports import (
    EXCLUDED_PORTS,
    ListeningSocket,
    ProcStat,
    parse_proc_net_tcp,
    socket_inode,
)

MAX_DEPTH = 64
"""The longest parent chain followed from a socket's holder to a command."""
MAX_PID_DIGITS = 10
MAX_INODE_DIGITS = 20
UNKNOWN_PID = 0
"""The holder of a socket seen in a bare ``socket:[inode]`` line."""

_PROC = "/proc/"
_FD = "fd "
_STAT = "stat "


@dataclass(frozen=True)
class PortScan:
    """What one scan inside a sandbox saw.

    Attributes:
        sockets: the listening TCP sockets (IPv4 and IPv6).
        holders: for each socket inode held open by a process the scan could read, the pids
            holding it (:data:`UNKNOWN_PID` where the line did not say).
        stats: each process's family ties, by pid.
    """

    sockets: tuple[ListeningSocket, ...] = ()
    holders: Mapping[int, frozenset[int]] = field(default_factory=dict)
    stats: Mapping[int, ProcStat] = field(default_factory=dict)

    def owned_ports(self, excluded: frozenset[int] = EXCLUDED_PORTS) -> set[int]:
        """Listening ports held by some process the scan could read, minus ``excluded``."""
        return {s.port for s in self.sockets if s.inode in self.holders and s.port not in excluded}


def _number(text: str, digits: int) -> int | None:
    """A non-negative number in plain ASCII digits (``int`` would take spaces, ``_`` and other scripts)."""
    if 0 < len(text) <= digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def parse_port_scan(text: str) -> PortScan:
    """The sockets, their holders and the processes' family ties in a scan's output.

    Lines of any other shape are skipped (for the socket tables,
    :func:`~sesame_desktop.core.ports.parse_proc_net_tcp` decides).
    """
    tables: list[str] = []
    holders: dict[int, set[int]] = {}
    ties: dict[int, list[str]] = {}
    for line in text.split("\n"):
        if not line.startswith(_PROC):
            bare = socket_inode(line.strip())
            if bare is not None:
                holders.setdefault(bare, set()).add(UNKNOWN_PID)
            else:
                tables.append(line)
            continue
        pid_text, slash, rest = line[len(_PROC):].partition("/")
        pid = _number(pid_text, MAX_PID_DIGITS)
        if pid is None or not slash:
            continue
        if rest.startswith(_FD):
            inode = _socket(rest[len(_FD):])
            if inode is not None:
                holders.setdefault(inode, set()).add(pid)
        elif rest.startswith(_STAT):
            ties.setdefault(pid, []).append(rest[len(_STAT):])
    stats: dict[int, ProcStat] = {}
    for pid, lines in ties.items():
        fields = lines[0].split(" ") if len(lines) == 1 else []  # two lines for a pid: believe neither
        numbers = [n for n in (_number(f, MAX_PID_DIGITS) for f in fields) if n is not None]
        if len(fields) == len(numbers) == 3:  # ppid, pgrp, session
            stats[pid] = ProcStat(pid, *numbers)
    return PortScan(tuple(parse_proc_net_tcp("\n".join(tables))),
                    {inode: frozenset(pids) for inode, pids in holders.items()}, stats)


def _socket(target: str) -> int | None:
    if target.startswith("socket:[") and target.endswith("]"):
        return _number(target[8:-1], MAX_INODE_DIGITS)
    return None


def ports_by_command(scan: PortScan, commands: Iterable[int],
                     excluded: frozenset[int] = EXCLUDED_PORTS) -> dict[int, frozenset[int]]:
    """The listening ports of each command, by the pid of the command that leads its tree.

    A socket belongs to a command when one of the processes holding it is the command or
    descends from it (its parent chain leads there). A process whose parent ended (it was
    handed to the sandbox's init) still belongs to the command whose pid is its process group
    or session. Ports of no command (a shell in the Terminal tab, a server of another user)
    are in no entry; every command in ``commands`` has one, empty when it holds no port.
    """
    wanted = {pid for pid in commands if pid > 1}
    found: dict[int, set[int]] = {pid: set() for pid in wanted}
    chains: dict[int, int | None] = {}  # pid -> the command its parent chain leads to

    def chain_owner(pid: int) -> int | None:
        path: list[int] = []
        owner: int | None = None
        current = pid
        while True:
            if current in chains:
                owner = chains[current]
                break
            if current in wanted:
                owner = current
                break
            stat = scan.stats.get(current)
            if stat is None or current in path:
                break  # the chain ends (or loops) short of a command
            if len(path) == MAX_DEPTH:
                return None  # too deep to follow; a process nearer the top may still get there
            path.append(current)
            current = stat.ppid
        for step in path:  # each process of a chain is looked at once per scan
            chains[step] = owner
        return owner

    def owner_of(pid: int) -> int | None:
        owner = chain_owner(pid)
        if owner is None and (stat := scan.stats.get(pid)) is not None:
            owner = next((group for group in (stat.pgrp, stat.session) if group in wanted), None)
        return owner

    for sock in scan.sockets:
        if sock.port in excluded:
            continue
        for holder in scan.holders.get(sock.inode, ()):
            owner = owner_of(holder) if holder != UNKNOWN_PID else None
            if owner is not None:
                found[owner].add(sock.port)
    return {pid: frozenset(ports) for pid, ports in found.items()}
