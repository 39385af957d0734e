"""What the Terminal tab sends for keys (xterm's encoding)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent

from sesame_desktop.ui.terminal_view import key_bytes

K = Qt.Key
M = Qt.KeyboardModifier


def press(key: Qt.Key, mods: Qt.KeyboardModifier = M.NoModifier, text: str = "") -> QKeyEvent:
    return QKeyEvent(QEvent.Type.KeyPress, key, mods, text)


@pytest.mark.parametrize(
    ("event", "app_cursor", "expected"),
    [
        (press(K.Key_A, text="a"), False, b"a"),
        (press(K.Key_C, M.ControlModifier, "\x03"), False, b"\x03"),
        (press(K.Key_D, M.ControlModifier), False, b"\x04"),
        (press(K.Key_BracketLeft, M.ControlModifier), False, b"\x1b"),
        (press(K.Key_Up), False, b"\x1b[A"),
        (press(K.Key_Up), True, b"\x1bOA"),
        (press(K.Key_Left, M.ControlModifier), False, b"\x1b[1;5D"),
        (press(K.Key_Home), False, b"\x1b[H"),
        (press(K.Key_PageDown), False, b"\x1b[6~"),
        (press(K.Key_Delete), False, b"\x1b[3~"),
        (press(K.Key_F1), False, b"\x1bOP"),
        (press(K.Key_F5), False, b"\x1b[15~"),
        (press(K.Key_F12, M.ShiftModifier), False, b"\x1b[24;2~"),
        (press(K.Key_Return, text="\r"), False, b"\r"),
        (press(K.Key_Backspace, text="\x08"), False, b"\x7f"),
        (press(K.Key_Tab, text="\t"), False, b"\t"),
        (press(K.Key_Escape, text="\x1b"), False, b"\x1b"),
        (press(K.Key_X, M.AltModifier, "x"), False, b"\x1bx"),
        (press(K.Key_unknown, text="中"), False, "中".encode()),
    ],
)
def test_keys_encode_as_xterm_does(qapp, event, app_cursor, expected):
    assert key_bytes(event, app_cursor) == expected


def _queued(terminal) -> list[bytes]:
    items = []
    while not terminal._queue.empty():
        items.append(terminal._queue.get_nowait())
    return items


@pytest.fixture
def view(qtbot):
    from sesame_desktop.services.terminals import Terminal
    from sesame_desktop.ui.terminal_view import TerminalView

    terminal = Terminal("t1", "s1", 80, 24)  # not started: what the view sends stays queued
    widget = TerminalView(terminal)
    qtbot.addWidget(widget)
    widget.resize(600, 300)
    widget.show()
    qtbot.waitExposed(widget)
    _queued(terminal)  # the first resize
    return widget


def test_paste_is_bracketed_only_when_the_program_asks_and_loses_escapes(view):
    view.paste("one\ntwo\x1b[31m")
    assert _queued(view.terminal) == [b"one\rtwo[31m"]
    view.terminal.buffer.feed(b"\x1b[?2004h")
    view.paste("x\ny")
    assert _queued(view.terminal) == [b"\x1b[200~x\ry\x1b[201~"]


def test_wheel_on_the_alternate_screen_scrolls_the_program(qtbot, view):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    def wheel(delta: int) -> None:
        event = QWheelEvent(QPointF(20, 20), QPointF(view.mapToGlobal(QPoint(20, 20))), QPoint(0, 0),
                            QPoint(0, delta), Qt.MouseButton.NoButton, M.NoModifier,
                            Qt.ScrollPhase.NoScrollPhase, False)
        view.wheelEvent(event)

    view.terminal.buffer.feed(b"\x1b[?1049h")  # less, vim... without mouse reporting
    wheel(-120)
    assert _queued(view.terminal) == [b"\x1b[B\x1b[B\x1b[B"]
    view.terminal.buffer.feed(b"\x1b[?1000h\x1b[?1006h")  # with SGR mouse reporting
    wheel(120)
    (report,) = _queued(view.terminal)
    assert report.startswith(b"\x1b[<64;") and report.endswith(b"M")
