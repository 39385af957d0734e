"""Real processes run for envd's process service: pipes or a PTY, output fan-out, exit status.

Each command runs in its own process group (session), started through the sandbox's
isolation prefix (``nsenter ...``) and a tiny ``/bin/sh`` trampoline that reports the pid the
command has *inside* the sandbox, changes to the working directory and ``exec``s the command.
Exit is detected with a pidfd; output is read with non-blocking reads on the event loop.

Output goes to every subscriber (the ``Start`` stream and any ``Connect`` streams) as it
arrives; there is no replay of earlier output (as envd). After the process exits, the pipes
are drained briefly and then closed, so a background child holding them does not keep the
command "running" (as envd, which reports the end when the process itself exits).
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import signal
import struct
import subprocess
import termios
from dataclasses import dataclass
from typing import Any

from .sandboxes import Isolation, Sandbox

log = logging.getLogger("e2b_server.processes")

# Go's os.ProcessState.String() names for signal deaths, as envd reports them.
_GO_SIGNAL_NAMES = {
    signal.SIGHUP: "hangup",
    signal.SIGINT: "interrupt",
    signal.SIGQUIT: "quit",
    signal.SIGILL: "illegal instruction",
    signal.SIGTRAP: "trace/breakpoint trap",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGKILL: "killed",
    signal.SIGUSR1: "user defined signal 1",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGUSR2: "user defined signal 2",
    signal.SIGPIPE: "broken pipe",
    signal.SIGALRM: "alarm clock",
    signal.SIGTERM: "terminated",
}

_TRAMPOLINE = 'echo "$$" >&{fd}; exec {fd}>&-; cd "$1" || exit 1; shift; exec "$@"'
_DRAIN_AFTER_EXIT = 0.2


@dataclass(frozen=True)
class EndInfo:
    """How a process ended, in envd's terms."""

    exit_code: int
    exited: bool
    status: str
    error: str | None

    @classmethod
    def from_returncode(cls, rc: int) -> EndInfo:
        if rc >= 0:
            status = f"exit status {rc}"
            return cls(rc, True, status, status if rc != 0 else None)
        try:
            name = _GO_SIGNAL_NAMES.get(signal.Signals(-rc), f"signal {-rc}")
        except ValueError:
            name = f"signal {-rc}"
        status = f"signal: {name}"
        return cls(-1, False, status, status)


# Subscriber queue items: ("data", "stdout"|"stderr"|"pty", bytes), ("end", EndInfo),
# ("drop", None) when the sandbox died (the stream must look like a dropped connection).
Item = tuple[str, Any, Any]


class ManagedProcess:
    """One command of a sandbox."""

    def __init__(
        self,
        sandbox: Sandbox,
        isolation: Isolation,
        cmd: str,
        args: list[str],
        envs: dict[str, str],
        cwd: str | None,
        user: str,
        tag: str | None,
        stdin: bool,
        pty_size: tuple[int, int] | None,
    ) -> None:
        self.sandbox = sandbox
        self.cmd, self.args, self.envs, self.tag = cmd, list(args), dict(envs), tag
        self.user = user
        home = "/root" if user == "root" else "/home/user"
        # a relative cwd is resolved against the user's home, as a login shell's would be
        self.cwd = os.path.normpath(os.path.join(home, cwd)) if cwd else home
        self.is_pty = pty_size is not None
        self.subscribers: set[asyncio.Queue[Item]] = set()
        self.end: EndInfo | None = None
        self.exited = asyncio.Event()  # the process itself has exited (reaped)
        self.done = asyncio.Event()  # ... and its end was published
        self.deadline_hit = False
        self._deadline: asyncio.TimerHandle | None = None
        self._deadline_hit_cb: Any = None
        self._paused_left: float | None = None
        self._stdin_fd: int | None = None
        self._readers: dict[int, str] = {}
        self._eof = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()
        self._spawn(isolation, stdin, pty_size)

    # -- start -------------------------------------------------------------------------
    def _spawn(self, isolation: Isolation, stdin: bool, pty_size: tuple[int, int] | None) -> None:
        sbx = self.sandbox
        env = sbx.base_env(self.user)
        env.update(self.envs)
        host_cwd = self.cwd
        if isolation.mode == "none":
            host_cwd = str(sbx.host_path(self.cwd, self.user))
            env["HOME"] = str(sbx.host_path(env["HOME"], self.user))
        if not os.path.isdir(sbx.host_path(self.cwd, self.user)):
            raise FileNotFoundError(f"cwd '{self.cwd}' does not exist")
        pid_r, pid_w = os.pipe()
        argv = isolation.exec_prefix(sbx.ns, self.user) + [
            "/bin/bash", "--noprofile", "--norc", "-c", _TRAMPOLINE.format(fd=pid_w), "sh",
            host_cwd, self.cmd, *self.args,
        ]  # fmt: skip
        close_after: list[int] = [pid_w]
        preexec = None
        if pty_size is not None:
            master, slave = os.openpty()
            _set_winsize(master, *pty_size)
            stdio: dict[str, Any] = {"stdin": slave, "stdout": slave, "stderr": slave}
            close_after.append(slave)

            def preexec() -> None:  # runs in the child, after setsid
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

            out_fds = {master: "pty"}
            self._stdin_fd = master
        else:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            close_after += [out_w, err_w]
            in_r: int | None = None
            if stdin:
                in_r, in_w = os.pipe()
                close_after.append(in_r)
                self._stdin_fd = in_w
                os.set_blocking(in_w, False)
            stdio = {
                "stdin": in_r if in_r is not None else subprocess.DEVNULL,
                "stdout": out_w,
                "stderr": err_w,
            }

            out_fds = {out_r: "stdout", err_r: "stderr"}
        try:
            self.popen = subprocess.Popen(
                argv,
                **stdio,
                env=env,
                pass_fds=(pid_w, *(sbx.ns.fds if sbx.ns is not None else ())),
                start_new_session=True,
                preexec_fn=preexec,  # noqa: PLW1509 - only an ioctl, no locks (PTY's ctty)
                close_fds=True,
            )
        except BaseException:
            for fd in [pid_r, *close_after, *out_fds]:
                os.close(fd)
            if self._stdin_fd is not None and self._stdin_fd not in out_fds:
                os.close(self._stdin_fd)
            raise
        for fd in close_after:
            os.close(fd)
        with os.fdopen(pid_r, "rb") as f:
            line = f.readline().strip()
        self.pid = int(line) if line.isdigit() else sbx.new_fake_pid()
        self.pgid = self.popen.pid
        for fd, name in out_fds.items():
            os.set_blocking(fd, False)
            self._readers[fd] = name
            self._loop.add_reader(fd, self._on_readable, fd)
        self._pidfd = os.pidfd_open(self.popen.pid)
        self._loop.add_reader(self._pidfd, self._on_exit)
        sbx.processes[self.pid] = self

    # -- output ------------------------------------------------------------------------
    def _on_readable(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno != errno.EIO:  # EIO: the PTY's other side closed
                log.warning("read failed: %s", e)
            data = b""
        if not data:
            self._close_reader(fd)
            return
        self._publish(("data", self._readers[fd], data))

    def _close_reader(self, fd: int) -> None:
        if fd in self._readers:
            self._loop.remove_reader(fd)
            del self._readers[fd]
            if fd == self._stdin_fd:  # the PTY master is both
                self._stdin_fd = None
            os.close(fd)
        if not self._readers:
            self._eof.set()

    def _publish(self, item: Item) -> None:
        for q in list(self.subscribers):
            q.put_nowait(item)

    def subscribe(self) -> asyncio.Queue[Item]:
        q: asyncio.Queue[Item] = asyncio.Queue()
        self.subscribers.add(q)
        if self.end is not None:
            q.put_nowait(("end", self.end, None))
        elif not self.sandbox.alive:
            q.put_nowait(("drop", None, None))
        return q

    def unsubscribe(self, q: asyncio.Queue[Item]) -> None:
        self.subscribers.discard(q)

    # -- exit --------------------------------------------------------------------------
    def _on_exit(self) -> None:
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        rc = self.popen.wait()
        self.sandbox.processes.pop(self.pid, None)  # gone from List/Connect/SendSignal now
        self.exited.set()
        self._finish_task = self._loop.create_task(self._finish(rc))

    async def _finish(self, rc: int) -> None:
        try:
            await asyncio.wait_for(self._eof.wait(), _DRAIN_AFTER_EXIT)
        except TimeoutError:
            pass
        for fd in list(self._readers):
            self._on_readable(fd)  # whatever is buffered right now
            self._close_reader(fd)
        if self._stdin_fd is not None:
            os.close(self._stdin_fd)
            self._stdin_fd = None
        if self._deadline is not None:
            self._deadline.cancel()
        self.end = EndInfo.from_returncode(rc)
        if self.sandbox.alive:
            self._publish(("end", self.end, None))
        self.done.set()

    def sandbox_died(self) -> None:
        self._publish(("drop", None, None))

    # -- control -----------------------------------------------------------------------
    def set_deadline(self, seconds: float) -> None:
        """Kill the process group when ``seconds`` have passed (envd's Connect-Timeout-Ms)."""

        def hit() -> None:
            if self.end is None:
                self.deadline_hit = True
                self.kill_group(signal.SIGKILL)

        self._deadline_hit_cb = hit
        self._deadline = self._loop.call_later(max(0.0, seconds), hit)

    def pause_deadline(self) -> None:
        """The sandbox is paused: its processes' clocks stop with it."""
        if self._deadline is not None and self._paused_left is None:
            self._paused_left = max(0.0, self._deadline.when() - self._loop.time())
            self._deadline.cancel()

    def resume_deadline(self) -> None:
        if self._paused_left is not None and self._deadline_hit_cb is not None and self.end is None:
            self._deadline = self._loop.call_later(self._paused_left, self._deadline_hit_cb)
        self._paused_left = None

    def kill_group(self, sig: int) -> list[int]:
        """Signal the command's process group and every process of its session (an
        interactive shell, as in a PTY, moves itself and its jobs into groups of their own).
        Returns the host pids signalled."""
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            log.warning("no permission to signal process group %s", self.pgid)
        pids = session_pids(self.pgid)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        return pids

    async def kill_and_reap(self, sig: int, timeout: float = 2.0) -> None:
        """:meth:`kill_group`, then (SIGKILL) wait until those processes are reaped, so that
        the process is gone, not a zombie, when the kill is answered (as envd answers after
        its own wait)."""
        pids = self.kill_group(sig)
        if sig != signal.SIGKILL:
            return
        deadline = self._loop.time() + timeout
        while self._loop.time() < deadline:
            if not any(os.path.exists(f"/proc/{pid}") for pid in pids):
                return
            await asyncio.sleep(0.005)

    async def write_stdin(self, data: bytes) -> None:
        async with self._write_lock:
            fd = self._stdin_fd
            if fd is None:
                raise BrokenPipeError("stdin is closed")
            view = memoryview(data)
            while view:
                try:
                    n = os.write(fd, view)
                    view = view[n:]
                except BlockingIOError:
                    await asyncio.sleep(0.005)

    def close_stdin(self) -> None:
        if self.is_pty:
            raise ValueError("closing stdin is not supported for PTY processes")
        if self._stdin_fd is not None:
            os.close(self._stdin_fd)
            self._stdin_fd = None

    def resize(self, rows: int, cols: int) -> None:
        if not self.is_pty or self._stdin_fd is None:
            raise ValueError("not a PTY process")
        _set_winsize(self._stdin_fd, rows, cols)


def session_pids(sid: int) -> list[int]:
    """Host pids of the processes whose session is ``sid`` (zombies included)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            found.append(int(name))
    return found


def _set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
