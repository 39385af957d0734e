"""The console's find bar: a search field, previous/next, a match count and close."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)


class FindBar(QFrame):
    """A small bar floating over the console's top-right corner.

    Signals:
        search_changed(str): The search text changed (empty: nothing to find).
        next_requested(): Go to the next match (Enter, F3, the "next" button).
        previous_requested(): Go to the previous match (Shift+Enter, Shift+F3, "previous").
        closed(): The bar was closed (Escape or the close button).
    """

    search_changed = Signal(str)
    next_requested = Signal()
    previous_requested = Signal()
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consoleFindBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("Find")
        self.field.setClearButtonEnabled(True)
        self.field.setMinimumWidth(180)
        self.count_label = QLabel("", self)
        self.count_label.setMinimumWidth(80)
        self.previous_button = self._button("▲", "Previous match (Shift+Enter)")
        self.next_button = self._button("▼", "Next match (Enter)")
        self.close_button = self._button("✕", "Close (Escape)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 3, 3)
        layout.setSpacing(3)
        for widget in (
            self.field,
            self.count_label,
            self.previous_button,
            self.next_button,
            self.close_button,
        ):
            layout.addWidget(widget)
        self.field.textChanged.connect(self._on_field_text_changed)
        self.field.returnPressed.connect(self.next_requested)
        self.previous_button.clicked.connect(self.previous_requested)
        self.next_button.clicked.connect(self.next_requested)
        self.close_button.clicked.connect(self.close_bar)
        self.field.installEventFilter(self)

    def _button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    def open_bar(self, text: str = "") -> None:
        """Show the bar with ``text`` (if any) selected in the field, ready to type."""
        if text:
            self.field.setText(text)
        self.show()
        self.raise_()
        self.field.setFocus()
        self.field.selectAll()

    def close_bar(self) -> None:
        """Hide the bar and tell the console (which drops its highlights)."""
        self.hide()
        self.closed.emit()

    def set_count(self, current: int, total: int) -> None:
        """Show "current of total" (``current`` 0: no current match)."""
        if not self.field.text():
            self.count_label.setText("")
        elif total == 0:
            self.count_label.setText("No results")
        elif current:
            self.count_label.setText(f"{current} of {total}")
        else:
            self.count_label.setText(f"{total} found")

    def _on_field_text_changed(self, text: str) -> None:
        self.search_changed.emit(text)

    def eventFilter(self, watched: object, event: object) -> bool:  # noqa: N802 (Qt override)
        if (
            watched is self.field
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
        ):
            key = event.key()
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and shift:
                self.previous_requested.emit()
                return True
            if key == Qt.Key.Key_F3:
                (self.previous_requested if shift else self.next_requested).emit()
                return True
        return super().eventFilter(watched, event)
