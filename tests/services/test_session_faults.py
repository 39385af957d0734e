"""Faults between the app and E2B: the real SDK, the local E2B server, a cuttable network.

Every test routes the SDK through a TCP proxy on loopback (:class:`CutProxy`), which can cut
the connection like a network outage and counts the kill requests the app sends, so each test
can show that the app killed no sandbox because of a client-side error.
"""

from __future__ import annotations

import time

import pytest

from sesame_desktop.core.config import Provider, from_environment, resolve
from sesame_desktop.core.secret import Secret
from sesame_desktop.core.sessions import SessionRequest, SessionState
from sesame_desktop.core.settings import AppSettings
from sesame_desktop.sandbox.e2b_provider import E2BProvider
from sesame_desktop.services import session_lifecycle
from sesame_desktop.services.session_lifecycle import QuitChoice
from sesame_desktop.services.session_store import SessionStore
from sesame_desktop.services.sessions import SessionManager
from tests.fixtures.cut_proxy import CutProxy


@pytest.fixture
def net(e2b_env, monkeypatch):
    proxy = CutProxy(e2b_env.api_url)
    monkeypatch.setenv("E2B_API_URL", proxy.url)
    monkeypatch.setenv("E2B_SANDBOX_URL", proxy.url)
    yield proxy
    proxy.close()


@pytest.fixture
def make_manager(e2b_env, net, tmp_path, run_async):
    made: list[SessionManager] = []

    def make(store: bool = True, timeout_ms: int | None = None) -> SessionManager:
        async def providers(kind):
            assert kind is Provider.E2B
            return E2BProvider(Secret(e2b_env.api_key))

        env = {"E2B_SANDBOX_TIMEOUT": str(timeout_ms)} if timeout_ms else {}
        config = resolve(from_environment(env), None, AppSettings().as_partial())
        manager = SessionManager(providers, lambda: config,
                                 store=SessionStore(tmp_path / "data") if store else None)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        if not manager._closed:
            run_async(manager.close(timeout=10))


def start(manager, qtbot, task="", state=SessionState.IDLE):
    snap = manager.start_session(SessionRequest("faulty", Provider.E2B, None, task=task))
    qtbot.waitUntil(lambda: manager.snapshot(snap.id).state is state, timeout=60_000)
    return snap.id


def text(manager, session_id):
    """The session's console text (an ended session's comes back from disk: waited for)."""
    buffer = manager.buffer(session_id)
    if manager.output(session_id).loading:
        _qtbot[0].waitUntil(lambda: not manager.output(session_id).loading, timeout=10_000)
    return buffer.plain_text()


_qtbot: list = []


@pytest.fixture(autouse=True)
def _remember_qtbot(qtbot):
    _qtbot[:] = [qtbot]
    yield
    _qtbot.clear()


def test_dropped_background_stream_reconnects_and_keeps_the_sandbox(make_manager, e2b_env, net, qtbot):
    manager = make_manager()
    sid = start(manager, qtbot)
    sandbox_id = manager.snapshot(sid).sandbox_id
    manager.run_command(sid, "for i in $(seq 1 40); do echo tick-$i; sleep 0.05; done", background=True)
    qtbot.waitUntil(lambda: "tick-3" in text(manager, sid), timeout=20_000)
    states: list[SessionState] = []
    manager.session_changed.connect(lambda s: states.append(s.state))
    assert e2b_env.drop_streams(sandbox_id) >= 1
    qtbot.waitUntil(lambda: "tick-40" in text(manager, sid), timeout=30_000)
    qtbot.waitUntil(lambda: "Background command ended (exit code 0)" in text(manager, sid), timeout=10_000)
    assert SessionState.RECONNECTING in states
    assert manager.snapshot(sid).state is SessionState.IDLE
    assert "Connection to the sandbox lost" in text(manager, sid) and "Reconnected after" in text(manager, sid)
    assert e2b_env.is_alive(sandbox_id) and net.kills() == []
    assert_every_running_sandbox_is_listed(manager, e2b_env)


def test_dropped_foreground_stream_keeps_following_the_command(make_manager, e2b_env, net, qtbot):
    manager = make_manager()
    sid = start(manager, qtbot)
    sandbox_id = manager.snapshot(sid).sandbox_id
    manager.run_command(sid, "for i in $(seq 1 30); do echo fg-$i; sleep 0.05; done; exit 3")
    qtbot.waitUntil(lambda: "fg-2" in text(manager, sid), timeout=20_000)
    e2b_env.drop_streams(sandbox_id)
    qtbot.waitUntil(lambda: "exit code 3" in text(manager, sid), timeout=30_000)
    assert "fg-30" in text(manager, sid)
    manager.run_command(sid, "sleep 600")
    qtbot.waitUntil(lambda: manager.snapshot(sid).running == "sleep 600", timeout=20_000)
    e2b_env.drop_streams(sandbox_id)
    qtbot.waitUntil(lambda: "Following “sleep 600” again" in text(manager, sid), timeout=20_000)
    assert manager.snapshot(sid).state is SessionState.IDLE  # the state before: Stop works again
    assert manager.snapshot(sid).running == "sleep 600"
    assert manager.interrupt(sid)
    qtbot.waitUntil(lambda: "■ stopped" in text(manager, sid).split("sleep 600")[-1], timeout=20_000)
    assert e2b_env.is_alive(sandbox_id) and net.kills() == []


def test_network_cut_of_8_s_reconnects(make_manager, e2b_env, net, qtbot, monkeypatch):
    monkeypatch.setattr(session_lifecycle, "RECONNECT_BACKOFF_S", (0.3, 0.6, 1.0))
    manager = make_manager()
    sid = start(manager, qtbot)
    sandbox_id = manager.snapshot(sid).sandbox_id
    manager.run_command(sid, "for i in $(seq 1 100); do echo net-$i; sleep 0.1; done")
    qtbot.waitUntil(lambda: "net-3" in text(manager, sid), timeout=20_000)
    net.cut()
    qtbot.waitUntil(lambda: manager.snapshot(sid).state is SessionState.RECONNECTING, timeout=20_000)
    assert manager.snapshot(sid).state.open
    qtbot.wait(8000)
    assert manager.snapshot(sid).state is SessionState.RECONNECTING
    net.restore()
    qtbot.waitUntil(lambda: "exit code 0" in text(manager, sid), timeout=30_000)
    assert manager.snapshot(sid).state is SessionState.IDLE
    assert "Reconnected after" in text(manager, sid)
    assert e2b_env.is_alive(sandbox_id) and net.kills() == []
    assert_every_running_sandbox_is_listed(manager, e2b_env)


def test_external_kill_ends_the_session_without_a_kill_from_the_app(make_manager, e2b_env, net, qtbot):
    manager = make_manager()
    sid = start(manager, qtbot, task="sleep 600", state=SessionState.RUNNING_TASK)
    qtbot.waitUntil(lambda: manager.snapshot(sid).running == "sleep 600", timeout=20_000)
    e2b_env.kill_sandbox(manager.snapshot(sid).sandbox_id)
    qtbot.waitUntil(lambda: manager.snapshot(sid).state is SessionState.FAILED, timeout=30_000)
    snap = manager.snapshot(sid)
    assert snap.error.title == "Sandbox gone" and snap.ended_how == "sandbox gone"
    assert text(manager, sid).count("Sandbox gone") == 1
    assert net.kills() == []


def test_503_bursts_on_kill_are_retried_until_confirmed(make_manager, e2b_env, net, qtbot, run_async):
    manager = make_manager()
    sid = start(manager, qtbot)
    sandbox_id = manager.snapshot(sid).sandbox_id
    e2b_env.fail_next(6, status=503)  # the SDK retries 3 times per call: two calls fail
    assert run_async(manager.end_session(sid), timeout=60) is True
    assert manager.snapshot(sid).state is SessionState.ENDED
    assert not e2b_env.is_alive(sandbox_id)
    assert "Session ended; the sandbox was stopped." in text(manager, sid)
    assert manager.snapshot(sid).work_dir and "Work saved on this computer" in text(manager, sid)


def test_an_end_that_is_never_confirmed_is_listed_and_retried_at_the_next_start(
        make_manager, e2b_env, net, qtbot, run_async, monkeypatch):
    monkeypatch.setattr(session_lifecycle, "END_TIMEOUT_S", 3.0)
    manager = make_manager()
    sid = start(manager, qtbot)
    sandbox_id = manager.snapshot(sid).sandbox_id
    net.cut()
    assert run_async(manager.end_session(sid), timeout=60) is False
    snap = manager.snapshot(sid)
    assert snap.state is SessionState.UNCONFIRMED and snap.state.open
    assert "may still be running" in snap.title.lower() and "did not confirm" in text(manager, sid)
    assert e2b_env.is_alive(sandbox_id)
    assert_every_running_sandbox_is_listed(manager, e2b_env)  # listed as "may still be running"
    run_async(manager.close(timeout=3))
    net.restore()
    again = make_manager()
    run_async(again.restore())
    qtbot.waitUntil(lambda: again.snapshot(sid).state is SessionState.ENDED, timeout=30_000)
    assert not e2b_env.is_alive(sandbox_id)


def test_slow_api_at_quit_is_bounded_and_lists_what_is_unconfirmed(make_manager, e2b_env, net, qtbot, run_async):
    manager = make_manager()
    first, second = start(manager, qtbot), start(manager, qtbot)
    e2b_env.delay_next(20, 30.0)
    started = time.monotonic()
    unconfirmed = run_async(manager.close(timeout=4, choice=QuitChoice.END_ALL), timeout=30)
    assert time.monotonic() - started < 10
    assert sorted(unconfirmed) == ["faulty", "faulty"]
    assert {manager.snapshot(s).state for s in (first, second)} == {SessionState.UNCONFIRMED}
    e2b_env.reset(kill_sandboxes=False)
    again = make_manager()
    run_async(again.restore())
    for sid in (first, second):
        qtbot.waitUntil(lambda s=sid: again.snapshot(s).state is SessionState.ENDED, timeout=30_000)
    assert e2b_env.sandbox_ids() == []


def test_pause_all_at_quit_then_resume_at_the_next_start(make_manager, e2b_env, net, qtbot, run_async):
    manager = make_manager()
    sid = start(manager, qtbot, task='i=0; while true; do i=$((i+1)); echo "n-$i"; sleep 0.2; done',
                state=SessionState.RUNNING_TASK)
    sandbox_id = manager.snapshot(sid).sandbox_id
    qtbot.waitUntil(lambda: "n-3" in text(manager, sid), timeout=20_000)
    assert run_async(manager.close(timeout=10, choice=QuitChoice.PAUSE_ALL), timeout=30) == []
    assert e2b_env.sandbox_state(sandbox_id) == "paused"
    again = make_manager()
    run_async(again.restore())
    snap = again.snapshot(sid)
    assert snap.state is SessionState.PAUSED and snap.title == "Paused \u2014 paused at quit"
    assert e2b_env.sandbox_state(sandbox_id) == "paused"  # kept paused until asked
    again.request_resume(sid)
    qtbot.waitUntil(lambda: again.snapshot(sid).state is SessionState.RUNNING_TASK, timeout=30_000)
    before = text(again, sid).count("n-")
    qtbot.waitUntil(lambda: text(again, sid).count("n-") > before + 3, timeout=20_000)
    assert e2b_env.sandbox_state(sandbox_id) == "running" and net.kills() == []


def test_ending_a_paused_session_wakes_it_to_save_the_work_first(make_manager, e2b_env, net, qtbot, run_async):
    manager = make_manager()
    sid = start(manager, qtbot, task="echo made-before-the-pause > made.txt")
    sandbox_id = manager.snapshot(sid).sandbox_id
    assert run_async(manager.close(timeout=10, choice=QuitChoice.PAUSE_ALL), timeout=30) == []
    again = make_manager()
    run_async(again.restore())
    assert again.snapshot(sid).state is SessionState.PAUSED
    assert run_async(again.end_session(sid), timeout=60) is True
    snap = again.snapshot(sid)
    assert snap.state is SessionState.ENDED and snap.work_dir
    assert "Work saved on this computer" in text(again, sid)
    assert e2b_env.sandbox_state(sandbox_id) == "killed"


def assert_every_running_sandbox_is_listed(manager, e2b_env):
    """No sandbox runs unnoticed: each live one belongs to an open session of the manager."""
    listed = {s.sandbox_id for s in manager.snapshots() if s.state.open}
    assert set(e2b_env.sandbox_ids()) <= listed


def test_5xx_bursts_on_every_control_plane_call(make_manager, e2b_env, net, qtbot, run_async):
    manager = make_manager()
    e2b_env.fail_next(3, status=503)  # create: the SDK's own retries get through
    sid = start(manager, qtbot)
    sandbox_id = manager.snapshot(sid).sandbox_id
    manager.run_command(sid, "for i in $(seq 1 300); do echo five-$i; sleep 0.05; done", background=True)
    qtbot.waitUntil(lambda: "five-2" in text(manager, sid), timeout=20_000)
    e2b_env.fail_next(12, status=503)  # probe and connect of the reconnection fail for a while
    e2b_env.drop_streams(sandbox_id)
    qtbot.waitUntil(lambda: "five-300" in text(manager, sid), timeout=60_000)
    assert "Following “for i in" in text(manager, sid)
    assert e2b_env.stats()["pending_failures"] == 0 and manager.snapshot(sid).state is SessionState.IDLE
    e2b_env.fail_next(1, status=500)
    manager.request_extend(sid)
    qtbot.waitUntil(lambda: manager._tasks.tasks == frozenset(), timeout=20_000)
    assert manager.snapshot(sid).state is SessionState.IDLE  # a failed extend ends nothing
    assert_every_running_sandbox_is_listed(manager, e2b_env)
    e2b_env.fail_next(5, status=500)  # no SDK retries for 500: the app's own backoff
    assert run_async(manager.end_session(sid), timeout=60) is True
    assert not e2b_env.is_alive(sandbox_id) and net.kills().count(sandbox_id) >= 2
    assert manager.snapshot(sid).work_dir


def test_api_down_and_back_during_end(make_manager, e2b_env, net, qtbot, run_async):
    manager = make_manager()
    sid = start(manager, qtbot)
    sandbox_id = manager.snapshot(sid).sandbox_id
    net.cut()  # the API restarts: every connection refused for a while
    manager.request_end(sid)
    qtbot.waitUntil(lambda: manager.snapshot(sid).state is SessionState.ENDING, timeout=10_000)
    qtbot.wait(3000)
    assert e2b_env.is_alive(sandbox_id) and manager.snapshot(sid).state is SessionState.ENDING
    net.restore()
    qtbot.waitUntil(lambda: manager.snapshot(sid).state is SessionState.ENDED, timeout=60_000)
    assert not e2b_env.is_alive(sandbox_id)
    assert manager.snapshot(sid).work_dir  # saved once the API was back, before the end
    assert_every_running_sandbox_is_listed(manager, e2b_env)
