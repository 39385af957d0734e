"""The window keeps its size and its panels their sizes, whatever runs in it (real widgets)."""

from __future__ import annotations


from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QSplitter

from sesame_desktop.core.sessions import SessionState
from tests.ui.test_sessions_ui import start_session, state_of, type_command

LONG = "echo " + "x" * 495  # a 500-character command


def settle(window, qtbot) -> None:
    """Run every pending layout request now (a size hint grows a window through these)."""
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def test_a_500_character_command_does_not_widen_the_window(make_window, qtbot, tmp_path):
    window = make_window()
    window.resize(1000, 700)
    session_id = start_session(window, qtbot, empty=True, task="true")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    width = window.width()
    panel = window.session_panel
    command = "sleep 30; " + LONG
    assert len(command) > 500
    type_command(window, qtbot, command)
    qtbot.waitUntil(lambda: panel.state_label.full_text() == f"Running `{command}`", timeout=30_000)
    settle(window, qtbot)
    assert window.width() == width
    assert window.minimumSizeHint().width() < width and window.sizeHint().width() <= max(width, 1400)
    assert panel.state_label.width() < panel.width()
    assert panel.state_label.toolTip() == f"Running `{command}`"  # cut on screen, whole in the tooltip
    panel.interrupt()
    qtbot.waitUntil(lambda: not window._sessions.snapshot(session_id).running, timeout=30_000)
    assert panel.state_label.full_text() == "Idle"
    assert window.width() == width


def test_panel_sizes_stay_the_same_across_session_switches(make_window, qtbot, tmp_path):
    window = make_window()
    window.resize(1280, 800)
    names = tmp_path / "names"
    names.mkdir()
    (names / ("a-very-long-file-name-" * 6 + ".txt")).write_text("x")
    first = start_session(window, qtbot, folder=str(names), task="true")
    qtbot.waitUntil(lambda: state_of(window, first) is SessionState.IDLE, timeout=30_000)
    second = start_session(window, qtbot, empty=True, task="echo " + "y" * 300)
    qtbot.waitUntil(lambda: state_of(window, second) is SessionState.IDLE, timeout=30_000)
    splitter = window.findChild(QSplitter, "mainSplitter")
    assert splitter is not None
    window.select_session(first)
    settle(window, qtbot)
    sizes = splitter.sizes()
    width = window.width()
    for session_id in (second, first, second, first):
        window.select_session(session_id)
        qtbot.waitUntil(lambda sid=session_id: window.session_panel.session_id == sid)
        settle(window, qtbot)
        assert splitter.sizes() == sizes
        assert window.width() == width


def test_window_geometry_and_splitter_sizes_are_kept_across_restarts(make_window, qtbot, run_async, app_paths):
    window = make_window()
    width = window.minimumWidth()  # the offscreen screen is 800 × 600: Qt keeps a window on it
    window.setGeometry(10, 20, width, 523)
    splitter = window.findChild(QSplitter, "mainSplitter")
    splitter.setSizes([260, 380, 380])
    sizes = splitter.sizes()
    assert sizes != [260, 700, 320]
    window.window_state.save()  # as the window's aclose() does at quit
    assert (app_paths.config_dir / "window.ini").is_file()
    again = make_window()
    assert again.size().toTuple() == (width, 523)
    assert again.findChild(QSplitter, "mainSplitter").sizes() == sizes
    assert again.minimumWidth() >= 700 and again.minimumHeight() >= 400


def test_a_fresh_window_has_sensible_minimum_sizes(make_window):
    window = make_window()
    splitter = window.findChild(QSplitter, "mainSplitter")
    assert not window.window_state.restore()  # nothing saved yet
    assert all(splitter.widget(i).minimumWidth() >= 150 for i in range(3))
    assert window.minimumWidth() >= 760 and window.minimumHeight() >= 480
    assert window.minimumWidth() >= sum(splitter.widget(i).minimumWidth() for i in range(3))  # no overlap
    window.resize(300, 200)
    assert window.width() >= window.minimumWidth() and window.height() >= window.minimumHeight()


def test_at_its_minimum_width_the_running_session_header_does_not_overlap(make_window, qtbot):
    """The first window has only hints in its panes; once the session views are in them, the
    window's minimum width counts what the session header needs while a command runs."""
    window = make_window()
    session_id = start_session(window, qtbot, empty=True, task="sleep 30")
    panel = window.session_panel
    qtbot.waitUntil(lambda: panel.busy_bar.isVisible() and panel.end_button.isVisible(), timeout=30_000)
    window.resize(window.minimumWidth(), window.minimumHeight())
    settle(window, qtbot)
    assert window.width() == window.minimumWidth()
    row = [panel.title_label, panel.state_label, panel.busy_bar, panel.end_button, panel.more_button]
    for left, right in zip(row, row[1:]):
        assert left.geometry().right() < right.geometry().left(), (left, right)
    assert panel.more_button.geometry().right() <= panel.width()
    assert panel.end_button.width() >= panel.end_button.sizeHint().width()  # "End Session" whole
    # and the side tabs have the room their widest view needs once it shows the session
    assert window.side_tabs.width() >= window.side_tabs.minimumSizeHint().width()
    panel.interrupt()
    qtbot.waitUntil(lambda: not window._sessions.snapshot(session_id).running, timeout=30_000)
