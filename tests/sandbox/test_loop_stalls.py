"""Work that used to stall the event loop's thread, now done elsewhere (``bench/ports.py``
measures the stalls; these tests check where the work runs, not how long it takes)."""

from __future__ import annotations

import sys
import threading

import e2b.api.client_async as sdk_transports
import pytest

from sesame_desktop.core.secret import Secret
from sesame_desktop.sandbox import e2b_provider
from sesame_desktop.sandbox.base import SandboxSpec
from sesame_desktop.sandbox.e2b_provider import E2BProvider
from sesame_desktop.sandbox.local_process import LocalCommand
from tests.sandbox.output import Output


def test_first_e2b_sandbox_builds_the_sdk_connection_pools_off_the_loop_thread(e2b_env, run_async, monkeypatch):
    # As in a fresh app: the SDK has no connection pool yet (its caches are process-wide).
    for cache in ("_transports", "_pools", "_httpx_transports"):
        monkeypatch.setattr(sdk_transports, cache, {})
    monkeypatch.setattr(e2b_provider, "_sdk_warm", False, raising=False)
    built_on: list[int] = []
    real = sdk_transports.HTTPTransport

    def recording(*args, **kwargs):
        built_on.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(sdk_transports, "HTTPTransport", recording)
    box = run_async(E2BProvider(Secret(e2b_env.api_key)).create(SandboxSpec("sess-1", "pools")))
    try:
        output = Output()
        run_async(box.get_project(None, lambda _m: None))
        result = run_async(box.run("echo hi", on_stdout=output.on_out, on_stderr=output.on_err))
        assert result.exit_code == 0 and output.out == b"hi\n"
    finally:
        run_async(box.kill())
    assert built_on, "the SDK built no connection pool: the test no longer sees what it checks"
    assert threading.main_thread().ident not in built_on  # each loads CA certificates: 5-25 ms of CPU


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pid file descriptors are Linux's")
def test_starting_a_local_command_starts_no_thread_the_loop_waits_for(run_async, monkeypatch):
    started: list[str] = []
    real_start = threading.Thread.start

    def recording_start(self: threading.Thread) -> None:
        if threading.current_thread() is threading.main_thread():
            started.append(self.name)
        real_start(self)

    output = Output()

    async def scenario():
        monkeypatch.setattr(threading.Thread, "start", recording_start)
        try:
            command = await LocalCommand.start(["sh", "-c", "echo up; sleep 30"], cwd=None, env={"PATH": "/usr/bin:/bin"},
                                               stdin=False, on_stdout=output.on_out, on_stderr=output.on_err)
        finally:
            monkeypatch.undo()
        await command.kill()
        return await command.wait()

    result = run_async(scenario())
    # Python 3.11's default watcher starts a thread per child, and the loop waits until it runs.
    assert started == []
    assert result.signal_name == "killed"  # its end was still seen


def test_a_local_command_s_exit_status_is_seen(run_async):
    output = Output()

    async def scenario():
        command = await LocalCommand.start(["sh", "-c", "echo done; exit 3"], cwd=None, env={"PATH": "/usr/bin:/bin"},
                                           stdin=False, on_stdout=output.on_out, on_stderr=output.on_err)
        return await command.wait()

    result = run_async(scenario())
    assert result.exit_code == 3 and output.out == b"done\n"
