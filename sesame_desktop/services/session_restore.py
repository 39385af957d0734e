"""Sessions come back at start: records from the store, reattached to their sandboxes.

At start the manager loads every record (:meth:`SessionRestore.restore`):

- E2B sessions whose sandbox is alive reattach: the app connects to the sandbox, follows the
  commands still running in it (their output continues below the history), and announces the
  sandbox again (``sandbox_ready``), so files and ports resume.
- Those whose sandbox is gone show how they ended, with their output.
- A paused sandbox stays paused (resumed on demand, *Resume*).
- A session whose end was not confirmed is ended again.
- Local sessions keep their workspace and output; their processes could not outlive the app,
  so they show as *stopped* (*Restart here*).

This is a mixin of :class:`~sesame_desktop.services.sessions.SessionManager`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from sesame_desktop.core.config import Provider
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.session_record import SessionRecord
from sesame_desktop.core.sessions import ContactLostError, SandboxGoneError, SessionRequest, SessionState
from sesame_desktop.sandbox.lifecycle import CommandEndedError, Liveness, Reattachable

if TYPE_CHECKING:
    from sesame_desktop.sandbox.e2b_provider import RunningSandbox
    from sesame_desktop.services.sessions import Session, SessionManager

log = logging.getLogger(__name__)

REATTACH_BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)


class SessionRestore:
    """Restoring sessions at start and reattaching to their sandboxes."""

    async def restore(self: SessionManager) -> int:
        """Bring back every session the store holds; returns how many."""
        if self._store is None:
            return 0
        records = await self._store.load()
        for record in records:
            if record.snapshot.id not in self._sessions:
                self._restore_one(record)
        return len(records)

    def _restore_one(self: SessionManager, record: SessionRecord) -> None:
        snap = record.snapshot
        session = self._new_session(snap, record.request, buffer_loaded=False)
        session.commands = {c.pid: c for c in record.commands}
        session.ports = record.ports
        state = snap.state
        output = session.output
        if not state.open:
            pass
        elif snap.provider is Provider.LOCAL:
            session.snapshot = snap.but(state=SessionState.STOPPED, step="", running="", background=0,
                                        ended_how="its commands stopped when the app closed")
            output.meta("The app was closed: this local session's commands stopped. Its workspace is kept; "
                        "Restart here continues in it.")
        elif not snap.sandbox_id:
            message = UserMessage("Not started", "The app was closed while the sandbox was being created.",
                                  "Retry starts the session again.")
            session.snapshot = snap.but(state=SessionState.FAILED, step="", error=message,
                                        ended_how="the app closed while it started")
        elif state in (SessionState.ENDING, SessionState.UNCONFIRMED):
            session.snapshot = snap.but(state=SessionState.ENDING, step="Ending (retried)\u2026")
            output.meta("Ending the sandbox again: its end was not confirmed before.")
            self._tasks.start(self._end_restored(session), key=f"end-{snap.id}")
        elif state is SessionState.PAUSED:
            self._tasks.start(self._check_paused(session), key=f"check-{snap.id}")
        else:
            session.snapshot = snap.but(state=SessionState.RECONNECTING, step="Reconnecting\u2026", running="",
                                        background=0)
            session.before_reconnect = SessionState.IDLE
            output.meta("\u26a0 The app was restarted; reconnecting to the sandbox\u2026 "
                        "(output printed meanwhile may be missing)")
            session.tasks.start(self.reattach(session), key="reattach")
        self._persist(session)
        self.session_added.emit(session.snapshot)

    async def _end_restored(self: SessionManager, session: Session) -> None:
        if await self.end_confirmed(session):
            self._update(session, state=SessionState.ENDED, step="", ended_how="ended by you")
            session.output.meta("Session ended; the sandbox was stopped.")
        session.output.flush()

    async def _check_paused(self: SessionManager, session: Session) -> None:
        try:
            provider = await self._providers(Provider.E2B)
        except UserFacingError:
            return
        handle = getattr(provider, "handle", None)
        if handle is None:
            return
        if await handle(session.snapshot.sandbox_id, self._spec(session)).probe() is Liveness.GONE:
            self._update(session, state=SessionState.FAILED, ended_how="sandbox gone while paused",
                         error=UserMessage("Sandbox gone", "The paused sandbox no longer exists.",
                                           "Start a new session (Retry); its output stays here."))

    async def reattach(self: SessionManager, session: Session) -> None:
        """Connect to the session's sandbox and follow the commands still running in it."""
        started = time.monotonic()
        attempt = 0
        sandbox = session.sandbox
        while True:
            try:
                if sandbox is None:
                    provider = await self._providers(session.request.provider)
                    connect = getattr(provider, "connect", None)
                    if connect is None:
                        return
                    sandbox = await connect(session.snapshot.sandbox_id, self._spec(session))
                else:
                    assert isinstance(sandbox, Reattachable)
                    await sandbox.reconnect()
                break
            except SandboxGoneError:
                session.output.meta("The sandbox ended while the app was away.")
                await self.sandbox_gone(session, UserMessage("Sandbox gone", "", ""))
                return
            except ContactLostError as exc:
                text = exc.message.title
            except UserFacingError as exc:  # no key, keyring locked: wait for the user to fix it
                text = f"{exc.message.title}: {exc.message.next_step}"
            delay = REATTACH_BACKOFF_S[min(attempt, len(REATTACH_BACKOFF_S) - 1)]
            attempt += 1
            self._update(session, step=f"{text}; trying again in {delay:.0f} s\u2026")
            await asyncio.sleep(delay)
        session.sandbox = sandbox
        assert isinstance(sandbox, Reattachable)
        try:
            running = {c.pid: c for c in await sandbox.running_commands()}
        except ContactLostError:
            running = {}
        foreground = None
        for record in list(session.commands.values()):
            if record.done:
                continue
            if record.pid not in running:
                session.output.meta(f"\u201c{record.command}\u201d ended while the app was away; "
                                    "its exit status is unknown.")
                self._command_done(session, record.pid)
                continue
            try:
                handle = await sandbox.attach(record.pid, on_stdout=self._feeder(session, "stdout"),
                                              on_stderr=self._feeder(session, "stderr"))
            except (CommandEndedError, UserFacingError) as exc:
                session.output.meta(f"Could not follow \u201c{record.command}\u201d again: {exc}")
                self._command_done(session, record.pid)
                continue
            if record.background or foreground is not None:
                session.tasks.start(self._background(session, record.command, handle=handle))
            else:
                foreground = record.command
                session.tasks.start(self._foreground_then_idle(session, record.command, handle=handle),
                                    key="foreground")
        expires = getattr(sandbox, "expires_at", None)
        self._update(session, state=SessionState.RUNNING_TASK if foreground else SessionState.IDLE, step="",
                     sandbox_id=sandbox.id, project_dir=sandbox.project_dir, expires_at=expires, ended_how="")
        session.output.meta(f"\u26a0 Reattached to the sandbox after {time.monotonic() - started:.1f} s.")
        if expires is not None:
            session.tasks.start(self._watch_lifetime(session), key="lifetime")
        self.sandbox_ready.emit(session.snapshot.id)

    # -- local sessions and sandboxes found at start --------------------------------------------

    def request_restart(self: SessionManager, session_id: str) -> None:
        """*Restart here*: a stopped local session continues in its workspace."""
        session = self._sessions[session_id]
        if session.snapshot.state is SessionState.STOPPED:
            self._reopen(session, state=SessionState.CREATING, step="Restarting…", ended_how="")
            session.tasks = type(session.tasks)(f"session-{session_id}",
                                                on_error=lambda e, i=session_id: self._fail(i, e))
            session.tasks.start(self._restart_local(session), key="main")

    async def _restart_local(self: SessionManager, session: Session) -> None:
        try:
            provider = await self._providers(session.request.provider)
            session.sandbox = await provider.create(self._spec(session))
        except UserFacingError as exc:
            self._mark_failed(session, exc.message)
            return
        session.output.meta(f"Restarted in the same workspace ({session.sandbox.project_dir}).")
        self._update(session, state=SessionState.IDLE, step="")
        self.sandbox_ready.emit(session.snapshot.id)

    def give_sandbox(self: SessionManager, session_id: str, sandbox_id: str) -> None:
        """The sandbox of a session recorded before its id was (the app died creating it)."""
        session = self._sessions[session_id]
        self._reopen(session, state=SessionState.RECONNECTING, sandbox_id=sandbox_id, error=None, ended_how="",
                     step="Reconnecting…")
        session.before_reconnect = SessionState.IDLE
        session.output.meta(f"Found this session's sandbox {sandbox_id}; reconnecting.")
        session.tasks = type(session.tasks)(f"session-{session_id}", on_error=lambda e, i=session_id: self._fail(i, e))
        session.tasks.start(self.reattach(session), key="reattach")

    def adopt(self: SessionManager, found: RunningSandbox) -> str:
        """Make a session of a sandbox of this app that no session knows (found at start)."""
        snap = self.start_placeholder(SessionRequest(found.name or f"Sandbox {found.sandbox_id}", Provider.E2B),
                                      found.sandbox_id)
        session = self._sessions[snap]
        session.output.meta(f"Adopted the running sandbox {found.sandbox_id}; its running commands are "
                            "followed as background commands.")
        session.tasks.start(self._adopt(session), key="reattach")
        return snap

    async def _adopt(self: SessionManager, session: Session) -> None:
        await self.reattach(session)
        sandbox = session.sandbox
        if not isinstance(sandbox, Reattachable):
            return
        try:
            running = await sandbox.running_commands()
        except ContactLostError:
            return
        for command in running:
            if command.pid in session.commands:
                continue
            try:
                handle = await sandbox.attach(command.pid, on_stdout=self._feeder(session, "stdout"),
                                              on_stderr=self._feeder(session, "stderr"))
            except (CommandEndedError, UserFacingError):
                continue
            self._started(session, handle, command.command, background=True)
            session.tasks.start(self._background(session, command.command, handle=handle))
