"""The session manager: starts sessions, runs their commands, ends them; owns every task.

A session moves through creating sandbox → getting project → running task → idle → ending →
ended, or to failed with a :class:`UserMessage`. Each change is emitted as an immutable
:class:`SessionSnapshot`. Output goes into a bounded :class:`TerminalBuffer` per session, which
the console shows; switching sessions loses nothing within the scrollback.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Signal

from sesame_desktop.core.config import EffectiveConfig, Provider
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.sessions import SessionRequest, SessionSnapshot, SessionState
from sesame_desktop.core.terminal import TerminalBuffer
from sesame_desktop.sandbox.base import CommandHandle, CommandResult, Sandbox, SandboxProvider, SandboxSpec
from sesame_desktop.services.session_steps import SessionSteps
from sesame_desktop.services.tasks import TaskGroupOwner

log = logging.getLogger(__name__)

ProviderFactory = Callable[[Provider], Awaitable[SandboxProvider]]

END_TIMEOUT_S = 15.0
LIFETIME_POLL_S = 5.0
WARN_BEFORE_S = 5 * 60


def unexpected(exc: BaseException) -> UserMessage:
    return UserMessage(
        title="Something went wrong",
        explanation=f"The session stopped on an unexpected error ({type(exc).__name__}).",
        next_step="Start a new session. The log file has the details.",
        details=str(exc)[:2000],
    )


@dataclass
class _Session:
    """The manager's private record of one session."""

    snapshot: SessionSnapshot
    request: SessionRequest
    buffer: TerminalBuffer
    tasks: TaskGroupOwner
    sandbox: Sandbox | None = None
    foreground: CommandHandle | None = None
    warned: bool = False
    background: set[CommandHandle] = field(default_factory=set)


class SessionManager(SessionSteps, QObject):
    """Starts and ends sessions and runs their commands.

    Other services attach to a session through :meth:`add_output_tap` (every chunk of output,
    for example to spot printed URLs) and :meth:`start_session_task` (work that must end with
    the session, for example polling its ports).

    Signals:
        session_added(SessionSnapshot): a new session, in its first state.
        session_changed(SessionSnapshot): any change of state, step, sandbox or command.
        sandbox_ready(str): the session's sandbox exists and holds the project (session id).
        lifetime_running_out(SessionSnapshot): the sandbox ends in under ``WARN_BEFORE_S``.
        problem(UserMessage): something asked of a session (extending it) could not be done.
    """

    session_added = Signal(object)
    session_changed = Signal(object)
    sandbox_ready = Signal(str)
    lifetime_running_out = Signal(object)
    problem = Signal(object)

    def __init__(self, providers: ProviderFactory, config: Callable[[], EffectiveConfig],
                 *, scrollback_lines: int = 100_000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._providers = providers
        self._config = config
        self._scrollback = scrollback_lines
        self._sessions: dict[str, _Session] = {}
        self._counter = itertools.count(1)
        self._closed = False
        self._tasks = TaskGroupOwner("sessions")
        self._taps: list[Callable[[str, str, bytes], None]] = []

    # -- queries ----------------------------------------------------------------------------

    def snapshot(self, session_id: str) -> SessionSnapshot:
        return self._sessions[session_id].snapshot

    def snapshots(self) -> list[SessionSnapshot]:
        return [s.snapshot for s in self._sessions.values()]

    def buffer(self, session_id: str) -> TerminalBuffer:
        return self._sessions[session_id].buffer

    def request(self, session_id: str) -> SessionRequest:
        return self._sessions[session_id].request

    def sandbox(self, session_id: str) -> Sandbox | None:
        return self._sessions[session_id].sandbox

    def open_sessions(self) -> list[SessionSnapshot]:
        return [s.snapshot for s in self._sessions.values() if s.snapshot.state.open]

    # -- attaching other services ----------------------------------------------------------

    def add_output_tap(self, tap: Callable[[str, str, bytes], None]) -> None:
        """Call ``tap(session_id, stream, chunk)`` for every chunk of every session's output."""
        self._taps.append(tap)

    def start_session_task(self, session_id: str, coro: Coroutine[Any, Any, Any], *, key: str | None = None) -> None:
        """Run ``coro`` as part of the session: cancelled when it ends, fails or the app quits."""
        session = self._sessions[session_id]
        if not session.snapshot.state.open:
            coro.close()
            return
        session.tasks.start(coro, key=key)

    def _feeder(self, session: _Session, stream: str) -> Callable[[bytes], None]:
        buffer, session_id, taps = session.buffer, session.snapshot.id, self._taps

        def feed(chunk: bytes) -> None:
            buffer.feed(chunk, stream)
            for tap in taps:
                tap(session_id, stream, chunk)

        return feed

    # -- starting ---------------------------------------------------------------------------

    def start_session(self, request: SessionRequest) -> SessionSnapshot:
        """Create the session and start its work; returns at once with the first snapshot."""
        if self._closed:
            raise RuntimeError("the session manager is closed")
        session_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        snapshot = SessionSnapshot(id=session_id, name=request.name or f"Session {next(self._counter)}",
                                   provider=request.provider, state=SessionState.CREATING,
                                   step="Creating the sandbox…")
        session = _Session(snapshot, request, TerminalBuffer(self._scrollback),
                           TaskGroupOwner(f"session-{session_id}", on_error=lambda e, i=session_id: self._fail(i, e)))
        self._sessions[session_id] = session
        self.session_added.emit(snapshot)
        session.tasks.start(self._run(session), key="main")
        return snapshot

    async def _run(self, session: _Session) -> None:
        request = session.request
        config = self._config()
        try:
            provider = await self._providers(request.provider)
            timeout_ms = request.timeout_ms or config.timeout_ms.value
            template = request.template if request.template is not None else config.template.value
            spec = SandboxSpec(session_id=session.snapshot.id, name=session.snapshot.name,
                               template=template, timeout_ms=timeout_ms)
            spec = replace(spec, envs=await self.session_environment(request))
            session.buffer.add_meta(f"Creating a {provider.kind.label} sandbox…")
            sandbox = await provider.create(spec)
            session.sandbox = sandbox
            expires = time.time() + timeout_ms / 1000 if provider.kind is Provider.E2B else None
            self._update(session, state=SessionState.GETTING_PROJECT, sandbox_id=sandbox.id,
                         project_dir=sandbox.project_dir, expires_at=expires, step="Getting the project…")
            if expires is not None:
                session.tasks.start(self._watch_lifetime(session), key="lifetime")
            session.buffer.add_meta(f"Sandbox {sandbox.id} is ready; project folder {sandbox.project_dir}")
            report = await sandbox.get_project(request.project, lambda step: self._update(session, step=step))
            if report is not None:
                session.buffer.add_meta(f"Uploaded {report.files} files ({report.bytes:,} bytes)")
                for skipped in report.skipped:
                    session.buffer.add_meta(f"Skipped {skipped}")
            await self.prepare_work(session)
        except UserFacingError as exc:
            await self._fail_and_clean(session, exc.message)
            return
        self.sandbox_ready.emit(session.snapshot.id)
        if request.task.strip():
            self._update(session, state=SessionState.RUNNING_TASK, step="")
            await self._foreground(session, request.task)
        self._update(session, state=SessionState.IDLE, step="")

    # -- commands ---------------------------------------------------------------------------

    def run_command(self, session_id: str, command: str, *, background: bool = False) -> None:
        """Run ``command`` in the session's project folder; output goes to its console."""
        session = self._sessions[session_id]
        if not session.snapshot.state.accepts_commands or session.sandbox is None:
            raise UserFacingError(UserMessage("Session not ready", f"The session is {session.snapshot.state.value}; "
                                              "commands run once it is idle."))
        if background:
            session.tasks.start(self._background(session, command))
            return
        if session.foreground is not None or session.tasks.running("foreground"):
            raise UserFacingError(UserMessage(
                "A command is still running",
                f"\u201c{session.snapshot.running}\u201d is still running in the foreground.",
                "Wait for it, stop it with Ctrl+C, or run the new command in the background."))
        session.tasks.start(self._foreground_then_idle(session, command), key="foreground")

    async def _foreground_then_idle(self, session: _Session, command: str) -> None:
        await self._foreground(session, command)
        if session.snapshot.state is SessionState.RUNNING_TASK:
            self._update(session, state=SessionState.IDLE)

    async def _foreground(self, session: _Session, command: str) -> CommandResult | None:
        assert session.sandbox is not None
        buffer = session.buffer
        buffer.begin_command(command, datetime.now())
        try:
            handle = await session.sandbox.start(
                command, stdin=True, on_stdout=self._feeder(session, "stdout"),
                on_stderr=self._feeder(session, "stderr"))
            session.foreground = handle
            self._update(session, running=command)
            result = await handle.wait()
        except UserFacingError as exc:
            buffer.finish()
            buffer.add_meta(f"{exc.message.title}: {exc.message.text()}")
            await self._check_alive(session)
            return None
        finally:
            session.foreground = None
            self._update(session, running="")
        buffer.finish()
        buffer.end_command(result.exit_code, result.signal_name, result.duration_s)
        return result

    async def _background(self, session: _Session, command: str) -> None:
        assert session.sandbox is not None
        buffer = session.buffer
        buffer.add_meta(f"Started in the background: {command}")
        handle = await session.sandbox.start(
            command, on_stdout=self._feeder(session, "stdout"), on_stderr=self._feeder(session, "stderr"))
        session.background.add(handle)
        self._update(session, background=len(session.background))
        try:
            result = await handle.wait()
        finally:
            session.background.discard(handle)
            self._update(session, background=len(session.background))
        ended = f"exit code {result.exit_code}" if result.exit_code is not None else result.signal_name
        buffer.add_meta(f"Background command ended ({ended}): {command}")

    def send_input(self, session_id: str, text: str) -> bool:
        """Send a line to the foreground command's stdin; False when none is running."""
        session = self._sessions[session_id]
        handle = session.foreground
        if handle is None:
            return False
        session.buffer.feed(text.encode() + b"\n", "stdout")  # echoed, as a terminal does
        session.tasks.start(self._send_input(session, handle, text.encode() + b"\n"))
        return True

    @staticmethod
    async def _send_input(session: _Session, handle: CommandHandle, data: bytes) -> None:
        try:
            await handle.send_stdin(data)
        except UserFacingError as exc:
            session.buffer.add_meta(f"{exc.message.title}: {exc.message.text()}")

    def interrupt(self, session_id: str) -> bool:
        """Kill the foreground command (Ctrl+C); False when none is running."""
        session = self._sessions[session_id]
        if session.foreground is None:
            return False
        session.tasks.start(session.foreground.kill(), key="interrupt")
        return True

    # -- lifetime ---------------------------------------------------------------------------

    def request_extend(self, session_id: str, timeout_ms: int | None = None) -> None:
        """Give the session's sandbox ``timeout_ms`` more life from now (default: the configured
        lifetime); the manager owns the work and reports failure through :attr:`problem`."""
        session = self._sessions[session_id]
        if session.sandbox is None or not session.snapshot.state.open:
            return
        self._tasks.start(self._extend(session, timeout_ms or self._config().timeout_ms.value),
                          key=f"extend-{session_id}")

    async def _extend(self, session: _Session, timeout_ms: int) -> None:
        assert session.sandbox is not None
        try:
            await session.sandbox.set_timeout(timeout_ms)
        except UserFacingError as exc:
            self.problem.emit(exc.message)
            return
        if session.snapshot.expires_at is not None:
            self._update(session, expires_at=time.time() + timeout_ms / 1000)
            session.warned = False
        session.buffer.add_meta(f"Lifetime extended: the sandbox now ends {timeout_ms // 60_000} min from now.")

    async def _watch_lifetime(self, session: _Session) -> None:
        while session.snapshot.state.open and session.snapshot.state is not SessionState.ENDING:
            left = session.snapshot.time_left()
            if left is not None and left <= WARN_BEFORE_S and not session.warned and left > 0:
                session.warned = True
                session.buffer.add_meta(f"The sandbox ends in {max(1, round(left / 60))} min. "
                                        "Extend it to keep working.")
                self.lifetime_running_out.emit(session.snapshot)
            await asyncio.sleep(min(LIFETIME_POLL_S, max(0.2, (left or 0) + 0.2)))
            if (session.snapshot.time_left() or 0) <= 0:
                await self._check_alive(session)
                return

    async def _check_alive(self, session: _Session) -> None:
        sandbox = session.sandbox
        if sandbox is None or not session.snapshot.state.open or session.snapshot.state is SessionState.ENDING:
            return
        try:
            alive = await sandbox.is_alive()
        except UserFacingError:
            alive = False
        if alive:
            return
        left = session.snapshot.time_left()
        expired = left is not None and left <= 1.0
        message = UserMessage(
            "Sandbox lifetime reached" if expired else "Sandbox gone",
            "The sandbox reached the end of its lifetime and was stopped by E2B." if expired
            else "The sandbox is no longer running; it may have been stopped from the E2B dashboard.",
            "Start a new session. For longer work set a longer lifetime (E2B_SANDBOX_TIMEOUT or "
            "Settings ▸ Sandbox lifetime)." if expired else "Start a new session.",
        )
        self._mark_failed(session, message)
        session.tasks.cancel_all()

    # -- ending -----------------------------------------------------------------------------

    def request_end(self, session_id: str) -> None:
        """Start ending the session (from a button); the manager owns the work."""
        if self._sessions[session_id].snapshot.state.open:
            self._tasks.start(self.end_session(session_id), key=f"end-{session_id}")

    async def end_session(self, session_id: str) -> None:
        """Kill the sandbox and stop every task of the session."""
        session = self._sessions[session_id]
        if not session.snapshot.state.open:
            return
        self._update(session, state=SessionState.ENDING, step="Ending…")
        await session.tasks.close(timeout=5)
        await self._kill_sandbox(session)
        self._update(session, state=SessionState.ENDED, step="", running="", background=0)
        session.buffer.add_meta("Session ended; the sandbox was stopped.")

    async def _kill_sandbox(self, session: _Session) -> None:
        if session.sandbox is None:
            return
        try:
            await asyncio.wait_for(session.sandbox.kill(), END_TIMEOUT_S)
        except (UserFacingError, TimeoutError) as exc:
            log.warning("session %s: the sandbox could not be killed: %s", session.snapshot.id, exc)
            session.buffer.add_meta("The sandbox could not be stopped; it ends by itself when its lifetime runs out.")

    async def close(self, timeout: float = END_TIMEOUT_S) -> None:
        """End every open session (quit); gives up after ``timeout`` seconds."""
        self._closed = True
        sessions = list(self._sessions.values())
        ends = [self.end_session(s.snapshot.id) for s in sessions if s.snapshot.state.open]
        if ends:
            done, pending = await asyncio.wait([asyncio.ensure_future(e) for e in ends], timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2)
        for session in sessions:
            await session.tasks.close(timeout=2)
        await self._tasks.close(timeout=2)

    # -- state ------------------------------------------------------------------------------

    def _update(self, session: _Session, **changes: object) -> None:
        """Apply ``changes`` and emit; a session that ended or failed stays so."""
        if not session.snapshot.state.open:
            if changes.get("state") in (SessionState.ENDED, SessionState.FAILED):
                changes = {k: v for k, v in changes.items() if k in ("state", "running", "background", "error")}
            else:
                changes = {k: v for k, v in changes.items() if k in ("running", "background")}
                if not changes:
                    return
        session.snapshot = session.snapshot.but(**changes)
        self.session_changed.emit(session.snapshot)

    def _mark_failed(self, session: _Session, message: UserMessage) -> None:
        session.buffer.add_meta(f"{message.title}: {message.text()}")
        self._update(session, state=SessionState.FAILED, step="", error=message, running="")
        log.warning("session %s failed: %s", session.snapshot.id, message.title)

    async def _fail_and_clean(self, session: _Session, message: UserMessage) -> None:
        self._mark_failed(session, message)
        await self._kill_sandbox(session)

    def _fail(self, session_id: str, exc: BaseException) -> None:
        """A task of the session raised something nobody translated."""
        session = self._sessions.get(session_id)
        if session is None or not session.snapshot.state.open:
            return
        message = exc.message if isinstance(exc, UserFacingError) else unexpected(exc)
        self._mark_failed(session, message)
        if session.sandbox is not None and not self._closed:
            self._tasks.start(self._kill_sandbox(session))
