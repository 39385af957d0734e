"""Launching and using sessions with clicks, on the local provider with real processes."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from sesame_desktop.core.sessions import SessionState
from sesame_desktop.services.session_lifecycle import QuitChoice


def start_session(window, qtbot, *, url: str = "", task: str = "", folder: str = "", empty: bool = False):
    dialog = window.open_new_session()
    if empty:
        dialog.empty_radio.setChecked(True)
    elif folder:
        dialog.folder_radio.setChecked(True)
        qtbot.keyClicks(dialog.folder_edit, folder)
    else:
        qtbot.keyClicks(dialog.url_edit, url)
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findText("Local"))
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData(""))  # a command, no agent
    qtbot.keyClicks(dialog.task_edit, task)
    with qtbot.waitSignal(window._sessions.session_added) as added:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    return added.args[0].id


def state_of(window, session_id):
    return window._sessions.snapshot(session_id).state


def console_text(window) -> str:
    return window.session_panel.console.plain_text()


def type_command(window, qtbot, text: str) -> None:
    edit = window.session_panel.input_edit
    qtbot.waitUntil(edit.isEnabled)
    if text.isascii():
        qtbot.keyClicks(edit, text)
    else:  # QTest types ASCII only
        edit.insert(text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_a_session_from_start_to_end_with_clicks(make_window, qtbot, git_project):
    window = make_window()
    session_id = start_session(window, qtbot, url=str(git_project), task="cat README.md")
    assert window.session_panel.session_id == session_id
    assert window.session_list.currentIndex().row() == 0
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    assert "hello from the demo project" in console_text(window)
    row_text = window.session_model.data(window.session_model.index(0))
    assert row_text.startswith("demo-project\nIdle · Local · ")

    type_command(window, qtbot, "echo second command")
    qtbot.waitUntil(lambda: "second command\n" in console_text(window) + "\n")
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).running == "")

    type_command(window, qtbot, "sh greet.sh")
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).running == "sh greet.sh")
    type_command(window, qtbot, "Grace")
    qtbot.waitUntil(lambda: "hello, Grace" in console_text(window))
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).running == "")

    type_command(window, qtbot, "sleep 700")
    qtbot.waitUntil(lambda: window.session_panel.stop_button.isEnabled())
    window.session_panel.input_edit.setFocus()
    qtbot.keyClick(window.session_panel.input_edit, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "killed" in console_text(window))

    window.session_panel.end_button.click()
    box = window.session_panel.end_confirmation
    assert isinstance(box, QMessageBox) and box.isVisible()
    end = next(b for b in box.buttons() if b.text() == "End Session")
    end.click()
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.ENDED, timeout=20_000)
    assert not window.session_panel.input_edit.isEnabled()
    assert "Session ended" in console_text(window)


def test_background_command_and_switching_sessions_keeps_output(make_window, qtbot, git_project):
    window = make_window()
    first = start_session(window, qtbot, url=str(git_project), task="echo first-output")
    qtbot.waitUntil(lambda: state_of(window, first) is SessionState.IDLE, timeout=30_000)
    second = start_session(window, qtbot, empty=True, task="echo second-output")
    qtbot.waitUntil(lambda: state_of(window, second) is SessionState.IDLE, timeout=30_000)
    assert "second-output" in console_text(window) and "first-output" not in console_text(window)
    window.session_panel.background_button.setChecked(True)
    type_command(window, qtbot, "sleep 701")
    qtbot.waitUntil(lambda: window._sessions.snapshot(second).background == 1)
    assert not window.session_panel.background_button.isChecked()
    window.select_session(first)
    assert "first-output" in console_text(window) and "second-output" not in console_text(window)
    window.select_session(second)
    assert "Started in the background: sleep 701" in console_text(window)


def test_failed_session_shows_its_error(make_window, qtbot, tmp_path):
    window = make_window()
    session_id = start_session(window, qtbot, url=str(tmp_path / "no-such-repo"))
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.FAILED, timeout=30_000)
    panel = window.session_panel
    assert panel.error_button.isVisible()
    panel.error_button.click()
    assert panel.error_box.text() == "Could not get the project"
    assert "no-such-repo" in panel.error_box.informativeText()
    panel.error_box.close()


@pytest.mark.parametrize(
    ("setup", "label", "message"),
    [
        (lambda d, q: None, "url_problem", "Enter the repository's URL."),
        (lambda d, q: q.keyClicks(d.url_edit, "not a url"), "url_problem", "no spaces"),
        (lambda d, q: q.keyClicks(d.url_edit, "ftp://example.com/x"), "url_problem", "Use an https://"),
        (lambda d, q: q.keyClicks(d.url_edit, "https://github.com"), "url_problem", "names a site"),
        (lambda d, q: (q.keyClicks(d.url_edit, "https://h.example/r.git"), q.keyClicks(d.branch_edit, "a..b")),
         "url_problem", "not a valid branch name"),
        (lambda d, q: (d.folder_radio.setChecked(True), q.keyClicks(d.folder_edit, "/no/such/folder")),
         "folder_problem", "There is no folder at /no/such/folder"),
        (lambda d, q: d.folder_radio.setChecked(True), "folder_problem", "Choose the folder"),
        (lambda d, q: (d.empty_radio.setChecked(True), q.keyClicks(d.template_edit, "bad name")),
         "template_problem", "contains spaces"),
    ],
)
def test_new_session_dialog_validates_beside_the_field(make_window, qtbot, setup, label, message):
    window = make_window()
    dialog = window.open_new_session()
    setup(dialog, qtbot)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    problem = getattr(dialog, label)
    assert dialog.isVisible() and problem.isVisible()
    assert message in problem.text()
    assert window._sessions.snapshots() == []
    dialog.reject()


def test_name_is_suggested_from_the_project(make_window, qtbot):
    dialog = make_window().open_new_session()
    qtbot.keyClicks(dialog.url_edit, "https://github.com/acme/rocket.git")
    assert dialog.name_edit.text() == "rocket"
    qtbot.keyClicks(dialog.branch_edit, "dev")
    assert dialog.name_edit.text() == "rocket (dev)"
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "Mine")
    qtbot.keyClicks(dialog.url_edit, "x")
    assert dialog.name_edit.text() == "Mine"
    dialog.reject()


def test_quit_with_open_sessions_asks_first(make_window, qtbot, run_async):
    window = make_window()
    assert run_async(window.confirm_quit()) is QuitChoice.END_ALL  # nothing open: no question
    session_id = start_session(window, qtbot, empty=True, task="sleep 702")
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).running == "sleep 702", timeout=30_000)

    def answer(button_text: str) -> QuitChoice | None:
        task = asyncio.ensure_future(window.confirm_quit())
        qtbot.waitUntil(lambda: window.quit_confirmation is not None and window.quit_confirmation.isVisible())
        box = window.quit_confirmation
        assert box.text() == "1 session is still open."
        assert "Pause All and Quit" not in [b.text() for b in box.buttons()]  # a local session cannot pause
        next(b for b in box.buttons() if b.text().replace("&", "") == button_text).click()
        qtbot.waitUntil(task.done)
        return task.result()

    assert answer("Cancel") is None
    assert state_of(window, session_id) is SessionState.RUNNING_TASK
    assert answer("End All and Quit") is QuitChoice.END_ALL
