"""The embedded default provider: sessions in a workspace folder on this computer.

Each session gets ``<workspaces>/<session id>/home``. On Linux with bubblewrap, commands run
in a private view where that folder is ``/home/user`` (so the project is at
``/home/user/project`` as on E2B), ``/tmp`` is private, the rest of the system is read-only
and processes see only their own session. Without bubblewrap commands run directly in the
real folder, and the project path shown is the real one. The network is shared either way,
so a dev server is reached at ``http://127.0.0.1:<port>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TypeVar

import watchfiles

from sesame_desktop.core.config import Provider as ProviderKind
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.sessions import FolderProject, GitProject, Project
from sesame_desktop.sandbox.base import (
    PROJECT_DIR,
    ChangeCallback,
    CommandHandle,
    CommandResult,
    FileEntry,
    OutputCallback,
    ProgressCallback,
    Sandbox,
    SandboxProvider,
    SandboxSpec,
    UploadReport,
    Watch,
)
from sesame_desktop.sandbox.project_files import git_clone_failed, report_progress, select_files

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_CHUNK = 64 * 1024
DRAIN_AFTER_EXIT_S = 1.0
SANDBOX_HOME = "/home/user"


def signal_name(returncode: int) -> str | None:
    """"killed", "terminated"… for a negative return code, else None."""
    if returncode >= 0:
        return None
    try:
        sig = signal.Signals(-returncode)
    except ValueError:
        return f"signal {-returncode}"
    return {signal.SIGKILL: "killed", signal.SIGTERM: "terminated", signal.SIGINT: "interrupted",
            signal.SIGHUP: "hung up"}.get(sig, sig.name.lower())


async def bubblewrap_works() -> bool:
    """Whether ``bwrap`` is installed and can create the namespaces it needs here."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    try:
        proc = await asyncio.create_subprocess_exec(
            bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
            "--die-with-parent", "true",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    except (OSError, TimeoutError):
        return False
    if proc.returncode != 0:
        log.warning("bubblewrap cannot isolate sessions here: %s", err.decode(errors="replace").strip())
    return proc.returncode == 0


class LocalCommand(CommandHandle):
    """A command running as a child process (group) of the app."""

    def __init__(self, proc: asyncio.subprocess.Process, outputs: list[tuple[int, OutputCallback]],
                 timeout_s: float | None) -> None:
        """
        Args:
            outputs: the read ends of the command's stdout and stderr pipes, with where their
                output goes. They are read here, not by ``proc``, so that the command's end is
                seen when its process exits, even if a child that left the group keeps the
                pipes open.
        """
        self.pid = proc.pid
        self._proc = proc
        self._started = time.monotonic()
        self._readers = [asyncio.ensure_future(self._pump(fd, callback)) for fd, callback in outputs]
        self._deadline: asyncio.TimerHandle | None = None
        if timeout_s:
            self._deadline = asyncio.get_running_loop().call_later(timeout_s, self._kill_group)
        self._result: CommandResult | None = None

    @staticmethod
    async def _pump(fd: int, callback: OutputCallback) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=READ_CHUNK)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0))
        try:
            while chunk := await reader.read(READ_CHUNK):
                callback(chunk)
        finally:
            transport.close()

    def _kill_group(self) -> None:
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    async def wait(self) -> CommandResult:
        if self._result is None:
            try:
                returncode = await self._proc.wait()
            finally:
                if self._deadline is not None:
                    self._deadline.cancel()
            # Output still in the pipes is read; a process that left the group (setsid) and
            # keeps them open must not hold the command's end back.
            _done, pending = await asyncio.wait(self._readers, timeout=DRAIN_AFTER_EXIT_S)
            for reader in pending:
                reader.cancel()
            self._result = CommandResult(
                exit_code=returncode if returncode >= 0 else None,
                signal_name=signal_name(returncode),
                duration_s=time.monotonic() - self._started,
            )
        return self._result

    async def send_stdin(self, data: bytes) -> None:
        if self._proc.stdin is None or self._proc.stdin.is_closing():
            raise UserFacingError(UserMessage("Input not sent", "This command does not read input any more."))
        self._proc.stdin.write(data)
        try:
            await self._proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise UserFacingError(UserMessage("Input not sent", "The command has stopped reading input.")) from None

    async def close_stdin(self) -> None:
        if self._proc.stdin is not None and not self._proc.stdin.is_closing():
            self._proc.stdin.close()

    async def kill(self) -> None:
        self._kill_group()
        await self.wait()

    @property
    def running(self) -> bool:
        return self._proc.returncode is None

    def kill_now(self) -> None:
        """Synchronous kill for shut-down paths that cannot await."""
        self._kill_group()


def file_error(exc: OSError) -> UserFacingError:
    """A failed file operation in plain words."""
    name = Path(exc.filename).name if exc.filename else "the file"
    reasons = {
        errno.EACCES: ("Permission denied", f"You are not allowed to change {name}."),
        errno.EPERM: ("Permission denied", f"You are not allowed to change {name}."),
        errno.ENOSPC: ("No space left", "The disk is full."),
        errno.EEXIST: ("Already exists", f"{name} already exists."),
        errno.ENOENT: ("Not found", f"{name} does not exist (any more)."),
        errno.ENOTEMPTY: ("Folder not empty", f"{name} is not empty."),
    }
    title, text = reasons.get(exc.errno or 0, ("File operation failed", f"{name}: {exc.strerror or exc}."))
    return UserFacingError(UserMessage(title, text, "Refresh the file tree and try again."))


class LocalWatch(Watch):
    """Watches a folder tree with the OS's file notifications (inotify on Linux)."""

    def __init__(self, sandbox: LocalSandbox, root: Path, on_change: ChangeCallback) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._run(sandbox, root, on_change))

    async def _run(self, sandbox: LocalSandbox, root: Path, on_change: ChangeCallback) -> None:
        async for changes in watchfiles.awatch(root, stop_event=self._stop, debounce=100, step=20,
                                               recursive=True, ignore_permission_denied=True):
            for _kind, changed in changes:
                try:
                    on_change(sandbox.sandbox_path(Path(changed)))
                except ValueError:
                    continue

    async def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, 2)
        self._task.cancel()


class LocalSandbox(Sandbox):
    kind = ProviderKind.LOCAL

    def __init__(self, workspace: Path, isolated: bool, envs: dict[str, str]) -> None:
        """``workspace`` must exist and be a resolved path (the provider makes it so)."""
        self.id = workspace.name
        self.workspace = workspace
        self.home = workspace / "home"
        self.isolated = isolated
        self.project_dir = PROJECT_DIR if isolated else str(self.home / "project")
        self._envs = envs
        self._commands: set[LocalCommand] = set()
        self._killed = False

    # -- paths ------------------------------------------------------------------------------

    def host_path(self, path: str, *, follow_last: bool = True) -> Path:
        """The real path of a path as commands see it; never outside the workspace home.

        It resolves links, so it touches the disk: call it on an executor (``_in_executor``).

        Args:
            follow_last: resolve a symbolic link in the last component too (not for remove
                and rename, which act on the link itself).

        Raises:
            UserFacingError: the path points outside the session's folder.
        """
        prefix = SANDBOX_HOME if self.isolated else str(self.home)
        pure = PurePosixPath(path if path.startswith("/") else f"{self.project_dir}/{path}")
        try:
            rel = pure.relative_to(prefix)
        except ValueError:
            raise UserFacingError(UserMessage("Path outside the session", f"{path} is not inside {prefix}.")) from None
        home = self.home
        candidate = home / rel
        resolved = candidate.resolve() if follow_last or candidate == home else candidate.parent.resolve() / candidate.name
        if resolved != home and home not in resolved.parents:
            raise UserFacingError(UserMessage("Path outside the session", f"{path} leads outside {prefix}."))
        return resolved

    def sandbox_path(self, host: Path) -> str:
        """The path commands see for a real path inside the workspace home."""
        rel = host.relative_to(self.home).as_posix()
        base = SANDBOX_HOME if self.isolated else str(self.home)
        return base if rel == "." else f"{base}/{rel}"

    # -- commands ---------------------------------------------------------------------------

    def _argv(self, command: str, cwd: str, host_cwd: Path) -> tuple[list[str], str | None]:
        if not self.isolated:
            return ["bash", "-l", "-c", command], str(host_cwd)
        argv = [
            shutil.which("bwrap") or "bwrap",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--tmpfs", "/home", "--bind", str(self.home), SANDBOX_HOME,
            "--unshare-pid", "--die-with-parent", "--chdir", cwd,
            "--setenv", "HOME", SANDBOX_HOME, "--setenv", "PWD", cwd,
            "bash", "-l", "-c", command,
        ]
        return argv, None

    async def start(self, command: str, *, on_stdout: OutputCallback, on_stderr: OutputCallback,
                    cwd: str | None = None, stdin: bool = False, timeout_s: float | None = None,
                    envs: Mapping[str, str] | None = None) -> LocalCommand:
        if self._killed:
            raise UserFacingError(UserMessage("Session ended", "This session's sandbox is gone.",
                                              "Start a new session."))
        cwd = cwd or self.project_dir

        def prepare(folder: str) -> Path:
            target = self.host_path(folder)
            target.mkdir(parents=True, exist_ok=True)
            return target

        argv, host_cwd = self._argv(command, cwd, await self._in_executor(lambda: prepare(cwd)))
        env = {**os.environ, **self._envs, **(envs or {})}  # envs: this one command's own
        if not self.isolated:
            env["HOME"] = str(self.home)
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=host_cwd, env=env, start_new_session=True,
                stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
                stdout=out_write, stderr=err_write)
        except OSError as exc:
            os.close(out_read)
            os.close(err_read)
            raise UserFacingError(UserMessage("Command not started", f"The command could not start: {exc.strerror}.",
                                              "Check that bash is installed.")) from None
        finally:
            os.close(out_write)
            os.close(err_write)
        handle = LocalCommand(proc, [(out_read, on_stdout), (err_read, on_stderr)], timeout_s)
        self._commands = {c for c in self._commands if c.running}
        self._commands.add(handle)
        return handle

    # -- project ----------------------------------------------------------------------------

    async def get_project(self, source: Project, progress: ProgressCallback) -> UploadReport | None:
        project = await self._in_executor(lambda: self.host_path(self.project_dir))
        if source is None:
            await self._in_executor(lambda: project.mkdir(parents=True, exist_ok=True))
            return None
        if isinstance(source, GitProject):
            await self._clone(source, progress)
            return None
        assert isinstance(source, FolderProject)
        progress(f"Copying {source.path}…")
        return await asyncio.get_running_loop().run_in_executor(None, self._copy_folder, source.path, project)

    async def _clone(self, source: GitProject, progress: ProgressCallback) -> None:
        """Clone on this computer (outside the isolation, which hides the host's /tmp), so
        local paths and the user's own git credentials work as in a terminal."""
        target = await self._in_executor(lambda: self.host_path(self.project_dir))
        argv = ["git", "clone", "--progress", *(["--branch", source.branch] if source.branch else []),
                "--", source.url, str(target)]
        progress(f"Cloning {source.url}…")
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                start_new_session=True)
        except OSError as exc:
            raise git_clone_failed(source.url, f"git could not start: {exc.strerror}") from None
        output = bytearray()
        assert proc.stdout is not None
        try:
            while chunk := await proc.stdout.read(READ_CHUNK):
                output += chunk
                report_progress(chunk, progress)
            await proc.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise
        if proc.returncode != 0:
            raise git_clone_failed(source.url, output.decode(errors="replace"))

    @staticmethod
    def _copy_folder(source: Path, project: Path) -> UploadReport:
        selection = select_files(source)
        project.mkdir(parents=True, exist_ok=True)
        size = 0
        for rel in selection.files:
            target = project / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / rel, target)
            size += target.stat().st_size
        return UploadReport(files=len(selection.files), bytes=size, skipped=selection.skipped)

    # -- files ------------------------------------------------------------------------------

    async def list_dir(self, path: str) -> list[FileEntry]:
        def scan() -> list[FileEntry]:
            entries = []
            with os.scandir(self.host_path(path)) as it:
                for entry in it:
                    st = entry.stat(follow_symlinks=False)
                    entries.append(FileEntry(entry.name, f"{path.rstrip('/')}/{entry.name}",
                                             entry.is_dir(follow_symlinks=False), st.st_size, st.st_mtime))
            return entries

        return await self._in_executor(scan)

    async def read_file(self, path: str) -> bytes:
        return await self._in_executor(lambda: self.host_path(path).read_bytes())

    async def write_file(self, path: str, data: bytes) -> None:
        def write() -> None:
            target = self.host_path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

        await self._in_executor(write)

    async def _in_executor(self, func: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(None, func)
        except OSError as exc:
            raise file_error(exc) from None

    async def make_dir(self, path: str) -> None:
        await self._in_executor(lambda: self.host_path(path).mkdir(parents=True, exist_ok=True))

    async def rename(self, path: str, new_path: str) -> None:
        def move() -> None:
            source, target = self.host_path(path, follow_last=False), self.host_path(new_path, follow_last=False)
            if target.exists():
                raise FileExistsError(errno.EEXIST, "File exists", str(target.name))
            source.rename(target)

        await self._in_executor(move)

    async def remove(self, path: str) -> None:
        def delete() -> None:
            target = self.host_path(path, follow_last=False)
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)

        await self._in_executor(delete)

    async def watch(self, path: str, on_change: ChangeCallback) -> LocalWatch:
        return LocalWatch(self, await self._in_executor(lambda: self.host_path(path)), on_change)

    # -- lifecycle --------------------------------------------------------------------------

    async def preview_url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    async def set_timeout(self, timeout_ms: int) -> None:
        """Local sessions have no lifetime limit; they run until ended."""

    def process_groups(self) -> set[int]:
        """Process group ids of the session's running commands (each command leads one)."""
        return {c.pid for c in self._commands if c.running}

    async def is_alive(self) -> bool:
        return not self._killed

    async def kill(self) -> None:
        self._killed = True
        commands = list(self._commands)
        for command in commands:
            command.kill_now()
        if commands:
            await asyncio.gather(*(c.wait() for c in commands), return_exceptions=True)


class LocalProvider(SandboxProvider):
    """Creates :class:`LocalSandbox` workspaces under ``workspace_root``.

    Args:
        isolate: use bubblewrap (None: when it works here).
    """

    kind = ProviderKind.LOCAL

    def __init__(self, workspace_root: Path, *, isolate: bool | None = None) -> None:
        self.workspace_root = workspace_root
        self._isolate = isolate

    async def create(self, spec: SandboxSpec) -> LocalSandbox:
        if self._isolate is None:
            self._isolate = await bubblewrap_works()
            if not self._isolate:
                log.warning("bubblewrap is not available: local sessions run without isolation")
        folder = self.workspace_root / spec.session_id

        def make_workspace() -> Path:
            (folder / "home").mkdir(parents=True, exist_ok=True)
            return folder.resolve()

        try:
            workspace = await asyncio.get_running_loop().run_in_executor(None, make_workspace)
        except OSError as exc:
            raise UserFacingError(UserMessage(
                "Workspace not created", f"The folder {folder} could not be created: {exc.strerror}.",
                "Check that the disk has space and the folder is writable.")) from None
        return LocalSandbox(workspace, self._isolate, dict(spec.envs))
