"""The selected session: its header (state, progress, End Session), console and input line."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.sessions import SessionSnapshot, SessionState
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.terminals import TerminalService
from sesame_desktop.ui.console import ConsoleView
from sesame_desktop.ui.provider_notes import full_rights_label
from sesame_desktop.ui.terminal_tab import TerminalTabs
from sesame_desktop.ui.url_opener import SafeUrlOpener

log = logging.getLogger(__name__)


class SessionPanel(QWidget):
    """Shows one session at a time; switching sessions swaps the console's buffer.

    Signals:
        problem(UserMessage): something the user asked for could not be done.
    """

    problem = Signal(object)

    def __init__(self, manager: SessionManager, opener: SafeUrlOpener | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._session_id: str | None = None
        self.end_confirmation: QMessageBox | None = None
        self.error_box: QMessageBox | None = None

        self.title_label = QLabel()
        self.title_label.setObjectName("sessionTitle")
        self.state_label = QLabel()
        self.state_label.setObjectName("sessionState")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.step_label = QLabel()
        self.step_label.setStyleSheet("color: palette(mid);")
        self.error_button = QPushButton("Show Error…")
        self.error_button.clicked.connect(self._on_error_button_clicked)
        self.extend_button = QPushButton("Extend")
        self.extend_button.setToolTip("Give the sandbox its full lifetime again, from now")
        self.extend_button.clicked.connect(self._on_extend_button_clicked)
        self.end_button = QPushButton("End Session")
        self.end_button.clicked.connect(self._on_end_button_clicked)
        header = QHBoxLayout()
        header.addWidget(self.title_label)
        header.addWidget(self.state_label)
        header.addWidget(self.busy_bar)
        header.addWidget(self.step_label, 1)
        header.addWidget(self.error_button)
        header.addWidget(self.extend_button)
        header.addWidget(self.end_button)

        self.console = ConsoleView(url_opener=opener)
        # the Terminal tab: interactive shells in the session's sandbox (ui/terminal_tab.py)
        self.terminals = TerminalTabs(TerminalService(manager, self), opener)
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
        manager.session_changed.connect(self._on_manager_session_changed)
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
                           self.background_button):
                widget.setEnabled(False)
            self.error_button.hide()
            self.extend_button.hide()
            self.rights_label.hide()
            return
        sandbox = self._manager.sandbox(snapshot.id)
        self.rights_label.setVisible(sandbox is not None and sandbox.full_rights and snapshot.state.open)
        self.title_label.setText(f"<b>{snapshot.name}</b>")
        self.state_label.setText(snapshot.state.label)
        self.busy_bar.setVisible(snapshot.state.busy or bool(snapshot.running and not snapshot.step))
        self.step_label.setText(snapshot.step or (f"running: {snapshot.running}" if snapshot.running else ""))
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
            else "Run a command in the project folder (Enter)" if accepts
            else f"The session is {snapshot.state.value}")

    # -- slots ------------------------------------------------------------------------------

    @Slot(object)
    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        if snapshot.id == self._session_id:
            self._refresh(snapshot)
            self.terminals.show_session(snapshot.id, snapshot.state.accepts_commands)

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
        box = QMessageBox(QMessageBox.Icon.Question, "End Session",
                          f"End the session \u201c{snapshot.name}\u201d?",
                          QMessageBox.StandardButton.Cancel, self)
        end = box.addButton("End Session", QMessageBox.ButtonRole.DestructiveRole)
        box.setInformativeText("Its sandbox is stopped, with every command still running in it.")
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
        box = QMessageBox(QMessageBox.Icon.Warning, error.title, error.title, QMessageBox.StandardButton.Close, self)
        box.setInformativeText(error.text())
        if error.details:
            box.setDetailedText(error.details)
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
