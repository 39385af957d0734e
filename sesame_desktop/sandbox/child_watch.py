"""How the event loop learns that a local command's process ended, without stalling the loop.

On Python 3.11, asyncio sees a child process end through a ``ThreadedChildWatcher``: every
spawn (``loop.subprocess_exec``, ``asyncio.create_subprocess_exec``) starts a thread that
waits for that one process, and the event loop's thread waits until that new thread has
started running. On a busy computer the new thread may wait tens of milliseconds for a CPU,
and the GUI's event loop stalls as long with it (``bench/ports.py`` saw 48-70 ms per spawn
with 2 cores under load).

Linux (5.3 and newer) offers a file descriptor per process that becomes readable when the
process ends (``pidfd_open``): the loop watches it like any socket, and no thread is needed.
Python 3.12 and newer use that by themselves where it works (and deprecate choosing a
watcher); on 3.11 :func:`use_pidfd_child_watcher` installs one. Elsewhere (macOS, Windows,
old kernels) nothing changes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVarTuple

log = logging.getLogger(__name__)

_installed = False
_Ts = TypeVarTuple("_Ts")


def pidfd_works() -> bool:
    """Whether this system can watch a process through a pid file descriptor (Linux 5.3+)."""
    if not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


def use_pidfd_child_watcher() -> bool:
    """On Python 3.11 on Linux, watch child processes through pid file descriptors on the
    running loop instead of a thread per child (idempotent; cheap after the first call).

    Returns:
        Whether child processes are watched without threads from now on (always False on
        3.12+, where asyncio chooses the pidfd watcher itself when it works).
    """
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12) or not sys.platform.startswith("linux") or not pidfd_works():
        return False
    current = asyncio.get_child_watcher()
    if isinstance(current, asyncio.ThreadedChildWatcher):
        asyncio.set_child_watcher(PidfdChildWatcher())  # the old one's threads still end their waits
    _installed = isinstance(asyncio.get_child_watcher(), (PidfdChildWatcher, asyncio.PidfdChildWatcher))
    return _installed


class PidfdChildWatcher(asyncio.AbstractChildWatcher):
    """Python 3.12's pidfd watcher for 3.11: bound to no loop, each child is watched on the
    loop that spawned it (the asyncio watcher of 3.11 is tied to one loop it is attached to)."""

    def add_child_handler(self, pid: int, callback: Callable[[int, int, *_Ts], object], *args: *_Ts) -> None:
        loop = asyncio.get_running_loop()
        pidfd = os.pidfd_open(pid)
        loop.add_reader(pidfd, self._do_wait, loop, pid, pidfd, callback, args)

    @staticmethod
    def _do_wait(loop: asyncio.AbstractEventLoop, pid: int, pidfd: int, callback: Callable[..., object],
                 args: tuple[Any, ...]) -> None:
        loop.remove_reader(pidfd)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped elsewhere
            returncode = 255
            log.warning("child process %d: exit status already read; reporting 255", pid)
        else:
            returncode = os.waitstatus_to_exitcode(status)
        os.close(pidfd)
        callback(pid, returncode, *args)

    def remove_child_handler(self, pid: int) -> bool:
        return True  # the reader goes when the process ends (as in Python 3.12)

    def attach_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        pass

    def close(self) -> None:
        pass

    def is_active(self) -> bool:
        return True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        pass
