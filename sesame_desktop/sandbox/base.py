"""What a session needs from a sandbox, whichever provider runs it.

A provider creates sandboxes; a sandbox runs commands in its project folder, exposes files,
gives preview URLs for ports and is killed at the end. Providers translate their own errors
into :class:`~sesame_desktop.core.errors.UserFacingError` here, in this layer, once.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sesame_desktop.core.config import Provider as ProviderKind
from sesame_desktop.core.file_tree import FileEntry as FileEntry  # re-exported for providers
from sesame_desktop.core.sessions import Project

PROJECT_DIR = "/home/user/project"
INTERRUPT_GRACE_S = 3.0
"""How long an interrupted command has to end before it is killed."""

OutputCallback = Callable[[bytes | str], None]
"""Receives a command's output as it arrives: ``bytes`` split anywhere when the provider reads
pipes (local), ``str`` when its transport has decoded it already (E2B): passed on as it is, so
the console decodes it once (:meth:`TerminalBuffer.feed` takes both)."""
BytesCallback = Callable[[bytes], None]
"""Receives a command's output as bytes (what :meth:`Sandbox.run` callers collect)."""
ChangeCallback = Callable[[str], None]
ProgressCallback = Callable[[str], None]


def as_bytes(callback: BytesCallback) -> OutputCallback:
    """An :data:`OutputCallback` that hands ``callback`` bytes whatever the provider delivers."""

    def deliver(chunk: bytes | str) -> None:
        callback(chunk.encode("utf-8", "replace") if isinstance(chunk, str) else chunk)

    return deliver


@dataclass(frozen=True)
class SandboxSpec:
    """What to create.

    Attributes:
        session_id: the session's unique id (recorded in the sandbox's metadata).
        name: the session's name, for people.
        template: E2B template; empty for the default.
        timeout_ms: the sandbox lifetime.
        envs: environment variables for every command.
        template_typed: the template was typed in the New Session dialog (not from Settings).
    """

    session_id: str
    name: str
    template: str = ""
    timeout_ms: int = 3_600_000
    envs: Mapping[str, str] = field(default_factory=dict)
    template_typed: bool = False


@dataclass(frozen=True)
class CommandResult:
    """How a command ended.

    Attributes:
        exit_code: the exit status; ``None`` when the command was killed by a signal.
        signal_name: "killed", "terminated"… when a signal ended it.
        duration_s: wall time from start to end.
    """

    exit_code: int | None
    signal_name: str | None
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class UploadReport:
    """What a folder upload sent and what it left out."""

    files: int
    bytes: int
    skipped: tuple[str, ...] = ()


class Watch(abc.ABC):
    """A running directory watch."""

    @abc.abstractmethod
    async def stop(self) -> None: ...


class CommandHandle(abc.ABC):
    """A running command."""

    pid: int

    @abc.abstractmethod
    async def wait(self) -> CommandResult:
        """Wait for the end; output keeps flowing to the callbacks until then."""

    @abc.abstractmethod
    async def send_stdin(self, data: bytes) -> None: ...

    @abc.abstractmethod
    async def close_stdin(self) -> None: ...

    @abc.abstractmethod
    async def kill(self) -> None:
        """Kill the command and everything it started."""

    async def send_interrupt(self) -> bool:
        """Send the command an interrupt (SIGINT, as Ctrl+C does); False where that cannot be done."""
        return False

    async def interrupt(self, grace_s: float = INTERRUPT_GRACE_S) -> CommandResult:
        """Stop the command as Ctrl+C does, and kill it with everything it started when it has
        not ended ``grace_s`` later (at once where no interrupt can be sent)."""
        if await self.send_interrupt():
            waiter = asyncio.ensure_future(self.wait())
            try:
                done, _ = await asyncio.wait({waiter}, timeout=grace_s)
                if not done:
                    await self.kill()
                return await waiter
            finally:
                waiter.cancel()
        await self.kill()
        return await self.wait()


class Sandbox(abc.ABC):
    """One sandbox of one session.

    Attributes:
        id: the provider's id for it (E2B's sandbox id, or the workspace name).
        kind: which provider made it.
        project_dir: where the project lives, as commands see it.
        full_rights: commands run with the user's full rights on this computer.
        shell_name: the shell that runs :meth:`start`'s commands.
    """

    id: str
    kind: ProviderKind
    project_dir: str = PROJECT_DIR
    full_rights: bool = False
    """Whether commands run with the user's full rights on this computer (local, not isolated)."""
    shell_name: str = "bash"
    """The shell that runs commands, for people."""

    @abc.abstractmethod
    async def start(
        self,
        command: str,
        *,
        on_stdout: OutputCallback,
        on_stderr: OutputCallback,
        cwd: str | None = None,
        stdin: bool = False,
        timeout_s: float | None = None,
        envs: Mapping[str, str] | None = None,
    ) -> CommandHandle:
        """Start ``command`` in the sandbox's shell (:attr:`shell_name`) in ``cwd`` (default: the
        project folder).

        ``envs`` are extra environment variables for this one command only (a token for one
        push), on top of the sandbox's own.
        """

    async def run(
        self,
        command: str,
        *,
        on_stdout: BytesCallback,
        on_stderr: BytesCallback,
        cwd: str | None = None,
        timeout_s: float | None = None,
        envs: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run ``command`` to its end; its output reaches the callbacks as bytes (small outputs
        collected whole: text from the provider is encoded for them)."""
        out, err = as_bytes(on_stdout), as_bytes(on_stderr)
        if envs:  # only then: a provider written before per-command envs still runs the rest
            handle = await self.start(command, on_stdout=out, on_stderr=err, cwd=cwd,
                                      timeout_s=timeout_s, envs=envs)
        else:
            handle = await self.start(command, on_stdout=out, on_stderr=err, cwd=cwd,
                                      timeout_s=timeout_s)
        return await handle.wait()

    @abc.abstractmethod
    async def get_project(self, source: Project, progress: ProgressCallback) -> UploadReport | None:
        """Put the project in :attr:`project_dir` (an empty folder when ``source`` is None)."""

    @abc.abstractmethod
    async def list_dir(self, path: str) -> Sequence[FileEntry]:
        """The folder's entries, unsorted; a big folder's as :class:`~sesame_desktop.core.file_tree.FileEntries`
        (plain rows, which add nothing to the garbage collector's work)."""

    @abc.abstractmethod
    async def read_file(self, path: str) -> bytes: ...

    @abc.abstractmethod
    async def write_file(self, path: str, data: bytes) -> None: ...

    @abc.abstractmethod
    async def make_dir(self, path: str) -> None: ...

    @abc.abstractmethod
    async def rename(self, path: str, new_path: str) -> None: ...

    @abc.abstractmethod
    async def remove(self, path: str) -> None:
        """Remove a file or a whole folder."""

    @abc.abstractmethod
    async def watch(self, path: str, on_change: ChangeCallback) -> Watch:
        """Report changes under ``path`` (recursively) until the watch is stopped.

        ``on_change`` gets the absolute path of each changed entry; several changes may be
        reported for one operation. The caller debounces.
        """

    @abc.abstractmethod
    async def preview_url(self, port: int) -> str:
        """The URL at which a browser on this computer reaches ``port`` inside the sandbox."""

    @abc.abstractmethod
    async def set_timeout(self, timeout_ms: int) -> None:
        """Set the remaining lifetime (from now)."""

    @abc.abstractmethod
    async def is_alive(self) -> bool:
        """Whether the sandbox still runs (its lifetime may have run out)."""

    @abc.abstractmethod
    async def kill(self) -> None:
        """End the sandbox and every process in it. Killing twice is fine."""


class SandboxProvider(abc.ABC):
    kind: ProviderKind

    @abc.abstractmethod
    async def create(self, spec: SandboxSpec) -> Sandbox: ...


AsyncFactory = Callable[[], Awaitable[SandboxProvider]]
