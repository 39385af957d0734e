"""The session workspace: built after the window, in steps, and always before a session shows."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from sesame_desktop.core.config import Provider
from sesame_desktop.core.sessions import SessionRequest, SessionState

TABS = ["Files", "Ports", "Processes", "Transcript", "Changes"]


def tab_titles(window) -> list[str]:
    return [window.side_tabs.tabText(i) for i in range(window.side_tabs.count())]


def test_the_window_shows_before_its_workspace_which_is_built_in_steps(make_window, qtbot):
    window = make_window()
    workspace = window.workspace
    assert not workspace.done and workspace.session_panel is None
    assert window.console_view.view is None and window.files_view.view is None
    assert tab_titles(window) == TABS  # the tabs are there, with placeholders
    window.side_tabs.setCurrentIndex(3)  # the user looks at Transcript meanwhile
    sizes = window.splitter.sizes()

    workspace.start()
    handled_between: list[bool] = []
    QTimer.singleShot(0, lambda: handled_between.append(workspace.done))  # like input arriving meanwhile
    with qtbot.waitSignal(workspace.built, timeout=10_000):
        pass
    assert handled_between == [False]  # it ran between two steps, not after all of them
    assert len(workspace.step_times) > 4
    assert window.console_view.view is window.session_panel
    assert window.files_view.view is window.file_panel
    assert tab_titles(window) == TABS
    assert window.side_tabs.widget(1) is window.ports_view
    assert window.side_tabs.widget(2) is window.processes_view
    assert window.side_tabs.widget(3) is window.transcript_pane
    assert window.side_tabs.currentIndex() == 3  # the tab the user chose stays chosen
    assert set(window.session_actions.all()) <= set(window.toolbar.actions())
    # what the views need fits the room the window gave the side tabs: no pane moves as they arrive
    assert window.side_tabs.minimumSizeHint().width() <= sizes[2]
    assert window.splitter.sizes() == sizes


def test_a_session_started_before_the_workspace_is_built_finds_it_built(make_window, qtbot, tmp_path):
    """The session manager asks for the workspace before its first session is added, so the
    parts that follow sessions from their start (transcripts, notifications) see it."""
    window = make_window()
    workspace, manager = window.workspace, window._sessions
    assert not workspace.done
    built_when_added: list[bool] = []
    manager.session_added.connect(lambda _snapshot: built_when_added.append(workspace.done))
    snapshot = manager.start_session(SessionRequest(name="early", provider=Provider.LOCAL, task="echo early"))
    assert built_when_added == [True]
    window.select_session(snapshot.id)
    assert window.session_panel.session_id == snapshot.id
    qtbot.waitUntil(lambda: manager.snapshot(snapshot.id).state is SessionState.IDLE, timeout=30_000)
    qtbot.waitUntil(lambda: "early" in window.session_panel.console.plain_text(), timeout=10_000)
