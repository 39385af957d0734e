"""Sandboxes an earlier run left running are found at start and ended on request."""

from __future__ import annotations

from e2b import Sandbox

from sesame_desktop.core.sessions import SessionState
from sesame_desktop.services.leftovers import LeftoverSandboxes
from sesame_desktop.services.providers import Providers
from tests.ui.test_e2b_sessions_ui import set_key_in_settings, start_e2b_session
from tests.ui.test_sessions_ui import state_of


def test_leftover_sandboxes_are_offered_for_ending(real_keyring, e2b_env, make_window, qtbot, tmp_path, run_async):
    earlier = Sandbox.create(metadata={"app": "sesame-desktop", "session": "old", "name": "yesterday's task"},
                             **e2b_env.sdk_opts)
    foreign = Sandbox.create(metadata={"app": "something-else"}, **e2b_env.sdk_opts)
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    current = start_e2b_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, current) is SessionState.IDLE, timeout=60_000)

    leftovers = LeftoverSandboxes(Providers(window._settings, tmp_path / "ws"), window._sessions)
    leftovers.found.connect(lambda found: window.offer_to_end_leftovers(found, leftovers.end))
    with qtbot.waitSignal(leftovers.found, timeout=30_000) as found:
        leftovers.check()
    assert [s.sandbox_id for s in found.args[0]] == [earlier.sandbox_id]
    box = window.leftovers_box
    assert box.isVisible() and not box.isModal()
    assert box.text() == "1 E2B sandbox from an earlier run is still running."
    assert "yesterday's task" in box.informativeText()
    with qtbot.waitSignal(leftovers.ended, timeout=30_000) as ended:
        next(b for b in box.buttons() if b.text() == "End Them").click()
    assert ended.args[0] == 1
    assert not e2b_env.is_alive(earlier.sandbox_id)
    assert e2b_env.is_alive(foreign.sandbox_id)
    assert e2b_env.is_alive(window._sessions.snapshot(current).sandbox_id)
    run_async(leftovers.aclose())


def test_no_key_means_no_question(make_window, qtbot, tmp_path, run_async):
    window = make_window()
    leftovers = LeftoverSandboxes(Providers(window._settings, tmp_path / "ws"), window._sessions)
    found: list = []
    leftovers.found.connect(found.append)
    leftovers.check()
    qtbot.waitUntil(lambda: not leftovers._tasks.tasks)
    assert found == [] and window.leftovers_box is None
    run_async(leftovers.aclose())
