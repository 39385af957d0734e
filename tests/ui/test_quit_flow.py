"""Quitting with E2B sessions open: End All, Pause All or Cancel; bounded; nothing unlisted."""

from __future__ import annotations

import asyncio

from sesame_desktop.core.sessions import SessionState
from sesame_desktop.services.session_lifecycle import QuitChoice
from tests.ui.test_e2b_sessions_ui import set_key_in_settings, start_e2b_session
from tests.ui.test_sessions_ui import state_of


def test_pause_all_and_quit_keeps_the_sandbox_paused(real_keyring, e2b_env, make_window, qtbot, run_async):
    window = make_window(store=True)
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    session_id = start_e2b_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    task = asyncio.ensure_future(window.confirm_quit())
    qtbot.waitUntil(lambda: window.quit_confirmation is not None and window.quit_confirmation.isVisible())
    box = window.quit_confirmation
    texts = sorted(b.text().replace("&", "") for b in box.buttons())
    assert texts == ["Cancel", "End All and Quit", "Pause All and Quit"]
    assert box.text() == "1 session is still open."
    next(b for b in box.buttons() if b.text() == "Pause All and Quit").click()
    qtbot.waitUntil(task.done)
    assert task.result() is QuitChoice.PAUSE_ALL
    sandbox_id = window._sessions.snapshot(session_id).sandbox_id
    assert run_async(window._sessions.close(timeout=10, choice=task.result()), timeout=30) == []
    assert state_of(window, session_id) is SessionState.PAUSED
    assert e2b_env.sandbox_state(sandbox_id) == "paused"
