"""A local command and its whole process tree, on Linux, macOS and Windows.

A command is started through the event loop's own subprocess support (``subprocess_exec``
with a protocol of ours: output reaches the callbacks as it arrives, and the command's end is
seen when its process exits even if a child it left behind keeps the output pipes open). It
runs in a process group of its own on Linux and macOS (``start_new_session``), in a new
process group without a console window on Windows.

Its *tree* is that group plus every descendant psutil finds, plus every process seen in the
tree before (:class:`ProcessTree`): a server that left the group (``setsid``) or whose parent
died is still the command's once a scan has seen it. Ending a command:

- :meth:`LocalCommand.interrupt` (the user's Stop, Ctrl+C): on Linux and macOS SIGINT to the
  whole tree, then SIGTERM, then SIGKILL, each after a grace period in which the tree did not
  end; on Windows, where a console-less app cannot send Ctrl+C to another console, the tree
  is terminated (``TerminateProcess``) at once;
- :meth:`LocalCommand.kill` (and the time limit): SIGKILL, or on Windows the command's job
  object (:mod:`.windows_job`: the tree, orphans included) and ``TerminateProcess``, at once.

psutil is the cross-platform part (children, liveness, termination on Windows); it is used
in executor threads, since it reads ``/proc`` or asks the kernel for every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence

import psutil

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.sandbox.base import CommandHandle, CommandResult, OutputCallback
from sesame_desktop.sandbox.child_watch import use_pidfd_child_watcher
from sesame_desktop.sandbox.windows_job import Job, make_job

log = logging.getLogger(__name__)

DRAIN_AFTER_EXIT_S = 1.0
"""How long output still in the pipes is read after the command's process exited."""
INTERRUPT_GRACE_S = 3.0
"""How long a tree has to end after SIGINT, and again after SIGTERM, before the next signal."""
POLL_S = 0.02

WINDOWS = os.name == "nt"
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_NO_WINDOW = 0x08000000


def signal_name(returncode: int) -> str | None:
    """"killed", "terminated"… for a negative (POSIX) return code, else None."""
    if returncode >= 0:
        return None
    try:
        sig = signal.Signals(-returncode)
    except ValueError:
        return f"signal {-returncode}"
    names = {signal.SIGTERM: "terminated", signal.SIGINT: "interrupted"}
    if not WINDOWS:  # pragma: no branch - these exist everywhere but Windows
        names.update({signal.Signals(9): "killed", signal.Signals(1): "hung up"})
    return names.get(sig, sig.name.lower())


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def parent_map() -> dict[int, int]:
    """``{pid: parent pid}`` of every process of this computer (blocking).

    psutil's own map (what ``Process.children`` reads each time) when this psutil has it,
    else one pass over every process.
    """
    ppid_map = getattr(psutil, "_ppid_map", None)
    if callable(ppid_map):
        try:
            return dict(ppid_map())
        except (psutil.Error, OSError):
            pass
    parents: dict[int, int] = {}
    for proc in psutil.process_iter(["ppid"]):
        ppid = proc.info.get("ppid")
        if isinstance(ppid, int):
            parents[proc.pid] = ppid
    return parents


def _descendants(proc: psutil.Process, parents: Mapping[int, int]) -> dict[int, psutil.Process]:
    """Every live descendant of ``proc`` by ``parents``; a pid reused since is not one."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    try:
        started = proc.create_time()
    except psutil.Error:
        return {}
    found: dict[int, psutil.Process] = {}
    stack = list(children.get(proc.pid, ()))
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        try:
            child = psutil.Process(pid)
            if child.create_time() < started:  # an older process with a reused parent pid
                continue
        except psutil.Error:
            continue
        found[pid] = child
        stack.extend(children.get(pid, ()))
    return found


class ProcessTree:
    """The processes of one command: its group leader's descendants and every one seen before.

    Thread-safe: scans run on executor threads while the event loop ends commands.
    """

    def __init__(self, root_pid: int, job: Job | None = None) -> None:
        """``job``: the Windows job object holding the tree, when one could be made."""
        self.root_pid = root_pid
        self.job = job
        self._lock = threading.Lock()
        try:
            self._root: psutil.Process | None = psutil.Process(root_pid)
        except psutil.Error:
            self._root = None
        self._known: dict[int, psutil.Process] = {}

    def members(self, parents: Mapping[int, int] | None = None) -> list[psutil.Process]:
        """The tree's live processes now, leader first (blocking: call on an executor).

        Args:
            parents: this computer's ``{pid: parent pid}`` (:func:`parent_map`), to share one
                look at every process between several trees.
        """
        if parents is None:
            parents = parent_map()
        found: dict[int, psutil.Process] = {}
        root = self._root
        if root is not None and _alive(root):
            found[root.pid] = root
            found.update(_descendants(root, parents))
        with self._lock:
            for pid, proc in list(self._known.items()):
                if pid in found:
                    continue
                if _alive(proc):
                    found[pid] = proc
                    found.update(_descendants(proc, parents))
                else:
                    del self._known[pid]
            self._known.update(found)
        return list(found.values())

    def has_known(self) -> bool:
        """Whether the last look at the tree found live processes (no disk access)."""
        with self._lock:
            return bool(self._known)

    def send(self, sig: int, *, spare_leader: bool = False) -> list[psutil.Process]:
        """Send ``sig`` to the whole tree (``SIGKILL``: kill; on Windows every signal kills).

        Args:
            spare_leader: leave the leader out (bubblewrap, which would die at once and take
                the whole sandbox with it; it exits when the command inside does).

        Returns the processes it was sent to. Blocking: call on an executor.
        """
        members = self.members()
        if spare_leader:
            members = [p for p in members if p.pid != self.root_pid]
        else:
            self._signal_group(sig)
        for proc in reversed(members):  # children before parents: none respawns a killed child
            self._signal(proc, sig)
        return members

    def _signal_group(self, sig: int) -> None:
        """The group (POSIX: including members psutil cannot see), or the job (Windows)."""
        if sys.platform != "win32":
            with contextlib.suppress(OSError):
                os.killpg(self.root_pid, sig)
        elif self.job is not None:
            try:
                self.job.terminate()
            except OSError as exc:
                log.info("the job of process %d could not be ended (%s); ending its tree", self.root_pid, exc)

    @staticmethod
    def _signal(proc: psutil.Process, sig: int) -> None:
        with contextlib.suppress(psutil.Error):
            if WINDOWS:
                proc.kill()
            else:
                proc.send_signal(sig)

    def close(self) -> None:
        """Let go of the Windows job (what still runs in it ends)."""
        if self.job is not None:
            self.job.close()

    def signal_until_gone(self, sig: int, timeout_s: float, *, spare_leader: bool = False) -> bool:
        """Send ``sig`` to the tree, and to every process that joins it, until none is left.

        Returns whether the tree ended within ``timeout_s``. Blocking: call on an executor.
        """
        deadline = time.monotonic() + timeout_s
        signalled: set[int] = set()
        if not spare_leader:
            self._signal_group(sig)
        while True:
            members = self.members()
            for proc in reversed(members):
                if proc.pid in signalled or (spare_leader and proc.pid == self.root_pid):
                    continue
                signalled.add(proc.pid)
                self._signal(proc, sig)
            if not members:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_S)


KILL_SIGNAL = int(getattr(signal, "SIGKILL", signal.SIGTERM))


class _Protocol(asyncio.SubprocessProtocol):
    """Passes output on as it arrives; notes the process's exit and the pipes' close."""

    def __init__(self, outputs: Mapping[int, OutputCallback]) -> None:
        loop = asyncio.get_running_loop()
        self._outputs = outputs
        self._open = set(outputs)
        self.exited: asyncio.Future[None] = loop.create_future()
        self.drained: asyncio.Future[None] = loop.create_future()
        self.writable = asyncio.Event()
        self.writable.set()
        self.stdin_lost = False

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        try:
            self._outputs[fd](data)  # bytes as read (the console decodes them once)
        except Exception:  # a failing consumer must not stop the stream
            log.exception("output callback failed")

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 0:
            self.stdin_lost = True
            self.writable.set()
            return
        self._open.discard(fd)
        if not self._open and not self.drained.done():
            self.drained.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()


class LocalCommand(CommandHandle):
    """A command running as a child process (group) of the app, and its tree."""

    def __init__(self, transport: asyncio.SubprocessTransport, protocol: _Protocol,
                 timeout_s: float | None, *, wrapped: bool = False) -> None:
        """
        Args:
            wrapped: the leader is bubblewrap, not the shell: interrupts go to the processes
                inside (which may handle them); bubblewrap exits with them.
        """
        self.pid = transport.get_pid()
        self._wrapped = wrapped
        self.tree = ProcessTree(self.pid, make_job(self.pid))
        self._transport = transport
        self._protocol = protocol
        self._started = time.monotonic()
        self._deadline: asyncio.TimerHandle | None = None
        if timeout_s:
            self._deadline = asyncio.get_running_loop().call_later(timeout_s, self.kill_now)
        self._stopped_as: str | None = None  # what ended it when the app did (Windows has no signals)
        self._result: CommandResult | None = None
        self._ending: asyncio.Future[CommandResult] | None = None

    @classmethod
    async def start(cls, argv: Sequence[str], *, cwd: str | None, env: Mapping[str, str], stdin: bool,
                    on_stdout: OutputCallback, on_stderr: OutputCallback,
                    timeout_s: float | None = None, wrapped: bool = False) -> LocalCommand:
        """Start ``argv`` in a new process group.

        Raises:
            OSError: the program could not be started.
        """
        loop = asyncio.get_running_loop()
        stdin_mode = asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL
        pipe = asyncio.subprocess.PIPE

        def protocol_factory() -> _Protocol:
            return _Protocol({1: on_stdout, 2: on_stderr})

        if WINDOWS:
            transport, protocol = await loop.subprocess_exec(
                protocol_factory, *argv, cwd=cwd, env=dict(env), stdin=stdin_mode, stdout=pipe, stderr=pipe,
                creationflags=CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW)
        else:
            use_pidfd_child_watcher()  # no thread per command that the loop waits to start
            transport, protocol = await loop.subprocess_exec(
                protocol_factory, *argv, cwd=cwd, env=dict(env), stdin=stdin_mode, stdout=pipe, stderr=pipe,
                start_new_session=True)
        return cls(transport, protocol, timeout_s, wrapped=wrapped)

    @property
    def running(self) -> bool:
        return self._transport.get_returncode() is None

    def outlives_its_end(self) -> bool:
        """Whether the session must still end something of this command: it runs, a scan
        saw processes of its tree, or (Windows) its job may hold an orphan."""
        return self.running or self.tree.has_known() or self.tree.job is not None

    async def wait(self) -> CommandResult:
        if self._result is None:
            if self._ending is None:
                self._ending = asyncio.ensure_future(self._until_end())
            # Shielded: one caller's cancellation must not cut the end short for the others.
            self._result = await asyncio.shield(self._ending)
        return self._result

    async def _until_end(self) -> CommandResult:
        try:
            await self._protocol.exited
        finally:
            if self._deadline is not None:
                self._deadline.cancel()
        # Output still in the pipes is read; a process that left the group (setsid) and
        # keeps them open must not hold the command's end back.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._protocol.drained), DRAIN_AFTER_EXIT_S)
        self._transport.close()
        returncode = self._transport.get_returncode()
        assert returncode is not None
        name = signal_name(returncode)
        if self._stopped_as is not None and name is None:
            # Windows has no signals: what the app did ended it. Shells and bubblewrap report
            # a child's death by signal N as 128 + N. (Any other status is the command's own.)
            if WINDOWS and returncode != 0:
                name = self._stopped_as
            elif 128 < returncode < 128 + 65:
                name = signal_name(128 - returncode)
        return CommandResult(exit_code=None if name else returncode, signal_name=name,
                             duration_s=time.monotonic() - self._started)

    async def send_stdin(self, data: bytes) -> None:
        pipe = self._transport.get_pipe_transport(0)
        if pipe is None or pipe.is_closing() or self._protocol.stdin_lost:
            raise UserFacingError(UserMessage("Input not sent", "This command does not read input any more."))
        assert isinstance(pipe, asyncio.WriteTransport)
        pipe.write(data)
        await self._protocol.writable.wait()
        if self._protocol.stdin_lost:
            raise UserFacingError(UserMessage("Input not sent", "The command has stopped reading input."))

    async def close_stdin(self) -> None:
        pipe = self._transport.get_pipe_transport(0)
        if pipe is not None and not pipe.is_closing():
            pipe.close()

    async def kill(self) -> None:
        """Kill the command and its whole tree at once."""
        self._stopped_as = self._stopped_as or "killed"
        await asyncio.get_running_loop().run_in_executor(None, self.tree.send, KILL_SIGNAL)
        await self.wait()

    async def interrupt(self, grace_s: float = INTERRUPT_GRACE_S) -> CommandResult:
        """Stop the command as Ctrl+C would, escalating until its whole tree has ended.

        Linux and macOS: SIGINT, then SIGTERM, then SIGKILL, each sent to the whole tree when
        it has not ended ``grace_s`` after the previous one. Windows: the tree is terminated.
        """
        loop = asyncio.get_running_loop()
        self._stopped_as = self._stopped_as or "interrupted"
        steps = [] if WINDOWS else [int(signal.SIGINT), int(signal.SIGTERM)]
        for sig in steps:
            ended = await loop.run_in_executor(
                None, functools.partial(self.tree.signal_until_gone, sig, grace_s, spare_leader=self._wrapped))
            if ended:
                return await self.wait()
        await self.kill()
        return await self.wait()

    def kill_now(self) -> None:
        """Synchronous kill for the time limit and shut-down paths that cannot await.

        The tree is listed and killed on an executor (listing it first: a child whose parent
        died is no longer anyone's descendant); where the executor is gone, here.
        """
        self._stopped_as = self._stopped_as or "killed"
        try:
            asyncio.get_running_loop().run_in_executor(None, self.tree.send, KILL_SIGNAL)
        except RuntimeError:  # the executor has shut down: the app is going
            self.tree.send(KILL_SIGNAL)
