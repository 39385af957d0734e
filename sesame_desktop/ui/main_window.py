"""The main window: sessions on the left, the console in the centre, files and ports beside it.

The window assembles parts and routes signals; it holds no business logic. Services come in
through the constructor.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QModelIndex, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop import APP_NAME, __version__
from sesame_desktop.core.config import EffectiveConfig, OriginKind, Provider
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.preview_links import preview_link
from sesame_desktop.core.sessions import SessionRequest, SessionSnapshot
from sesame_desktop.services.agent_env import SessionEnvironment
from sesame_desktop.services.choice_store import ChoiceStore
from sesame_desktop.services.files import FileService
from sesame_desktop.services.ports import PortService
from sesame_desktop.services.session_lifecycle import QuitChoice
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.settings_service import KeyStatus, SettingsService
from sesame_desktop.services.tasks import TaskGroupOwner
from sesame_desktop.services.terminals import TerminalService
from sesame_desktop.ui.agent_tabs import AgentTabs
from sesame_desktop.ui.file_panel import FilePanel
from sesame_desktop.ui.messages import MessageCenter, plain_box, plain_label, set_informative
from sesame_desktop.ui.ports_view import PortNotice, PortsView
from sesame_desktop.ui.processes_view import ProcessesView
from sesame_desktop.ui.session_list import SessionListModel
from sesame_desktop.ui.session_panel import SessionPanel
from sesame_desktop.ui.toolbar import SessionActions, SessionListMenu, build_toolbar
from sesame_desktop.ui.url_opener import RefusedUrl, SafeUrlOpener
from sesame_desktop.ui.window_state import WindowState

if TYPE_CHECKING:  # the dialogs are imported when first opened, not at start-up
    from sesame_desktop.ui.new_session_dialog import NewSessionDialog
    from sesame_desktop.ui.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)


def settings_shortcut() -> QKeySequence:
    """Cmd+, on macOS (Qt maps Ctrl to Cmd there), Ctrl+, elsewhere."""
    return QKeySequence("Ctrl+,")


class EmptyHint(QLabel):
    """A short centred hint shown where a view has nothing to show yet."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setMargin(16)
        self.setStyleSheet("color: palette(mid);")


class HintedView(QStackedWidget):
    """A view with a hint in front of it while it is empty."""

    def __init__(self, hint: str, view: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.hint = EmptyHint(hint)
        self.addWidget(self.hint)
        self.view = view
        if view is not None:
            self.addWidget(view)

    def set_empty(self, empty: bool) -> None:
        self.setCurrentWidget(self.hint if empty or self.view is None else self.view)


def titled(title: str, widget: QWidget) -> QWidget:
    """``widget`` under a small bold title, as a pane of the main window."""
    pane = QWidget()
    layout = QVBoxLayout(pane)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    label = plain_label(title)
    label.setStyleSheet("font-weight: bold;")
    label.setContentsMargins(2, 0, 0, 0)
    layout.addWidget(label)
    layout.addWidget(widget, 1)
    return pane


class WelcomeBanner(QFrame):
    """Greets a new user: sessions run locally until an E2B API key is set.

    Signals:
        open_settings(): the user wants to set a key.
        dismissed(): the user closed the banner for good.
    """

    open_settings = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#welcomeBanner { background: palette(alternate-base); border-radius: 6px; }")
        title = QLabel(f"<b>Welcome to {APP_NAME}</b>")
        text = QLabel(
            "Sessions run <b>locally</b>, in a workspace folder on this computer, until you set an "
            "E2B API key. With a key, each session gets its own E2B cloud sandbox."
        )
        text.setWordWrap(True)
        self.settings_button = QPushButton("Open Settings…")
        self.settings_button.setDefault(True)
        self.settings_button.clicked.connect(self.open_settings)
        self.dismiss_button = QPushButton("Not now")
        self.dismiss_button.setFlat(True)
        self.dismiss_button.clicked.connect(self._on_dismiss_button_clicked)
        texts = QVBoxLayout()
        texts.addWidget(title)
        texts.addWidget(text)
        layout = QHBoxLayout(self)
        layout.addLayout(texts, 1)
        layout.addWidget(self.settings_button)
        layout.addWidget(self.dismiss_button)

    @Slot()
    def _on_dismiss_button_clicked(self) -> None:
        self.hide()
        self.dismissed.emit()


class MainWindow(QMainWindow):
    """The main window.

    Signals:
        quit_requested(): Quit was chosen or the window was closed; the app decides how to end.
    """

    quit_requested = Signal()

    def __init__(
        self,
        settings: SettingsService,
        sessions: SessionManager,
        messages: MessageCenter | None = None,
        *,
        files: FileService,
        ports: PortService,
        choices: ChoiceStore,
        terminals: TerminalService,
        log_dir: Path | None = None,
    ) -> None:
        """The services come from their owner (:class:`sesame_desktop.app.Application`), which
        also closes them: the window creates none and closes none."""
        super().__init__()
        self._sessions = sessions
        self._files = files
        self._ports = ports
        self._terminals = terminals
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")
        self.resize(1280, 800)
        self._settings = settings
        self._log_dir = log_dir
        self.messages = messages or MessageCenter(self)
        self.messages.open_settings = self.open_settings
        self.url_opener = SafeUrlOpener(self)
        self.url_opener.refused.connect(self._on_url_opener_refused)
        self._tasks = TaskGroupOwner("main-window", on_error=self.messages.show_exception)
        self._settings_dialog: SettingsDialog | None = None
        self._choices = choices
        sessions.set_environment_source(SessionEnvironment(settings.secrets))
        self._closing_allowed = False
        self.new_session_dialog: NewSessionDialog | None = None
        self.quit_confirmation: QMessageBox | None = None
        self.leftovers_box: QMessageBox | None = None
        self.lifetime_box: QMessageBox | None = None
        self.apply_box: QMessageBox | None = None
        self._build_actions()
        self._build_menus()
        self._build_central()
        self._build_status_bar()
        self._build_toolbar()
        self.window_state = WindowState(self, self.splitter, settings.paths.config_dir)
        self.window_state.restore()
        settings.config_changed.connect(self._on_settings_config_changed)
        settings.key_status_changed.connect(self._on_settings_key_status_changed)
        settings.problems_found.connect(self._on_settings_problems_found)
        settings.notice.connect(self.messages.show_notice)

    # -- building ---------------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.new_session_action = QAction("&New Session…", self)
        self.new_session_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_session_action.setStatusTip("Start a session: a sandbox, a project and a task")
        self.new_session_action.triggered.connect(self.open_new_session)
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(settings_shortcut())
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.open_settings)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        if QKeySequence(QKeySequence.StandardKey.Quit).isEmpty():
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.quit_requested)
        self.about_action = QAction(f"&About {APP_NAME}", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self._on_about_action_triggered)
        self.open_logs_action = QAction("Open &Log Folder", self)
        self.open_logs_action.triggered.connect(self._on_open_logs_action_triggered)
        for action in (self.new_session_action, self.settings_action, self.quit_action):
            self.addAction(action)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.new_session_action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.open_logs_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

    def _build_central(self) -> None:
        self.welcome = WelcomeBanner()
        self.welcome.hide()
        self.welcome.open_settings.connect(self.open_settings)
        self.welcome.dismissed.connect(self._on_welcome_dismissed)

        self.session_model = SessionListModel(self._sessions, self)
        self.session_list = QListView()
        self.session_list.setObjectName("sessionList")
        self.session_list.setModel(self.session_model)
        self.session_list.setFrameShape(QFrame.Shape.NoFrame)
        self.session_list.setSpacing(2)
        self.session_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.session_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.session_list.selectionModel().currentChanged.connect(self._on_session_list_current_changed)
        self.sessions_view = HintedView("No sessions yet.\n\nA session runs a task on a project in its "
                                        "own sandbox. New Session (Ctrl+N) starts one.", self.session_list)
        self.sessions_view.setObjectName("sessionsView")
        self.session_panel = SessionPanel(self._sessions, self.url_opener, terminals=self._terminals)
        self.session_panel.problem.connect(self.messages.show_message)
        self.session_panel.session_started.connect(self.select_session)
        self.session_panel.apply_requested.connect(self._on_session_panel_apply_requested)
        self.session_panel.settings_requested.connect(self.open_settings)
        self.session_panel.console.link_rewriter = self._preview_link
        self.console_view = HintedView("The selected session's output appears here as it runs.",
                                       self.session_panel)
        self.console_view.setObjectName("consoleView")
        self._sessions.session_added.connect(self._on_sessions_session_added)
        self._sessions.problem.connect(self.messages.show_message)
        self._sessions.lifetime_running_out.connect(self._on_sessions_lifetime_running_out)
        self.file_panel = FilePanel(self._sessions, self._files)
        self.file_panel.problem.connect(self.messages.show_message)
        self.file_panel.status.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.files_view = HintedView("The project's files appear here, and stay current while the task works.",
                                     self.file_panel)
        self._sessions.sandbox_ready.connect(self._on_sessions_sandbox_ready)
        self.ports_view = PortsView(self._ports, self.url_opener)
        side = QTabWidget()
        side.setObjectName("sideTabs")
        side.addTab(self.files_view, "Files")
        side.addTab(self.ports_view, "Ports")
        self.processes_view = ProcessesView(self._sessions, self._ports)
        side.addTab(self.processes_view, "Processes")
        self.agent_tabs = AgentTabs(self, self._sessions, self._settings, self.url_opener, hinted=HintedView,
                                    show_message=self.messages.show_message, select_session=self.select_session,
                                    apply_work=self._apply_work, focus_console=self.session_panel.console.setFocus)
        self.agent_tabs.add_to(side)
        self.transcript_view, self.transcript_pane = self.agent_tabs.transcript_view, self.agent_tabs.transcript_pane
        self.changes_view, self.changes_pane = self.agent_tabs.changes_view, self.agent_tabs.changes_pane
        self.notifier = self.agent_tabs.notifier
        self.side_tabs = side

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(titled("Sessions", self.sessions_view))
        splitter.addWidget(titled("Console", self.console_view))
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([260, 700, 320])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addWidget(self.welcome)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _build_status_bar(self) -> None:
        self.provider_label = plain_label()
        self.provider_label.setObjectName("providerLabel")
        self._configured_provider = ""
        self.key_label = plain_label()
        self.key_label.setObjectName("keyLabel")
        for label in (self.provider_label, self.key_label):
            label.setContentsMargins(8, 0, 8, 0)
        self.port_notice = PortNotice(self._ports, self.url_opener)
        self.statusBar().addPermanentWidget(self.port_notice)
        self.statusBar().addPermanentWidget(self.key_label)
        self.statusBar().addPermanentWidget(self.provider_label)
        self.statusBar().showMessage("Ready")

    def _build_toolbar(self) -> None:
        panel = self.session_panel
        self.session_actions = SessionActions(panel, self._sessions, self)
        self.toolbar = build_toolbar(self.new_session_action, self.session_actions, self)
        self.addToolBar(self.toolbar)
        self.session_menu = SessionListMenu(self.session_list, self.session_actions,
                                            (panel.rename_action, panel.duplicate_action, panel.remove_action))

    # -- actions ----------------------------------------------------------------------------

    @Slot()
    def open_settings(self) -> SettingsDialog:
        """Open the settings dialog (non-blocking); an open one is raised instead."""
        if self._settings_dialog is not None and self._settings_dialog.isVisible():
            self._settings_dialog.raise_()
            self._settings_dialog.activateWindow()
            return self._settings_dialog
        from sesame_desktop.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self._settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._on_settings_dialog_saved)
        dialog.destroyed.connect(self._on_settings_dialog_destroyed)
        self._settings_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def open_new_session(self) -> NewSessionDialog:
        """Open the New Session dialog (non-blocking)."""
        config = self._settings.config
        from sesame_desktop.ui.new_session_dialog import NewSessionDialog

        dialog = NewSessionDialog(config, e2b_ready=self._settings.key_status.has_key,
                                  choices=self._choices.current, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.requested.connect(self._on_new_session_dialog_requested)
        self.new_session_dialog = dialog
        if not self._choices.loaded:
            self._tasks.start(self._load_choices(dialog), key="load-choices")
        dialog.open()
        return dialog

    async def _load_choices(self, dialog: NewSessionDialog) -> None:
        choices = await self._choices.load()
        if self.new_session_dialog is dialog and shiboken6.isValid(dialog) and dialog.isVisible():
            dialog.apply_remembered(choices)

    def select_session(self, session_id: str) -> None:
        self.session_list.setCurrentIndex(self.session_model.index(self.session_model.row_of(session_id)))

    def offer_to_end_leftovers(self, sandboxes: tuple, end, adopt=None) -> QMessageBox:  # noqa: ANN001
        """Tell about sandboxes an earlier run left running; ``end(sandboxes)`` stops them,
        ``adopt(sandboxes)`` (when given) makes sessions of them."""
        names = ", ".join(s.name or s.sandbox_id for s in sandboxes[:5]) + ("…" if len(sandboxes) > 5 else "")
        count = len(sandboxes)
        box = plain_box(QMessageBox.Icon.Question, "Sandboxes still running",
                        f"{count} E2B sandbox{'es' if count > 1 else ''} from an earlier run "
                        f"{'are' if count > 1 else 'is'} still running.", QMessageBox.StandardButton.NoButton, self)
        set_informative(box, f"They use your E2B account until their lifetime ends: {names}.")
        end_button = box.addButton("End Them", QMessageBox.ButtonRole.DestructiveRole)
        adopt_button = box.addButton("Adopt as Sessions", QMessageBox.ButtonRole.AcceptRole) if adopt else None
        box.addButton("Keep Running", QMessageBox.ButtonRole.RejectRole)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: end(sandboxes) if button is end_button
                                  else adopt(sandboxes) if adopt and button is adopt_button else None)
        self.leftovers_box = box
        box.show()
        return box

    async def confirm_quit(self) -> QuitChoice | None:
        """Ask what to do with open sessions: End all, Pause all (E2B) or Cancel (None)."""
        open_sessions = self._sessions.open_sessions()
        if not open_sessions:
            return QuitChoice.END_ALL
        count = len(open_sessions)
        box = plain_box(QMessageBox.Icon.Question, "Quit Sesame Desktop",
                        f"{count} session{'s are' if count > 1 else ' is'} still open.",
                        QMessageBox.StandardButton.Cancel, self)
        end_button = box.addButton("End All and Quit", QMessageBox.ButtonRole.DestructiveRole)
        pause_button = None
        if any(s.provider is Provider.E2B for s in open_sessions):
            pause_button = box.addButton("Pause All and Quit", QMessageBox.ButtonRole.AcceptRole)
        names = ", ".join(s.name for s in open_sessions[:5]) + ("…" if count > 5 else "")
        set_informative(box,
                        f"{names}.\n\nEnd All saves each session's work on this computer, then stops its sandbox. "
                        + ("Pause All keeps E2B sandboxes paused (no compute billed) to resume at the next start; "
                           "local sessions stop. " if pause_button is not None else ""))
        self.quit_confirmation = box
        answered: asyncio.Future[QuitChoice | None] = asyncio.get_running_loop().create_future()

        def on_finished(_result: int) -> None:
            clicked = box.clickedButton()
            if not answered.done():
                answered.set_result(QuitChoice.END_ALL if clicked is end_button
                                    else QuitChoice.PAUSE_ALL if pause_button is not None and clicked is pause_button
                                    else None)

        box.finished.connect(on_finished)
        box.open()
        try:
            return await answered
        finally:
            self.quit_confirmation = None
            box.finished.disconnect(on_finished)
            box.deleteLater()

    @property
    def push_dialog(self) -> object:
        """The last Commit and Push dialog (see :class:`AgentTabs`)."""
        return self.agent_tabs.push_dialog

    @property
    def settings_dialog(self) -> SettingsDialog | None:
        return self._settings_dialog

    def show_welcome_if_new(self) -> None:
        """Greet a user who has no key and has not dismissed the greeting before."""
        status = self._settings.key_status
        if not self._settings.settings.welcome_dismissed and not status.has_key:
            self.welcome.show()

    def allow_close(self) -> None:
        """Let the next close event through (the app calls this once it has shut down)."""
        self._closing_allowed = True

    async def aclose(self) -> None:
        self.window_state.save()
        """Stop the window's own work (its widgets' tasks); the services are the app's to close."""
        await self._tasks.close()
        await self.agent_tabs.aclose()
        await self.file_panel.aclose()
        await self.processes_view.aclose()

    # -- slots ------------------------------------------------------------------------------

    @Slot(object)
    def _on_settings_config_changed(self, config: EffectiveConfig) -> None:
        provider: Provider = config.provider.value
        text = f"Provider: {provider.label}"
        if config.provider.origin.kind is OriginKind.ENVIRONMENT:
            text += f" ({config.provider.origin.detail})"
        self._configured_provider = text
        self._show_provider()

    def _preview_link(self, url: str) -> str:
        """A printed local URL on the selected session's preview URL for its port (Ports tab)."""
        session_id = self.session_panel.session_id
        if session_id is None:
            return url
        return preview_link(url, {info.port: info.url for info in self._ports.ports(session_id)})

    def _show_provider(self) -> None:
        """The selected session's provider; the configured one (for new sessions) in the tooltip."""
        configured = self._configured_provider
        session_id = self.session_panel.session_id
        if session_id is None:
            self.provider_label.setText(configured)
            self.provider_label.setToolTip("")
            return
        self.provider_label.setText(f"Session provider: {self._sessions.snapshot(session_id).provider.label}")
        self.provider_label.setToolTip(f"{configured} for new sessions")

    @Slot(object)
    def _on_settings_key_status_changed(self, status: KeyStatus) -> None:
        if status.problem is not None:
            self.key_label.setText(f"E2B key: {status.problem.title.lower()}")
            self.key_label.setToolTip(status.problem.text())
        elif status.has_key:
            where = status.origin.detail if status.origin.kind is OriginKind.ENVIRONMENT else "keyring"
            self.key_label.setText(f"E2B key: set ({where})")
            self.key_label.setToolTip(f"The E2B API key is {status.origin.describe()}.")
            self.welcome.hide()
        else:
            self.key_label.setText("E2B key: not set")
            self.key_label.setToolTip("Open Settings to add an E2B API key.")

    @Slot(tuple)
    def _on_settings_problems_found(self, problems: tuple) -> None:
        self.messages.show_message(
            UserMessage(
                title="Some settings were ignored",
                explanation="\n".join(f"• {p}" for p in problems),
                next_step="Sesame Desktop uses the defaults for these. Fix the file or variable "
                "named above and restart to use your values.",
            )
        )

    @Slot(object)
    def _on_settings_dialog_saved(self, config: EffectiveConfig) -> None:
        self.statusBar().showMessage("Settings saved", 4000)

    @Slot()
    def _on_settings_dialog_destroyed(self) -> None:
        self._settings_dialog = None

    @Slot(object)
    def _on_new_session_dialog_requested(self, request: SessionRequest) -> None:
        if self.new_session_dialog is not None:
            self._choices.remember(request.project, self.new_session_dialog.current_choices())
        try:
            snapshot = self._sessions.start_session(request)
        except RuntimeError:
            return
        self.select_session(snapshot.id)

    @Slot(object)
    def _on_sessions_lifetime_running_out(self, snapshot: SessionSnapshot) -> None:
        self.statusBar().showMessage(
            f"The session \u201c{snapshot.name}\u201d ends in under 5 minutes: select it and press Extend "
            "to keep its sandbox.", 60_000)
        box = plain_box(QMessageBox.Icon.Information, "Lifetime running out",
                        f"The session \u201c{snapshot.name}\u201d reaches the end of its lifetime in under "
                        "5 minutes.", QMessageBox.StandardButton.NoButton, self)
        set_informative(box, "Its work is being saved on this computer. When the lifetime ends the sandbox "
                        "is paused; Extend gives it its full lifetime again, from now.")
        extend = box.addButton("Extend", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not Now", QMessageBox.ButtonRole.RejectRole)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        session_id = snapshot.id
        box.buttonClicked.connect(lambda button: button is extend and self._sessions.request_extend(session_id))
        self.lifetime_box = box
        box.show()

    @Slot(str)
    def _on_session_panel_apply_requested(self, session_id: str) -> None:
        self._tasks.start(self._apply_work(session_id), key=f"apply-{session_id}")

    async def _apply_work(self, session_id: str) -> None:
        """*Apply changes to my folder*, asking before overwriting files changed locally."""
        try:
            plan = await self._sessions.plan_apply(session_id)
        except UserFacingError as exc:
            self.messages.show_message(exc.message)
            return
        overwrite = False
        if plan.conflicts:
            names = sorted(plan.conflicts)
            box = plain_box(QMessageBox.Icon.Warning, "Files changed in your folder",
                            f"{len(names)} file{'s' if len(names) > 1 else ''} in {plan.folder} changed since the "
                            "upload, and the session changed them too.", QMessageBox.StandardButton.Cancel, self)
            set_informative(box, "\n".join(names[:15]) + ("\n…" if len(names) > 15 else ""))
            overwrite_button = box.addButton("Overwrite Them", QMessageBox.ButtonRole.DestructiveRole)
            keep_button = box.addButton("Keep Mine", QMessageBox.ButtonRole.AcceptRole)
            self.apply_box = box
            answered: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            box.finished.connect(lambda _r: answered.done() or answered.set_result(box.clickedButton()))
            box.open()
            try:
                clicked = await answered
            finally:
                self.apply_box = None
                box.deleteLater()
            if clicked not in (overwrite_button, keep_button):
                return
            overwrite = clicked is overwrite_button
        try:
            written, deleted = await self._sessions.apply(plan, overwrite_conflicts=overwrite)
        except UserFacingError as exc:
            self.messages.show_message(exc.message)
            return
        kept = 0 if overwrite else len(plan.conflicts)
        self.statusBar().showMessage(
            f"Applied to {plan.folder}: {written} file{'s' if written != 1 else ''} written, {deleted} deleted"
            + (f", {kept} of yours kept" if kept else ""), 15_000)

    @Slot(object)
    def _on_sessions_session_added(self, snapshot: SessionSnapshot) -> None:
        self.sessions_view.set_empty(False)
        self.console_view.set_empty(False)

    @Slot(QModelIndex, QModelIndex)
    def _on_session_list_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            session_id = self.session_model.snapshot_at(current.row()).id
            self.session_panel.show_session(session_id)
            self.files_view.set_empty(not self.file_panel.show_session(session_id))
            self.ports_view.show_session(session_id)
            self.agent_tabs.show_session(session_id)
            self.processes_view.show_session(session_id)
            self.session_actions.sync()
            self._show_provider()

    @Slot(str)
    def _on_sessions_sandbox_ready(self, session_id: str) -> None:
        if session_id == self.session_panel.session_id:
            self.files_view.set_empty(not self.file_panel.show_session(session_id))

    @Slot(object)
    def _on_url_opener_refused(self, refused: RefusedUrl) -> None:
        self.statusBar().showMessage(f"Link not opened: {refused.reason}", 8000)

    @Slot()
    def _on_welcome_dismissed(self) -> None:
        self._tasks.start(self._settings.dismiss_welcome(), key="dismiss-welcome")

    @Slot()
    def _on_about_action_triggered(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(f"About {APP_NAME}")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setText(f"<b>{APP_NAME}</b> {__version__}")
        box.setInformativeText(
            "Run coding agents in E2B cloud sandboxes, or locally, with a live console, the "
            f"project's files and dev-server previews.<br><br>Python {sys.version.split()[0]}"
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    @Slot()
    def _on_open_logs_action_triggered(self) -> None:
        if self._log_dir is None:
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._log_dir))):
            self.statusBar().showMessage(f"The log folder is {self._log_dir}", 10000)

    # -- Qt overrides -----------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window asks the app to quit; the app closes the window when it is done."""
        if self._closing_allowed:
            event.accept()
            return
        event.ignore()
        self.quit_requested.emit()

