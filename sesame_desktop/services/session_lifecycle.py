"""How sessions survive: lost contact, lifetime ends, confirmed ending, quitting.

The rule: **a lost connection is not a dead sandbox.** Only the provider saying the sandbox
does not exist (or is not running) ends a session. A dropped stream, a timeout, a 5xx or a
network error puts the session into *reconnecting*: the manager probes the sandbox with
backoff, connects to it again, and reattaches to the commands still running in it (the
console marks the gap). The app never kills a sandbox because it lost contact with it.

Ending is confirmed: the kill is retried with backoff, and a sandbox whose end E2B did not
confirm stays listed as *may still be running*; the next start retries it.

This is a mixin of :class:`~sesame_desktop.services.sessions.SessionManager`; it uses the
manager's private state (``_sessions``, ``_update``, ``_tasks``…).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from typing import TYPE_CHECKING, Any

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.sessions import ContactLostError, SandboxGoneError, SessionState
from sesame_desktop.sandbox.base import CommandHandle, CommandResult
from sesame_desktop.sandbox.lifecycle import CommandEndedError, Liveness, Reattachable

if TYPE_CHECKING:
    from sesame_desktop.services.sessions import Session, SessionManager

log = logging.getLogger(__name__)

RECONNECT_BACKOFF_S = (0.3, 0.6, 1.2, 2.5, 5.0, 10.0)
KILL_BACKOFF_S = (0.3, 0.7, 1.5, 3.0, 5.0)
END_TIMEOUT_S = 20.0
LIFETIME_POLL_S = 5.0


class QuitChoice(enum.Enum):
    END_ALL = "end"
    PAUSE_ALL = "pause"


def gone_message(expired: bool) -> UserMessage:
    if expired:
        return UserMessage(
            "Sandbox lifetime reached",
            "The sandbox reached the end of its lifetime and was stopped by E2B.",
            "Start a new session (Retry). For longer work set a longer lifetime (E2B_SANDBOX_TIMEOUT or "
            "Settings ▸ Sandbox lifetime), or press Extend when the lifetime warning shows.")
    return UserMessage(
        "Sandbox gone",
        "The sandbox is no longer running; it may have been stopped from the E2B dashboard.",
        "Start a new session (Retry); its output stays here.")


class SessionLifecycle:
    """Reconnecting, lifetime, pausing and confirmed ending, for the session manager."""

    # -- following a command through lost connections ----------------------------------------

    async def follow(self: SessionManager, session: Session, handle: CommandHandle,
                     command: str) -> CommandResult | None:
        """Wait for ``handle`` to end, reattaching to it through lost connections.

        Returns None when the command ended while the app had no contact (status unknown).

        Raises:
            SandboxGoneError: the sandbox is gone.
        """
        while True:
            try:
                return await handle.wait()
            except ContactLostError as exc:
                log.info("session %s: lost contact with %r: %s", session.snapshot.id, command, exc.message.details)
                if not isinstance(session.sandbox, Reattachable):
                    raise
                await self.ensure_connected(session, exc)
                attached = await self._reattach(session, handle, command)
                if attached is None:
                    return None
                if session.foreground is handle:
                    session.foreground = attached
                if handle in session.background:
                    session.background.discard(handle)
                    session.background.add(attached)
                handle = attached

    async def _reattach(self: SessionManager, session: Session, handle: CommandHandle,
                        command: str) -> CommandHandle | None:
        sandbox = session.sandbox
        assert isinstance(sandbox, Reattachable)
        while True:
            try:
                running = {c.pid for c in await sandbox.running_commands()}
                if handle.pid in running:
                    attached = await sandbox.attach(handle.pid, on_stdout=self._feeder(session, "stdout"),
                                                    on_stderr=self._feeder(session, "stderr"))
                    session.output.meta(f"Following \u201c{command}\u201d again.")
                    return attached
            except ContactLostError as exc:
                await self.ensure_connected(session, exc)
                continue
            except CommandEndedError:
                pass
            session.output.meta(f"\u201c{command}\u201d ended while the connection was lost; "
                                "its exit status is unknown.")
            self._command_done(session, handle.pid)
            return None

    async def ensure_connected(self: SessionManager, session: Session, cause: BaseException | None = None) -> None:
        """Reconnect to the session's sandbox (one reconnection shared by every caller).

        Raises:
            SandboxGoneError: E2B says the sandbox is gone.
        """
        if session.reconnecting is None or session.reconnecting.done():
            session.reconnecting = asyncio.ensure_future(self._reconnect(session, cause))
            session.tasks.start(self._await_quietly(session.reconnecting), key="reconnect")
        await asyncio.shield(session.reconnecting)

    @staticmethod
    async def _await_quietly(future: asyncio.Future[Any]) -> None:
        """Own the shared reconnection (cancelled with the session); its waiters see its error."""
        try:
            await future
        except asyncio.CancelledError:
            future.cancel()
            raise
        except UserFacingError:
            pass

    async def _reconnect(self: SessionManager, session: Session, cause: BaseException | None) -> None:
        sandbox = session.sandbox
        assert isinstance(sandbox, Reattachable)
        lost_at = time.monotonic()
        state = session.snapshot.state
        if state is not SessionState.RECONNECTING:
            session.before_reconnect = state
            self._update(session, state=SessionState.RECONNECTING, step="Connection lost; reconnecting\u2026")
        reason = f" ({type(cause).__name__})" if cause is not None else ""
        session.output.meta("\u26a0 Connection to the sandbox lost; reconnecting\u2026")
        log.info("session %s: contact lost%s; reconnecting", session.snapshot.id, reason)
        attempt = 0
        while True:
            liveness = await sandbox.probe()
            if liveness is Liveness.GONE:
                raise SandboxGoneError(gone_message(self._expired(session)))
            if liveness is Liveness.PAUSED:
                await self.mark_paused(session, "lifetime reached" if self._expired(session) else "paused")
                raise ContactLostError(UserMessage("Sandbox paused", "The sandbox is paused.", "Press Resume."))
            if liveness is Liveness.RUNNING:
                try:
                    await sandbox.reconnect()
                    break
                except SandboxGoneError:
                    raise SandboxGoneError(gone_message(self._expired(session))) from None
                except ContactLostError:
                    pass
            delay = RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)]
            attempt += 1
            self._update(session, step=f"Connection lost; trying again in {delay:.0f} s\u2026" if delay >= 1
                         else "Connection lost; reconnecting\u2026")
            await asyncio.sleep(delay)
        gap = time.monotonic() - lost_at
        session.output.meta(f"\u26a0 Reconnected after {gap:.1f} s; output printed meanwhile may be missing.")
        log.info("session %s: reconnected after %.1f s", session.snapshot.id, gap)
        self._update(session, state=session.before_reconnect or SessionState.IDLE, step="")
        expires = getattr(sandbox, "expires_at", None)
        if expires is not None:
            self._update(session, expires_at=expires)

    def contact_problem(self: SessionManager, session: Session, exc: BaseException) -> None:
        """An untranslated contact problem from some task: reconnect (or end when gone)."""
        if isinstance(exc, SandboxGoneError):
            self._tasks.start(self.sandbox_gone(session, exc.message))
        elif isinstance(session.sandbox, Reattachable):
            session.tasks.start(self._reconnect_quietly(session, exc), key="reconnect-check")

    async def _reconnect_quietly(self: SessionManager, session: Session, exc: BaseException) -> None:
        try:
            await self.ensure_connected(session, exc)
        except SandboxGoneError as gone:
            await self.sandbox_gone(session, gone.message)
        except ContactLostError:
            pass

    def _expired(self: SessionManager, session: Session) -> bool:
        left = session.snapshot.time_left()
        return left is not None and left <= 1.0

    async def sandbox_gone(self: SessionManager, session: Session, message: UserMessage) -> None:
        """E2B says the sandbox is gone: the session ended (it keeps its output)."""
        if not session.snapshot.state.open or session.snapshot.state is SessionState.ENDING:
            return
        expired = self._expired(session)
        if isinstance(session.sandbox, Reattachable):
            liveness = await session.sandbox.probe()  # "not running" also means paused
            if liveness is Liveness.PAUSED:
                await self.mark_paused(session, "lifetime reached" if expired else "paused")
                return
            if liveness is not Liveness.GONE and session.snapshot.state is not SessionState.PAUSED:
                self.contact_problem(session, ContactLostError(message))
                return
        if session.snapshot.state is SessionState.PAUSED or not session.snapshot.state.open:
            return
        self._mark_failed(session, gone_message(expired) if message.title == "Sandbox gone" else message,
                          ended_how="lifetime reached" if expired else "sandbox gone")
        session.tasks.cancel_all()
        self.release_if_hidden(session)

    # -- lifetime -----------------------------------------------------------------------------

    def request_extend(self: SessionManager, session_id: str, timeout_ms: int | None = None) -> None:
        """Give the session's sandbox ``timeout_ms`` more life from now (default: the configured
        lifetime); the manager owns the work and reports failure through :attr:`problem`."""
        session = self._sessions[session_id]
        if session.sandbox is None or not session.snapshot.state.open:
            return
        self._tasks.start(self._extend(session, timeout_ms or self._config().timeout_ms.value),
                          key=f"extend-{session_id}")

    async def _extend(self: SessionManager, session: Session, timeout_ms: int) -> None:
        assert session.sandbox is not None
        try:
            await session.sandbox.set_timeout(timeout_ms)
        except UserFacingError as exc:
            self.problem.emit(exc.message)
            return
        if session.snapshot.expires_at is not None:
            self._update(session, expires_at=time.time() + timeout_ms / 1000)
            session.warned = False
        session.output.meta(f"Lifetime extended: the sandbox now ends {timeout_ms // 60_000} min from now.")

    async def _watch_lifetime(self: SessionManager, session: Session) -> None:
        from sesame_desktop.services.sessions import WARN_BEFORE_S

        while session.snapshot.state.open and session.snapshot.state not in (SessionState.ENDING,
                                                                             SessionState.PAUSED):
            left = session.snapshot.time_left()
            if left is not None and left <= WARN_BEFORE_S and not session.warned and left > 0:
                session.warned = True
                session.output.meta(f"The sandbox ends in {max(1, round(left / 60))} min. "
                                    "Extend it to keep working.")
                self.lifetime_running_out.emit(session.snapshot)
                await self.on_lifetime_warning(session)
            floor = 1.0 if left is not None and left <= 0 else 0.2  # past the end: ask E2B once a second
            await asyncio.sleep(min(LIFETIME_POLL_S, max(floor, (left or 0) + 0.2)))
            if (session.snapshot.time_left() or 0) <= 0:
                await self._at_lifetime_end(session)
                if session.snapshot.state is not SessionState.IDLE and session.snapshot.state is not \
                        SessionState.RUNNING_TASK:
                    return

    async def _at_lifetime_end(self: SessionManager, session: Session) -> None:
        sandbox = session.sandbox
        if not isinstance(sandbox, Reattachable):
            return
        liveness = await sandbox.probe()
        if liveness is Liveness.PAUSED:
            await self.mark_paused(session, "lifetime reached")
        elif liveness is Liveness.GONE:
            await self.sandbox_gone(session, gone_message(True))
        elif liveness is Liveness.RUNNING:
            expires = getattr(sandbox, "expires_at", None)
            if expires is not None and expires > time.time():
                self._update(session, expires_at=expires)  # extended elsewhere
        # UNKNOWN: look again at the next turn

    async def on_lifetime_warning(self: SessionManager, session: Session) -> None:
        """Hook: the lifetime warning fired (the work-saving code saves the work here)."""

    async def mark_start_of_work(self: SessionManager, session: Session) -> None:
        """Hook: the project is in place; changes are counted from here."""

    async def save_work(self: SessionManager, session: Session) -> None:
        """Hook: save the session's work on this computer before its sandbox ends."""

    # -- pausing and resuming -------------------------------------------------------------------

    async def mark_paused(self: SessionManager, session: Session, why: str) -> None:
        if session.snapshot.state is SessionState.PAUSED:
            return
        session.output.finish()
        session.output.meta(f"The sandbox is paused ({why}): its files are kept. Press Resume to continue.")
        self._update(session, state=SessionState.PAUSED, step="", running="", ended_how=why)

    def request_resume(self: SessionManager, session_id: str) -> None:
        session = self._sessions[session_id]
        if session.snapshot.state is SessionState.PAUSED:
            self._tasks.start(self.resume(session), key=f"resume-{session_id}")

    async def resume(self: SessionManager, session: Session) -> None:
        """Wake a paused sandbox (connect resumes it) and reattach to what still runs."""
        self._update(session, state=SessionState.RECONNECTING, step="Resuming the sandbox\u2026", ended_how="")
        session.before_reconnect = SessionState.IDLE
        await self.reattach(session)

    async def pause_session(self: SessionManager, session: Session) -> bool:
        """Pause the sandbox (quit with Pause all); False when it could not be paused."""
        sandbox = session.sandbox
        if not isinstance(sandbox, Reattachable) or session.snapshot.state is SessionState.PAUSED:
            return session.snapshot.state is SessionState.PAUSED
        try:
            await sandbox.pause()
        except UserFacingError as exc:
            session.output.meta(f"The sandbox could not be paused ({exc.message.title}); it keeps running.")
            return False
        await self.mark_paused(session, "paused at quit")
        return True

    # -- ending -----------------------------------------------------------------------------------

    def request_end(self: SessionManager, session_id: str) -> None:
        """Start ending the session (from a button); the manager owns the work."""
        if self._sessions[session_id].snapshot.state.open:
            self._tasks.start(self.end_session(session_id), key=f"end-{session_id}")

    async def end_session(self: SessionManager, session_id: str, *, deadline: float | None = None) -> bool:
        """Save the work, kill the sandbox and confirm it; stop every task of the session.

        Returns True when the end is confirmed (False: the session is left *may still be
        running*, and ending is retried at the next start).
        """
        session = self._sessions[session_id]
        if not session.snapshot.state.open:
            return True
        paused = session.snapshot.state is SessionState.PAUSED
        self._update(session, state=SessionState.ENDING, step="Ending…")
        await session.tasks.close(timeout=5)
        session.tasks = type(session.tasks)(f"session-{session_id}-end")
        if session.snapshot.sandbox_id:
            try:
                await asyncio.wait_for(self._save_before_end(session, paused), 30 if deadline is None else
                                       max(0.5, (deadline - time.monotonic()) / 2))
            except (TimeoutError, UserFacingError) as exc:
                session.output.meta(f"The work could not be saved before ending ({type(exc).__name__}).")
        confirmed = await self.end_confirmed(session, deadline=deadline)
        if confirmed:
            self._update(session, state=SessionState.ENDED, step="", running="", background=0,
                         ended_how=session.snapshot.ended_how if session.snapshot.error else "ended by you")
            session.output.meta("Session ended; the sandbox was stopped." if session.sandbox is not None
                                or session.snapshot.sandbox_id else "Session ended.")
            await session.tasks.close(timeout=5)  # whatever started while it was ending ends with it
        self.release_if_hidden(session)
        return confirmed

    async def _save_before_end(self: SessionManager, session: Session, paused: bool) -> None:
        """Save the work; a paused (or restored, not yet connected) sandbox is woken for it first."""
        if session.sandbox is None and session.snapshot.provider.value == "e2b":
            session.sandbox = await self._connect_for_end(session)
            paused = True
        attempt = 0
        while session.sandbox is not None:  # bounded by the caller's time limit
            try:
                if paused and isinstance(session.sandbox, Reattachable):
                    self._update(session, step="Waking the sandbox to save its work…")
                    await session.sandbox.reconnect()
                    paused = False
                await self.save_work(session)
                return
            except ContactLostError:
                self._update(session, step="Waiting for the sandbox to save its work…")
                await asyncio.sleep(RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)])
                attempt += 1

    async def end_confirmed(self: SessionManager, session: Session, *, deadline: float | None = None) -> bool:
        """Kill the session's sandbox, retrying with backoff until E2B confirms it (or time is up).

        Never gives up silently: an end not confirmed leaves the session *may still be running*.
        """
        sandbox: Any = session.sandbox
        if sandbox is None and session.snapshot.sandbox_id and session.snapshot.provider.value == "e2b":
            sandbox = await self._connect_for_end(session)
            if sandbox is None:
                session.output.meta("The sandbox could not be ended: no E2B key is set. Set it, then End again.")
                self._update(session, state=SessionState.UNCONFIRMED, step="", ended_how="end not confirmed")
                return False
        if sandbox is None:
            return True
        deadline = time.monotonic() + END_TIMEOUT_S if deadline is None else deadline
        attempt = 0
        last = ""
        while True:
            try:
                left = max(0.5, deadline - time.monotonic())
                if isinstance(sandbox, Reattachable):
                    if await asyncio.wait_for(sandbox.end(), left):
                        return True
                else:
                    await asyncio.wait_for(sandbox.kill(), left)
                    return True
            except SandboxGoneError:
                return True
            except (UserFacingError, TimeoutError) as exc:
                last = exc.message.title if isinstance(exc, UserFacingError) else "E2B did not answer in time"
                log.info("session %s: kill not confirmed (attempt %d): %s", session.snapshot.id, attempt + 1, last)
            delay = KILL_BACKOFF_S[min(attempt, len(KILL_BACKOFF_S) - 1)]
            attempt += 1
            if time.monotonic() + delay >= deadline:
                break
            await asyncio.sleep(delay)
        session.output.meta(f"\u26a0 E2B did not confirm that the sandbox stopped ({last}). It may still be "
                            "running: ending is tried again at the next start, or press End again.")
        self._update(session, state=SessionState.UNCONFIRMED, step="", running="", ended_how="end not confirmed")
        return False

    async def _connect_for_end(self: SessionManager, session: Session) -> Any:
        """A handle on a restored session's sandbox, only to end it (None: no key to reach E2B)."""
        from sesame_desktop.sandbox.e2b_provider import E2BProvider

        try:
            provider = await self._providers(session.request.provider)
        except UserFacingError:
            return None
        if not isinstance(provider, E2BProvider):
            return None
        return provider.handle(session.snapshot.sandbox_id, self._spec(session))

    async def close(self: SessionManager, timeout: float = END_TIMEOUT_S,
                    choice: QuitChoice = QuitChoice.END_ALL) -> list[str]:
        """Quit: end (or pause) every open session within ``timeout`` seconds.

        Returns the names of the sessions whose end (or pause) is not confirmed; they stay
        in the records, and the next start retries them.
        """
        self._closed = True
        deadline = time.monotonic() + timeout
        sessions = [s for s in self._sessions.values() if s.snapshot.state.open]

        async def one(session: Session) -> bool:
            if choice is QuitChoice.PAUSE_ALL and isinstance(session.sandbox, Reattachable):
                await session.tasks.close(timeout=2)
                if await self.pause_session(session):
                    return True
            if session.snapshot.state is SessionState.PAUSED and choice is QuitChoice.PAUSE_ALL:
                return True
            return await self.end_session(session.snapshot.id, deadline=deadline - 0.5)

        unconfirmed: list[str] = []
        if sessions:
            futures = {asyncio.ensure_future(one(s)): s for s in sessions}
            _done, pending = await asyncio.wait(futures, timeout=max(0.1, deadline - time.monotonic()))
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2)
            for task, session in futures.items():
                ok = task.done() and not task.cancelled() and task.exception() is None and task.result()
                if not ok:
                    unconfirmed.append(session.snapshot.name)
                    if session.snapshot.state is SessionState.ENDING:
                        self._update(session, state=SessionState.UNCONFIRMED, ended_how="end not confirmed")
        for session in list(self._sessions.values()):
            await session.tasks.close(timeout=2)
            session.output.close()
        await self._tasks.close(timeout=2)
        if self._store is not None:
            await self._store.aclose()
        return unconfirmed
