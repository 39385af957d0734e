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


def test_a_leftover_sandbox_can_be_adopted_with_its_running_command(real_keyring, e2b_env, make_window, qtbot,
                                                                    tmp_path, run_async):
    earlier = Sandbox.create(metadata={"app": "sesame-desktop", "session": "gone", "name": "night shift"},
                             **e2b_env.sdk_opts)
    earlier.commands.run('i=0; while true; do i=$((i+1)); echo "adopt-$i"; sleep 0.2; done', background=True)
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    leftovers = LeftoverSandboxes(Providers(window._settings, tmp_path / "ws"), window._sessions)
    leftovers.found.connect(lambda found: window.offer_to_end_leftovers(found, leftovers.end, leftovers.adopt))
    with qtbot.waitSignal(leftovers.found, timeout=30_000):
        leftovers.check()
    with qtbot.waitSignal(leftovers.adopted, timeout=10_000) as adopted:
        next(b for b in window.leftovers_box.buttons() if b.text() == "Adopt as Sessions").click()
    (session_id,) = adopted.args[0]
    manager = window._sessions
    qtbot.waitUntil(lambda: manager.snapshot(session_id).background == 1, timeout=30_000)
    snap = manager.snapshot(session_id)
    assert snap.name == "night shift" and snap.sandbox_id == earlier.sandbox_id
    assert snap.state is SessionState.IDLE
    qtbot.waitUntil(lambda: "adopt-" in manager.buffer(session_id).plain_text(), timeout=20_000)
    assert e2b_env.is_alive(earlier.sandbox_id)
    run_async(leftovers.aclose())
