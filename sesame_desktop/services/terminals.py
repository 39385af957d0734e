"""Interactive terminals of sessions: a PTY in the session's sandbox per terminal.

Each :class:`Terminal` owns one shell on a PTY (:mod:`sesame_desktop.sandbox.pty`) and the
:class:`~sesame_desktop.core.terminal_screen.ScreenBuffer` its output is played on. Keystrokes
are sent in order by one writer task; every task belongs to the :class:`TerminalService`'s task
owner and ends with the terminal, its session or the app.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, Signal

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.sessions import SessionSnapshot
from sesame_desktop.core.terminal_screen import ScreenBuffer
from sesame_desktop.sandbox.pty import Pty, open_pty
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.tasks import TaskGroupOwner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TerminalState:
    """Where a terminal is (argument of :attr:`Terminal.state_changed`).

    Attributes:
        terminal_id: Which terminal.
        running: The shell is running (keystrokes reach it).
        ended: The shell ended (or never started); nothing more will happen.
        exit_code: The shell's exit code once ended, when known.
        problem: Why it could not start or stopped working, for the user.
    """

    terminal_id: str
    running: bool
    ended: bool
    exit_code: int | None = None
    problem: UserMessage | None = None


class Terminal(QObject):
    """One shell on a PTY of a session's sandbox.

    Signals:
        state_changed(TerminalState): started, ended, or failed.
    """

    state_changed = Signal(object)

    def __init__(self, terminal_id: str, session_id: str, columns: int, rows: int,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.terminal_id = terminal_id
        self.session_id = session_id
        self.buffer = ScreenBuffer(columns, rows, on_reply=self.send)
        self.state = TerminalState(terminal_id, running=False, ended=False)
        self._pty: Pty | None = None
        self._queue: asyncio.Queue[bytes | tuple[int, int] | None] = asyncio.Queue()

    def send(self, data: bytes) -> None:
        """Queue keystrokes (or pasted text) for the shell; sent in order."""
        if data and not self.state.ended:
            self._queue.put_nowait(data)

    def resize(self, columns: int, rows: int) -> None:
        """Resize the screen now and the PTY as soon as the writer gets to it."""
        self.buffer.resize(columns, rows)
        if not self.state.ended:
            self._queue.put_nowait((columns, rows))

    def close(self) -> None:
        """Ask the writer to end the shell (the terminal then reports it ended)."""
        self._queue.put_nowait(None)

    def _set_state(self, **changes: object) -> None:
        self.state = TerminalState(**{**self.state.__dict__, **changes})
        self.state_changed.emit(self.state)

    async def run(self, manager: SessionManager) -> None:
        """Start the shell, pass keystrokes and sizes on, and report its end."""
        sandbox = manager.sandbox(self.session_id)
        if sandbox is None:
            self._set_state(ended=True, problem=UserMessage(
                "No sandbox yet", "The session's sandbox is not ready.", "Wait until it runs, then try again."))
            return
        screen = self.buffer.vt
        try:
            self._pty = await open_pty(sandbox, screen.columns, screen.lines, self.buffer.feed)
        except UserFacingError as exc:
            self._set_state(ended=True, problem=exc.message)
            return
        self._set_state(running=True)
        pty = self._pty
        ended = asyncio.ensure_future(pty.wait())
        ended.add_done_callback(_observed)  # its failure is seen even when this task is cancelled
        try:
            while True:
                item = asyncio.ensure_future(self._queue.get())
                done, _ = await asyncio.wait({item, ended}, return_when=asyncio.FIRST_COMPLETED)
                if ended in done:
                    item.cancel()
                    break
                value = item.result()
                if value is None:
                    break
                if isinstance(value, tuple):
                    await pty.resize(*value)
                else:
                    await pty.write(value)
        except UserFacingError as exc:
            self._set_state(problem=exc.message)
        finally:
            if not ended.done():
                await pty.close()
            code: int | None = None
            try:
                code = await asyncio.wait_for(ended, 10)
            except (Exception, asyncio.TimeoutError):  # noqa: BLE001 - the end is what matters
                ended.cancel()
            self._set_state(running=False, ended=True, exit_code=code)


class TerminalService(QObject):
    """Opens and closes the terminals of sessions; owns their tasks.

    Signals:
        opened(Terminal): a terminal was created (it starts its shell next).
    """

    opened = Signal(object)

    def __init__(self, manager: SessionManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._tasks = TaskGroupOwner("terminals")
        self._terminals: dict[str, Terminal] = {}
        self._ids = itertools.count(1)
        manager.session_changed.connect(self._on_manager_session_changed)
        app = QCoreApplication.instance()
        if app is not None:  # quitting ends the shells (their tasks close their PTYs)
            app.aboutToQuit.connect(self._on_app_about_to_quit)

    def open(self, session_id: str, columns: int = 80, rows: int = 24) -> Terminal:
        """A new terminal in the session's sandbox (its shell starts on the event loop)."""
        terminal = Terminal(f"t{next(self._ids)}", session_id, columns, rows, self)
        self._terminals[terminal.terminal_id] = terminal
        terminal.state_changed.connect(self._on_terminal_state_changed)
        self._tasks.start(terminal.run(self._manager), key=terminal.terminal_id)
        self.opened.emit(terminal)
        return terminal

    def terminals(self, session_id: str) -> list[Terminal]:
        return [t for t in self._terminals.values() if t.session_id == session_id]

    async def aclose(self) -> None:
        """End every terminal and wait for their shells' tasks (on quit, by the service's owner)."""
        for terminal in list(self._terminals.values()):
            terminal.close()
        await self._tasks.close()

    def _on_app_about_to_quit(self) -> None:
        for terminal in list(self._terminals.values()):
            terminal.close()

    def _on_terminal_state_changed(self, state: TerminalState) -> None:
        if state.ended:
            self._terminals.pop(state.terminal_id, None)

    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        if not snapshot.state.open:  # the sandbox is ending or gone: so are its shells
            for terminal in self.terminals(snapshot.id):
                terminal.close()


def _observed(future: asyncio.Future[object]) -> None:
    """Mark a finished future's exception as seen (how the shell ended no longer matters)."""
    if not future.cancelled():
        future.exception()
