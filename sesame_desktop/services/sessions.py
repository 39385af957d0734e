"""The session manager: starts sessions, runs their commands, ends them; owns every task.

A session moves through creating sandbox → getting project → running task → idle → ending →
ended, or to failed with a :class:`UserMessage`. Contact lost with a sandbox puts the session
into *reconnecting* (never ends it: see :mod:`sesame_desktop.services.session_lifecycle`).
Each change is emitted as an immutable :class:`SessionSnapshot` and, when the manager has a
:class:`SessionStore`, written to disk with the session's output, so sessions survive the app.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from sesame_desktop.core.config import EffectiveConfig, Provider
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.session_record import CommandRecord, SessionRecord
from sesame_desktop.core.session_words import plural
from sesame_desktop.core.sessions import (
    ContactLostError,
    FolderProject,
    SandboxGoneError,
    SessionRequest,
    SessionSnapshot,
    SessionState,
)
from sesame_desktop.sandbox.base import CommandHandle, CommandResult, Sandbox, SandboxProvider, SandboxSpec
from sesame_desktop.services.session_lifecycle import SessionLifecycle
from sesame_desktop.services.session_processes import SessionProcesses
from sesame_desktop.services.session_restore import SessionRestore
from sesame_desktop.services.session_steps import SessionSteps
from sesame_desktop.services.session_store import SessionStore
from sesame_desktop.services.session_work import SessionWork
from sesame_desktop.services.tasks import TaskGroupOwner

if TYPE_CHECKING:  # the output's terminal code loads with the first session, not at start-up
    from sesame_desktop.core.terminal import TerminalBuffer
    from sesame_desktop.services.session_output import SessionOutput

log = logging.getLogger(__name__)

ProviderFactory = Callable[[Provider], Awaitable[SandboxProvider]]

WARN_BEFORE_S = 5 * 60


def _signal_words(name: str) -> str:
    from sesame_desktop.core.terminal_lines import signal_words

    return signal_words(name)


def unexpected(exc: BaseException) -> UserMessage:
    return UserMessage(
        title="Something went wrong",
        explanation=f"A step of the session stopped on an unexpected error ({type(exc).__name__}).",
        next_step="The sandbox is kept: try again, or end the session. The log file has the details.",
        details=str(exc)[:2000],
    )


@dataclass
class Session:
    """The manager's private record of one session."""

    snapshot: SessionSnapshot
    request: SessionRequest
    output: SessionOutput
    tasks: TaskGroupOwner
    sandbox: Sandbox | None = None
    foreground: CommandHandle | None = None
    warned: bool = False
    background: set[CommandHandle] = field(default_factory=set)
    commands: dict[int, CommandRecord] = field(default_factory=dict)
    ports: tuple[int, ...] = ()
    reconnecting: Any = None  # the running reconnection (an asyncio.Future), shared by all waiters
    before_reconnect: SessionState | None = None


class SessionManager(SessionSteps, SessionWork, SessionLifecycle, SessionRestore, SessionProcesses, QObject):
    """Starts and ends sessions and runs their commands.

    Other services attach to a session through :meth:`add_output_tap` (every chunk of output,
    for example to spot printed URLs) and :meth:`start_session_task` (work that must end with
    the session, for example polling its ports).

    Signals:
        session_added(SessionSnapshot): a new (or restored) session, in its first state.
        session_changed(SessionSnapshot): any change of state, step, sandbox or command.
        session_removed(str): the session was forgotten (its id).
        sandbox_ready(str): the session's sandbox exists and holds the project (session id);
            emitted again when the app reattaches to it.
        lifetime_running_out(SessionSnapshot): the sandbox ends in under ``WARN_BEFORE_S``.
        problem(UserMessage): something asked of a session (extending it) could not be done.
        commands_changed(str): a command of the session started or ended (session id).
    """

    session_added = Signal(object)
    session_changed = Signal(object)
    session_removed = Signal(str)
    sandbox_ready = Signal(str)
    lifetime_running_out = Signal(object)
    problem = Signal(object)
    commands_changed = Signal(str)

    def __init__(self, providers: ProviderFactory, config: Callable[[], EffectiveConfig],
                 *, scrollback_lines: int = 100_000, store: SessionStore | None = None,
                 parent: QObject | None = None) -> None:
        QObject.__init__(self, parent)
        self._providers = providers
        self._config = config
        self._scrollback = scrollback_lines
        self._store = store
        self._sessions: dict[str, Session] = {}
        self._counter = itertools.count(1)
        self._closed = False
        self._tasks = TaskGroupOwner("sessions")
        self._taps: list[Callable[[str, str, bytes | str], None]] = []
        self._line_taps: list[tuple[str, Callable[[str, str, str], None]]] = []
        self._before_add: list[Callable[[], None]] = []

    # -- queries ----------------------------------------------------------------------------

    def snapshot(self, session_id: str) -> SessionSnapshot:
        return self._sessions[session_id].snapshot

    def snapshots(self) -> list[SessionSnapshot]:
        return [s.snapshot for s in self._sessions.values()]

    def buffer(self, session_id: str) -> TerminalBuffer:
        """The session's console buffer (an ended session's is loaded back from disk)."""
        return self._sessions[session_id].output.buffer()

    def output(self, session_id: str) -> SessionOutput:
        return self._sessions[session_id].output

    def request(self, session_id: str) -> SessionRequest:
        return self._sessions[session_id].request

    def sandbox(self, session_id: str) -> Sandbox | None:
        return self._sessions[session_id].sandbox

    def open_sessions(self) -> list[SessionSnapshot]:
        return [s.snapshot for s in self._sessions.values() if s.snapshot.state.open]

    @property
    def store(self) -> SessionStore | None:
        return self._store

    # -- attaching other services ----------------------------------------------------------

    def add_output_tap(self, tap: Callable[[str, str, bytes | str], None]) -> None:
        """Call ``tap(session_id, stream, chunk)`` for every chunk of every session's output
        (``bytes`` or ``str``, as the provider delivers it)."""
        self._taps.append(tap)

    def add_line_tap(self, tap: Callable[[str, str, str], None], hint: str) -> None:
        """Call ``tap(session_id, stream, text)`` for every finished line of output that holds
        ``hint``, as plain text from the session's console buffer (decoded and its escapes
        interpreted once, there), for sessions started from now on while their buffer is loaded."""
        self._line_taps.append((hint, tap))

    def before_session_added(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` before each new (or restored) session is added, ahead of its
        ``session_added`` and its first output: a part that follows sessions from their start
        but is built on first need (the main window's workspace) builds itself there."""
        self._before_add.append(hook)

    def start_session_task(self, session_id: str, coro: Coroutine[Any, Any, Any], *, key: str | None = None) -> None:
        """Run ``coro`` as part of the session: cancelled when it ends, fails or the app quits."""
        session = self._sessions[session_id]
        if not session.snapshot.state.open or session.snapshot.state is SessionState.ENDING:
            coro.close()  # an ending session has stopped its tasks: nothing new may start
            return
        session.tasks.start(coro, key=key)

    def _feeder(self, session: Session, stream: str) -> Callable[[bytes | str], None]:
        output, session_id, taps = session.output, session.snapshot.id, self._taps

        def feed(chunk: bytes | str) -> None:
            output.feed(chunk, stream)
            for tap in taps:
                tap(session_id, stream, chunk)

        return feed

    # -- starting ---------------------------------------------------------------------------

    def _new_session(self, snapshot: SessionSnapshot, request: SessionRequest, *,
                     buffer_loaded: bool = True) -> Session:
        from sesame_desktop.core.terminal import TerminalBuffer
        from sesame_desktop.services.session_output import SessionOutput

        for hook in self._before_add:
            hook()
        session_id = snapshot.id
        chars = self._config().scrollback_chars  # the setting, for sessions started from now on
        output = SessionOutput(session_id, self._store, self._scrollback, scrollback_chars=chars,
                               buffer=TerminalBuffer(self._scrollback, chars) if buffer_loaded else None)
        session = Session(snapshot, request, output,
                          TaskGroupOwner(f"session-{session_id}", on_error=lambda e, i=session_id: self._fail(i, e)))
        for hint, tap in self._line_taps:
            output.watch_lines(functools.partial(tap, session_id), hint)
        self._sessions[session_id] = session
        return session

    def start_session(self, request: SessionRequest) -> SessionSnapshot:
        """Create the session and start its work; returns at once with the first snapshot."""
        if self._closed:
            raise RuntimeError("the session manager is closed")
        session_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        snapshot = SessionSnapshot(id=session_id, name=request.name or f"Session {next(self._counter)}",
                                   provider=request.provider, state=SessionState.CREATING,
                                   step="Creating the sandbox…")
        session = self._new_session(snapshot, request)
        self._persist(session)
        self.session_added.emit(snapshot)
        session.tasks.start(self._run(session), key="main")
        return snapshot

    def start_placeholder(self, request: SessionRequest, sandbox_id: str) -> str:
        """A session for an existing sandbox (adopted), reconnecting; returns its id."""
        session_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        snapshot = SessionSnapshot(id=session_id, name=request.name, provider=request.provider,
                                   state=SessionState.RECONNECTING, step="Connecting…", sandbox_id=sandbox_id)
        session = self._new_session(snapshot, request)
        session.before_reconnect = SessionState.IDLE
        self._persist(session)
        self.session_added.emit(snapshot)
        return session_id

    def _spec(self, session: Session) -> SandboxSpec:
        config = self._config()
        request = session.request
        return SandboxSpec(session_id=session.snapshot.id, name=session.snapshot.name,
                           template=request.template if request.template is not None else config.template.value,
                           timeout_ms=request.timeout_ms or config.timeout_ms.value,
                           template_typed=request.template is not None)

    async def _run(self, session: Session) -> None:
        request = session.request
        try:
            provider = await self._providers(request.provider)
            spec = self._spec(session)
            spec = replace(spec, envs=await self.session_environment(request))
            session.output.meta(f"Creating a {provider.kind.label} sandbox…")
            sandbox = await provider.create(spec)
            session.sandbox = sandbox
            expires = time.time() + spec.timeout_ms / 1000 if provider.kind is Provider.E2B else None
            self._update(session, state=SessionState.GETTING_PROJECT, sandbox_id=sandbox.id,
                         project_dir=sandbox.project_dir, expires_at=expires, step="Getting the project…")
            session.output.meta(f"Sandbox {sandbox.id} is ready; project folder {sandbox.project_dir}")
            report = await sandbox.get_project(request.project, lambda step: self._update(session, step=step))
            if report is not None:
                session.output.meta(f"Uploaded {plural(report.files, 'file')} ({report.bytes:,} bytes)")
                for skipped in report.skipped:
                    session.output.meta(f"Skipped {skipped}")
            await self.mark_start_of_work(session)
            if expires is not None:
                session.tasks.start(self._watch_lifetime(session), key="lifetime")
            await self.prepare_work(session)
        except UserFacingError as exc:
            await self._fail_and_end(session, exc.message)
            return
        self.sandbox_ready.emit(session.snapshot.id)
        if request.task.strip():
            self._update(session, state=SessionState.RUNNING_TASK, step="")
            await self._foreground(session, request.task)
        if session.snapshot.state is SessionState.RUNNING_TASK or session.snapshot.state is SessionState.GETTING_PROJECT:
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

    async def _foreground_then_idle(self, session: Session, command: str, *,
                                    handle: CommandHandle | None = None) -> None:
        await self._foreground(session, command, handle=handle)
        if session.snapshot.state is SessionState.RUNNING_TASK:
            self._update(session, state=SessionState.IDLE)

    def _started(self, session: Session, handle: CommandHandle, command: str, background: bool) -> None:
        session.commands[handle.pid] = CommandRecord(command, handle.pid, background, started_at=time.time())
        self._persist(session)
        self.commands_changed.emit(session.snapshot.id)

    def _command_done(self, session: Session, pid: int) -> None:
        record = session.commands.get(pid)
        if record is not None:
            session.commands[pid] = replace(record, done=True)
            self._persist(session)
        self.commands_changed.emit(session.snapshot.id)

    async def _foreground(self, session: Session, command: str, *,
                          handle: CommandHandle | None = None) -> CommandResult | None:
        """Run ``command`` (or follow ``handle``, reattached) until it ends."""
        assert session.sandbox is not None
        output = session.output
        if handle is None:
            output.begin_command(command, datetime.now())
        try:
            if handle is None:
                handle = await session.sandbox.start(
                    command, stdin=True, on_stdout=self._feeder(session, "stdout"),
                    on_stderr=self._feeder(session, "stderr"))
                self._started(session, handle, command, background=False)
            session.foreground = handle
            self._update(session, running=command)
            result = await self.follow(session, handle, command)
        except SandboxGoneError as exc:
            output.finish()
            await self.sandbox_gone(session, exc.message)
            return None
        except UserFacingError as exc:
            output.finish()
            output.meta(f"{exc.message.title}: {exc.message.text()}")
            return None
        finally:
            session.foreground = None
            self._update(session, running="")
        output.finish()
        if result is None:
            return None
        self._command_done(session, handle.pid)
        output.end_command(result.exit_code, result.signal_name, result.duration_s)
        return result

    async def _background(self, session: Session, command: str, *, handle: CommandHandle | None = None) -> None:
        assert session.sandbox is not None
        output = session.output
        try:
            if handle is None:
                output.meta(f"Started in the background: {command}")
                handle = await session.sandbox.start(
                    command, on_stdout=self._feeder(session, "stdout"), on_stderr=self._feeder(session, "stderr"))
                self._started(session, handle, command, background=True)
            session.background.add(handle)
            self._update(session, background=len(session.background))
            try:
                result = await self.follow(session, handle, command)
            finally:
                session.background.discard(handle)
                self._update(session, background=len(session.background))
        except SandboxGoneError as exc:
            await self.sandbox_gone(session, exc.message)
            return
        except UserFacingError as exc:
            output.meta(f"Background command: {exc.message.title}: {exc.message.text()}")
            return
        if result is None:
            return
        self._command_done(session, handle.pid)
        ended = (f"exit code {result.exit_code}" if result.exit_code is not None
                 else _signal_words(result.signal_name or "unknown"))
        output.meta(f"Background command ended ({ended}): {command}")

    def send_input(self, session_id: str, text: str) -> bool:
        """Send a line to the foreground command's stdin; False when none is running."""
        session = self._sessions[session_id]
        handle = session.foreground
        if handle is None:
            return False
        session.output.feed(text.encode() + b"\n", "stdout")  # echoed, as a terminal does
        session.tasks.start(self._send_input(session, handle, text.encode() + b"\n"))
        return True

    @staticmethod
    async def _send_input(session: Session, handle: CommandHandle, data: bytes) -> None:
        try:
            await handle.send_stdin(data)
        except UserFacingError as exc:
            session.output.meta(f"{exc.message.title}: {exc.message.text()}")

    def interrupt(self, session_id: str) -> bool:
        """Stop the foreground command as Ctrl+C does (killed if it does not stop); False when none runs."""
        session = self._sessions[session_id]
        if session.foreground is None:
            return False
        session.tasks.start(self._interrupt(session, session.foreground), key="interrupt")
        return True

    @staticmethod
    async def _interrupt(session: Session, handle: CommandHandle) -> None:
        try:
            await handle.interrupt()
        except UserFacingError as exc:
            session.output.meta(f"Could not stop the command: {exc.message.title}. Try again.")

    # -- managing sessions ------------------------------------------------------------------

    def rename_session(self, session_id: str, name: str) -> None:
        name = " ".join(name.split())[:200]
        if name:
            self._update(self._sessions[session_id], name=name)

    def duplicate_session(self, session_id: str) -> SessionSnapshot:
        """A new session with the same settings (project, task, template, lifetime)."""
        session = self._sessions[session_id]
        return self.start_session(replace(session.request, name=session.snapshot.name))

    def remove_session(self, session_id: str) -> bool:
        """Forget a session that has finished: its record, its output, its memory."""
        session = self._sessions.get(session_id)
        if session is None or not session.snapshot.state.finished:
            return False
        del self._sessions[session_id]
        session.output.close()
        session.tasks.cancel_all()
        if self._store is not None:
            self._store.delete(session_id)
        self.session_removed.emit(session_id)
        return True

    def record_ports(self, session_id: str, ports: tuple[int, ...]) -> None:
        """Keep the ports the session's servers listen on in its record (shown again after a restart)."""
        session = self._sessions.get(session_id)
        if (session is not None and session.snapshot.state.accepts_commands | (session.snapshot.state is
                SessionState.RECONNECTING) and tuple(ports) != session.ports):
            session.ports = tuple(ports)
            self._persist(session)

    def ports(self, session_id: str) -> tuple[int, ...]:
        """The ports recorded for the session (its last known ones)."""
        return self._sessions[session_id].ports

    def can_apply(self, session_id: str) -> bool:
        """Whether the session's saved work can be applied to the user's folder (an upload)."""
        session = self._sessions[session_id]
        return isinstance(session.request.project, FolderProject) and bool(session.snapshot.work_dir)

    def retry_session(self, session_id: str) -> SessionSnapshot:
        """Start the failed session again as a new session, and forget the failed one."""
        snapshot = self.duplicate_session(session_id)
        self.remove_session(session_id)
        return snapshot

    # -- state ------------------------------------------------------------------------------

    def _record(self, session: Session) -> SessionRecord:
        return SessionRecord(session.snapshot, session.request, tuple(session.commands.values()), session.ports)

    def _persist(self, session: Session) -> None:
        if self._store is not None and session.snapshot.id in self._sessions:
            self._store.save(self._record(session))

    def _update(self, session: Session, **changes: object) -> None:
        """Apply ``changes``, persist and emit; a session that ended or failed stays so."""
        if not session.snapshot.state.open:
            keep = ("state", "running", "background", "error", "ended_how", "work_dir", "name", "step")
            if changes.get("state") in (SessionState.ENDED, SessionState.FAILED, SessionState.STOPPED):
                changes = {k: v for k, v in changes.items() if k in keep}
            else:
                changes = {k: v for k, v in changes.items() if k in keep[1:]}
            if not changes:
                return
        before = session.snapshot
        session.snapshot = session.snapshot.but(**changes)
        if session.snapshot == before:
            return
        self._persist(session)
        self.session_changed.emit(session.snapshot)
        if before.state.open and not session.snapshot.state.open:
            session.output.flush()

    def _reopen(self, session: Session, **changes: object) -> None:
        """A finished session becomes open again (Restart here, its sandbox found again)."""
        session.snapshot = session.snapshot.but(**changes)
        self._persist(session)
        self.session_changed.emit(session.snapshot)

    def _mark_failed(self, session: Session, message: UserMessage, ended_how: str = "") -> None:
        session.output.meta(f"{message.title}: {message.text()}")
        self._update(session, state=SessionState.FAILED, step="", error=message, running="",
                     ended_how=ended_how or message.title.lower())
        log.warning("session %s failed: %s", session.snapshot.id, message.title)

    async def _fail_and_end(self, session: Session, message: UserMessage) -> None:
        """The session could not be set up: say why, then end its sandbox (confirmed)."""
        session.output.meta(f"{message.title}: {message.text()}")
        self._update(session, error=message)
        if session.sandbox is None:
            self._mark_failed(session, message)
            return
        self._update(session, state=SessionState.ENDING, step="Ending the sandbox…")
        if await self.end_confirmed(session):
            self._update(session, state=SessionState.FAILED, step="", ended_how=message.title.lower())
        self.release_if_hidden(session)

    def _fail(self, session_id: str, exc: BaseException) -> None:
        """A task of the session raised something nobody translated: say so, keep the sandbox."""
        session = self._sessions.get(session_id)
        if session is None or not session.snapshot.state.open:
            return
        if isinstance(exc, ContactLostError | SandboxGoneError):
            self.contact_problem(session, exc)
            return
        message = exc.message if isinstance(exc, UserFacingError) else unexpected(exc)
        session.output.meta(f"{message.title}: {message.text()}")
        self.problem.emit(message)
        if session.snapshot.state in (SessionState.CREATING, SessionState.GETTING_PROJECT):
            self._tasks.start(self._fail_and_end(session, message))
        elif session.snapshot.state is SessionState.RUNNING_TASK and session.foreground is None:
            self._update(session, state=SessionState.IDLE)

    def release_if_hidden(self, session: Session) -> None:
        """An ended session keeps its output on disk only (the console loads it when shown)."""
        if not session.snapshot.state.open:
            session.output.flush()
            session.output.release()
