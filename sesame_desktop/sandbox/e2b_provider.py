"""Sessions in E2B cloud sandboxes, through the official SDK's async API.

This module and :mod:`sesame_desktop.sandbox.e2b_errors` are the only code that imports
``e2b``. Every sandbox carries metadata naming the app and the session, so the app can find
its own sandboxes later.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import e2b
from e2b import AsyncSandbox, CommandExitException, SandboxQuery, SandboxState

from sesame_desktop import APP_ID
from sesame_desktop.core.config import Provider as ProviderKind
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.secret import Secret
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
from sesame_desktop.sandbox.e2b_errors import no_key_error, translate
from sesame_desktop.sandbox.project_files import git_clone_failed, report_progress, select_files

__all__ = ["E2BProvider", "E2BSandbox", "no_key_error", "preview_scheme"]

log = logging.getLogger(__name__)
T = TypeVar("T")

UPLOAD_BATCH_FILES = 200
UPLOAD_BATCH_BYTES = 8 * 1024 * 1024
LOCAL_DOMAINS = ("localhost", "127.0.0.1", "[::1]")


def preview_scheme(host: str) -> str:
    """``http`` for a local E2B-compatible server's domain, ``https`` for E2B's edge."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    if any(name == d or name.endswith("." + d) for d in LOCAL_DOMAINS):
        return "http"
    return "https"


def _signal_from(result_error: str | None) -> str | None:
    if result_error and result_error.startswith("signal: "):
        return result_error.removeprefix("signal: ")
    return None


class E2BCommand(CommandHandle):
    def __init__(self, handle: e2b.AsyncCommandHandle, sandbox: E2BSandbox) -> None:
        self.pid = handle.pid
        self._handle = handle
        self._sandbox = sandbox
        self._started = time.monotonic()
        self._result: CommandResult | None = None

    async def wait(self) -> CommandResult:
        if self._result is not None:
            return self._result
        try:
            result = await self._handle.wait()
            exit_code, error = result.exit_code, result.error
        except CommandExitException as exc:
            exit_code, error = exc.exit_code, exc.error
        except Exception as exc:  # noqa: BLE001 - translated for the user
            raise self._sandbox.translate(exc) from None
        signal_name = _signal_from(error) if exit_code == -1 else None
        self._result = CommandResult(exit_code=None if signal_name else exit_code, signal_name=signal_name,
                                     duration_s=time.monotonic() - self._started)
        return self._result

    async def send_stdin(self, data: bytes) -> None:
        await self._sandbox.call(self._handle.send_stdin(data))

    async def close_stdin(self) -> None:
        await self._sandbox.call(self._handle.close_stdin())

    async def kill(self) -> None:
        await self._sandbox.call(self._handle.kill())


class E2BWatch(Watch):
    def __init__(self, handle: e2b.AsyncWatchHandle) -> None:
        self._handle = handle

    async def stop(self) -> None:
        try:
            await self._handle.stop()
        except Exception as exc:  # noqa: BLE001 - a watch of a sandbox that is gone just ends
            log.debug("stopping a watch: %s", exc)


class E2BSandbox(Sandbox):
    kind = ProviderKind.E2B

    def __init__(self, sdk: AsyncSandbox, spec: SandboxSpec) -> None:
        self.sdk = sdk
        self.id = sdk.sandbox_id
        self.project_dir = PROJECT_DIR
        self._spec = spec
        self._expires_at = time.time() + spec.timeout_ms / 1000

    def translate(self, exc: BaseException) -> UserFacingError:
        return translate(exc, expired=time.time() >= self._expires_at - 1)

    async def call(self, awaitable: Awaitable[T]) -> T:
        """Await an SDK call; any failure becomes the user-facing error."""
        try:
            return await awaitable
        except UserFacingError:
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a user message
            raise self.translate(exc) from None

    async def start(self, command: str, *, on_stdout: OutputCallback, on_stderr: OutputCallback,
                    cwd: str | None = None, stdin: bool = False, timeout_s: float | None = None,
                    envs: Mapping[str, str] | None = None) -> E2BCommand:
        handle = await self.call(self.sdk.commands.run(
            command, background=True, cwd=cwd or self.project_dir, stdin=stdin, envs=dict(envs) if envs else None,
            on_stdout=lambda text: on_stdout(text.encode("utf-8", "replace")),
            on_stderr=lambda text: on_stderr(text.encode("utf-8", "replace")),
            timeout=timeout_s or 0, retain_output=False))
        return E2BCommand(handle, self)

    async def get_project(self, source: Project, progress: ProgressCallback) -> UploadReport | None:
        if isinstance(source, GitProject):
            await self._clone(source, progress)
            return None
        await self.call(self.sdk.files.make_dir(self.project_dir))
        if isinstance(source, FolderProject):
            return await self._upload(source.path, progress)
        return None

    async def _clone(self, source: GitProject, progress: ProgressCallback) -> None:
        output = bytearray()

        def on_output(chunk: bytes) -> None:
            output.extend(chunk)
            report_progress(chunk, progress)

        progress(f"Cloning {source.url}…")
        branch = ["--branch", source.branch] if source.branch else []
        argv = ["git", "clone", "--progress", *branch, "--", source.url, self.project_dir]
        result = await self.run(" ".join(shlex.quote(a) for a in argv), on_stdout=on_output,
                                on_stderr=on_output, cwd="/home/user")
        if not result.ok:
            raise git_clone_failed(source.url, output.decode(errors="replace"))

    async def _upload(self, folder: Path, progress: ProgressCallback) -> UploadReport:
        loop = asyncio.get_running_loop()
        selection = await loop.run_in_executor(None, select_files, folder)
        sent_files = sent_bytes = 0
        batch: list[tuple[str, Path]] = []
        batch_bytes = 0

        async def flush() -> None:
            nonlocal sent_files, sent_bytes, batch, batch_bytes
            if not batch:
                return
            entries = await loop.run_in_executor(
                None, lambda b=batch: [{"path": f"{self.project_dir}/{rel}", "data": p.read_bytes()} for rel, p in b])
            await self.call(self.sdk.files.write_files(entries))
            sent_files += len(batch)
            sent_bytes += batch_bytes
            progress(f"Uploaded {sent_files} of {len(selection.files)} files")
            batch, batch_bytes = [], 0

        sizes = await loop.run_in_executor(None, lambda: [(folder / rel).stat().st_size for rel in selection.files])
        for rel, size in zip(selection.files, sizes, strict=True):
            path = folder / rel
            batch.append((rel, path))
            batch_bytes += size
            if len(batch) >= UPLOAD_BATCH_FILES or batch_bytes >= UPLOAD_BATCH_BYTES:
                await flush()
        await flush()
        return UploadReport(files=sent_files, bytes=sent_bytes, skipped=selection.skipped)

    async def list_dir(self, path: str) -> list[FileEntry]:
        entries = await self.call(self.sdk.files.list(path, depth=1))
        return [FileEntry(e.name, e.path, e.type == e2b.FileType.DIR, e.size,
                          e.modified_time.timestamp() if e.modified_time else 0.0) for e in entries]

    async def read_file(self, path: str) -> bytes:
        return bytes(await self.call(self.sdk.files.read(path, format="bytes")))

    async def write_file(self, path: str, data: bytes) -> None:
        await self.call(self.sdk.files.write(path, data))

    async def make_dir(self, path: str) -> None:
        await self.call(self.sdk.files.make_dir(path))

    async def rename(self, path: str, new_path: str) -> None:
        if await self.call(self.sdk.files.exists(new_path)):
            raise UserFacingError(UserMessage("Already exists", f"{new_path.rsplit('/', 1)[-1]} already exists.",
                                              "Choose another name."))
        await self.call(self.sdk.files.rename(path, new_path))

    async def remove(self, path: str) -> None:
        await self.call(self.sdk.files.remove(path))

    async def watch(self, path: str, on_change: ChangeCallback) -> E2BWatch:
        base = path.rstrip("/")
        handle = await self.call(self.sdk.files.watch_dir(
            path, lambda event: on_change(f"{base}/{event.name}"), recursive=True, timeout=0))
        return E2BWatch(handle)

    async def preview_url(self, port: int) -> str:
        host = self.sdk.get_host(port)
        return f"{preview_scheme(host)}://{host}"

    async def set_timeout(self, timeout_ms: int) -> None:
        await self.call(self.sdk.set_timeout(max(1, timeout_ms // 1000)))
        self._expires_at = time.time() + timeout_ms / 1000

    async def is_alive(self) -> bool:
        try:
            return await self.sdk.is_running()
        except Exception:  # noqa: BLE001 - unreachable counts as gone for this question
            return False

    async def kill(self) -> None:
        try:
            await self.sdk.kill()
        except e2b.SandboxNotFoundException:
            pass  # already gone: the wanted state
        except Exception as exc:  # noqa: BLE001
            raise self.translate(exc) from None


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox this app started, as E2B lists it.

    Attributes:
        session_id: the session that started it (from its metadata).
    """

    sandbox_id: str
    name: str
    session_id: str
    started_at: datetime
    end_at: datetime


class E2BProvider(SandboxProvider):
    """Creates E2B sandboxes with ``api_key``; the SDK reads ``E2B_DOMAIN``/``E2B_API_URL``."""

    kind = ProviderKind.E2B

    def __init__(self, api_key: Secret) -> None:
        self._key = api_key

    async def create(self, spec: SandboxSpec) -> E2BSandbox:
        try:
            sdk = await AsyncSandbox.create(
                template=spec.template or None,
                timeout=max(1, spec.timeout_ms // 1000),
                metadata={"app": APP_ID, "session": spec.session_id, "name": spec.name[:100]},
                envs=dict(spec.envs) or None,
                api_key=self._key.reveal(),
            )
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a user message
            raise translate(exc, template=spec.template) from None
        log.info("session %s: E2B sandbox %s created", spec.session_id, sdk.sandbox_id)
        return E2BSandbox(sdk, spec)

    async def running_app_sandboxes(self) -> list[RunningSandbox]:
        """Every running sandbox whose metadata names this app (all pages)."""
        try:
            paginator = AsyncSandbox.list(query=SandboxQuery(metadata={"app": APP_ID}, state=[SandboxState.RUNNING]),
                                          api_key=self._key.reveal())
            found: list[RunningSandbox] = []
            while paginator.has_next:
                for info in await paginator.next_items():
                    meta = info.metadata or {}
                    found.append(RunningSandbox(info.sandbox_id, meta.get("name", ""), meta.get("session", ""),
                                                info.started_at, info.end_at))
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None
        return found

    async def kill_sandbox(self, sandbox_id: str) -> None:
        try:
            await AsyncSandbox.kill(sandbox_id, api_key=self._key.reveal())
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None
