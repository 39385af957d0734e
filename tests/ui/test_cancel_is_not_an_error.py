"""A cancellation the app asked for never opens an error dialog."""

from __future__ import annotations

from tests.sandbox.test_e2b_errors import sdk_cancel_error


def test_a_cancel_never_opens_an_error_dialog(make_window, qtbot):
    window = make_window()
    window.messages.show_exception(sdk_cancel_error())
    window.messages.loop_exception_handler(None, {"message": "Task exception", "exception": sdk_cancel_error()})
    assert window.messages.open_boxes == []


def test_twenty_start_end_cycles_show_no_error(real_keyring, e2b_env, make_window, qtbot):
    """Ending a session cancels its streams and watches mid-call: never an error for the user."""
    from tests.ui.test_e2b_sessions_ui import set_key_in_settings, start_e2b_session
    from tests.ui.test_sessions_ui import state_of

    from sesame_desktop.core.sessions import SessionState

    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    shown = []
    window.messages.shown.connect(shown.append)
    for _cycle in range(20):
        session_id = start_e2b_session(window, qtbot, empty=True, task="sleep 30")
        qtbot.waitUntil(lambda sid=session_id: window._sessions.snapshot(sid).running == "sleep 30", timeout=60_000)
        window._sessions.request_end(session_id)
        qtbot.waitUntil(lambda sid=session_id: state_of(window, sid) is SessionState.ENDED, timeout=30_000)
        assert window._sessions.snapshot(session_id).error is None
    assert [m.title for m in shown] == []
