"""The toolbar and the session list's context menu act on the selected session (real widgets)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from sesame_desktop.core.sessions import SessionState
from tests.ui.test_sessions_ui import start_session, state_of, type_command


def test_the_toolbar_starts_a_session_and_follows_the_selected_one(make_window, qtbot):
    window = make_window()
    actions = window.session_actions
    assert window.toolbar.actions()[0] is window.new_session_action
    assert not any(action.isVisible() for action in actions.all())  # no session: nothing to act on
    window.new_session_action.trigger()
    assert window.new_session_dialog is not None and window.new_session_dialog.isVisible()
    window.new_session_dialog.reject()
    session_id = start_session(window, qtbot, empty=True, task="true")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    assert actions.end.isVisible() and actions.end.isEnabled()
    assert actions.stop.isVisible() and not actions.stop.isEnabled()
    assert not actions.resume.isVisible() and not actions.retry.isVisible()

    type_command(window, qtbot, "sleep 30")
    qtbot.waitUntil(actions.stop.isEnabled, timeout=30_000)
    actions.stop.trigger()
    qtbot.waitUntil(lambda: not window._sessions.snapshot(session_id).running, timeout=30_000)
    assert not actions.stop.isEnabled()

    actions.end.trigger()
    box = window.session_panel.end_confirmation
    assert box is not None and box.isVisible()
    box.reject()


def test_every_session_action_has_a_keyboard_shortcut_or_a_menu(make_window):
    window = make_window()
    actions = window.session_actions
    assert window.new_session_action.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    assert not actions.stop.shortcut().isEmpty() and not actions.end.shortcut().isEmpty()
    for action in actions.all():
        assert action in window.actions()  # reachable from anywhere in the window


def test_the_session_list_context_menu_offers_that_sessions_actions(make_window, qtbot):
    window = make_window()
    first = start_session(window, qtbot, empty=True, task="true")
    second = start_session(window, qtbot, empty=True, task="true")
    for session_id in (first, second):
        qtbot.waitUntil(lambda sid=session_id: state_of(window, sid) is SessionState.IDLE, timeout=30_000)
    assert window.session_panel.session_id == second
    menu = window.session_menu.build(window.session_model.index(window.session_model.row_of(first)))
    assert menu is not None
    assert window.session_panel.session_id == first  # right-clicking a session selects it
    texts = [action.text() for action in menu.actions() if not action.isSeparator()]
    assert "End Session" in texts and "Rename…" in texts and "Duplicate" in texts
    assert "Resume" not in texts  # only what this session can do now
    menu.close()
    menu.deleteLater()
    assert window.session_menu.build(window.session_model.index(99)) is None
    window.session_list.setFocus()
    qtbot.keyClick(window.session_list, Qt.Key.Key_Down)
    assert window.session_panel.session_id == second


def test_the_status_bar_names_the_selected_sessions_provider(make_window, qtbot):
    window = make_window(environ={"SANDBOX_PROVIDER": "e2b"})
    assert window.provider_label.text() == "Provider: E2B (SANDBOX_PROVIDER)"
    session_id = start_session(window, qtbot, empty=True, task="true")  # the dialog picks Local
    qtbot.waitUntil(lambda: window.session_panel.session_id == session_id)
    assert window.provider_label.text() == "Session provider: Local"
    assert "E2B" in window.provider_label.toolTip()
