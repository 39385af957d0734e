"""Sessions in E2B cloud sandboxes, through the official SDK's async API.

This module, :mod:`sesame_desktop.sandbox.e2b_errors` and
:mod:`sesame_desktop.sandbox.e2b_listing` are the only code that imports ``e2b``. Every sandbox carries metadata naming the app and the session, so the app can find
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
from typing import Any, TypeVar

import e2b
import httpx
from e2b import AsyncSandbox, CommandExitException, ConnectionConfig, SandboxLifecycle, SandboxQuery, SandboxState
from e2b.api.client_async import get_transport
from e2b.connection_config import HTTP_VERSIONS
from e2b.envd.filesystem import filesystem_pb
from e2b.envd.utils import authentication_header, timeout_to_ms
from e2b.sandbox.filesystem.filesystem import EntryInfo, WriteEntry, map_entry_info, map_file_type
from e2b.sandbox_sync.filesystem.filesystem import _handle_filesystem_rpc_exception

from sesame_desktop import APP_ID
from sesame_desktop.core.config import Provider as ProviderKind
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.file_tree import FileEntries
from sesame_desktop.core.secret import Secret
from sesame_desktop.core.sessions import ContactLostError, FolderProject, GitProject, Project, SandboxGoneError
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
from sesame_desktop.sandbox.e2b_listing import piecewise_filesystem_client
from sesame_desktop.sandbox.lifecycle import CommandEndedError, Liveness, Reattachable, RunningCommand
from sesame_desktop.sandbox.project_files import git_clone_failed, report_progress, select_files

__all__ = ["E2BProvider", "E2BSandbox", "no_key_error", "preview_scheme"]

log = logging.getLogger(__name__)
T = TypeVar("T")

UPLOAD_BATCH_FILES = 200
UPLOAD_BATCH_BYTES = 8 * 1024 * 1024
LOCAL_DOMAINS = ("localhost", "127.0.0.1", "[::1]")


_sdk_warm = False


def warm_sdk(api_key: str) -> None:
    """Build what the SDK otherwise builds on the event loop at its first call (blocking).

    The SDK keeps process-wide HTTP connection pools (pyqwest), one per HTTP version and
    read-timeout kind; building one loads the system's CA certificates, and the first one
    imports opentelemetry: 20-40 ms of CPU in one go on the loop's thread, at the first
    sandbox created or connected (``bench/ports.py``). Built here, in an executor, the
    SDK later finds them made (its cache is guarded by a lock).
    """
    config = ConnectionConfig(api_key=api_key)
    for version in HTTP_VERSIONS:
        for streaming in (False, True):
            get_transport(config, http_version=version, for_streaming=streaming)


async def sdk_ready(api_key: str) -> None:
    """Make sure :func:`warm_sdk` ran once in this process, in an executor (never on the loop)."""
    global _sdk_warm
    if _sdk_warm:
        return
    try:
        await asyncio.get_running_loop().run_in_executor(None, warm_sdk, api_key)
    except Exception as exc:  # noqa: BLE001 - the SDK builds them itself then; its call reports errors
        log.debug("E2B connection pools not built ahead: %s", exc)
    _sdk_warm = True


def preview_scheme(host: str) -> str:
    """``http`` for a local E2B-compatible server's domain, ``https`` for E2B's edge."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    if any(name == d or name.endswith("." + d) for d in LOCAL_DOMAINS):
        return "http"
    return "https"


# -- lifecycle: which failures end a session, which only lose contact -----------------------

KILL_REQUEST_TIMEOUT_S = 10.0


def sandbox_gone(exc: BaseException) -> bool:
    """E2B said the sandbox does not exist or is not running: the only end of a session."""
    text = str(exc).lower()
    return isinstance(exc, e2b.SandboxNotFoundException | e2b.SandboxNotRunningException) or (
        isinstance(exc, e2b.TimeoutException) and not isinstance(exc, e2b.SandboxUnreachableException)
        and "sandbox" in text and "not" in text and "found" in text)


def contact_lost(exc: BaseException) -> bool:
    """A failure on the way to the sandbox (network, timeout, 5xx, a dropped stream)."""
    status = getattr(exc, "status_code", None)
    return isinstance(exc, e2b.SandboxUnreachableException | e2b.TimeoutException | e2b.RateLimitException
                      | e2b.ServiceBusyException | httpx.TransportError | httpx.TimeoutException
                      | ConnectionError | OSError) or (isinstance(status, int) and status >= 500)


def classify(exc: BaseException, error: UserFacingError) -> UserFacingError:
    """``error`` as :class:`SandboxGoneError` or :class:`ContactLostError` when ``exc`` is one."""
    if isinstance(error, SandboxGoneError | ContactLostError):
        return error
    if sandbox_gone(exc):
        return SandboxGoneError(error.message)
    if contact_lost(exc):
        return ContactLostError(error.message)
    return error

# -- end of lifecycle block -------------------------------------------------------------------


def _signal_from(result_error: str | None) -> str | None:
    if result_error and result_error.startswith("signal: "):
        return result_error.removeprefix("signal: ")
    return None


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a shared wait's failure as seen (its waiters get it themselves)."""
    if not future.cancelled():
        future.exception()


class E2BCommand(CommandHandle):
    def __init__(self, handle: e2b.AsyncCommandHandle[Any], sandbox: E2BSandbox) -> None:
        self.pid = handle.pid
        self._handle = handle
        self._sandbox = sandbox
        self._started = time.monotonic()
        self._result: CommandResult | None = None
        self._sdk_wait: asyncio.Future[e2b.CommandResult] | None = None
        self._waiters = 0

    async def wait(self) -> CommandResult:
        """Wait for the end; several callers may wait at once (the session and an interrupt).

        One caller giving up (cancelled) does not stop the others; when the last one gives up,
        the SDK's stream is closed (the command keeps running in the sandbox).
        """
        if self._result is not None:
            return self._result
        if self._sdk_wait is None:
            self._sdk_wait = asyncio.ensure_future(self._handle.wait())
            self._sdk_wait.add_done_callback(_retrieved)
        self._waiters += 1
        try:
            result = await asyncio.shield(self._sdk_wait)
            exit_code, error = result.exit_code, result.error
        except asyncio.CancelledError:
            if self._waiters == 1 and not self._sdk_wait.done():
                await self._stop_following()
            raise
        except CommandExitException as exc:
            exit_code, error = exc.exit_code, exc.error
        except Exception as exc:  # noqa: BLE001 - translated for the user
            await self._stop_following()  # lifecycle: close the broken stream now
            raise self._sandbox.translate(exc) from None
        finally:
            self._waiters -= 1
        signal_name = _signal_from(error) if exit_code == -1 else None
        self._result = CommandResult(exit_code=None if signal_name else exit_code, signal_name=signal_name,
                                     duration_s=time.monotonic() - self._started)
        return self._result

    async def _stop_following(self) -> None:
        """Stop reading the command's stream and close it (the command is not touched)."""
        if self._sdk_wait is not None and not self._sdk_wait.done():
            self._sdk_wait.cancel()
        try:
            await self._handle.disconnect()
        except Exception as exc:  # noqa: BLE001 - best effort
            log.debug("disconnecting from a command: %s", exc)

    async def send_stdin(self, data: bytes) -> None:
        await self._sandbox.call(self._handle.send_stdin(data))

    async def close_stdin(self) -> None:
        await self._sandbox.call(self._handle.close_stdin())

    async def kill(self) -> None:
        await self._sandbox.call(self._handle.kill())

    async def send_interrupt(self) -> bool:
        await self._sandbox.call(self._sandbox.sdk.commands.run(
            f"pkill -INT -P {self.pid}; kill -INT {self.pid}; true", timeout=10))
        return True


class E2BWatch(Watch):
    def __init__(self, handle: e2b.AsyncWatchHandle) -> None:
        self._handle = handle

    async def stop(self) -> None:
        try:
            await self._handle.stop()  # type: ignore[no-untyped-call]  # untyped in the SDK
        except Exception as exc:  # noqa: BLE001 - a watch of a sandbox that is gone just ends
            log.debug("stopping a watch: %s", exc)


def _file_entry(e: EntryInfo) -> FileEntry:
    return FileEntry(e.name, e.path, e.type == e2b.FileType.DIR, e.size,
                     e.modified_time.timestamp() if e.modified_time else 0.0, bool(e.symlink_target))


class E2BSandbox(Sandbox, Reattachable):
    kind = ProviderKind.E2B

    def __init__(self, sdk: AsyncSandbox, spec: SandboxSpec, *, api_key: str = "") -> None:
        self.sdk = sdk
        self.id = sdk.sandbox_id
        self.project_dir = PROJECT_DIR
        self._spec = spec
        self._expires_at = time.time() + spec.timeout_ms / 1000
        self._api_key = api_key or (sdk.connection_config.api_key or "")
        self._sync: tuple[AsyncSandbox, e2b.Sandbox] | None = None  # see _sync_handle

    @classmethod
    def detached(cls, sandbox_id: str, spec: SandboxSpec, api_key: str) -> E2BSandbox:
        """A handle on a sandbox known by id only: :meth:`reconnect` connects it; :meth:`end`,
        :meth:`probe` work without."""
        sandbox = cls.__new__(cls)
        sandbox.id = sandbox_id
        sandbox.project_dir = PROJECT_DIR
        sandbox._spec = spec
        sandbox._expires_at = time.time() + spec.timeout_ms / 1000
        sandbox._api_key = api_key
        sandbox._sync = None
        return sandbox

    def translate(self, exc: BaseException) -> UserFacingError:
        return classify(exc, translate(exc, expired=time.time() >= self._expires_at - 1))

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
            on_stdout=on_stdout, on_stderr=on_stderr,  # the SDK's str, passed on as it is
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
            def read(b: list[tuple[str, Path]] = batch) -> list[WriteEntry]:
                return [{"path": f"{self.project_dir}/{rel}", "data": p.read_bytes()} for rel, p in b]

            entries = await loop.run_in_executor(None, read)
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

    async def list_dir(self, path: str) -> FileEntries:
        """The folder's entries. Listed, decoded and converted in an executor thread through the
        SDK's synchronous client, one entry at a time (see :mod:`~sesame_desktop.sandbox.e2b_listing`): a
        100,000-entry answer decoded on the loop thread (the GUI thread) would freeze the window
        for seconds, and decoded at once it would still hold the GIL for hundreds of ms."""
        files = self._sync_handle().files
        request = filesystem_pb.ListDirRequest(path=path, depth=1)
        timeout_ms = timeout_to_ms(self.sdk.connection_config.get_request_timeout(None))

        def listing() -> FileEntries:
            try:  # as the SDK's Filesystem.list, but converting each entry as it is decoded
                answer = files._rpc.list_dir(request, timeout_ms=timeout_ms,
                                             headers=authentication_header(files._envd_version))
                return FileEntries.of(_file_entry(map_entry_info(e)) for e in answer.entries if map_file_type(e.type))
            except Exception as exc:  # noqa: BLE001 - the SDK's own exception, translated by call()
                raise _handle_filesystem_rpc_exception(exc, files._envd_health_api) from None

        return await self.call(asyncio.get_running_loop().run_in_executor(None, listing))

    def _sync_handle(self) -> e2b.Sandbox:
        """The SDK's synchronous client on this very sandbox, for calls whose answer is too big
        to decode on the loop thread. Built from the async handle's own connection (same key,
        domain, URLs, envd token), without a request to E2B, so it never changes the sandbox's
        lifetime; one per async handle, replaced after :meth:`reconnect`, closed by :meth:`end`."""
        sync = self._sync
        if sync is not None and sync[0] is self.sdk:
            return sync[1]
        self._close_sync()
        sdk = self.sdk
        handle = e2b.Sandbox(sandbox_id=sdk.sandbox_id, sandbox_domain=sdk.sandbox_domain,
                             envd_version=sdk._envd_version, envd_access_token=sdk._envd_access_token,
                             traffic_access_token=sdk.traffic_access_token,
                             connection_config=sdk.connection_config)
        handle.files._rpc = piecewise_filesystem_client(handle.envd_api_url, sdk.connection_config)
        self._sync = (sdk, handle)
        return handle

    def _close_sync(self) -> None:
        """Close the synchronous client's HTTP clients (their shared connection pool stays)."""
        sync, self._sync = self._sync, None
        if sync is None:
            return
        handle = sync[1]
        for part in (handle, handle.files, handle.commands, handle.pty):
            for value in vars(part).values():
                if isinstance(value, httpx.Client):
                    value.close()

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
        """False only when E2B says the sandbox is gone or paused; unreachable counts as alive."""
        return await self.probe() in (Liveness.RUNNING, Liveness.UNKNOWN)

    async def kill(self) -> None:
        if not await self.end():
            raise ContactLostError(UserMessage("Sandbox not confirmed ended",
                                               "E2B did not confirm that the sandbox was stopped."))

    # -- lifecycle: probe, reconnect, reattach, pause, confirmed end ---------------------------

    async def probe(self) -> Liveness:
        await sdk_ready(self._api_key)
        try:
            info = await AsyncSandbox.get_info(self.id, api_key=self._api_key)
        except Exception as exc:  # noqa: BLE001 - the answer is the point, never an error
            if sandbox_gone(exc) or getattr(exc, "status_code", None) == 404:
                return Liveness.GONE
            log.info("sandbox %s: not reachable for a probe: %s", self.id, type(exc).__name__)
            return Liveness.UNKNOWN
        state = str(getattr(info.state, "value", info.state)).lower()
        if state == "paused":
            return Liveness.PAUSED
        if info.end_at is not None:
            self._expires_at = info.end_at.timestamp()
        return Liveness.RUNNING

    @property
    def expires_at(self) -> float:
        return self._expires_at

    async def reconnect(self) -> None:
        await sdk_ready(self._api_key)
        try:
            self.sdk = await AsyncSandbox.connect(self.id, api_key=self._api_key)
        except Exception as exc:  # noqa: BLE001 - classified for the manager
            error = self.translate(exc)
            if getattr(exc, "status_code", None) == 404 and not isinstance(error, ContactLostError):
                raise SandboxGoneError(error.message) from None
            raise error from None
        await self.probe()  # learns the lifetime left

    async def running_commands(self) -> list[RunningCommand]:
        infos = await self.call(self.sdk.commands.list())
        return [RunningCommand(i.pid, " ".join([i.cmd, *i.args])) for i in infos]

    async def attach(self, pid: int, *, on_stdout: OutputCallback, on_stderr: OutputCallback) -> E2BCommand:
        try:
            handle = await self.sdk.commands.connect(
                pid, timeout=0,
                on_stdout=on_stdout, on_stderr=on_stderr)  # the SDK's str, passed on as it is
        except Exception as exc:  # noqa: BLE001 - translated below
            if not sandbox_gone(exc) and not contact_lost(exc) and "not found" in str(exc).lower():
                raise CommandEndedError(str(exc)) from None
            raise self.translate(exc) from None
        return E2BCommand(handle, self)

    async def pause(self) -> None:
        await self.call(self.sdk.pause())

    async def end(self) -> bool:
        self._close_sync()
        await sdk_ready(self._api_key)
        try:
            await AsyncSandbox.kill(self.id, request_timeout=KILL_REQUEST_TIMEOUT_S, api_key=self._api_key)
        except e2b.SandboxNotFoundException:
            return True  # already gone: the wanted state
        except Exception as exc:  # noqa: BLE001
            raise classify(exc, ContactLostError(translate(exc).message)) from None
        return True  # kill() answers False for a sandbox E2B does not know: gone either way


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

    #: create sandboxes that pause (not die) when their lifetime ends
    pause_on_timeout = True

    async def create(self, spec: SandboxSpec) -> E2BSandbox:
        await sdk_ready(self._key.reveal())
        try:
            sdk = await AsyncSandbox.create(
                template=spec.template or None,
                timeout=max(1, spec.timeout_ms // 1000),
                metadata={"app": APP_ID, "session": spec.session_id, "name": spec.name[:100]},
                envs=dict(spec.envs) or None,
                api_key=self._key.reveal(),
                lifecycle=SandboxLifecycle(on_timeout="pause") if self.pause_on_timeout else None,
            )
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a user message
            raise translate(exc, template=spec.template, template_typed=spec.template_typed) from None
        log.info("session %s: E2B sandbox %s created", spec.session_id, sdk.sandbox_id)
        return E2BSandbox(sdk, spec, api_key=self._key.reveal())

    def handle(self, sandbox_id: str, spec: SandboxSpec) -> E2BSandbox:
        """A handle on a sandbox by id, not connected yet (:meth:`E2BSandbox.reconnect`)."""
        return E2BSandbox.detached(sandbox_id, spec, self._key.reveal())

    async def connect(self, sandbox_id: str, spec: SandboxSpec) -> E2BSandbox:
        """The sandbox of a session from an earlier run, connected again (resumed if paused).

        Raises:
            SandboxGoneError: it does not exist any more. ContactLostError: E2B not reachable.
        """
        sandbox = self.handle(sandbox_id, spec)
        await sandbox.reconnect()
        return sandbox

    async def running_app_sandboxes(self) -> list[RunningSandbox]:
        """Every running sandbox whose metadata names this app (all pages)."""
        await sdk_ready(self._key.reveal())
        try:
            paginator = AsyncSandbox.list(query=SandboxQuery(metadata={"app": APP_ID},
                                                             state=[SandboxState.RUNNING, SandboxState.PAUSED]),
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
        await sdk_ready(self._key.reveal())
        try:
            await AsyncSandbox.kill(sandbox_id, api_key=self._key.reveal())
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None
