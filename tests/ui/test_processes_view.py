"""The Processes tab lists a session's commands and stops and restarts them (real processes)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sesame_desktop.core.sessions import SessionState
from sesame_desktop.ui.processes_view import OTHER_PORTS, PORT_ROLE
from tests.ui.test_sessions_ui import console_text, start_session, state_of, type_command


def run_in_background(window, qtbot, command: str) -> None:
    window.session_panel.background_button.setChecked(True)
    type_command(window, qtbot, command)


def test_background_and_foreground_commands_are_listed_and_stopped(make_window, qtbot):
    window = make_window()
    view = window.processes_view
    session_id = start_session(window, qtbot, empty=True, task="echo first")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    assert view.session_id == session_id
    qtbot.waitUntil(lambda: [r[:3] for r in view.rows()] == [("echo first", "Foreground", "Ended")])
    run_in_background(window, qtbot, "sleep 300")
    qtbot.waitUntil(lambda: ("sleep 300", "Background", "Running") in [r[:3] for r in view.rows()], timeout=30_000)
    assert view.rows()[0][0] == "sleep 300"  # newest first
    assert len(view.rows()[0][3]) >= 8  # a start time, HH:MM:SS

    assert view.select_command("sleep 300")
    assert view.stop_button.isEnabled() and view.restart_button.isEnabled()
    view.stop_button.click()
    qtbot.waitUntil(lambda: ("sleep 300", "Background", "Ended") in [r[:3] for r in view.rows()], timeout=30_000)
    text = console_text(window)
    assert "Stopping \u201csleep 300\u201d" in text
    assert "Background command ended (stopped" in text and "killed by" not in text
    assert not view.stop_button.isEnabled()


def test_restart_runs_the_command_again(make_window, qtbot):
    window = make_window()
    view = window.processes_view
    session_id = start_session(window, qtbot, empty=True, task="echo run-$((1 + 1))")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    qtbot.waitUntil(lambda: len(view.rows()) == 1)
    assert view.select_command("echo run-$((1 + 1))")
    view.restart_button.click()
    qtbot.waitUntil(lambda: len(view.rows()) == 2, timeout=30_000)
    qtbot.waitUntil(lambda: console_text(window).count("run-2") == 2, timeout=30_000)


def test_a_long_command_is_elided_with_the_whole_command_in_the_tooltip(make_window, qtbot):
    window = make_window()
    view = window.processes_view
    command = "echo " + "w" * 500
    session_id = start_session(window, qtbot, empty=True, task=command)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    qtbot.waitUntil(lambda: len(view.rows()) == 1)
    item = view.tree.topLevelItem(0)
    assert item.toolTip(0) == command
    assert view.tree.sizeHint().width() < 1000


def test_the_background_toggle_says_it_is_on(make_window, qtbot):
    window = make_window()
    panel = window.session_panel
    session_id = start_session(window, qtbot, empty=True, task="true")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    panel.background_button.click()
    assert panel.background_button.text() == "Background: On"
    assert "in the background" in panel.input_edit.placeholderText()
    type_command(window, qtbot, "sleep 300")
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).background == 1, timeout=30_000)
    assert panel.background_button.text() == "Background"  # one command at a time
    assert panel.input_edit.placeholderText() == "Run a command in the project folder (Enter)"
    assert window.processes_view.rows()[0][:3] == ("sleep 300", "Background", "Running")


def test_a_servers_port_is_listed_under_the_command_that_opened_it(make_window, qtbot):
    from tests.ui.test_ports_ui import free_port

    window = make_window()
    view = window.processes_view
    session_id = start_session(window, qtbot, empty=True, task="true")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    port = free_port()
    command = f"python3 -m http.server {port} --bind 127.0.0.1"
    run_in_background(window, qtbot, command)
    run_in_background(window, qtbot, "sleep 300")
    qtbot.waitUntil(lambda: view.port_rows().get(command) == [port], timeout=30_000)
    assert view.port_rows()["sleep 300"] == [] and view.port_rows()["true"] == []
    child = view.tree.topLevelItem([r[0] for r in view.rows()].index(command)).child(0)
    assert child.text(0) == f"Port {port}" and child.toolTip(0) == f"http://127.0.0.1:{port}"


def test_e2b_servers_ports_are_listed_under_their_own_commands(real_keyring, e2b_env, make_window, qtbot):
    """Two background servers in an E2B sandbox (the real SDK against the local E2B-compatible
    server) each land under their own command; a server started with sudo in the Terminal tab,
    which is no command of the session, under "Other ports"."""
    from tests.ui.test_e2b_sessions_ui import set_key_in_settings, start_e2b_session
    from tests.ui.test_ports_ui import free_port
    from tests.ui.test_terminal_ui import at_prompt, wait

    window = make_window()
    view = window.processes_view
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    session_id = start_e2b_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    first, second, third = free_port(), free_port(), free_port()
    plain = f"python3 -m http.server {first} --bind 127.0.0.1"
    nested = f"python3 -m http.server {second} --bind 127.0.0.1 & wait"  # the shell's child listens
    run_in_background(window, qtbot, plain)
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).background == 1, timeout=30_000)
    run_in_background(window, qtbot, nested)
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).background == 2, timeout=30_000)
    run_in_background(window, qtbot, "sleep 300")

    panel = window.session_panel
    panel.views.setCurrentWidget(panel.terminals)
    panel.terminals.new_button.click()
    terminal_view = panel.terminals.current_view()
    wait(qtbot, terminal_view, lambda: at_prompt(terminal_view))
    qtbot.keyClicks(terminal_view, f"sudo python3 -m http.server {third} --bind 127.0.0.1")
    qtbot.keyClick(terminal_view, Qt.Key.Key_Return)

    expected = {plain: [first], nested: [second], "sleep 300": [], OTHER_PORTS: [third]}
    qtbot.waitUntil(lambda: view.port_rows() == expected, timeout=30_000)
    rows = [r[0] for r in view.rows()]
    assert rows.index(OTHER_PORTS) == len(rows) - 1  # after every command
    sandbox_id = window._sessions.snapshot(session_id).sandbox_id
    child = view.tree.topLevelItem(rows.index(nested)).child(0)
    assert child.text(0) == f"Port {second}"
    assert child.toolTip(0) == f"http://{second}-{sandbox_id}.{e2b_env.domain}"

    # a server that stops leaves its command's row; the others stay where they are
    assert view.select_command(plain)
    view.stop_button.click()
    expected[plain] = []
    qtbot.waitUntil(lambda: view.port_rows() == expected, timeout=30_000)
    # restarted, its port is under the new run (the newest row), not the old one
    assert view.select_command(plain)
    view.restart_button.click()

    def rows_with_ports() -> list[tuple[str, list[int]]]:
        return [(view.tree.topLevelItem(i).text(0),
                 [view.tree.topLevelItem(i).child(c).data(0, PORT_ROLE)
                  for c in range(view.tree.topLevelItem(i).childCount())])
                for i in range(view.tree.topLevelItemCount())]

    qtbot.waitUntil(lambda: rows_with_ports()[0] == (plain, [first]), timeout=30_000)
    assert (plain, []) in rows_with_ports()[1:]
