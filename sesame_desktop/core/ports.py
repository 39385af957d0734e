"""Ports of dev servers: listening sockets from ``/proc/net/tcp`` and URLs printed in output.

Pure text processing, no Qt and no sandbox: the sandbox layer gathers the text (inside the
sandbox or from this computer's ``/proc``), the services layer decides what to show.

Two signals say that a port may be worth showing:

- the kernel's socket tables (``/proc/net/tcp`` and ``tcp6``): sockets in state ``0A``
  (LISTEN), each with its socket inode, so that only sockets owned by a process of the
  session count (the inodes of a process's sockets are the ``socket:[N]`` targets of
  ``/proc/<pid>/fd/*``);
- a URL that the output prints, such as ``http://localhost:5173/``: it only says which port
  to check at once. Text from a sandbox is never used as a URL; only its port number is.
"""

from __future__ import annotations

import enum
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

ENVD_PORT = 49983
"""E2B's in-sandbox daemon (the commands and files API)."""

EXCLUDED_PORTS: frozenset[int] = frozenset({ENVD_PORT})
"""Service ports of the sandbox itself, never shown as a dev server."""

LISTEN_STATE = "0A"
"""``TCP_LISTEN`` as ``/proc/net/tcp`` writes it."""

MAX_PORT = 65535


class PortSource(enum.Enum):
    """What made the port show up first."""

    SCAN = "listening socket"
    OUTPUT = "printed URL"


@dataclass(frozen=True)
class PortInfo:
    """A port that a process of the session listens on.

    Attributes:
        port: the TCP port inside the sandbox.
        url: the preview URL the provider made for it (never text from the output).
        source: whether a scan found it on its own or a printed URL led to it first.
    """

    port: int
    url: str
    source: PortSource = PortSource.SCAN


@dataclass(frozen=True)
class ListeningSocket:
    """One LISTEN line of ``/proc/net/tcp{,6}``.

    Attributes:
        address: the local address as the kernel writes it (hex).
        inode: the socket's inode, as in ``socket:[inode]`` links under ``/proc/<pid>/fd``.
    """

    port: int
    address: str
    inode: int


def parse_proc_net_tcp(text: str) -> list[ListeningSocket]:
    """The listening sockets in the text of ``/proc/net/tcp`` and/or ``/proc/net/tcp6``.

    Header lines, other states and malformed lines are skipped, so the two files (or just
    their LISTEN lines, as ``grep`` leaves them) may simply be concatenated.
    """
    sockets: list[ListeningSocket] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10 or fields[3] != LISTEN_STATE:
            continue
        address, _, port_hex = fields[1].rpartition(":")
        try:
            port = int(port_hex, 16)
            inode = int(fields[9])
        except ValueError:
            continue
        if 0 < port <= MAX_PORT:
            sockets.append(ListeningSocket(port, address, inode))
    return sockets


def socket_inode(link_target: str) -> int | None:
    """The inode in a ``socket:[12345]`` fd link target, None for anything else."""
    if link_target.startswith("socket:[") and link_target.endswith("]"):
        digits = link_target[8:-1]
        if digits.isdigit():
            return int(digits)
    return None


def owned_listening_ports(sockets: Iterable[ListeningSocket], owned_inodes: Iterable[int],
                          excluded: frozenset[int] = EXCLUDED_PORTS) -> set[int]:
    """Ports of ``sockets`` whose inode is among ``owned_inodes``, minus ``excluded`` ports."""
    owned = set(owned_inodes)
    return {s.port for s in sockets if s.inode in owned and s.port not in excluded}


# -- the same from the kernel's sock_diag netlink interface ------------------------------------
# ``ss -l`` asks the kernel this way: only listening sockets come back, so the cost does not
# grow with the (often thousands of) other connections, as reading /proc/net/tcp does.

SOCK_DIAG_BY_FAMILY = 20
NETLINK_SOCK_DIAG = 4
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_NLM_F_REQUEST_DUMP = 0x301  # NLM_F_REQUEST | NLM_F_ROOT | NLM_F_MATCH
_TCP_LISTEN = 10
_NLMSGHDR = struct.Struct("=IHHII")
_INET_DIAG_REQ_V2 = struct.Struct("=BBBBI48x")
_INET_DIAG_MSG_MIN = 72  # family … inode (struct inet_diag_msg)
_IPPROTO_TCP = 6


def inet_diag_request(family: int, seq: int = 1) -> bytes:
    """A netlink request for every listening TCP socket of ``family`` (AF_INET or AF_INET6)."""
    body = _INET_DIAG_REQ_V2.pack(family, _IPPROTO_TCP, 0, 0, 1 << _TCP_LISTEN)
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(body), SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST_DUMP, seq, 0) + body


def parse_inet_diag(data: bytes) -> tuple[list[ListeningSocket], bool]:
    """The listening sockets in one netlink answer datagram, and whether the dump is done.

    Raises:
        OSError: the kernel answered with an error (``errno`` set).
    """
    sockets: list[ListeningSocket] = []
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size:
            break
        body = offset + _NLMSGHDR.size
        if kind == _NLMSG_DONE:
            return sockets, True
        if kind == _NLMSG_ERROR:
            errno = -struct.unpack_from("=i", data, body)[0] if body + 4 <= len(data) else 0
            raise OSError(errno, "sock_diag request failed")
        if kind == SOCK_DIAG_BY_FAMILY and length >= _NLMSGHDR.size + _INET_DIAG_MSG_MIN:
            family, state = data[body], data[body + 1]
            port = struct.unpack_from(">H", data, body + 4)[0]
            address = data[body + 8:body + (12 if family == 2 else 24)].hex()
            inode = struct.unpack_from("=I", data, body + 68)[0]
            if state == _TCP_LISTEN and 0 < port <= MAX_PORT:
                sockets.append(ListeningSocket(port, address, inode))
        offset += (length + 3) & ~3
    return sockets, False


# -- URLs printed in the output -------------------------------------------------------------

_LOCAL_URL = re.compile(
    r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::\]|\[::1\]):(\d{1,5})(?!\d)",
    re.IGNORECASE,
)
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0", "[::")
URL_HINT = "://"
"""What a line must hold to be worth looking at (a filter for the console's finished lines)."""


def local_url_ports(line: str) -> list[int]:
    """The ports of local URLs in one finished line of output, in order of appearance.

    ``line`` is plain text: the console buffer has already interpreted its escape sequences
    (Vite prints the port in bold) and put together what arrived in several chunks, so a URL
    is whole and nothing here parses escapes or holds state between chunks.
    """
    if URL_HINT not in line or not any(host in line for host in _LOCAL_HOSTS):  # the usual case
        return []
    ports = [int(match.group(1)) for match in _LOCAL_URL.finditer(line)]
    return [port for port in ports if 0 < port <= MAX_PORT]


# -- processes of a session (this computer's /proc) ------------------------------------------

@dataclass(frozen=True)
class ProcStat:
    """The family ties of one process, from ``/proc/<pid>/stat``."""

    pid: int
    ppid: int
    pgrp: int
    session: int


def parse_proc_stat(text: str) -> ProcStat | None:
    """The pid, parent, process group and session in the text of ``/proc/<pid>/stat``.

    The command name (second field) may hold spaces and parentheses, so the fields are counted
    from its last ``)``.
    """
    head, paren, rest = text.rpartition(")")
    if not paren:
        return None
    fields = rest.split()
    try:
        return ProcStat(int(head.split("(", 1)[0]), int(fields[1]), int(fields[2]), int(fields[3]))
    except (IndexError, ValueError):
        return None


def session_processes(stats: Iterable[ProcStat], groups: Iterable[int]) -> set[int]:
    """Pids of the processes in ``groups`` (process groups or sessions) and all their descendants.

    A child that made its own group or session still belongs to the command that started it,
    as long as its parent chain leads back to it.
    """
    wanted = set(groups)
    if not wanted:
        return set()
    children: dict[int, list[int]] = {}
    found: list[int] = []
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat.pid)
        if stat.pgrp in wanted or stat.session in wanted:
            found.append(stat.pid)
    selected: set[int] = set()
    while found:
        pid = found.pop()
        if pid not in selected:
            selected.add(pid)
            found.extend(children.get(pid, ()))
    return selected
