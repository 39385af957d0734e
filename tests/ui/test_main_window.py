"""The main window: layout, menus and shortcuts, the welcome, errors that never stop the app."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

from sesame_desktop.ui.main_window import NO_SESSIONS_HINT, SESSIONS_LOADING_HINT, MainWindow
from sesame_desktop.ui.settings_dialog import SettingsDialog


def menu_texts(window) -> dict[str, list[str]]:
    return {
        menu.title().replace("&", ""): [a.text().replace("&", "") for a in menu.actions() if a.text()]
        for menu in (action.menu() for action in window.menuBar().actions())
    }


def test_layout_menus_and_shortcuts(make_window):
    window = make_window()
    assert menu_texts(window) == {
        "File": ["New Session…", "Settings…", "Quit"],
        "Help": ["Open Log Folder", "About Sesame Desktop"],
    }
    assert window.new_session_action.shortcut() == QKeySequence("Ctrl+N")
    assert window.settings_action.shortcut() == QKeySequence("Ctrl+,")
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    for view in (window.sessions_view, window.console_view, window.files_view, window.ports_view):
        assert view.currentWidget() is view.hint and view.hint.text()
    assert window.sessions_view.hint.text() == NO_SESSIONS_HINT
    assert window.provider_label.text() == "Provider: Local"
    assert window.key_label.text() == "E2B key: no secure keyring"


def test_the_first_frame_claims_no_empty_session_list_before_the_sessions_are_read(qtbot, tmp_path):
    """The window shows before the saved sessions are read: its list says it is loading them,
    not that there are none, until the app says they are known."""
    window = MainWindow.frame(tmp_path)
    qtbot.addWidget(window)
    assert window.sessions_view.currentWidget() is window.sessions_view.hint
    assert window.sessions_view.hint.text() == SESSIONS_LOADING_HINT
    window.sessions_known()
    assert window.sessions_view.hint.text() == NO_SESSIONS_HINT


def test_settings_shortcut_opens_the_dialog(make_window, qtbot):
    window = make_window()
    window.activateWindow()
    window.settings_action.trigger()
    dialog = window.settings_dialog
    assert isinstance(dialog, SettingsDialog) and dialog.isVisible()
    assert window.open_settings() is dialog  # a second request raises the same dialog
    dialog.reject()


def test_first_start_welcome_then_dismissed_for_good(make_window, qtbot):
    window = make_window()
    assert window.welcome.isVisible()
    window.welcome.settings_button.click()
    assert window.settings_dialog is not None and window.settings_dialog.isVisible()
    window.settings_dialog.reject()
    window.welcome.dismiss_button.click()
    assert not window.welcome.isVisible()
    qtbot.waitUntil(lambda: not window._tasks.tasks)
    second = make_window()
    assert not second.welcome.isVisible()


def test_no_welcome_when_a_key_is_set(make_window):
    window = make_window(environ={"E2B_API_KEY": "e2b_0123456789"})
    assert not window.welcome.isVisible()
    assert window.key_label.text() == "E2B key: set (E2B_API_KEY)"


def test_environment_provider_shows_in_status_bar(make_window):
    window = make_window(environ={"SANDBOX_PROVIDER": "e2b"})
    assert window.provider_label.text() == "Provider: E2B (SANDBOX_PROVIDER)"


def test_bad_config_file_is_reported_and_the_app_runs_on_defaults(make_window, qtbot, app_paths):
    window = make_window(config={"sandboxProvider": {"type": "vm", "e2b": {"timeout": "-1"}}})
    (box,) = window.messages.open_boxes
    assert box.text() == "Some settings were ignored"
    assert str(app_paths.config_file) in box.informativeText()
    assert "unknown provider 'vm'" in box.informativeText()
    assert "at least 1000" in box.informativeText()
    assert box.windowModality().name == "NonModal"
    assert window.provider_label.text() == "Provider: Local"


def test_quit_and_close_ask_the_app(make_window, qtbot):
    window = make_window()
    window._closing_allowed = False
    with qtbot.waitSignal(window.quit_requested):
        window.close()
    assert window.isVisible()
    with qtbot.waitSignal(window.quit_requested):
        window.quit_action.trigger()
    window.allow_close()


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_slot_is_logged_shown_and_the_app_keeps_running(make_window, qtbot, caplog):
    window = make_window()
    sys.excepthook = window.messages.excepthook
    try:
        def broken_slot():
            raise RuntimeError("boom in a slot")

        with qtbot.waitSignal(window.messages.shown) as shown:
            QTimer.singleShot(0, broken_slot)
    finally:
        sys.excepthook = sys.__excepthook__
    assert shown.args[0].title == "Something went wrong"
    assert "boom in a slot" in shown.args[0].details
    assert "unhandled exception" in caplog.text
    box = window.messages.open_boxes[-1]
    assert box.isVisible() and not box.isModal()
    window.settings_action.trigger()  # still responsive
    assert window.settings_dialog.isVisible()
    window.settings_dialog.reject()


def test_exception_in_an_asyncio_callback_is_shown(make_window, qtbot, qasync_loop):
    window = make_window()
    previous = qasync_loop.get_exception_handler()
    qasync_loop.set_exception_handler(window.messages.loop_exception_handler)
    try:
        def broken_callback():
            raise ValueError("boom in a callback")

        with qtbot.waitSignal(window.messages.shown) as shown:
            qasync_loop.call_soon(broken_callback)
    finally:
        qasync_loop.set_exception_handler(previous)
    assert "boom in a callback" in shown.args[0].details


def test_same_error_is_not_stacked(make_window):
    window = make_window()
    for _ in range(5):
        window.messages.show_exception(RuntimeError("again"))
    assert len(window.messages.open_boxes) == 1
    assert all(isinstance(b, QMessageBox) for b in window.messages.open_boxes)


def test_about_box(make_window, qtbot):
    window = make_window()
    window.about_action.trigger()
    (box,) = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert box.text().startswith("<b>Sesame Desktop</b>")
    assert not box.isModal() or box.windowModality().name == "WindowModal"
    box.close()


def test_no_tasks_outlive_the_window(make_window, run_async):
    window = make_window()
    window.welcome.dismiss_button.click()
    assert window._tasks.tasks
    run_async(window.aclose())
    assert not window._tasks.tasks
