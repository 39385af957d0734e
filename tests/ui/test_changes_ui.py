"""The Changes tab follows the files as they change, on an uploaded folder."""

from __future__ import annotations

from sesame_desktop.core.sessions import SessionState
from tests.ui.test_sessions_ui import start_session, state_of, type_command


def test_changes_follow_the_files(make_window, qtbot, tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>Hello</h1>\n")
    window = make_window()
    session_id = start_session(window, qtbot, folder=str(folder))
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    view = window.changes_view
    qtbot.waitUntil(lambda: view.summary.text() == "No changes yet.", timeout=20_000)
    type_command(window, qtbot, "echo '<p>new</p>' >> index.html")
    qtbot.waitUntil(lambda: view.file_paths() == ["index.html"], timeout=20_000)
    with qtbot.waitSignal(view.diff_shown, timeout=20_000):
        view.select_file("index.html")
    assert "+<p>new</p>" in view.diff_text()
    # a background command's edits show without any command ending: the watch refreshes the list
    window.session_panel.background_button.setChecked(True)
    type_command(window, qtbot, "sleep 0.3; echo later > later.txt; sleep 600")
    qtbot.waitUntil(lambda: view.file_paths() == ["index.html", "later.txt"], timeout=20_000)
    assert view.summary.text() == "2 files changed, +2 \u22120"
    # a file name from the sandbox is never rich text, not even in a tooltip
    type_command(window, qtbot, "echo x > '<b>bold <i>x.txt'")
    qtbot.waitUntil(lambda: len(view.file_paths()) == 3, timeout=20_000)
    item = next(view.files.item(i) for i in range(3) if "bold" in view.files.item(i).text())
    assert item.text().startswith("A  <b>bold <i>x.txt")
    assert item.toolTip().startswith("<p>&lt;b&gt;bold")
    assert not (folder / "later.txt").exists()


def test_apply_and_save_from_the_changes_tab(make_window, qtbot, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "a.txt").write_text("original\n")
    window = make_window(store=True)
    session_id = start_session(window, qtbot, folder=str(folder), task="echo from-the-session > a.txt; echo n > n.txt")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    view = window.changes_view
    qtbot.waitUntil(lambda: view.file_paths() == ["a.txt", "n.txt"], timeout=20_000)
    assert view.apply_button.isEnabled() and view.save_button.isEnabled() and not view.push_button.isEnabled()
    view.apply_button.click()
    qtbot.waitUntil(lambda: "Applied to" in window.statusBar().currentMessage(), timeout=30_000)
    assert (folder / "a.txt").read_text() == "from-the-session\n" and (folder / "n.txt").read_text() == "n\n"
    assert state_of(window, session_id) is SessionState.IDLE  # applying keeps the session going
    view.save_button.click()
    qtbot.waitUntil(lambda: "Work saved in" in window.statusBar().currentMessage(), timeout=30_000)
