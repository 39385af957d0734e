"""The session manager on the local provider: real processes, real git."""

from __future__ import annotations

import subprocess

import pytest

from sesame_desktop.core.config import Provider, resolve, from_environment
from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.sessions import GitProject, SessionRequest, SessionState
from sesame_desktop.core.settings import AppSettings
from sesame_desktop.sandbox.local import LocalProvider
from sesame_desktop.services.sessions import SessionManager


@pytest.fixture
def manager(tmp_path, run_async):
    provider = LocalProvider(tmp_path / "workspaces")

    async def providers(kind):
        assert kind is Provider.LOCAL
        return provider

    config = resolve(from_environment({}), None, AppSettings().as_partial())
    manager = SessionManager(providers, lambda: config)
    yield manager
    run_async(manager.close())


def wait_state(qtbot, manager, session_id, *states, timeout=30_000):
    qtbot.waitUntil(lambda: manager.snapshot(session_id).state in states, timeout=timeout)
    return manager.snapshot(session_id)


def test_session_runs_its_task_and_goes_idle(manager, qtbot, git_project):
    seen: list[SessionState] = []
    manager.session_changed.connect(lambda snap: seen.append(snap.state))
    snap = manager.start_session(SessionRequest("demo", Provider.LOCAL, GitProject(str(git_project)),
                                                task="cat README.md; echo oops >&2"))
    assert snap.state is SessionState.CREATING
    final = wait_state(qtbot, manager, snap.id, SessionState.IDLE)
    order = list(dict.fromkeys(seen))
    assert order == [SessionState.GETTING_PROJECT, SessionState.RUNNING_TASK, SessionState.IDLE]
    text = manager.buffer(snap.id).plain_text()
    assert "hello from the demo project" in text and "oops" in text
    assert "▶ cat README.md; echo oops >&2" in text and "■ exit code 0" in text
    assert final.sandbox_id and final.project_dir and final.expires_at is None


def test_commands_stdin_interrupt_and_background(manager, qtbot, git_project):
    snap = manager.start_session(SessionRequest("demo", Provider.LOCAL, GitProject(str(git_project))))
    wait_state(qtbot, manager, snap.id, SessionState.IDLE)
    buffer = manager.buffer(snap.id)

    manager.run_command(snap.id, "sh greet.sh")
    qtbot.waitUntil(lambda: manager.snapshot(snap.id).running == "sh greet.sh")
    qtbot.waitUntil(lambda: manager.send_input(snap.id, "Ada"))
    qtbot.waitUntil(lambda: "hello, Ada" in buffer.plain_text())
    qtbot.waitUntil(lambda: manager.snapshot(snap.id).running == "")

    manager.run_command(snap.id, "sleep 600")
    qtbot.waitUntil(lambda: manager.snapshot(snap.id).running == "sleep 600")
    with pytest.raises(UserFacingError, match="still running"):
        manager.run_command(snap.id, "echo second")
    qtbot.waitUntil(lambda: manager.interrupt(snap.id))
    qtbot.waitUntil(lambda: manager.snapshot(snap.id).running == "")
    assert "interrupted" in buffer.plain_text()

    manager.run_command(snap.id, "sleep 601", background=True)
    qtbot.waitUntil(lambda: manager.snapshot(snap.id).background == 1)
    manager.run_command(snap.id, "echo still free")
    qtbot.waitUntil(lambda: "still free" in buffer.plain_text())


def test_end_session_kills_everything(manager, qtbot, run_async, git_project):
    snap = manager.start_session(SessionRequest("demo", Provider.LOCAL, GitProject(str(git_project)),
                                                task="sleep 602"))
    wait_state(qtbot, manager, snap.id, SessionState.RUNNING_TASK)
    qtbot.waitUntil(lambda: manager.snapshot(snap.id).running == "sleep 602")
    manager.run_command(snap.id, "sleep 603", background=True)
    qtbot.waitUntil(lambda: manager.snapshot(snap.id).background == 1)
    run_async(manager.end_session(snap.id))
    assert manager.snapshot(snap.id).state is SessionState.ENDED
    left = subprocess.run(["pgrep", "-f", "sleep 60[23]"], capture_output=True, text=True).stdout
    assert left == ""
    with pytest.raises(UserFacingError, match="Session not ready"):
        manager.run_command(snap.id, "echo late")


def test_two_sessions_one_failing(manager, qtbot, git_project, tmp_path):
    bad = manager.start_session(SessionRequest("bad", Provider.LOCAL, GitProject(str(tmp_path / "missing"))))
    good = manager.start_session(SessionRequest("good", Provider.LOCAL, GitProject(str(git_project)),
                                                task="echo fine"))
    failed = wait_state(qtbot, manager, bad.id, SessionState.FAILED)
    ok = wait_state(qtbot, manager, good.id, SessionState.IDLE)
    assert failed.error is not None and failed.error.title == "Could not get the project"
    assert "missing" in failed.error.explanation
    assert "fine" in manager.buffer(good.id).plain_text()
    assert ok.error is None


def test_close_ends_open_sessions(manager, qtbot, run_async, git_project):
    snaps = [manager.start_session(SessionRequest(f"s{i}", Provider.LOCAL, None, task="sleep 604")) for i in range(3)]
    for snap in snaps:
        qtbot.waitUntil(lambda s=snap: manager.snapshot(s.id).running == "sleep 604", timeout=30_000)
    run_async(manager.close())
    assert {manager.snapshot(s.id).state for s in snaps} == {SessionState.ENDED}
    assert subprocess.run(["pgrep", "-f", "sleep 604"], capture_output=True, text=True).stdout == ""


def test_new_sessions_get_the_scrollback_limit_of_the_settings(tmp_path, run_async, qtbot, git_project):
    provider = LocalProvider(tmp_path / "workspaces")

    async def providers(kind):
        return provider

    settings = AppSettings()
    manager = SessionManager(providers, lambda: resolve(from_environment({}), None, settings.as_partial()))
    try:
        request = SessionRequest("demo", Provider.LOCAL, GitProject(str(git_project)), task="true")
        first = manager.start_session(request)
        settings = settings.with_changes(scrollback_mb=3)  # saved in the dialog meanwhile
        second = manager.start_session(request)
        assert manager.buffer(first.id).max_chars == 64 << 20
        assert manager.buffer(second.id).max_chars == 3 << 20
        for snap in (first, second):
            wait_state(qtbot, manager, snap.id, SessionState.IDLE)
    finally:
        run_async(manager.close())
