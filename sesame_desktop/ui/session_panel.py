"""The selected session: its header (state, progress, actions), console and input line.

The header's actions follow the state: End Session while the sandbox may be alive (again
when its end was not confirmed), Resume for a paused sandbox, Restart Here for a stopped
local session, Retry for a failed one; the More menu renames, duplicates or removes a
session and opens its saved work (Show in Folder, Apply Changes to My Folder).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDesktopServices, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.session_words import header_state, header_time_left, no_commands_reason
from sesame_desktop.core.sessions import SessionSnapshot, SessionState
from sesame_desktop.core.terminal import TerminalBuffer
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.terminals import TerminalService
from sesame_desktop.ui.console import ConsoleView
from sesame_desktop.ui.elided_label import ElidedLabel
from sesame_desktop.ui.messages import add_settings_button, plain_box, plain_label, set_informative
from sesame_desktop.ui.provider_notes import full_rights_label
from sesame_desktop.ui.terminal_tab import TerminalTabs
from sesame_desktop.ui.url_opener import SafeUrlOpener

log = logging.getLogger(__name__)

BACKGROUND_PLACEHOLDER = "Run a command in the background, e.g. a dev server (Enter); see it under Processes"


class SessionPanel(QWidget):
    """Shows one session at a time; switching sessions swaps the console's buffer.

    Signals:
        problem(UserMessage): something the user asked for could not be done.
        session_started(str): Retry or Duplicate started a new session (its id).
        apply_requested(str): the user asked to apply a session's saved work to their folder.
        settings_requested(): the user wants the Settings dialog (to fix what an error names).
    """

    problem = Signal(object)
    session_started = Signal(str)
    apply_requested = Signal(str)
    settings_requested = Signal()

    def __init__(self, manager: SessionManager, opener: SafeUrlOpener | None = None,
                 parent: QWidget | None = None, *, terminals: TerminalService) -> None:
        """``terminals`` comes from its owner (:class:`sesame_desktop.app.Application`), which
        also closes it: the panel creates and closes no service."""
        super().__init__(parent)
        self._manager = manager
        self._session_id: str | None = None
        self.end_confirmation: QMessageBox | None = None
        self.remove_confirmation: QMessageBox | None = None
        self.rename_dialog: QInputDialog | None = None
        self.error_box: QMessageBox | None = None

        # Names, commands and steps come from the user or the sandbox and may be any length:
        # elided labels never widen the window (full text in the tooltip).
        self.title_label = ElidedLabel()
        self.title_label.setStyleSheet("font-weight: bold;")
        self.title_label.setObjectName("sessionTitle")
        self.state_label = ElidedLabel()
        self.state_label.setObjectName("sessionState")
        self.title_label.setMinimumWidth(60)  # both stay readable in a small window
        self.state_label.setMinimumWidth(90)
        self.time_left_label = plain_label()
        self.time_left_label.setObjectName("sessionTimeLeft")
        self.time_left_label.setToolTip("Time left before the sandbox's lifetime ends (Extend gives it more)")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(60)  # a hint of activity; the words say what runs
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.step_label = ElidedLabel()
        self.step_label.setStyleSheet("color: palette(mid);")
        self.error_button = QPushButton("Show Error…")
        self.error_button.clicked.connect(self._on_error_button_clicked)
        self.extend_button = QPushButton("Extend")
        self.extend_button.setToolTip("Give the sandbox its full lifetime again, from now")
        self.extend_button.clicked.connect(self._on_extend_button_clicked)
        self.end_button = QPushButton("End Session")
        self.end_button.clicked.connect(self._on_end_button_clicked)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Wake the paused sandbox and continue where it stopped")
        self.resume_button.clicked.connect(self._on_resume_button_clicked)
        self.restart_button = QPushButton("Restart Here")
        self.restart_button.setToolTip("Continue this local session in its workspace")
        self.restart_button.clicked.connect(self._on_restart_button_clicked)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Start this session again with the same settings")
        self.retry_button.clicked.connect(self._on_retry_button_clicked)
        self.more_button = QToolButton()
        self.more_button.setText("More")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.more_button)
        self.rename_action = QAction("Rename…", self)
        self.rename_action.triggered.connect(self._on_rename_action_triggered)
        self.duplicate_action = QAction("Duplicate", self)
        self.duplicate_action.setToolTip("Start a new session with the same settings")
        self.duplicate_action.triggered.connect(self._on_duplicate_action_triggered)
        self.show_folder_action = QAction("Show Saved Work in Folder", self)
        self.show_folder_action.triggered.connect(self._on_show_folder_action_triggered)
        self.apply_action = QAction("Apply Changes to My Folder…", self)
        self.apply_action.triggered.connect(self._on_apply_action_triggered)
        self.remove_action = QAction("Remove Session…", self)
        self.remove_action.setToolTip("Forget this ended session and its output")
        self.remove_action.triggered.connect(self._on_remove_action_triggered)
        for action in (self.rename_action, self.duplicate_action, self.show_folder_action, self.apply_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.remove_action)
        self.more_button.setMenu(menu)
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.state_label, 2)
        header.addWidget(self.time_left_label)
        header.addWidget(self.busy_bar)
        header.addWidget(self.step_label, 1)
        header.addWidget(self.error_button)
        header.addWidget(self.extend_button)
        header.addWidget(self.resume_button)
        header.addWidget(self.restart_button)
        header.addWidget(self.retry_button)
        header.addWidget(self.end_button)
        header.addWidget(self.more_button)

        self.console = ConsoleView(url_opener=opener)
        # the Terminal tab: interactive shells in the session's sandbox (ui/terminal_tab.py)
        self.terminals = TerminalTabs(terminals, opener)
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.console, "Console")
        self.views.addTab(self.terminals, "Terminal")

        self.input_edit = QLineEdit()
        self.input_edit.setObjectName("commandInput")
        self.input_edit.setPlaceholderText("Run a command in the project folder (Enter)")
        self.input_edit.returnPressed.connect(self._on_input_edit_return_pressed)
        self.background_button = QToolButton()
        self.background_button.setText("Background")
        self.background_button.setCheckable(True)
        self.background_button.setToolTip("Run the next command in the background (for servers)")
        # "on" must be unmistakable: highlighted, and the input line says where the command goes
        self.background_button.setStyleSheet(
            "QToolButton:checked { background: palette(highlight); color: palette(highlighted-text); }")
        self.background_button.toggled.connect(self._on_background_button_toggled)
        self.stop_button = QToolButton()
        self.stop_button.setText("Stop")
        self.stop_button.setToolTip("Stop the running command (Ctrl+C in the input line)")
        self.stop_button.clicked.connect(self.interrupt)
        self.input_edit.installEventFilter(self)
        inputs = QHBoxLayout()
        inputs.addWidget(QLabel("$"))
        inputs.addWidget(self.input_edit, 1)
        inputs.addWidget(self.background_button)
        inputs.addWidget(self.stop_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        self.rights_label = full_rights_label()  # a local session without a sandbox says so
        layout.addWidget(self.rights_label)
        layout.addWidget(self.views, 1)
        layout.addLayout(inputs)
        # The header shows different buttons in different states; the panel's minimum width is
        # that of its usual widest row (a running command), so that no state makes them overlap.
        usual = (self.title_label, self.state_label, self.busy_bar, self.end_button, self.more_button)
        self.setMinimumWidth(sum(min(w.maximumWidth(), max(w.minimumWidth(), w.minimumSizeHint().width()))
                                 for w in usual) + max(header.spacing(), 6) * len(usual))  # a gap each, and some room
        manager.session_changed.connect(self._on_manager_session_changed)
        manager.session_removed.connect(self._on_manager_session_removed)
        # the time left of an E2B session, shown in words in the header, counts down
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_clock_timeout)
        self._refresh(None)

    @property
    def session_id(self) -> str | None:
        return self._session_id

    def show_session(self, session_id: str) -> None:
        self._session_id = session_id
        self.console.set_buffer(self._manager.buffer(session_id))
        self._refresh(self._manager.snapshot(session_id))
        self.terminals.show_session(session_id, self._manager.snapshot(session_id).state.accepts_commands)

    @Slot()
    def interrupt(self) -> None:
        if self._session_id is not None:
            self._manager.interrupt(self._session_id)

    # -- updating ---------------------------------------------------------------------------

    def _refresh(self, snapshot: SessionSnapshot | None) -> None:
        if snapshot is None:
            for widget in (self.end_button, self.error_button, self.input_edit, self.stop_button,
                           self.background_button, self.more_button):
                widget.setEnabled(False)
            for widget in (self.error_button, self.extend_button, self.resume_button, self.restart_button,
                           self.retry_button, self.rights_label):
                widget.hide()
            self.title_label.setText("")
            self.state_label.setText("")
            self.step_label.setText("")
            self.time_left_label.hide()
            self._clock.stop()
            return
        sandbox = self._manager.sandbox(snapshot.id)
        self.rights_label.setVisible(sandbox is not None and sandbox.full_rights and snapshot.state.open)
        self.title_label.setText(snapshot.name)
        self.state_label.setText(header_state(snapshot))
        self._show_time_left(snapshot)
        if snapshot.expires_at is not None and snapshot.state.open:
            self._clock.start()
        else:
            self._clock.stop()
        state = snapshot.state
        self.more_button.setEnabled(True)
        self.resume_button.setVisible(state is SessionState.PAUSED)
        self.restart_button.setVisible(state is SessionState.STOPPED)
        self.retry_button.setVisible(state is SessionState.FAILED)
        self.end_button.setText("End Again" if state is SessionState.UNCONFIRMED else "End Session")
        self.remove_action.setEnabled(state.finished)
        self.show_folder_action.setEnabled(bool(snapshot.work_dir))
        self.apply_action.setEnabled(bool(snapshot.work_dir) and self._manager.can_apply(snapshot.id))
        self.busy_bar.setVisible(snapshot.state.busy or bool(snapshot.running and not snapshot.step))
        self.step_label.setText(snapshot.step)
        self.end_button.setEnabled(snapshot.state.open and snapshot.state is not SessionState.ENDING)
        self.extend_button.setVisible(snapshot.expires_at is not None and snapshot.state.open)
        self.extend_button.setEnabled(snapshot.state.accepts_commands)
        self.error_button.setVisible(snapshot.error is not None)
        self.error_button.setEnabled(snapshot.error is not None)
        accepts = snapshot.state.accepts_commands
        self.input_edit.setEnabled(accepts)
        self.background_button.setEnabled(accepts)
        self.stop_button.setEnabled(bool(snapshot.running))
        self.input_edit.setPlaceholderText(
            f"Input for \u201c{snapshot.running}\u201d (Enter sends a line, Ctrl+C stops it)" if snapshot.running
            else BACKGROUND_PLACEHOLDER if accepts and self.background_button.isChecked()
            else "Run a command in the project folder (Enter)" if accepts
            else no_commands_reason(snapshot.state))

    # -- slots ------------------------------------------------------------------------------

    @Slot()
    def _on_clock_timeout(self) -> None:
        if self._session_id is None:
            self._clock.stop()
            return
        self._show_time_left(self._manager.snapshot(self._session_id))

    def _show_time_left(self, snapshot: SessionSnapshot) -> None:
        text = header_time_left(snapshot)
        self.time_left_label.setText(text)
        self.time_left_label.setVisible(bool(text))

    @Slot(bool)
    def _on_background_button_toggled(self, on: bool) -> None:
        self.background_button.setText("Background: On" if on else "Background")
        if self._session_id is not None:
            self._refresh(self._manager.snapshot(self._session_id))

    @Slot(object)
    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        if snapshot.id == self._session_id:
            self._refresh(snapshot)
            self.terminals.show_session(snapshot.id, snapshot.state.accepts_commands)

    @Slot(str)
    def _on_manager_session_removed(self, session_id: str) -> None:
        if session_id == self._session_id:
            self._session_id = None
            self.console.set_buffer(TerminalBuffer(1))
            self._refresh(None)

    @Slot()
    def _on_resume_button_clicked(self) -> None:
        if self._session_id is not None:
            self._manager.request_resume(self._session_id)

    @Slot()
    def _on_restart_button_clicked(self) -> None:
        if self._session_id is not None:
            self._manager.request_restart(self._session_id)

    @Slot()
    def _on_retry_button_clicked(self) -> None:
        if self._session_id is not None:
            self.session_started.emit(self._manager.retry_session(self._session_id).id)

    @Slot()
    def _on_duplicate_action_triggered(self) -> None:
        if self._session_id is not None:
            self.session_started.emit(self._manager.duplicate_session(self._session_id).id)

    @Slot()
    def _on_rename_action_triggered(self) -> None:
        if self._session_id is None:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename Session")
        dialog.setLabelText("New name:")
        dialog.setTextValue(self._manager.snapshot(self._session_id).name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        session_id = self._session_id
        dialog.textValueSelected.connect(lambda name: self._manager.rename_session(session_id, name))
        self.rename_dialog = dialog
        dialog.open()

    @Slot()
    def _on_remove_action_triggered(self) -> None:
        if self._session_id is None:
            return
        snapshot = self._manager.snapshot(self._session_id)
        box = plain_box(QMessageBox.Icon.Question, "Remove Session",
                        f"Remove the session \u201c{snapshot.name}\u201d from the list?",
                        QMessageBox.StandardButton.Cancel, self)
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        set_informative(box, "Its output is deleted." + (
            f" Its saved work stays in {snapshot.work_dir}." if snapshot.work_dir else ""))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        session_id = self._session_id
        box.buttonClicked.connect(lambda button: button is remove and self._manager.remove_session(session_id))
        self.remove_confirmation = box
        box.open()

    @Slot()
    def _on_show_folder_action_triggered(self) -> None:
        if self._session_id is None:
            return
        folder = self._manager.snapshot(self._session_id).work_dir
        if folder and not QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
            self.problem.emit(UserMessage("Folder not opened", f"The saved work is in {folder}.",
                                          "Open that folder in your file manager."))

    @Slot()
    def _on_apply_action_triggered(self) -> None:
        if self._session_id is not None:
            self.apply_requested.emit(self._session_id)

    @Slot()
    def _on_input_edit_return_pressed(self) -> None:
        if self._session_id is None:
            return
        text = self.input_edit.text()
        snapshot = self._manager.snapshot(self._session_id)
        try:
            if snapshot.running and not self.background_button.isChecked():
                if not self._manager.send_input(self._session_id, text):
                    return
            elif text.strip():
                self._manager.run_command(self._session_id, text.strip(),
                                          background=self.background_button.isChecked())
                self.background_button.setChecked(False)
            else:
                return
        except UserFacingError as exc:
            self.problem.emit(exc.message)
            return
        self.input_edit.clear()

    @Slot()
    def _on_extend_button_clicked(self) -> None:
        if self._session_id is not None:
            self._manager.request_extend(self._session_id)

    @Slot()
    def _on_end_button_clicked(self) -> None:
        if self._session_id is None:
            return
        snapshot = self._manager.snapshot(self._session_id)
        box = plain_box(QMessageBox.Icon.Question, "End Session",
                        f"End the session \u201c{snapshot.name}\u201d?",
                        QMessageBox.StandardButton.Cancel, self)
        end = box.addButton("End Session", QMessageBox.ButtonRole.DestructiveRole)
        set_informative(box, "Its sandbox is stopped, with every command still running in it.")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        session_id = self._session_id
        box.buttonClicked.connect(lambda button: button is end and self._manager.request_end(session_id))
        self.end_confirmation = box
        box.open()

    @Slot()
    def _on_error_button_clicked(self) -> None:
        if self._session_id is None:
            return
        error = self._manager.snapshot(self._session_id).error
        if error is None:
            return
        box = plain_box(QMessageBox.Icon.Warning, error.title, error.title, QMessageBox.StandardButton.Close, self)
        set_informative(box, error.text())
        if error.details:
            box.setDetailedText(error.details)
        add_settings_button(box, error, self.settings_requested.emit)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.error_box = box
        box.open()

    # -- Qt overrides -----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Ctrl+C in the input line stops the running command (unless text is selected: copy)."""
        if (watched is self.input_edit and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_C
                and event.modifiers() == Qt.KeyboardModifier.ControlModifier
                and not self.input_edit.hasSelectedText()):
            self.interrupt()
            return True
        return super().eventFilter(watched, event)
