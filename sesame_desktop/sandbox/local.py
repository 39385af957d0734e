"""The embedded default provider: sessions in a workspace folder on this computer.

Each session gets ``<workspaces>/<session id>/home``. On Linux with bubblewrap, commands run
in a private view where that folder is ``/home/user`` (so the project is at
``/home/user/project`` as on E2B), ``/tmp`` is private, the user's homes, session bus,
keyring and the app's own folders are hidden, the rest of the system is read-only and
processes see only their own session (:mod:`.local_isolation`). Without bubblewrap (and always
on macOS and Windows) commands run directly in the real folder with the user's full rights,
and the project path shown is the real one. Either way commands get a minimal environment
without the app's secrets, run in the system's shell (:mod:`sesame_desktop.core.shells`), and
are ended with their whole process tree (:mod:`.local_process`). The network is shared, so a
dev server is reached at ``http://127.0.0.1:<port>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TypeVar

import watchfiles

from sesame_desktop.core.config import Provider as ProviderKind
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.file_tree import FileEntries, FileEntry, is_heavy
from sesame_desktop.core.pacing import paced
from sesame_desktop.core.sessions import FolderProject, GitProject, Project
from sesame_desktop.core.shells import Shell, system_shell
from sesame_desktop.sandbox.base import (
    PROJECT_DIR,
    ChangeCallback,
    OutputCallback,
    ProgressCallback,
    Sandbox,
    SandboxProvider,
    SandboxSpec,
    UploadReport,
    Watch,
)
from sesame_desktop.sandbox.child_watch import use_pidfd_child_watcher
from sesame_desktop.sandbox.local_isolation import (
    APP_SECRETS,
    SANDBOX_HOME,
    bubblewrap_works,
    bwrap_argv,
    command_environment,
    host_folders_to_hide,
)
from sesame_desktop.sandbox.local_process import KILL_SIGNAL, LocalCommand, ProcessTree, signal_name
from sesame_desktop.sandbox.project_files import git_clone_failed, report_progress, select_files

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_CHUNK = 64 * 1024

__all__ = ["LocalCommand", "LocalProvider", "LocalSandbox", "bubblewrap_works", "signal_name"]


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


class _TreeFilter:
    """Reports every change the file tree shows: a new ``.venv`` or ``node_modules`` itself too.

    watchfiles' default filter drops those folders entirely, so they appeared only after some
    other change. What happens *inside* them (thousands of files while a package installs)
    is still left out: the tree loads them only when opened. String work only: a build may
    report 100,000 changes, and ``Path`` objects for each cost the GUI thread 100 ms or more.
    """

    def __init__(self, root: Path) -> None:
        self._root = root.as_posix().rstrip("/")
        self._prefix = self._root + "/"

    def __call__(self, _change: watchfiles.Change, path: str) -> bool:
        if path == self._root:
            return True
        if not path.startswith(self._prefix):
            return False
        return not any(is_heavy(part) for part in path[len(self._prefix):].split("/")[:-1])


WATCH_SLICE = 500  # changes handed on between two turns of the event loop


class LocalWatch(Watch):
    """Watches a folder tree with the OS's file notifications (inotify on Linux).

    Changes come in batches (all those of up to 100 ms; a build writing files makes
    thousands); each batch is filtered and handed on ``WATCH_SLICE`` changes at a time, with
    the event loop (the GUI) running in between.
    """

    def __init__(self, sandbox: LocalSandbox, root: Path, on_change: ChangeCallback) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._run(sandbox, root, on_change))

    async def _run(self, sandbox: LocalSandbox, root: Path, on_change: ChangeCallback) -> None:
        keep = _TreeFilter(root)
        home = sandbox.home.as_posix().rstrip("/")
        base = SANDBOX_HOME if sandbox.isolated else home
        async for changes in watchfiles.awatch(root, stop_event=self._stop, debounce=100, step=20,
                                               recursive=True, ignore_permission_denied=True,
                                               watch_filter=None):
            for handed, (kind, changed) in enumerate(changes, 1):
                if keep(kind, changed):  # inside the home, as the root is
                    on_change(base if changed == home else base + changed[len(home):])
                if handed % WATCH_SLICE == 0:
                    await asyncio.sleep(0)

    async def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, 2)
        self._task.cancel()


class LocalSandbox(Sandbox):
    kind = ProviderKind.LOCAL

    def __init__(self, workspace: Path, isolated: bool, envs: dict[str, str], *,
                 hidden: Sequence[str] = (), shell: Shell | None = None) -> None:
        """
        Args:
            workspace: the session's folder; it must exist and be a resolved path (the
                provider makes it so).
            isolated: run commands under bubblewrap.
            hidden: host folders an isolated command sees empty (``folders_to_hide``).
            shell: the shell for commands (default: the system's; bash when isolated).
        """
        self.id = workspace.name
        self.workspace = workspace
        self.home = workspace / "home"
        self.isolated = isolated
        self.full_rights = not isolated
        self.shell = shell or system_shell()
        self.shell_name = self.shell.name
        self.project_dir = PROJECT_DIR if isolated else (self.home / "project").as_posix()
        self._hidden = tuple(hidden)
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
        prefix = SANDBOX_HOME if self.isolated else self.home.as_posix()
        try:
            rel = relative_to_home(path, prefix, self.project_dir, windows=os.name == "nt")
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
        base = SANDBOX_HOME if self.isolated else self.home.as_posix()
        return base if rel == "." else f"{base}/{rel}"

    # -- commands ---------------------------------------------------------------------------

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

        host_cwd = await self._in_executor(lambda: prepare(cwd))
        shell_argv = self.shell.argv(command)
        if self.isolated:
            env = command_environment(os.environ, {**self._envs, **(envs or {})}, SANDBOX_HOME)
            env.pop("TMPDIR", None)  # the host's temp folder is not there: /tmp is the sandbox's own
            argv = bwrap_argv(shutil.which("bwrap") or "bwrap", home=str(self.home), cwd=cwd,
                              hidden=self._hidden, command=[self.shell.name, *shell_argv[1:]])
            start_dir = None
        else:
            env = command_environment(os.environ, {**self._envs, **(envs or {})}, str(self.home))
            argv, start_dir = shell_argv, str(host_cwd)
        try:
            handle = await LocalCommand.start(argv, cwd=start_dir, env=env, stdin=stdin, on_stdout=on_stdout,
                                              on_stderr=on_stderr, timeout_s=timeout_s, wrapped=self.isolated)
        except OSError as exc:
            raise UserFacingError(UserMessage(
                "Command not started", f"The command could not start: {exc.strerror or exc}.",
                f"Check that {self.shell.name} is installed.")) from None
        self._commands = {c for c in self._commands if c.outlives_its_end()}
        self._commands.add(handle)
        return handle

    def command_trees(self) -> list[tuple[int, ProcessTree]]:
        """Each running command's pid with its process tree."""
        self._commands = {c for c in self._commands if c.outlives_its_end()}
        return [(c.pid, c.tree) for c in self._commands]

    def process_trees(self) -> list[ProcessTree]:
        """The process trees of the session's commands (each command leads one)."""
        self._commands = {c for c in self._commands if c.outlives_its_end()}
        return [c.tree for c in self._commands]

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
        use_pidfd_child_watcher()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, env=clone_environment(), start_new_session=True)
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
            await asyncio.get_running_loop().run_in_executor(None, ProcessTree(proc.pid).send, KILL_SIGNAL)
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

    async def list_dir(self, path: str) -> FileEntries:
        def scan() -> FileEntries:
            entries = FileEntries()
            with os.scandir(self.host_path(path)) as it:
                for entry in paced(it):  # a worker thread: let the GUI thread have the GIL
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

    async def is_alive(self) -> bool:
        return not self._killed

    async def kill(self) -> None:
        self._killed = True
        commands = list(self._commands)
        for command in commands:
            command.kill_now()
        if commands:
            await asyncio.gather(*(c.wait() for c in commands), return_exceptions=True)
        # Processes that outlived their command (a daemon seen by a port scan) end too.
        trees = [c.tree for c in commands]

        def end_leftovers() -> None:
            for tree in trees:
                tree.send(KILL_SIGNAL)
                tree.close()

        await asyncio.get_running_loop().run_in_executor(None, end_leftovers)


def relative_to_home(path: str, home: str, project_dir: str, *, windows: bool) -> PurePosixPath:
    """``path`` as commands see it, relative to their ``home`` (relative paths start in
    ``project_dir``). On Windows the paths shown are ``C:/Users/…``, and one typed or pasted
    may use backslashes.

    Raises:
        ValueError: ``path`` is not inside ``home``.
    """
    if windows:
        path = path.replace("\\", "/")
    absolute = path.startswith("/") or PureWindowsPath(path).is_absolute()
    return PurePosixPath(path if absolute else f"{project_dir}/{path}").relative_to(home)


def clone_environment() -> dict[str, str]:
    """git's environment for a clone: the user's own (their credentials), minus the app's secrets."""
    env = {name: value for name, value in os.environ.items() if name.upper() not in APP_SECRETS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


class LocalProvider(SandboxProvider):
    """Creates :class:`LocalSandbox` workspaces under ``workspace_root``.

    Args:
        isolate: use bubblewrap (None: when it works here).
        private_folders: the app's own folders (config, data, logs), hidden from isolated
            commands along with the user's home, session bus and keyring.
    """

    kind = ProviderKind.LOCAL

    def __init__(self, workspace_root: Path, *, isolate: bool | None = None,
                 private_folders: Sequence[Path] = ()) -> None:
        self.workspace_root = workspace_root
        self._isolate = isolate
        self._private = [str(p) for p in private_folders]

    async def create(self, spec: SandboxSpec) -> LocalSandbox:
        if self._isolate is None:
            self._isolate = await bubblewrap_works()
            if not self._isolate:
                log.warning("local sessions run with the user's full rights: bubblewrap cannot isolate them here")
        isolate = self._isolate
        folder = self.workspace_root / spec.session_id

        def make_workspace() -> tuple[Path, list[str]]:
            (folder / "home").mkdir(parents=True, exist_ok=True)
            hidden = host_folders_to_hide(self._private) if isolate else []
            return folder.resolve(), hidden

        try:
            workspace, hidden = await asyncio.get_running_loop().run_in_executor(None, make_workspace)
        except OSError as exc:
            raise UserFacingError(UserMessage(
                "Workspace not created", f"The folder {folder} could not be created: {exc.strerror}.",
                "Check that the disk has space and the folder is writable.")) from None
        return LocalSandbox(workspace, isolate, dict(spec.envs), hidden=hidden)
