"""The main window: sessions on the left, the console in the centre, files and ports beside it.

The window assembles parts and routes signals; it holds no business logic. Services come in
through the constructor, or, for the app's start-up, later: :meth:`MainWindow.frame` builds
the window with no service (the session list, the toolbar, empty-state hints, the status bar
saying "Loading…"), so that it can be shown before the services are even imported, and
:meth:`MainWindow.attach` hands them over. What the window shows of a session (console, files,
ports, processes, agent tabs: :class:`~sesame_desktop.ui.workspace.Workspace`) is built after
the window is first painted, or earlier when something needs it.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QModelIndex, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QListView,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop import APP_NAME
from sesame_desktop.ui.messages import MessageCenter, plain_label
from sesame_desktop.ui.url_opener import RefusedUrl, SafeUrlOpener
from sesame_desktop.ui.window_parts import ExposeWatcher, HintedView, WelcomeBanner, settings_shortcut, titled
from sesame_desktop.ui.window_questions import WindowQuestions
from sesame_desktop.ui.window_state import WindowState

if TYPE_CHECKING:  # the services come from the app; the dialogs are imported when first opened
    from sesame_desktop.core.config import EffectiveConfig
    from sesame_desktop.core.sessions import SessionRequest, SessionSnapshot
    from sesame_desktop.services.choice_store import ChoiceStore
    from sesame_desktop.services.files import FileService
    from sesame_desktop.services.ports import PortService
    from sesame_desktop.services.sessions import SessionManager
    from sesame_desktop.services.settings_service import KeyStatus, SettingsService
    from sesame_desktop.services.terminals import TerminalService
    from sesame_desktop.ui.agent_tabs import AgentTabs
    from sesame_desktop.ui.changes_view import ChangesView
    from sesame_desktop.ui.file_panel import FilePanel
    from sesame_desktop.ui.new_session_dialog import NewSessionDialog
    from sesame_desktop.ui.notifications import SessionNotifier
    from sesame_desktop.ui.ports_view import PortNotice, PortsView
    from sesame_desktop.ui.processes_view import ProcessesView
    from sesame_desktop.ui.session_list import SessionListModel
    from sesame_desktop.ui.session_panel import SessionPanel
    from sesame_desktop.ui.settings_dialog import SettingsDialog
    from sesame_desktop.ui.toolbar import SessionActions, SessionListMenu
    from sesame_desktop.ui.transcript_view import TranscriptView
    from sesame_desktop.ui.workspace import Workspace

log = logging.getLogger(__name__)

FILES_HINT = "The project's files appear here, and stay current while the task works."
SESSIONS_LOADING_HINT = "Loading sessions…"
NO_SESSIONS_HINT = ("No sessions yet.\n\nA session runs a task on a project in its own sandbox. "
                    "New Session (Ctrl+N) starts one.")
# The side tabs' width before the workspace's views are in them: what those views need (the
# Changes tab's buttons), so that the panes do not move when they arrive (tests/ui/test_workspace.py).
SIDE_MIN_WIDTH = 370


class MainWindow(WindowQuestions, QMainWindow):
    """The main window.

    Attributes:
        painted: the window has been shown and painted (:attr:`first_painted` was emitted).
        quit_asked: Quit was chosen or the window closed (possibly before the app listened).
        workspace: the session parts (built after the first paint, or when first needed).

    Signals:
        quit_requested(): Quit was chosen or the window was closed; the app decides how to end.
        first_painted(): the window was shown and painted for the first time (the app then
            starts building the workspace and loads the settings).
    """

    quit_requested = Signal()
    first_painted = Signal()

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
        self._build_frame(settings.paths.config_dir, log_dir, messages)
        self.attach(settings, sessions, files=files, ports=ports, choices=choices, terminals=terminals)
        self.sessions_known()

    @classmethod
    def frame(cls, config_dir: Path, log_dir: Path | None = None) -> MainWindow:
        """The window with no service yet, to be shown at once; :meth:`attach` completes it."""
        window = cls.__new__(cls)
        QMainWindow.__init__(window)
        window._build_frame(config_dir, log_dir, None)
        return window

    def _build_frame(self, config_dir: Path, log_dir: Path | None, messages: MessageCenter | None) -> None:
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")
        self.resize(1280, 800)
        self._log_dir = log_dir
        self._attached = False
        self.quit_asked = False  # Quit chosen (or the window closed) before anyone listened
        self.quit_requested.connect(self._on_quit_requested)
        self.messages = messages or MessageCenter(self)
        self.messages.open_settings = self.open_settings
        self.url_opener = SafeUrlOpener(self)
        self.url_opener.refused.connect(self._on_url_opener_refused)
        self._settings_dialog: SettingsDialog | None = None
        self._closing_allowed = False
        self.new_session_dialog: NewSessionDialog | None = None
        self._welcome: WelcomeBanner | None = None
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_central()
        self._build_status_bar()
        self.window_state = WindowState(self, self.splitter, config_dir)
        self.window_state.restore()
        self.painted = False
        self._expose_watcher: ExposeWatcher | None = ExposeWatcher(self)
        self._expose_watcher.painted.connect(self._on_expose_watcher_painted)

    def attach(self, settings: SettingsService, sessions: SessionManager, *, files: FileService,
               ports: PortService, choices: ChoiceStore, terminals: TerminalService) -> None:
        """Hand the window its services (once): the session list, the actions and the workspace start working."""
        from sesame_desktop.services.agent_env import SessionEnvironment
        from sesame_desktop.services.tasks import TaskGroupOwner
        from sesame_desktop.ui.session_list import SessionListModel
        from sesame_desktop.ui.workspace import Workspace

        assert not self._attached, "the window's services are handed over once"
        self._attached = True
        self._settings = settings
        self._sessions = sessions
        self._choices = choices
        self._tasks = TaskGroupOwner("main-window", on_error=self.messages.show_exception)
        sessions.set_environment_source(SessionEnvironment(settings.secrets))
        self.session_model: SessionListModel = SessionListModel(sessions, self)
        self.session_list.setModel(self.session_model)
        self.session_list.selectionModel().currentChanged.connect(self._on_session_list_current_changed)
        self.sessions_view.set_empty(not sessions.snapshots())
        sessions.session_added.connect(self._on_sessions_session_added)
        sessions.problem.connect(self.messages.show_message)
        sessions.lifetime_running_out.connect(self._on_sessions_lifetime_running_out)
        self.workspace: Workspace = Workspace(self, sessions, files=files, ports=ports, terminals=terminals,
                                              settings=settings)
        sessions.before_session_added(self.workspace.ensure)
        settings.config_changed.connect(self._on_settings_config_changed)
        settings.key_status_changed.connect(self._on_settings_key_status_changed)
        settings.problems_found.connect(self._on_settings_problems_found)
        settings.notice.connect(self.messages.show_notice)
        for action in (self.new_session_action, self.settings_action):
            action.setEnabled(True)
        self.statusBar().showMessage("Ready")

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
        for action in (self.new_session_action, self.settings_action):
            action.setEnabled(False)  # until the services are attached

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

    def _build_toolbar(self) -> None:
        """New Session first; the selected session's actions join it with the workspace."""
        toolbar = self.toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolBar")
        toolbar.setMovable(False)
        toolbar.setFloatable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.new_session_action)
        toolbar.addSeparator()
        self.addToolBar(toolbar)

    def _build_central(self) -> None:
        """The frame: session list, console and side tabs, with hints where the workspace goes."""
        self.session_list = QListView()
        self.session_list.setObjectName("sessionList")
        self.session_list.setFrameShape(QFrame.Shape.NoFrame)
        self.session_list.setSpacing(2)
        self.session_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.session_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # until the saved sessions are read, "no sessions" would be a claim the window cannot make yet
        self.sessions_view = HintedView(SESSIONS_LOADING_HINT, self.session_list)
        self.sessions_view.setObjectName("sessionsView")
        self.console_view = HintedView("The selected session's output appears here as it runs.")
        self.console_view.setObjectName("consoleView")
        self.files_view = HintedView(FILES_HINT)
        # the other tabs' pages until the workspace puts its views there
        self.ports_page, self.processes_page = QStackedWidget(), QStackedWidget()
        self.transcript_page, self.changes_page = QStackedWidget(), QStackedWidget()
        side = self.side_tabs = QTabWidget()
        side.setObjectName("sideTabs")
        side.setMinimumWidth(SIDE_MIN_WIDTH)
        for page, title in ((self.files_view, "Files"), (self.ports_page, "Ports"),
                            (self.processes_page, "Processes"), (self.transcript_page, "Transcript"),
                            (self.changes_page, "Changes")):
            side.addTab(page, title)

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
        self._central_layout = QVBoxLayout(central)
        self._central_layout.setContentsMargins(8, 8, 8, 0)
        self._central_layout.addWidget(splitter, 1)  # the welcome banner goes above it when it shows
        self.setCentralWidget(central)

    def _build_status_bar(self) -> None:
        self.provider_label = plain_label()
        self.provider_label.setObjectName("providerLabel")
        self._configured_provider = ""
        self.key_label = plain_label()
        self.key_label.setObjectName("keyLabel")
        for label in (self.provider_label, self.key_label):
            label.setContentsMargins(8, 0, 8, 0)
        self.statusBar().addPermanentWidget(self.key_label)  # the workspace puts its port notice first
        self.statusBar().addPermanentWidget(self.provider_label)
        self.statusBar().showMessage("Loading…")

    @property
    def welcome(self) -> WelcomeBanner:
        """The welcome banner (hidden until :meth:`show_welcome_if_new` shows it); made when first asked for."""
        if self._welcome is None:
            self._welcome = WelcomeBanner()
            self._welcome.hide()
            self._welcome.open_settings.connect(self.open_settings)
            self._welcome.dismissed.connect(self._on_welcome_dismissed)
            self._central_layout.insertWidget(0, self._welcome)
        return self._welcome

    # -- the workspace's parts (built on first use) -------------------------------------------

    def _built(self) -> Workspace:
        self.workspace.ensure()
        return self.workspace

    @property
    def session_panel(self) -> SessionPanel:
        part = self._built().session_panel
        assert part is not None
        return part

    @property
    def file_panel(self) -> FilePanel:
        part = self._built().file_panel
        assert part is not None
        return part

    @property
    def ports_view(self) -> PortsView:
        part = self._built().ports_view
        assert part is not None
        return part

    @property
    def processes_view(self) -> ProcessesView:
        part = self._built().processes_view
        assert part is not None
        return part

    @property
    def port_notice(self) -> PortNotice:
        part = self._built().port_notice
        assert part is not None
        return part

    @property
    def session_actions(self) -> SessionActions:
        part = self._built().session_actions
        assert part is not None
        return part

    @property
    def session_menu(self) -> SessionListMenu:
        part = self._built().session_menu
        assert part is not None
        return part

    @property
    def agent_tabs(self) -> AgentTabs:
        part = self._built().agent_tabs
        assert part is not None
        return part

    @property
    def transcript_view(self) -> TranscriptView:
        return self.agent_tabs.transcript_view

    @property
    def transcript_pane(self) -> QWidget:
        return self.agent_tabs.transcript_pane

    @property
    def changes_view(self) -> ChangesView:
        return self.agent_tabs.changes_view

    @property
    def changes_pane(self) -> QWidget:
        return self.agent_tabs.changes_pane

    @property
    def notifier(self) -> SessionNotifier:
        return self.agent_tabs.notifier

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

    @property
    def push_dialog(self) -> object:
        """The last Commit and Push dialog (see :class:`AgentTabs`)."""
        return self.agent_tabs.push_dialog

    @property
    def settings_dialog(self) -> SettingsDialog | None:
        return self._settings_dialog

    def sessions_known(self) -> None:
        """The saved sessions are read (restored or none): an empty list now means there are none."""
        self.sessions_view.hint.setText(NO_SESSIONS_HINT)

    def show_welcome_if_new(self) -> None:
        """Greet a user who has no key and has not dismissed the greeting before."""
        status = self._settings.key_status
        if not self._settings.settings.welcome_dismissed and not status.has_key:
            self.welcome.show()

    async def wait_painted(self, timeout_s: float) -> bool:
        """Return once the window has been shown and painted (True), or after ``timeout_s`` (False)."""
        import asyncio

        if self.painted:
            return True
        painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_painted() -> None:
            if not painted.done():
                painted.set_result(None)

        self.first_painted.connect(on_painted)
        try:
            await asyncio.wait_for(painted, timeout_s)
        except TimeoutError:
            return False
        finally:
            self.first_painted.disconnect(on_painted)
        return True

    def allow_close(self) -> None:
        """Let the next close event through (the app calls this once it has shut down)."""
        self._closing_allowed = True

    async def aclose(self) -> None:
        """Stop the window's own work (its widgets' tasks); the services are the app's to close."""
        self.window_state.save()
        await self._tasks.close()
        await self.workspace.aclose()

    # -- slots ------------------------------------------------------------------------------

    @Slot(object)
    def _on_settings_config_changed(self, config: EffectiveConfig) -> None:
        from sesame_desktop.core.config import OriginKind, Provider

        provider: Provider = config.provider.value
        text = f"Provider: {provider.label}"
        if config.provider.origin.kind is OriginKind.ENVIRONMENT:
            text += f" ({config.provider.origin.detail})"
        self._configured_provider = text
        self._show_provider()

    def _show_provider(self) -> None:
        """The selected session's provider; the configured one (for new sessions) in the tooltip."""
        configured = self._configured_provider
        session_id = self.workspace.session_id
        if session_id is None:
            self.provider_label.setText(configured)
            self.provider_label.setToolTip("")
            return
        self.provider_label.setText(f"Session provider: {self._sessions.snapshot(session_id).provider.label}")
        self.provider_label.setToolTip(f"{configured} for new sessions")

    @Slot(object)
    def _on_settings_key_status_changed(self, status: KeyStatus) -> None:
        from sesame_desktop.core.config import OriginKind

        if status.problem is not None:
            self.key_label.setText(f"E2B key: {status.problem.title.lower()}")
            self.key_label.setToolTip(status.problem.text())
        elif status.has_key:
            where = status.origin.detail if status.origin.kind is OriginKind.ENVIRONMENT else "keyring"
            self.key_label.setText(f"E2B key: set ({where})")
            self.key_label.setToolTip(f"The E2B API key is {status.origin.describe()}.")
            if self._welcome is not None:
                self._welcome.hide()
        else:
            self.key_label.setText("E2B key: not set")
            self.key_label.setToolTip("Open Settings to add an E2B API key.")

    @Slot(tuple)
    def _on_settings_problems_found(self, problems: tuple) -> None:
        from sesame_desktop.core.errors import UserMessage

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
    def _on_sessions_session_added(self, snapshot: SessionSnapshot) -> None:
        self.sessions_view.set_empty(False)
        self.console_view.set_empty(False)

    @Slot(QModelIndex, QModelIndex)
    def _on_session_list_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.workspace.show_session(self.session_model.snapshot_at(current.row()).id)
            self._show_provider()

    @Slot(object)
    def _on_url_opener_refused(self, refused: RefusedUrl) -> None:
        self.statusBar().showMessage(f"Link not opened: {refused.reason}", 8000)

    @Slot()
    def _on_expose_watcher_painted(self) -> None:
        self.painted = True
        self.first_painted.emit()

    @Slot()
    def _on_quit_requested(self) -> None:
        self.quit_asked = True

    @Slot()
    def _on_welcome_dismissed(self) -> None:
        self._tasks.start(self._settings.dismiss_welcome(), key="dismiss-welcome")

    @Slot()
    def _on_about_action_triggered(self) -> None:
        from sesame_desktop import __version__

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

    def showEvent(self, event: QShowEvent) -> None:
        """On the first show, watch for the first paint (see :attr:`first_painted`)."""
        super().showEvent(event)
        handle, watcher = self.windowHandle(), self._expose_watcher
        if watcher is None or handle is None:
            return
        self._expose_watcher = None
        if handle.isExposed():
            QTimer.singleShot(0, watcher, watcher.painted.emit)
        else:
            handle.installEventFilter(watcher)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window asks the app to quit; the app closes the window when it is done."""
        if self._closing_allowed:
            event.accept()
            return
        event.ignore()
        self.quit_requested.emit()

