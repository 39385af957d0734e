"""Small parts of the main window's frame: empty-state hints, titled panes, the welcome banner,
the watcher of its first paint.

Nothing here knows about sessions: these are what the first window shows before any
session (or the session workspace, :mod:`sesame_desktop.ui.workspace`) exists.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QWindow
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from sesame_desktop import APP_NAME
from sesame_desktop.ui.messages import plain_label


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
    """A view with a hint in front of it while it is empty.

    The view may come later (:meth:`set_view`): until then only the hint shows.
    """

    def __init__(self, hint: str, view: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.hint = EmptyHint(hint)
        self.addWidget(self.hint)
        self.view: QWidget | None = None
        self._empty = True
        if view is not None:
            self.set_view(view)

    def set_view(self, view: QWidget) -> None:
        """Put ``view`` behind the hint (shown once :meth:`set_empty` says it has something)."""
        self.view = view
        self.addWidget(view)
        self.updateGeometry()  # the view's minimum size is this one's now: layouts holding it must ask again
        self.set_empty(self._empty)

    def set_empty(self, empty: bool) -> None:
        self._empty = empty
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


def replace_tab(tabs: QTabWidget, old: QWidget, new: QWidget) -> None:
    """Put ``new`` where the page ``old`` is (same place, title and selection); ``old`` is deleted."""
    index = tabs.indexOf(old)
    current = tabs.currentIndex()
    title = tabs.tabText(index)
    tabs.removeTab(index)
    tabs.insertTab(index, new, title)
    tabs.setCurrentIndex(current)
    old.deleteLater()


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


class ExposeWatcher(QObject):
    """Emits ``painted`` on the next turn of the event loop after the window it watches is first
    exposed (Qt paints an exposed window before it returns to the loop).

    Signals:
        painted(): the window has been shown and painted once.
    """

    painted = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Expose and isinstance(watched, QWindow) and watched.isExposed():
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self.painted.emit)
        return False
