"""Every command a session started, as processes a user can see, stop and start again.

This is a mixin of :class:`~sesame_desktop.services.sessions.SessionManager`; it uses the
manager's sessions and emits its ``commands_changed`` signal. Stopping goes through
:meth:`CommandHandle.interrupt`: Ctrl+C first, then the process and what it started are
killed when they have not ended after a grace period; the console says which happened.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.session_record import CommandRecord
from sesame_desktop.sandbox.base import CommandHandle

if TYPE_CHECKING:
    from sesame_desktop.services.sessions import Session, SessionManager


@dataclass(frozen=True)
class ProcessInfo:
    """One command of a session, as the Processes view shows it.

    Attributes:
        running: the app follows it now (it can be stopped).
        background: started in the background (a server) rather than in the foreground.
    """

    pid: int
    command: str
    background: bool
    running: bool
    started_at: float


class SessionProcesses:
    """Listing, stopping and restarting a session's commands, for the session manager."""

    def processes(self: SessionManager, session_id: str) -> tuple[ProcessInfo, ...]:
        """The session's commands, newest first."""
        session = self._sessions.get(session_id)
        if session is None:
            return ()
        live = {h.pid for h in _handles(session)}
        rows = [ProcessInfo(r.pid, r.command, r.background, r.pid in live and not r.done, r.started_at)
                for r in session.commands.values()]
        return tuple(sorted(rows, key=lambda p: p.started_at, reverse=True))

    async def process_ports(self: SessionManager, session_id: str) -> dict[int, frozenset[int]]:
        """Listening ports by the pid of the command whose process tree opened them.

        Every command of the session is asked about, ended ones too (a server that a finished
        command left behind still belongs to it). Ports of no command (started in the Terminal
        tab, say) are in no entry.

        Raises:
            UserFacingError: the sandbox could not be asked.
        """
        session = self._sessions.get(session_id)
        if session is None or session.sandbox is None:
            return {}
        from sesame_desktop.sandbox.ports import port_owners  # psutil: with the first look at ports

        return await port_owners(session.sandbox, [pid for pid in session.commands if pid > 0])

    def stop_process(self: SessionManager, session_id: str, pid: int) -> bool:
        """Stop one command (foreground or background); False when it is not running."""
        session = self._sessions[session_id]
        handle = next((h for h in _handles(session) if h.pid == pid), None)
        if handle is None:
            return False
        session.tasks.start(self._stop_process(session, handle, session.commands.get(pid)), key=f"stop-{pid}")
        return True

    def restart_process(self: SessionManager, session_id: str, pid: int) -> bool:
        """Stop the command if it runs, then start it again the same way; False when unknown."""
        session = self._sessions[session_id]
        record = session.commands.get(pid)
        if record is None:
            return False
        handle = next((h for h in _handles(session) if h.pid == pid), None)
        session.tasks.start(self._restart_process(session, handle, record), key=f"restart-{pid}")
        return True

    async def _stop_process(self: SessionManager, session: Session, handle: CommandHandle,
                            record: CommandRecord | None) -> None:
        name = f"\u201c{record.command}\u201d" if record is not None else "the command"
        session.output.meta(f"Stopping {name} (Ctrl+C first; it is ended by force if it does not stop)\u2026")
        try:
            await handle.interrupt()
        except UserFacingError as exc:
            session.output.meta(f"Could not stop {name}: {exc.message.title}. Try again.")

    async def _restart_process(self: SessionManager, session: Session, handle: CommandHandle | None,
                               record: CommandRecord) -> None:
        if handle is not None:
            foreground = handle is session.foreground
            await self._stop_process(session, handle, record)
            if foreground and (task := session.tasks.task("foreground")) is not None:
                await asyncio.wait({task})  # the old run writes its end line first
        try:
            self.run_command(session.snapshot.id, record.command, background=record.background)
        except UserFacingError as exc:
            self.problem.emit(exc.message)


def _handles(session: Session) -> tuple[CommandHandle, ...]:
    return (*session.background, *((session.foreground,) if session.foreground is not None else ()))
