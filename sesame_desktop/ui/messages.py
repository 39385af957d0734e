"""Non-modal messages: errors and notices that never block the window."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from sesame_desktop.core.errors import UserFacingError, UserMessage, caused_by_cancel
from sesame_desktop.core.logs import scrub

log = logging.getLogger(__name__)

MAX_OPEN_MESSAGES = 3


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that shows ``text`` as it is: never rich text, so never a link or an image.

    Every label that may show text from a sandbox or a remote (file names, git's messages,
    session names, errors) is made here.
    """
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def plain_box(icon: QMessageBox.Icon, title: str, text: str,
              buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
              parent: QWidget | None = None) -> QMessageBox:
    """A message box whose text, informative text and details are all plain text."""
    box = QMessageBox(icon, plain_title(title), "", buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    _no_links(box)
    return box


def set_informative(box: QMessageBox, text: str) -> None:
    """Set a box's informative text as plain text (Qt only applies the format it already has)."""
    box.setInformativeText(text)
    box.setTextFormat(Qt.TextFormat.PlainText)
    _no_links(box)


def _no_links(box: QMessageBox) -> None:
    for label in box.findChildren(QLabel):
        label.setOpenExternalLinks(False)


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` as it is (Qt takes a tooltip with a tag in it for rich text)."""
    if "<" not in text and "&" not in text:
        return text
    import html  # here: the first window is shown before it is needed

    return "<p style='white-space:pre-wrap'>" + html.escape(text) + "</p>"


def plain_title(text: str) -> str:
    """A window title: one line, no control characters."""
    return "".join(ch if ch.isprintable() else " " for ch in text)[:200]


def unexpected_error_message(exc: BaseException) -> UserMessage:
    """The message for an exception nobody expected: plain words, details for a bug report."""
    details = scrub("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return UserMessage(
        title="Something went wrong",
        explanation="Sesame Desktop hit an unexpected problem. Your sessions keep running.",
        next_step="If it happens again, the details below and the log file (Help ▸ Open Log "
        "Folder) help to find the cause.",
        details=details,
    )


class MessageCenter(QObject):
    """Shows :class:`UserMessage`s as non-modal message boxes over a parent window.

    At most ``MAX_OPEN_MESSAGES`` are open at once; the same message is not shown twice while
    it is still open (an error in a repaint would otherwise open a box per frame).

    Signals:
        shown(UserMessage): a message box was opened (tests and the status bar listen).
    """

    shown = Signal(object)

    def __init__(self, parent_window: QWidget | None = None) -> None:
        super().__init__(parent_window)
        self._window = parent_window
        #: opens the Settings dialog; messages whose fix is there get an Open Settings button
        self.open_settings: Callable[[], object] | None = None
        self._open: dict[tuple[str, str], QMessageBox] = {}

    @property
    def open_boxes(self) -> list[QMessageBox]:
        return list(self._open.values())

    @Slot(object)
    def show_message(self, message: UserMessage, *, icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> None:
        key = (message.title, message.explanation)
        if key in self._open or len(self._open) >= MAX_OPEN_MESSAGES:
            log.info("message not shown again: %s", message.title)
            return
        box = plain_box(icon, message.title, message.title, QMessageBox.StandardButton.Ok, self._window)
        set_informative(box, message.text())
        if message.details:
            box.setDetailedText(message.details)
        add_settings_button(box, message, self.open_settings)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result, k=key: self._open.pop(k, None))
        self._open[key] = box
        box.show()
        self.shown.emit(message)

    @Slot(object)
    def show_notice(self, message: UserMessage) -> None:
        self.show_message(message, icon=QMessageBox.Icon.Information)

    def show_exception(self, exc: BaseException) -> None:
        if caused_by_cancel(exc):  # a cancellation the app asked for is not an error
            log.info("not shown: %s came from a cancellation", type(exc).__name__)
            return
        if isinstance(exc, UserFacingError):
            self.show_message(exc.message)
        else:
            self.show_message(unexpected_error_message(exc))

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        """For ``sys.excepthook``: log the exception, show it, keep running."""
        if issubclass(exc_type, KeyboardInterrupt):
            return
        log.error("unhandled exception", exc_info=(exc_type, exc, tb))
        self.show_exception(exc.with_traceback(tb) if tb else exc)

    def loop_exception_handler(self, loop: object, context: dict) -> None:
        """For ``loop.set_exception_handler``: the same for errors inside asyncio callbacks."""
        exc = context.get("exception")
        log.error("asyncio: %s", context.get("message", "error"), exc_info=exc)
        if exc is not None and not isinstance(exc, (ConnectionResetError, BrokenPipeError)):
            self.show_exception(exc)


def add_settings_button(box: QMessageBox, message: UserMessage, open_settings: Callable[[], object] | None) -> None:
    """An *Open Settings…* button on ``box`` when ``message``'s fix is in Settings."""
    if not message.fix_in_settings or open_settings is None:
        return
    button = box.addButton("Open Settings…", QMessageBox.ButtonRole.AcceptRole)
    button.setObjectName("openSettingsButton")
    button.clicked.connect(lambda: open_settings())
