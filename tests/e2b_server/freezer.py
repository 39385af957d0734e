"""Freezing a sandbox's processes for pause/resume: SIGSTOP and SIGCONT of the whole tree.

E2B pauses a sandbox by snapshotting its VM: every process stops where it is and continues
from there on resume, and its files stay. Here every process of the sandbox gets SIGSTOP
(which cannot be caught or ignored) and, on resume, SIGCONT.

Which processes: with bubblewrap, every host process whose PID namespace is the sandbox's
(so a daemon that left its command's process group is frozen too), except the namespace's
init (bwrap, which only reaps). Without isolation: the process groups of the sandbox's
commands and every descendant of them.

Processes can fork while they are being stopped, so the scan repeats until it finds no
running process it has not stopped. Resuming continues the deepest processes first, so a
job-control shell never sees its stopped child before that child runs again.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sandboxes import Sandbox


def _ns_inode(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _all_pids() -> list[int]:
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat[stat.rfind(")") + 2 :].split()[1])


def sandbox_pids(sbx: Sandbox) -> list[int]:
    """Host pids of every process of the sandbox (not its bwrap init)."""
    if sbx.ns is not None:
        ns = _ns_inode(sbx.ns.pid)
        if ns is None:
            return []
        me = os.getpid()
        return [p for p in _all_pids() if p not in (sbx.ns.pid, me) and _ns_inode(p) == ns]
    roots = {proc.pgid for proc in sbx.processes.values()}
    parents = {p: _ppid(p) for p in _all_pids()}
    found: set[int] = set()
    for pid in parents:
        try:
            if os.getpgid(pid) in roots:
                found.add(pid)
        except OSError:
            continue
    changed = True
    while changed:  # descendants that moved to their own group or session
        changed = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    return sorted(found)


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def freeze(sbx: Sandbox) -> list[int]:
    """Stop every process of the sandbox; return the pids stopped."""
    stopped: set[int] = set()
    for _ in range(20):
        new = [p for p in sandbox_pids(sbx) if p not in stopped]
        if not new:
            break
        _signal_all(new, signal.SIGSTOP)
        stopped.update(new)
    return sorted(stopped)


def _depth(pid: int) -> int:
    depth = 0
    while pid > 1 and depth < 512:
        pid = _ppid(pid)
        depth += 1
    return depth


def thaw(sbx: Sandbox, pids: Iterable[int] = ()) -> None:
    """Continue every process of the sandbox (and ``pids``, stopped earlier), deepest first."""
    every = set(pids) | set(sandbox_pids(sbx))
    _signal_all(sorted(every, key=_depth, reverse=True), signal.SIGCONT)


def is_stopped(pid: int) -> bool:
    """Whether a host process is stopped (state ``T``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] in ("T", "t")
