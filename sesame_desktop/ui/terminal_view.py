"""An interactive terminal: the console's painter over a PTY's screen, with the keyboard.

:class:`TerminalView` is a :class:`~sesame_desktop.ui.console.ConsoleView` (same painting,
selection, find, links and scrollback) that shows a :class:`~sesame_desktop.services.terminals.Terminal`'s
screen, sends keystrokes to its shell (Ctrl keys, arrows, function keys, bracketed paste, the
mouse wheel), follows the window's size and draws the cursor.

Copy and paste are Ctrl+Shift+C / Ctrl+Shift+V (Ctrl+C goes to the shell, as in terminals).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from sesame_desktop.services.terminals import Terminal
from sesame_desktop.ui.console import MARGIN, ConsoleView
from sesame_desktop.ui.url_opener import SafeUrlOpener

K = Qt.Key
_CSI_KEYS = {
    K.Key_Up: "A", K.Key_Down: "B", K.Key_Right: "C", K.Key_Left: "D",
    K.Key_Home: "H", K.Key_End: "F",
}
_TILDE_KEYS = {
    K.Key_Insert: 2, K.Key_Delete: 3, K.Key_PageUp: 5, K.Key_PageDown: 6,
    K.Key_F5: 15, K.Key_F6: 17, K.Key_F7: 18, K.Key_F8: 19, K.Key_F9: 20, K.Key_F10: 21,
    K.Key_F11: 23, K.Key_F12: 24,
}
_SS3_KEYS = {K.Key_F1: "P", K.Key_F2: "Q", K.Key_F3: "R", K.Key_F4: "S"}
_SIMPLE_KEYS = {
    K.Key_Return: b"\r", K.Key_Enter: b"\r", K.Key_Backspace: b"\x7f", K.Key_Tab: b"\t",
    K.Key_Backtab: b"\x1b[Z", K.Key_Escape: b"\x1b",
}
RESIZE_DELAY_MS = 60


def key_bytes(event: QKeyEvent, app_cursor: bool) -> bytes:
    """What a terminal sends for a key press (xterm's encoding); empty when nothing."""
    key = event.key()
    mods = event.modifiers()
    shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
    alt = bool(mods & Qt.KeyboardModifier.AltModifier)
    ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
    code = 1 + shift + 2 * alt + 4 * ctrl  # xterm's modifier parameter
    if key in _CSI_KEYS:
        final = _CSI_KEYS[key]
        if code > 1:
            return f"\x1b[1;{code}{final}".encode()
        return f"\x1b{'O' if app_cursor else '['}{final}".encode()
    if key in _TILDE_KEYS:
        n = _TILDE_KEYS[key]
        return f"\x1b[{n};{code}~".encode() if code > 1 else f"\x1b[{n}~".encode()
    if key in _SS3_KEYS:
        return f"\x1b[1;{code}{_SS3_KEYS[key]}".encode() if code > 1 else f"\x1bO{_SS3_KEYS[key]}".encode()
    if key in _SIMPLE_KEYS and not (ctrl and key not in (K.Key_Backspace,)):
        data = _SIMPLE_KEYS[key]
        if key == K.Key_Backspace and ctrl:
            data = b"\x08"
        return b"\x1b" + data if alt and key != K.Key_Escape else data
    if ctrl and not alt:
        if K.Key_A <= key <= K.Key_Z:
            return bytes([key - K.Key_A + 1])
        specials = {K.Key_Space: b"\x00", K.Key_At: b"\x00", K.Key_BracketLeft: b"\x1b",
                    K.Key_Backslash: b"\x1c", K.Key_BracketRight: b"\x1d",
                    K.Key_AsciiCircum: b"\x1e", K.Key_Underscore: b"\x1f", K.Key_Question: b"\x7f"}
        if key in specials:
            return specials[key]
    text = event.text()
    if not text or (ctrl and not text.isprintable()):
        return text.encode() if text and ctrl else b""
    data = text.encode()
    return b"\x1b" + data if alt else data


class TerminalView(ConsoleView):
    """Shows a terminal's screen and sends what the user types to its shell."""

    def __init__(self, terminal: Terminal, parent: QWidget | None = None,
                 url_opener: SafeUrlOpener | None = None) -> None:
        super().__init__(parent, url_opener=url_opener)
        self.terminal = terminal
        self.set_wrapping(False)
        self.set_buffer(terminal.buffer)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(RESIZE_DELAY_MS)
        self._resize_timer.timeout.connect(self._on_resize_timer_timeout)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, True)

    # -- input -----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Send bytes to the shell and show the live screen again."""
        if data:
            self.terminal.send(data)
            if not self.following:
                self.scroll_to_end()

    def paste(self, text: str | None = None) -> None:
        """Paste ``text`` (default: the clipboard), bracketed when the program asked for it."""
        text = QGuiApplication.clipboard().text() if text is None else text
        if not text:
            return
        text = text.replace("\r\n", "\r").replace("\n", "\r").replace("\x1b", "")
        if self.terminal.buffer.modes.bracketed_paste:
            text = f"\x1b[200~{text}\x1b[201~"
        self.send(text.encode())

    # -- geometry --------------------------------------------------------------------------

    def screen_size(self) -> tuple[int, int]:
        """Columns and rows that fit in the view."""
        fonts = self._fonts
        columns = int((self.viewport().width() - 2 * MARGIN) // fonts.char_width)
        rows = int(self.viewport().height() // fonts.line_height)
        return max(10, columns), max(3, rows)

    def _on_resize_timer_timeout(self) -> None:
        if not self.isVisible():  # a hidden tab has no size worth telling the shell
            return
        columns, rows = self.screen_size()
        screen = self.terminal.buffer.vt
        if (columns, rows) != (screen.columns, screen.lines):
            self.terminal.resize(columns, rows)

    # -- Qt overrides ------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:  # noqa: N802 - Tab and Backtab belong to the shell
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (K.Key_Tab, K.Key_Backtab):
                self.keyPressEvent(event)
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        mods = event.modifiers()
        ctrl_shift = (mods & Qt.KeyboardModifier.ControlModifier) and (
            mods & Qt.KeyboardModifier.ShiftModifier
        )
        key = event.key()
        if ctrl_shift and key == K.Key_C:
            self.copy()
        elif ctrl_shift and key == K.Key_V:
            self.paste()
        elif ctrl_shift and key == K.Key_F:
            self.open_find()
        elif mods & Qt.KeyboardModifier.ShiftModifier and key in (K.Key_PageUp, K.Key_PageDown):
            page = max(1, self._model.rows - 1)
            self._scroll_rows(-page if key == K.Key_PageUp else page)
        elif event.matches(QKeySequence.StandardKey.Paste) and key == K.Key_Insert:
            self.paste()
        else:
            data = key_bytes(event, self.terminal.buffer.modes.app_cursor)
            if data:
                self.send(data)
            else:
                super().keyPressEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002
        return False  # Tab goes to the shell

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        modes = self.terminal.buffer.modes
        steps = int(event.angleDelta().y() / 120)
        if not steps or not modes.alternate:
            super().wheelEvent(event)  # the main screen: scroll back through the output
            return
        if modes.mouse:
            pos = event.position()
            col = int((pos.x() - MARGIN) // self._fonts.char_width) + 1
            row = int(pos.y() // self._fonts.line_height) + 1
            button = 64 if steps > 0 else 65
            report = (f"\x1b[<{button};{col};{row}M".encode() if modes.mouse_sgr
                      else b"\x1b[M" + bytes([32 + button, 32 + min(col, 223), 32 + min(row, 223)]))
            self.send(report * abs(steps))
        else:  # programs on the alternate screen without mouse reporting: arrow keys (as VTE)
            arrow = ("A" if steps > 0 else "B")
            prefix = "\x1bO" if modes.app_cursor else "\x1b["
            self.send(f"{prefix}{arrow}".encode() * (3 * abs(steps)))
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._resize_timer.start()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        buffer = self.terminal.buffer
        if not buffer.modes.cursor_visible:
            return
        line, column = buffer.cursor
        number = buffer.evicted + line
        for row_line, start, end, base, y in self._rows_on_screen:
            if row_line == number:
                fonts = self._fonts
                x = MARGIN + (column - base) * fonts.char_width
                rect = QRectF(QPointF(x, y), QPointF(x + fonts.char_width, y + fonts.line_height))
                painter = QPainter(self.viewport())
                colour = self._theme.default_foreground("stdout")
                if self.hasFocus():
                    colour.setAlpha(140)
                    painter.fillRect(rect, colour)
                else:
                    painter.setPen(colour)
                    painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
                painter.end()
                break
