"""Running time and cost in the session list, rates in Settings, notifications in the background."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from sesame_desktop.core.costs import CostRates
from sesame_desktop.core.sessions import SessionState
from sesame_desktop.ui.notifications import NoticeKind
from sesame_desktop.ui.session_usage import UsageRates
from tests.ui.test_agent_sessions import start_agent_session
from tests.ui.test_e2b_sessions_ui import set_key_in_settings, start_e2b_session
from tests.ui.test_sessions_ui import start_session, state_of, type_command


def row_text(window, session_id):
    return window.session_model.data(window.session_model.index(window.session_model.row_of(session_id)))


def test_rates_in_settings_and_cost_in_the_list(real_keyring, e2b_env, make_window, qtbot, app_paths):
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    settings = window.open_settings()
    qtbot.waitUntil(lambda: not settings.key_loading)
    settings.agents_button.click()
    page = settings.agents_dialog
    qtbot.waitUntil(lambda: not page.loading, timeout=20_000)
    assert page.rates() == CostRates()
    page.rate_spins["vcpu_per_s"].setValue(0.01)
    page.rate_spins["vcpus"].setValue(1)
    page.rate_spins["memory_gib"].setValue(0)
    try:
        with qtbot.waitSignal(page.saved, timeout=20_000):
            qtbot.mouseClick(page.buttons.button(page.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
        settings.reject()
        saved = json.loads((app_paths.config_dir / "cost-rates.json").read_text())
        assert saved["vcpu_per_s"] == 0.01 and saved["vcpus"] == 1.0
        session_id = start_e2b_session(window, qtbot, empty=True)
        qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
        qtbot.waitUntil(lambda: " \u00b7 ~$0.0" in row_text(window, session_id), timeout=5000)
        # a second later the list has ticked: the time and the cost grow
        first = row_text(window, session_id)
        qtbot.waitUntil(lambda: row_text(window, session_id) != first, timeout=5000)
        assert "running " in row_text(window, session_id)
    finally:
        UsageRates.set(CostRates())


def test_local_sessions_show_running_time_without_cost(make_window, qtbot):
    window = make_window()
    session_id = start_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    assert "running " in row_text(window, session_id) and "$" not in row_text(window, session_id)


def test_notifications_when_the_window_is_in_the_background(make_window, qtbot, git_project):
    window = make_window()
    notices = []
    window.notifier.notified.connect(notices.append)
    window.notifier.in_background = lambda: False
    active = start_session(window, qtbot, empty=True, task="echo in front")
    qtbot.waitUntil(lambda: state_of(window, active) is SessionState.IDLE, timeout=30_000)
    assert notices == []  # the user is looking: no notification

    window.notifier.in_background = lambda: True
    done = start_session(window, qtbot, empty=True, task="echo finished")
    qtbot.waitUntil(lambda: len(notices) == 1, timeout=30_000)
    assert (notices[0].kind, notices[0].session_id) == (NoticeKind.FINISHED, done)
    failed = start_agent_session(window, qtbot, provider="Local", url=str(git_project), agent="claude-code",
                                 prompt="p", setup="exit 4")
    qtbot.waitUntil(lambda: len(notices) == 2, timeout=30_000)
    assert (notices[1].kind, notices[1].text) == (NoticeKind.FAILED, "Setup failed")
    window.select_session(active)
    window.notifier.click_last()  # clicking the notification opens that session
    assert window.session_panel.session_id == failed


def test_a_task_waiting_for_input_notifies(make_window, qtbot):
    window = make_window()
    notices = []
    window.notifier.notified.connect(notices.append)
    window.notifier.in_background = lambda: True
    session_id = start_session(window, qtbot, empty=True,
                               task="echo working; printf 'Overwrite the database? (y/n) '; read answer; echo \"got $answer\"")
    qtbot.waitUntil(lambda: any(n.kind is NoticeKind.WAITING for n in notices), timeout=15_000)
    waiting = next(n for n in notices if n.kind is NoticeKind.WAITING)
    assert waiting.session_id == session_id and waiting.text.endswith("Overwrite the database? (y/n)")
    window.notifier.check_waiting()  # once per question: no second notice while it still waits
    assert sum(n.kind is NoticeKind.WAITING for n in notices) == 1
    type_command(window, qtbot, "y")
    qtbot.waitUntil(lambda: any(n.kind is NoticeKind.FINISHED for n in notices), timeout=15_000)


def test_prompt_detection():
    from sesame_desktop.core.input_wait import looks_like_prompt

    for tail in ("Name: ", "Proceed? ", "\x1b[1mContinue (y/n)\x1b[0m", "Enter password", "[1/3] choose >"):
        assert looks_like_prompt(tail), tail
    for tail in ("", "Building...\n\n", "done.", "compiled 3 files\n", "x" * 400 + "?"):
        assert not looks_like_prompt(tail), tail
