"""The port service over a real session manager, local provider and real servers."""

from __future__ import annotations

import socket
import time

import pytest

from sesame_desktop.core.config import Provider, from_environment, resolve
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.ports import ENVD_PORT, PortInfo, PortSource
from sesame_desktop.core.sessions import SessionRequest, SessionState
from sesame_desktop.core.settings import AppSettings
from sesame_desktop.sandbox.local import LocalProvider
from sesame_desktop.sandbox.ports import listening_ports
from sesame_desktop.services.ports import PortService
from sesame_desktop.services.sessions import SessionManager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """Counts scans, and can fail the first ones, around the real scanner."""

    def __init__(self, fail_first: int = 0, extra: set[int] | None = None) -> None:
        self.calls = 0
        self.fail_first = fail_first
        self.extra = extra or set()

    async def __call__(self, sandbox) -> set[int]:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise UserFacingError(UserMessage("Sandbox gone", "not reachable"))
        return await listening_ports(sandbox) | self.extra


@pytest.fixture
def manager(tmp_path, run_async):
    provider = LocalProvider(tmp_path / "workspaces")

    async def providers(kind):
        return provider

    config = resolve(from_environment({}), None, AppSettings().as_partial())
    manager = SessionManager(providers, lambda: config)
    yield manager
    run_async(manager.close())


def idle_session(manager, qtbot) -> str:
    snap = manager.start_session(SessionRequest("ports", Provider.LOCAL))
    qtbot.waitUntil(lambda: manager.snapshot(snap.id).state is SessionState.IDLE, timeout=30_000)
    return snap.id


def test_a_server_appears_is_announced_once_and_leaves(manager, qtbot):
    service = PortService(manager)
    changes: list[tuple[str, tuple[PortInfo, ...]]] = []
    opened: list[tuple[str, PortInfo]] = []
    service.ports_changed.connect(lambda sid, ports: changes.append((sid, ports)))
    service.port_opened.connect(lambda sid, info: opened.append((sid, info)))
    session_id = idle_session(manager, qtbot)
    port = free_port()

    # Found by scanning alone (it prints nothing); it stops when the file "stop" appears.
    server = (f"rm -f stop; python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 & "
              "until [ -e stop ]; do sleep 0.05; done; kill $!")
    manager.run_command(session_id, server, background=True)
    started = time.monotonic()
    qtbot.waitUntil(lambda: bool(service.ports(session_id)), timeout=5_000)
    assert time.monotonic() - started < 2.0  # python's start-up plus at most one interval
    expected = PortInfo(port, f"http://127.0.0.1:{port}", PortSource.SCAN)
    assert service.ports(session_id) == (expected,)
    assert changes[-1] == (session_id, (expected,)) and opened == [(session_id, expected)]

    manager.run_command(session_id, "touch stop")
    qtbot.waitUntil(lambda: service.ports(session_id) == (), timeout=5_000)
    assert changes[-1] == (session_id, ())

    manager.run_command(session_id, server, background=True)
    qtbot.waitUntil(lambda: service.ports(session_id) == (expected,), timeout=5_000)
    assert len(opened) == 1  # the same port again is not announced again


def test_a_printed_url_is_checked_at_once(manager, qtbot):
    recorder = Recorder()
    service = PortService(manager, interval_s=60.0, scanner=recorder)  # only a printed URL can hurry it
    session_id = idle_session(manager, qtbot)
    qtbot.waitUntil(lambda: recorder.calls == 1)
    port = free_port()
    manager.run_command(session_id, f"python3 -u -m http.server {port} --bind 127.0.0.1", background=True)
    started = time.monotonic()
    qtbot.waitUntil(lambda: bool(service.ports(session_id)), timeout=5_000)
    assert time.monotonic() - started < 2.0
    (info,) = service.ports(session_id)
    assert (info.port, info.url, info.source) == (port, f"http://127.0.0.1:{port}", PortSource.OUTPUT)


def test_printed_urls_never_add_ports_a_scan_does_not_confirm(manager, qtbot):
    recorder = Recorder()
    service = PortService(manager, interval_s=60.0, scanner=recorder)
    session_id = idle_session(manager, qtbot)
    qtbot.waitUntil(lambda: recorder.calls == 1)
    with socket.socket() as outside:  # a server of this computer, not of the session
        outside.bind(("127.0.0.1", 0))
        outside.listen()
        port = outside.getsockname()[1]
        manager.run_command(session_id, f"echo 'Local: http://localhost:{port}/ http://127.0.0.1:{ENVD_PORT}/'; "
                                        "sleep 30", background=True)
        qtbot.waitUntil(lambda: recorder.calls >= 6, timeout=3_000)  # fast re-scans while unconfirmed
    assert service.ports(session_id) == ()


def test_failed_scans_are_retried_and_never_fail_the_session(manager, qtbot):
    recorder = Recorder(fail_first=2, extra={ENVD_PORT})
    service = PortService(manager, interval_s=0.05, scanner=recorder)
    session_id = idle_session(manager, qtbot)
    port = free_port()
    manager.run_command(session_id, f"python3 -m http.server {port} --bind 127.0.0.1", background=True)
    qtbot.waitUntil(lambda: bool(service.ports(session_id)), timeout=5_000)
    assert recorder.calls > 2
    assert [p.port for p in service.ports(session_id)] == [port]  # envd's port is never shown
    assert manager.snapshot(session_id).state is SessionState.IDLE


def test_ending_the_session_empties_its_list_and_stops_scanning(manager, qtbot, run_async):
    recorder = Recorder()
    service = PortService(manager, interval_s=0.05, scanner=recorder)
    session_id = idle_session(manager, qtbot)
    port = free_port()
    manager.run_command(session_id, f"python3 -m http.server {port} --bind 127.0.0.1", background=True)
    qtbot.waitUntil(lambda: bool(service.ports(session_id)), timeout=5_000)
    with qtbot.waitSignal(service.ports_changed, check_params_cb=lambda sid, ports: ports == ()):
        run_async(manager.end_session(session_id))
    assert service.ports(session_id) == ()
    calls = recorder.calls
    qtbot.wait(200)
    assert recorder.calls == calls
