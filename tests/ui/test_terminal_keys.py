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
