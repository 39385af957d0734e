"""Interactive terminals (pseudo-terminals) in a session's sandbox.

:func:`open_pty` starts a login shell on a PTY of a given size and hands back a :class:`Pty`:
what the shell writes arrives through ``on_data`` (raw bytes, split anywhere), keystrokes go in
with :meth:`Pty.write`, the size follows the window with :meth:`Pty.resize`.

* E2B: the sandbox's ``pty`` API (envd's process service with a PTY).
* Local: a PTY on this computer, the shell inside bubblewrap when the session is isolated
  (the same view of the file system as the session's commands).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import struct
import sys
from collections.abc import Callable
from typing import Any

from sesame_desktop.core.cancels import cancel_requested
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.sandbox.base import Sandbox

log = logging.getLogger(__name__)

DataCallback = Callable[[bytes], None]
TERM = "xterm-256color"
SANDBOX_HOME = "/home/user"


class Pty(abc.ABC):
    """A shell on a pseudo-terminal in a sandbox."""

    @abc.abstractmethod
    async def write(self, data: bytes) -> None:
        """Send keystrokes (or pasted text) to the shell."""

    @abc.abstractmethod
    async def resize(self, columns: int, rows: int) -> None:
        """Tell the shell (and what runs in it) the terminal's new size."""

    @abc.abstractmethod
    async def wait(self) -> int | None:
        """Wait until the shell ends; its exit code (``None`` when unknown)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """End the shell and everything it started."""


def _not_started(why: str) -> UserFacingError:
    return UserFacingError(
        UserMessage("Terminal not started", f"The terminal could not start: {why}.",
                    "Try again; if it keeps failing, end the session and start a new one.")
    )


async def open_pty(sandbox: Sandbox, columns: int, rows: int, on_data: DataCallback) -> Pty:
    """Start a login shell on a ``columns`` × ``rows`` PTY in the project folder of ``sandbox``.

    Raises:
        UserFacingError: the terminal could not be started (the message says why).
    """
    sdk = getattr(sandbox, "sdk", None)
    if sdk is not None and hasattr(sdk, "pty"):
        return await E2BPty.start(sandbox, sdk, columns, rows, on_data)
    if hasattr(sandbox, "home") and hasattr(sandbox, "isolated"):
        return await LocalPty.start(sandbox, columns, rows, on_data)
    raise UserFacingError(
        UserMessage("No terminal here", "This kind of session has no interactive terminal.",
                    "Use the command line under the console instead.")
    )


# -- E2B ----------------------------------------------------------------------------------------


class E2BPty(Pty):
    """A PTY of an E2B sandbox (``sandbox.pty``)."""

    def __init__(self, sandbox: Sandbox, sdk: Any, handle: Any) -> None:
        self._sandbox = sandbox
        self._sdk = sdk
        self._handle = handle
        self._closed = False
        self.pid: int = handle.pid

    @classmethod
    async def start(cls, sandbox: Sandbox, sdk: Any, columns: int, rows: int,
                    on_data: DataCallback) -> E2BPty:
        from e2b import PtySize  # the sandbox layer is the one place that imports e2b

        try:
            handle = await sdk.pty.create(
                PtySize(rows=rows, cols=columns), on_data=on_data, cwd=sandbox.project_dir,
                envs={"TERM": TERM}, timeout=0,
            )
        except Exception as exc:  # noqa: BLE001 - translated for the user
            raise _translate(sandbox, exc) from None
        return cls(sandbox, sdk, handle)

    async def write(self, data: bytes) -> None:
        await self._call(self._sdk.pty.send_stdin(self.pid, data))

    async def resize(self, columns: int, rows: int) -> None:
        from e2b import PtySize

        await self._call(self._sdk.pty.resize(self.pid, PtySize(rows=rows, cols=columns)))

    async def wait(self) -> int | None:
        try:
            result = await self._handle.wait()
        except asyncio.CancelledError:
            if self._closed and not cancel_requested():
                return None  # the stream was dropped by close()
            raise
        except Exception as exc:  # noqa: BLE001 - a non-zero exit raises in the SDK
            code = getattr(exc, "exit_code", None)
            if code is None:
                raise _translate(self._sandbox, exc) from None
            return int(code)
        return int(result.exit_code) if result.exit_code is not None else None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # already gone is fine
            await self._sdk.pty.kill(self.pid)
        try:  # the end of the stream follows the kill; stop listening if it does not come
            await asyncio.wait_for(asyncio.shield(self._handle.wait()), 5)
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - any ending is an end
            if cancel_requested():
                raise
            with contextlib.suppress(Exception):
                await self._handle.disconnect()

    async def _call(self, awaitable: Any) -> None:
        try:
            await awaitable
        except Exception as exc:  # noqa: BLE001 - translated for the user
            raise _translate(self._sandbox, exc) from None


def _translate(sandbox: Sandbox, exc: BaseException) -> UserFacingError:
    translate = getattr(sandbox, "translate", None)
    if callable(translate):
        error = translate(exc)
        if isinstance(error, UserFacingError):
            return error
    return _not_started(str(exc) or type(exc).__name__)


# -- local --------------------------------------------------------------------------------------


def _set_size(fd: int, columns: int, rows: int) -> None:
    import fcntl  # POSIX only (this module is imported on every system)
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def _take_terminal() -> None:  # runs in the child, between fork and exec
    import fcntl
    import termios

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class LocalPty(Pty):
    """A PTY on this computer; the shell runs like the session's commands (bubblewrap or not)."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int, on_data: DataCallback) -> None:
        self._proc = proc
        self._master = master
        self._on_data = on_data
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._eof = asyncio.Event()
        self._loop.add_reader(master, self._on_readable)

    @classmethod
    async def start(cls, sandbox: Any, columns: int, rows: int, on_data: DataCallback) -> LocalPty:
        if sys.platform == "win32":
            raise UserFacingError(UserMessage(
                "No terminal on Windows yet", "Local sessions on Windows have no interactive terminal yet.",
                "Use the command line under the console, or an E2B session."))
        from sesame_desktop.sandbox.local_isolation import bwrap_argv, command_environment

        home = sandbox.home
        cwd = sandbox.project_dir
        host_cwd = await asyncio.get_running_loop().run_in_executor(None, _existing_dir, home, cwd,
                                                                      sandbox.isolated)
        envs = getattr(sandbox, "_envs", {})
        shell = getattr(sandbox, "shell", None)
        program = shell.program if shell is not None and shell.name in ("bash", "sh") else "bash"
        interactive = [program, "-l", "-i"] if program.endswith("bash") else [program, "-i"]
        if sandbox.isolated:  # the same isolation and minimal environment as its commands
            env = command_environment(os.environ, envs, SANDBOX_HOME)
            env.pop("TMPDIR", None)
            argv = bwrap_argv(shutil.which("bwrap") or "bwrap", home=str(home), cwd=cwd,
                              hidden=getattr(sandbox, "_hidden", ()), command=["bash", "-l", "-i"])
            host_cwd = None
        else:
            env = command_environment(os.environ, envs, str(home))
            argv = interactive
        env["TERM"] = TERM
        master, slave = os.openpty()
        _set_size(master, columns, rows)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=host_cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
                start_new_session=True, preexec_fn=_take_terminal,
            )
        except OSError as exc:
            os.close(master)
            raise _not_started(exc.strerror or str(exc)) from None
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        return cls(proc, master, on_data)

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the shell closed its side
            data = b""
        if data:
            self._on_data(data)
            return
        self._loop.remove_reader(self._master)
        self._eof.set()

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._closed:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                await asyncio.sleep(0.005)  # the shell is not reading: wait for room
                continue
            except OSError as exc:
                raise _not_started(exc.strerror or "the terminal is closed") from None
            view = view[written:]

    async def resize(self, columns: int, rows: int) -> None:
        if not self._closed:
            _set_size(self._master, columns, rows)

    async def wait(self) -> int | None:
        code = await self._proc.wait()
        await self._eof.wait()
        return code

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGHUP)
            try:
                await asyncio.wait_for(self._proc.wait(), 2)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                await self._proc.wait()
        self._loop.remove_reader(self._master)
        os.close(self._master)
        self._eof.set()


def _existing_dir(home: Any, cwd: str, isolated: bool) -> str | None:
    """The host folder the shell starts in (made if missing), inside the session's home."""
    from pathlib import Path

    prefix = SANDBOX_HOME if isolated else str(home)
    rel = cwd[len(prefix):].lstrip("/") if cwd.startswith(prefix) else "project"
    target = Path(home) / rel
    target.mkdir(parents=True, exist_ok=True)
    return str(target)
