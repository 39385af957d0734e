"""The Terminal tab: a real shell on a real PTY in the session's sandbox, driven by keystrokes."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from tests.ui.test_files_ui import session  # noqa: F401 - the fixture: an idle session on each provider


def screen_text(view) -> str:
    buffer = view.terminal.buffer
    return "\n".join(buffer.line(i).text for i in range(len(buffer)))


def at_prompt(view) -> bool:
    """The shell waits for a command (its prompt ends the last line that shows anything)."""
    shown = [line for line in screen_text(view).splitlines() if line.strip()]
    return bool(shown) and shown[-1].rstrip().endswith(("#", "$"))


def wait(qtbot, view, condition) -> None:
    """Wait for ``condition``; on a timeout, say what the terminal shows."""
    try:
        qtbot.waitUntil(condition, timeout=60_000)
    except Exception:  # noqa: BLE001 - re-raised with the screen
        raise AssertionError(f"terminal shows:\n{screen_text(view)}\nstate {view.terminal.state}") from None


def rows(model, parent=QModelIndex()) -> list[str]:
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def test_vim_in_the_terminal_tab_saves_a_file_the_files_tab_shows(session, qtbot):  # noqa: F811
    window, _session_id = session
    window.show()
    qtbot.waitExposed(window)
    panel = window.session_panel
    panel.views.setCurrentWidget(panel.terminals)
    assert panel.terminals.new_button.isEnabled()
    panel.terminals.new_button.click()
    view = panel.terminals.current_view()
    assert view is not None
    terminal = view.terminal
    wait(qtbot, view, lambda: terminal.state.running)
    wait(qtbot, view, lambda: "project" in screen_text(view))  # the prompt
    wait(qtbot, view, lambda: terminal.buffer.vt.columns >= 40)  # the view's size

    wait(qtbot, view, lambda: at_prompt(view))
    qtbot.keyClicks(view, "vim notes.txt")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    wait(qtbot, view, lambda: terminal.buffer.modes.alternate)
    wait(qtbot, view, lambda: "\n~" in screen_text(view))  # vim drew its empty buffer
    qtbot.keyClick(view, Qt.Key.Key_I)
    wait(qtbot, view, lambda: "INSERT" in screen_text(view))
    qtbot.keyClicks(view, "hello from vim")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.keyClicks(view, "second line")
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    wait(qtbot, view, lambda: "INSERT" not in screen_text(view))
    qtbot.keyClicks(view, ":wq")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    wait(qtbot, view, lambda: not terminal.buffer.modes.alternate)

    model = window.file_panel.model
    wait(qtbot, view, lambda: "notes.txt" in rows(model))

    wait(qtbot, view, lambda: at_prompt(view))
    qtbot.keyClicks(view, "cat notes.txt")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    wait(qtbot, view, lambda: "hello from vim\nsecond line" in screen_text(view))

    # Ctrl+C reaches the shell (a running command is interrupted), Ctrl+D ends it
    wait(qtbot, view, lambda: at_prompt(view))
    qtbot.keyClicks(view, "echo sleeping; sleep 600")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    wait(qtbot, view, lambda: "\nsleeping" in screen_text(view))  # sleep runs in the foreground
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    wait(qtbot, view, lambda: "^C" in screen_text(view))
    # the next prompt first (an interrupt flushes what was typed before the shell got it)
    wait(qtbot, view, lambda: at_prompt(view))
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    wait(qtbot, view, lambda: terminal.state.ended)
