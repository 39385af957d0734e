"""Text from a sandbox or a remote is shown as plain text: never a link, an image or markup."""

from __future__ import annotations

import shlex

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from sesame_desktop.core.sessions import SessionState
from tests.fixtures.git_repos import HOSTILE_TEXT
from tests.ui.test_files_ui import find, rows, run
from tests.ui.test_sessions_ui import start_session, state_of

HOSTILE_NAME = "<a href=javascript:alert(1)>Click here to confirm"  # a file name has no "/"


def labels_showing(widget: QWidget, needle: str) -> list[QLabel]:
    return [label for label in widget.findChildren(QLabel) if needle in label.text()]


def assert_plain(widget: QWidget, needle: str) -> None:
    """``needle`` is shown verbatim, and only by labels that never interpret markup."""
    shown = labels_showing(widget, needle)
    assert shown, f"{needle!r} is not shown in {widget}"
    for label in shown:
        assert label.textFormat() == Qt.TextFormat.PlainText, (label.objectName(), label.text())
        assert not label.openExternalLinks()


def test_a_hostile_git_server_error_is_plain_text(make_window, qtbot, hostile_git_url):
    window = make_window()
    session_id = start_session(window, qtbot, url=hostile_git_url)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.FAILED, timeout=30_000)
    panel = window.session_panel
    panel.error_button.click()
    box = panel.error_box
    assert "Click here to fix" in box.informativeText() + box.detailedText()
    assert_plain(box, "<a href=javascript:alert(1)>")
    box.close()


def test_a_hostile_file_name_is_plain_text_in_the_delete_question(make_window, qtbot):
    window = make_window()
    session_id = start_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    qtbot.waitUntil(lambda: window.file_panel.model is not None)
    panel, model = window.file_panel, window.file_panel.model
    run(window, qtbot, session_id, f"touch {shlex.quote(HOSTILE_NAME)}")
    qtbot.waitUntil(lambda: rows(model) == [HOSTILE_NAME], timeout=5000)
    panel.tree.setCurrentIndex(find(model, HOSTILE_NAME))
    panel.delete_action.trigger()
    box = panel.confirmation
    assert_plain(box, HOSTILE_NAME)
    box.close()
    panel.open_entry(model.entry_at(find(model, HOSTILE_NAME)))
    qtbot.waitUntil(lambda: panel.viewer is not None and panel.viewer.isVisible())
    assert_plain(panel.viewer, HOSTILE_NAME)
    panel.viewer.close()


def test_session_names_and_errors_are_plain_text_in_the_window(make_window, qtbot, hostile_git_url):
    window = make_window()
    dialog = window.open_new_session()
    dialog.url_edit.setText(hostile_git_url)
    dialog.name_edit.setText(HOSTILE_NAME)
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findText("Local"))
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData(""))  # a command, no agent
    with qtbot.waitSignal(window._sessions.session_added) as added:
        dialog.start_button.click()
    session_id = added.args[0].id
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.FAILED, timeout=30_000)
    assert_plain(window.session_panel, HOSTILE_NAME)


def test_message_boxes_show_remote_text_as_plain_text(make_window, qtbot):
    from sesame_desktop.core.errors import UserMessage

    window = make_window()
    with qtbot.waitSignal(window.messages.shown):
        window.messages.show_message(UserMessage(HOSTILE_TEXT, f"E2B said: {HOSTILE_TEXT}", details=HOSTILE_TEXT))
    box = window.messages.open_boxes[-1]
    assert_plain(box, HOSTILE_TEXT)
    assert box.detailedText() == HOSTILE_TEXT
    box.close()


def test_tooltips_show_hostile_names_as_text(make_window, qtbot, hostile_git_url):
    from PySide6.QtCore import Qt as _Qt
    from PySide6.QtGui import QTextDocument

    window = make_window()
    session_id = start_session(window, qtbot, url=hostile_git_url)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.FAILED, timeout=30_000)
    tip = window.session_model.data(window.session_model.index(0), _Qt.ItemDataRole.ToolTipRole)
    document = QTextDocument()
    document.setHtml(tip)  # what Qt does with a tooltip it takes for rich text
    assert "<a href=javascript:alert(1)>" in document.toPlainText()
    assert "<img" not in document.toHtml().replace("&lt;img", "")
