"""The Terminal tab of a session: interactive shells in its sandbox, several per session."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.services.terminals import Terminal, TerminalService, TerminalState
from sesame_desktop.ui.terminal_view import TerminalView
from sesame_desktop.ui.url_opener import SafeUrlOpener


class TerminalTabs(QWidget):
    """One tab per terminal of the shown session, and a button that opens another."""

    def __init__(self, service: TerminalService, opener: SafeUrlOpener | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._opener = opener
        self._session_id: str | None = None
        self._tabs: dict[str, QTabWidget] = {}
        self._stack = QStackedWidget()
        self.hint = QLabel("Open a terminal to type commands in the session's sandbox.")
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._stack.addWidget(self.hint)
        self.new_button = QToolButton()
        self.new_button.setText("New Terminal")
        self.new_button.setToolTip("Open a shell in the session's project folder")
        self.new_button.clicked.connect(self._on_new_button_clicked)
        self.new_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack, 1)

    def show_session(self, session_id: str | None, ready: bool) -> None:
        """Show the terminals of ``session_id``; ``ready``: its sandbox takes commands."""
        self._session_id = session_id
        self.new_button.setEnabled(session_id is not None and ready)
        if session_id is None:
            self._stack.setCurrentWidget(self.hint)
            return
        tabs = self._tabs.get(session_id)
        if tabs is None:
            tabs = self._tabs[session_id] = QTabWidget()
            tabs.setTabsClosable(True)
            tabs.setDocumentMode(True)
            tabs.tabCloseRequested.connect(self._on_tabs_tab_close_requested)
            self._stack.addWidget(tabs)
        if tabs.cornerWidget(Qt.Corner.TopRightCorner) is not self.new_button:
            tabs.setCornerWidget(self.new_button, Qt.Corner.TopRightCorner)
        self.new_button.show()
        self._stack.setCurrentWidget(tabs)

    def current_view(self) -> TerminalView | None:
        tabs = self._tabs.get(self._session_id or "")
        widget = tabs.currentWidget() if tabs is not None else None
        return widget if isinstance(widget, TerminalView) else None

    def open_terminal(self) -> TerminalView | None:
        """Open a terminal in the shown session (what the New Terminal button does)."""
        if self._session_id is None:
            return None
        tabs = self._tabs[self._session_id]
        terminal = self._service.open(self._session_id)
        view = TerminalView(terminal, url_opener=self._opener)
        index = tabs.addTab(view, f"Terminal {tabs.count() + 1}")
        tabs.setCurrentIndex(index)
        terminal.state_changed.connect(self._on_terminal_state_changed)
        self._stack.setCurrentWidget(tabs)
        view.setFocus()
        return view

    def close_all(self) -> None:
        for tabs in self._tabs.values():
            for i in range(tabs.count()):
                widget = tabs.widget(i)
                if isinstance(widget, TerminalView):
                    widget.terminal.close()

    def _on_new_button_clicked(self) -> None:
        self.open_terminal()

    def _on_tabs_tab_close_requested(self, index: int) -> None:
        tabs = self.sender()
        if not isinstance(tabs, QTabWidget):
            return
        widget = tabs.widget(index)
        tabs.removeTab(index)
        if isinstance(widget, TerminalView):
            widget.terminal.close()
            widget.deleteLater()

    def _on_terminal_state_changed(self, state: TerminalState) -> None:
        terminal = self.sender()
        if not isinstance(terminal, Terminal) or not state.ended:
            return
        for tabs in self._tabs.values():
            for i in range(tabs.count()):
                widget = tabs.widget(i)
                if isinstance(widget, TerminalView) and widget.terminal is terminal:
                    label = tabs.tabText(i).split(" (", 1)[0]
                    tabs.setTabText(i, f"{label} (ended)")
                    if state.problem is not None:
                        tabs.setTabToolTip(i, f"{state.problem.explanation} {state.problem.next_step}")
                        widget.terminal.buffer.feed(
                            f"\r\n[{state.problem.title}: {state.problem.explanation}]\r\n".encode()
                        )
