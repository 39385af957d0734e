"""E2B sessions with clicks: the real SDK against the local E2B-compatible server."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from sesame_desktop.core.sessions import SessionState
from tests.ui.test_sessions_ui import console_text, state_of, type_command


def set_key_in_settings(window, qtbot, key: str) -> None:
    dialog = window.open_settings()
    qtbot.waitUntil(lambda: not dialog.key_loading)
    dialog.key_edit.clear()
    qtbot.keyClicks(dialog.key_edit, key)
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findText("E2B"))
    with qtbot.waitSignal(dialog.finished):
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)


def start_e2b_session(window, qtbot, *, url: str = "", task: str = "", template: str = "", empty: bool = False):
    dialog = window.open_new_session()
    assert dialog.provider_combo.currentText() == "E2B"
    if empty:
        dialog.empty_radio.setChecked(True)
    else:
        qtbot.keyClicks(dialog.url_edit, url)
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData(""))  # a command, no agent
    qtbot.keyClicks(dialog.task_edit, task)
    qtbot.keyClicks(dialog.template_edit, template)
    with qtbot.waitSignal(window._sessions.session_added) as added:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    return added.args[0].id


def test_e2b_session_with_clicks(real_keyring, e2b_env, make_window, qtbot, git_http_url):
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    session_id = start_e2b_session(window, qtbot, url=git_http_url, task="cat README.md")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    snapshot = window._sessions.snapshot(session_id)
    assert snapshot.sandbox_id in e2b_env.sandbox_ids()
    assert e2b_env.sandboxes()[snapshot.sandbox_id]["metadata"]["session"] == session_id
    assert snapshot.expires_at is not None
    assert "hello from the demo project" in console_text(window)
    assert f"E2B · {snapshot.sandbox_id} · 59 min" in window.session_model.data(window.session_model.index(0))

    type_command(window, qtbot, "echo from-the-input-line")
    qtbot.waitUntil(lambda: "from-the-input-line\n" in console_text(window) + "\n")
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).running == "")
    type_command(window, qtbot, "sh greet.sh")
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).running == "sh greet.sh")
    type_command(window, qtbot, "Linus")
    qtbot.waitUntil(lambda: "hello, Linus" in console_text(window), timeout=20_000)

    window.session_panel.end_button.click()
    next(b for b in window.session_panel.end_confirmation.buttons() if b.text() == "End Session").click()
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.ENDED, timeout=20_000)
    assert not e2b_env.is_alive(snapshot.sandbox_id)


def failed_error(window, qtbot, session_id):
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.FAILED, timeout=60_000)
    window.select_session(session_id)
    assert window.session_panel.error_button.isVisible()
    window.session_panel.error_button.click()
    box = window.session_panel.error_box
    text = box.text(), box.informativeText()
    box.close()
    return text


@pytest.mark.parametrize(
    ("key", "arrange", "template", "title"),
    [
        ("e2b_rejected_key_000", None, "", "E2B rejected the API key"),
        (None, None, "no-such-template", "Template not found"),
        (None, lambda srv: srv.fail_next(8, status=429), "", "Too many requests to E2B"),
    ],
)
def test_e2b_errors_show_in_the_window(real_keyring, e2b_env, make_window, qtbot, key, arrange, template, title):
    window = make_window()
    set_key_in_settings(window, qtbot, key or e2b_env.api_key)
    if arrange:
        arrange(e2b_env)
    session_id = start_e2b_session(window, qtbot, empty=True, template=template)
    shown_title, explanation = failed_error(window, qtbot, session_id)
    assert shown_title == title
    assert "e2b_rejected_key_000" not in explanation


def test_no_key_set(real_keyring, e2b_env, make_window, qtbot):
    window = make_window(environ={"SANDBOX_PROVIDER": "e2b"})
    session_id = start_e2b_session(window, qtbot, empty=True)
    title, explanation = failed_error(window, qtbot, session_id)
    assert title == "No E2B API key"
    assert "Settings" in explanation


def test_network_down(real_keyring, e2b_env, make_window, qtbot, monkeypatch):
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    monkeypatch.setenv("E2B_API_URL", "http://127.0.0.1:9")
    session_id = start_e2b_session(window, qtbot, empty=True)
    assert failed_error(window, qtbot, session_id)[0] == "E2B cannot be reached"


def test_git_clone_failure_shows_gits_words(real_keyring, e2b_env, make_window, qtbot, git_http_url):
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    session_id = start_e2b_session(window, qtbot, url=git_http_url.replace("demo-project", "missing"))
    title, explanation = failed_error(window, qtbot, session_id)
    assert title == "Could not get the project"
    assert "missing" in explanation
    qtbot.waitUntil(lambda: not e2b_env.sandbox_ids())  # the failed session's sandbox is killed


def test_sandbox_killed_outside_and_two_sessions(real_keyring, e2b_env, make_window, qtbot):
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    doomed = start_e2b_session(window, qtbot, empty=True, task="sleep 600")
    healthy = start_e2b_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: window._sessions.snapshot(doomed).running == "sleep 600", timeout=60_000)
    qtbot.waitUntil(lambda: state_of(window, healthy) is SessionState.IDLE, timeout=60_000)
    e2b_env.kill_sandbox(window._sessions.snapshot(doomed).sandbox_id)
    title, _ = failed_error(window, qtbot, doomed)
    assert title == "Sandbox gone"
    window.select_session(healthy)
    type_command(window, qtbot, "echo still-alive")
    qtbot.waitUntil(lambda: "still-alive\n" in console_text(window) + "\n", timeout=20_000)
    assert state_of(window, healthy) is SessionState.IDLE


def test_lifetime_reached_pauses_and_resume_continues(real_keyring, e2b_env, make_window, qtbot):
    window = make_window(environ={"E2B_SANDBOX_TIMEOUT": "5000"})
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    session_id = start_e2b_session(window, qtbot, empty=True, task="echo kept > kept.txt; sleep 600")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.PAUSED, timeout=60_000)
    sandbox_id = window._sessions.snapshot(session_id).sandbox_id
    assert e2b_env.sandbox_state(sandbox_id) == "paused"
    window.select_session(session_id)
    panel = window.session_panel
    assert panel.state_label.text() == "Paused \u2014 lifetime reached"
    assert "Paused \u2014 lifetime reached" in window.session_model.data(window.session_model.index(0))
    assert panel.resume_button.isVisible() and not panel.input_edit.isEnabled()
    assert console_text(window).count("paused") == 1  # one message, not two
    panel.resume_button.click()
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.RUNNING_TASK, timeout=30_000)
    assert window._sessions.snapshot(session_id).running == "echo kept > kept.txt; sleep 600"
    assert e2b_env.sandbox_state(sandbox_id) == "running"
    assert (e2b_env.host_root(sandbox_id) / "project" / "kept.txt").read_text() == "kept\n"
    assert not panel.resume_button.isVisible()


def test_lifetime_warning_and_extend(real_keyring, e2b_env, make_window, qtbot):
    window = make_window(environ={"E2B_SANDBOX_TIMEOUT": "240000"})  # 4 min: under the 5-min warning
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    with qtbot.waitSignal(window._sessions.lifetime_running_out, timeout=60_000):
        session_id = start_e2b_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    assert "ends in under 5 minutes" in window.statusBar().currentMessage()
    assert "The sandbox ends in 4 min" in console_text(window)
    sandbox_id = window._sessions.snapshot(session_id).sandbox_id
    before = e2b_env.sandboxes()[sandbox_id]["end_at"]
    expires_before = window._sessions.snapshot(session_id).expires_at
    qtbot.wait(1100)  # so that "4 min from now" is a later moment than the first one
    assert window.session_panel.extend_button.isVisible()
    box = window.lifetime_box
    assert box.isVisible() and not box.isModal()
    next(b for b in box.buttons() if b.text() == "Extend").click()
    qtbot.waitUntil(lambda: "Lifetime extended" in console_text(window), timeout=20_000)
    assert e2b_env.sandboxes()[sandbox_id]["end_at"] > before
    assert window._sessions.snapshot(session_id).expires_at > expires_before


def test_extend_failure_is_shown(real_keyring, e2b_env, make_window, qtbot):
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    session_id = start_e2b_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    e2b_env.fail_next(1, status=500)  # the SDK does not retry a 500
    with qtbot.waitSignal(window.messages.shown, timeout=30_000) as shown:
        window.session_panel.extend_button.click()
    assert shown.args[0].title == "E2B had a problem"


def test_a_dropped_stream_shows_reconnecting_not_failed(real_keyring, e2b_env, make_window, qtbot):
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    session_id = start_e2b_session(window, qtbot, empty=True,
                                   task="for i in $(seq 1 60); do echo line-$i; sleep 0.05; done")
    window.select_session(session_id)
    qtbot.waitUntil(lambda: "line-3" in console_text(window), timeout=60_000)
    labels: list[str] = []
    window._sessions.session_changed.connect(lambda _s: labels.append(window.session_panel.state_label.text()))
    e2b_env.drop_streams(window._sessions.snapshot(session_id).sandbox_id)
    qtbot.waitUntil(lambda: "line-60" in console_text(window), timeout=30_000)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    assert "Reconnecting\u2026" in labels and not any(label.startswith("Failed") for label in labels)
    assert "Connection to the sandbox lost" in console_text(window)
    assert e2b_env.is_alive(window._sessions.snapshot(session_id).sandbox_id)
