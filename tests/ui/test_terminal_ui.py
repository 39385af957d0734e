"""The Terminal tab: a real shell on a real PTY in the session's sandbox, driven by keystrokes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt

from sesame_desktop.core.sessions import SessionState
from tests.ui.test_e2b_sessions_ui import set_key_in_settings, start_e2b_session
from tests.ui.test_sessions_ui import start_session, state_of


@pytest.fixture(params=["local", "e2b"])
def session(request, make_window, qtbot):
    """A window with one idle session on an empty project, on each provider."""
    if request.param == "e2b":
        request.getfixturevalue("real_keyring")
        server = request.getfixturevalue("e2b_env")
        window = make_window()
        set_key_in_settings(window, qtbot, server.api_key)
        session_id = start_e2b_session(window, qtbot, empty=True)
    else:
        window = make_window()
        session_id = start_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    qtbot.waitUntil(lambda: window.file_panel.model is not None)
    return window, session_id


def screen_text(view) -> str:
    buffer = view.terminal.buffer
    return "\n".join(buffer.line(i).text for i in range(len(buffer)))


def rows(model, parent=QModelIndex()) -> list[str]:
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def test_vim_in_the_terminal_tab_saves_a_file_the_files_tab_shows(session, qtbot):
    window, _session_id = session
    panel = window.session_panel
    panel.views.setCurrentWidget(panel.terminals)
    assert panel.terminals.new_button.isEnabled()
    panel.terminals.new_button.click()
    view = panel.terminals.current_view()
    assert view is not None
    terminal = view.terminal
    qtbot.waitUntil(lambda: terminal.state.running, timeout=60_000)
    qtbot.waitUntil(lambda: "project" in screen_text(view), timeout=60_000)  # the prompt

    qtbot.keyClicks(view, "vim notes.txt")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: terminal.buffer.modes.alternate, timeout=60_000)
    qtbot.waitUntil(lambda: "notes.txt" in screen_text(view), timeout=60_000)
    qtbot.keyClick(view, Qt.Key.Key_I)
    qtbot.waitUntil(lambda: "INSERT" in screen_text(view), timeout=60_000)
    qtbot.keyClicks(view, "hello from vim")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.keyClicks(view, "second line")
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: "INSERT" not in screen_text(view), timeout=60_000)
    qtbot.keyClicks(view, ":wq")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not terminal.buffer.modes.alternate, timeout=60_000)

    model = window.file_panel.model
    qtbot.waitUntil(lambda: "notes.txt" in rows(model), timeout=60_000)

    qtbot.keyClicks(view, "cat notes.txt")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "hello from vim\nsecond line" in screen_text(view), timeout=60_000)

    # Ctrl+C reaches the shell (a running command is interrupted), Ctrl+D ends it
    qtbot.keyClicks(view, "sleep 600")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "^C" in screen_text(view), timeout=60_000)
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: terminal.state.ended, timeout=60_000)
