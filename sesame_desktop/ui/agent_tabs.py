"""The agent flow's part of the main window: the Transcript and Changes tabs, Commit and Push,
Save Work and Apply, notifications, and the cost rates the session list uses.

The main window builds one :class:`AgentTabs`, adds its panes to the side tabs and tells it
which session is selected; the parts here talk to their services themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QMainWindow, QTabWidget, QWidget

from sesame_desktop.core.costs import load_rates
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.sessions import FolderProject, SessionSnapshot
from sesame_desktop.services.changes import ChangeService
from sesame_desktop.services.push import PushService
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.settings_service import SettingsService
from sesame_desktop.services.tasks import TaskGroupOwner
from sesame_desktop.services.transcripts import TranscriptService
from sesame_desktop.ui.changes_view import ChangesView
from sesame_desktop.ui.notifications import SessionNotifier
from sesame_desktop.ui.session_usage import UsageRates
from sesame_desktop.ui.transcript_view import TranscriptView
from sesame_desktop.ui.url_opener import SafeUrlOpener

if TYPE_CHECKING:  # imported when first opened, not at start-up
    from sesame_desktop.ui.push_dialog import PushDialog

HintedFactory = Callable[[str, QWidget], QWidget]


class AgentTabs(QObject):
    """Builds and routes the agent parts of ``window``.

    Attributes:
        transcript_view, changes_view: the views; ``transcript_pane``, ``changes_pane`` hold
            them (with a hint while there is nothing to show).
        notifier: the desktop notifications.
        push_dialog: the last Commit and Push dialog opened.
    """

    def __init__(self, window: QMainWindow, sessions: SessionManager, settings: SettingsService,
                 opener: SafeUrlOpener, *, hinted: Callable[[str, QWidget], QWidget],
                 show_message: Callable[[UserMessage], None], select_session: Callable[[str], None],
                 apply_work: Callable[[str], Awaitable[None]], focus_console: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._sessions = sessions
        self._settings = settings
        self._opener = opener
        self._show_message = show_message
        self._select_session = select_session
        self._apply_work = apply_work
        self._tasks = TaskGroupOwner("agent-tabs", on_error=lambda exc: show_message(UserMessage(
            "Something went wrong", f"An unexpected error occurred ({type(exc).__name__}).",
            "The log file has the details.")))
        self.transcripts = TranscriptService(sessions, self)
        self.changes = ChangeService(sessions, self)
        self.push = PushService(sessions, settings.secrets)
        self.push_dialog: PushDialog | None = None
        self.transcript_view = TranscriptView(self.transcripts)
        self.transcript_view.show_console_requested.connect(focus_console)
        self.transcript_pane = hinted("An agent's steps appear here when it prints them in a structured form "
                                      "(Claude Code, Codex, Gemini CLI). Other tasks: see the console.",
                                      self.transcript_view)
        self.changes_view = ChangesView(self.changes)
        self.changes_view.push_requested.connect(self._on_changes_view_push_requested)
        self.changes_view.save_requested.connect(self._on_changes_view_save_requested)
        self.changes_view.apply_requested.connect(self._on_changes_view_apply_requested)
        self.changes_pane = hinted("What the selected session changed, against where it started.",
                                   self.changes_view)
        self.notifier = SessionNotifier(sessions, window, window.windowIcon())
        self.notifier.activated.connect(self._on_notifier_activated)
        sessions.session_added.connect(self._on_sessions_session_added)
        self._tasks.start(self._load_rates(), key="load-rates")
        self._side: QTabWidget | None = None

    def add_to(self, side: QTabWidget) -> None:
        self._side = side
        side.addTab(self.transcript_pane, "Transcript")
        side.addTab(self.changes_pane, "Changes")

    def show_session(self, session_id: str) -> None:
        """The selected session changed."""
        has_transcript = self.transcript_view.show_session(session_id)
        set_empty = getattr(self.transcript_pane, "set_empty", None)
        if set_empty is not None:
            set_empty(not has_transcript)
        self.changes_view.show_session(session_id)
        self.changes_view.push_button.setEnabled(self.push.remote(session_id) is not None)
        keeps = self._sessions.store is not None
        self.changes_view.save_button.setEnabled(keeps)
        self.changes_view.apply_button.setEnabled(
            keeps and isinstance(self._sessions.request(session_id).project, FolderProject))
        set_empty = getattr(self.changes_pane, "set_empty", None)
        if set_empty is not None:
            set_empty(False)

    async def aclose(self) -> None:
        await self._tasks.close()
        await self.changes_view.aclose()

    async def _load_rates(self) -> None:
        folder = self._settings.paths.config_dir
        UsageRates.set(await asyncio.get_running_loop().run_in_executor(None, load_rates, folder))

    async def _save_work(self, session_id: str, *, then_apply: bool = False) -> None:
        try:
            await self._sessions.save_work_now(session_id)
        except UserFacingError as exc:
            self._show_message(exc.message)
            return
        if then_apply:
            await self._apply_work(session_id)
        else:
            self._window.statusBar().showMessage(f"Work saved in {self._sessions.snapshot(session_id).work_dir}",
                                                 10_000)

    @Slot(object)
    def _on_sessions_session_added(self, snapshot: SessionSnapshot) -> None:
        if self._side is not None and self.transcripts.has_transcript(snapshot.id):
            self._side.setCurrentWidget(self.transcript_pane)

    @Slot(str)
    def _on_changes_view_save_requested(self, session_id: str) -> None:
        self._tasks.start(self._save_work(session_id), key=f"save-{session_id}")

    @Slot(str)
    def _on_changes_view_apply_requested(self, session_id: str) -> None:
        """Apply the session's current changes: saved first, then applied as *Apply* does."""
        self._tasks.start(self._save_work(session_id, then_apply=True), key=f"apply-{session_id}")

    @Slot(str)
    def _on_notifier_activated(self, session_id: str) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()
        self._select_session(session_id)

    @Slot(str)
    def _on_changes_view_push_requested(self, session_id: str) -> None:
        request = self._sessions.request(session_id)
        from sesame_desktop.ui.push_dialog import PushDialog  # on first use, not at start-up

        dialog = PushDialog(self.push, self._opener, session_id, name=self._sessions.snapshot(session_id).name,
                            prompt=request.prompt, parent=self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.pushed.connect(lambda pushed: self._window.statusBar().showMessage(
            f"Pushed the branch {pushed.branch}", 8000))
        self.push_dialog = dialog
        dialog.open()
