"""Pause and resume through the real SDK: frozen processes, kept files, the paused state,
refused calls while paused, connect/resume, kill in both states, lifecycle on timeout."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from e2b import AsyncSandbox, Sandbox, SandboxQuery, SandboxState
from e2b.exceptions import SandboxNotFoundException, SandboxNotRunningException

from .conftest import await_until, wait_until

COUNTER = "i=0; while :; do echo $i >> /home/user/count; i=$((i+1)); sleep 0.02; done"


def _lines(e2b_server, sandbox_id: str) -> int:
    try:
        return len((e2b_server.host_root(sandbox_id) / "count").read_text().splitlines())
    except FileNotFoundError:
        return 0


def _remaining(end_at: dt.datetime) -> float:
    return (end_at - dt.datetime.now(dt.UTC)).total_seconds()


def test_pause_freezes_keeps_files_refuses_calls_and_connect_resumes_async(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create(timeout=120)
        await sbx.files.write("kept.txt", "before pause")
        counter = await sbx.commands.run(COUNTER, background=True)
        await await_until(lambda: _lines(e2b_env, sbx.sandbox_id) > 3)
        first = await sbx.pause()
        second = await sbx.pause()  # already paused: False, as E2B's 409
        frozen_at = _lines(e2b_env, sbx.sandbox_id)
        await asyncio.sleep(0.3)
        still = _lines(e2b_env, sbx.sandbox_id)
        info = await sbx.get_info()
        listed = await AsyncSandbox.list(query=SandboxQuery(state=[SandboxState.PAUSED])).next_items()
        running = await AsyncSandbox.list(query=SandboxQuery(state=[SandboxState.RUNNING])).next_items()
        refused = []
        for call in (
            lambda: sbx.commands.run("echo no"),
            lambda: sbx.files.read("kept.txt"),
            lambda: sbx.commands.list(),
        ):
            with pytest.raises(SandboxNotRunningException) as err:
                await call()
            refused.append(err.value)
        with pytest.raises(SandboxNotFoundException):
            await sbx.set_timeout(60)
        is_running = await sbx.is_running()
        again = await AsyncSandbox.connect(sbx.sandbox_id, timeout=90)
        after_info = await again.get_info()
        kept = await again.files.read("kept.txt")
        procs = await again.commands.list()
        await await_until(lambda: _lines(e2b_env, sbx.sandbox_id) > still + 3)
        await again.commands.kill(counter.pid)
        return (first, second, frozen_at, still, info, listed, running, refused, is_running,
                after_info, kept, procs, counter.pid)  # fmt: skip

    (first, second, frozen_at, still, info, listed, running, refused, is_running,
     after_info, kept, procs, pid) = run_async(go())  # fmt: skip
    assert (first, second) == (True, False)
    assert frozen_at == still  # nothing ran while paused
    assert info.state == SandboxState.PAUSED
    assert [s.state for s in listed] == [SandboxState.PAUSED]
    assert running == []
    assert len(refused) == 3
    assert is_running is False
    assert after_info.state == SandboxState.RUNNING
    assert 85 < _remaining(after_info.end_at) <= 90  # the lifetime connect asked for
    assert kept == "before pause"
    assert [p.pid for p in procs] == [pid]  # the same process, continued


def test_pause_connect_and_kill_in_both_states_sync(e2b_server) -> None:
    opts = e2b_server.sdk_opts
    sbx = Sandbox.create(**opts)
    sbx.files.write("/home/user/a.txt", "a")
    assert Sandbox.pause(sbx.sandbox_id, **opts) is True
    assert e2b_server.sandbox_state(sbx.sandbox_id) == "paused"
    assert Sandbox.get_info(sbx.sandbox_id, **opts).state == SandboxState.PAUSED
    with pytest.raises(SandboxNotRunningException):
        sbx.commands.run("true")
    resumed = sbx.connect()  # the instance form resumes too
    assert resumed.commands.run("cat /home/user/a.txt").stdout == "a"
    assert sbx.pause() is True
    assert Sandbox.kill(sbx.sandbox_id, **opts) is True  # a paused sandbox can be killed
    assert e2b_server.sandbox_state(sbx.sandbox_id) == "killed"
    with pytest.raises(SandboxNotFoundException):
        Sandbox.connect(sbx.sandbox_id, **opts)
    with pytest.raises(SandboxNotFoundException):
        Sandbox.pause(sbx.sandbox_id, **opts)
    other = Sandbox.create(**opts)
    assert other.kill() is True  # and a running one, as before
    assert Sandbox.list(**opts).next_items() == []


def test_pause_cuts_open_streams_and_commands_connect_reattaches_after_resume(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        handle = await sbx.commands.run("for i in $(seq 1 400); do echo $i; sleep 0.02; done", background=True)
        await sbx.pause()
        with pytest.raises(SandboxNotRunningException):
            await handle.wait()  # the stream was cut by the pause; the sandbox is not running
        await AsyncSandbox.connect(sbx.sandbox_id)
        seen: list[str] = []
        again = await sbx.commands.connect(handle.pid, on_stdout=seen.append)
        await await_until(lambda: len("".join(seen).split()) > 3)
        await sbx.commands.kill(handle.pid)
        with pytest.raises(Exception):  # noqa: B017 - killed: CommandExitException
            await again.wait()
        return [int(n) for n in "".join(seen).split()]

    numbers = run_async(go())
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert numbers[0] > 1  # continued where it stopped, not restarted


def test_lifecycle_on_timeout_pause_pauses_instead_of_killing_async(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create(timeout=1, lifecycle={"on_timeout": "pause"})
        await sbx.files.write("f.txt", "survives")
        created_info = await sbx.get_info()
        await await_until(lambda: e2b_env.sandbox_state(sbx.sandbox_id) == "paused", timeout=5)
        paused_info = await sbx.get_info()
        with pytest.raises(SandboxNotRunningException):
            await sbx.commands.run("true")  # no auto_resume: refused until connect
        await sbx.connect(timeout=30)
        return created_info, paused_info, await sbx.files.read("f.txt")

    created_info, paused_info, content = run_async(go())
    assert created_info.lifecycle == {"on_timeout": "pause", "auto_resume": False}
    assert paused_info.state == SandboxState.PAUSED
    assert content == "survives"


def test_lifecycle_object_form_with_mode_and_expire_hook_sync(e2b_server) -> None:
    sbx = Sandbox.create(
        timeout=60, lifecycle={"on_timeout": {"action": "pause", "mode": "full"}}, **e2b_server.sdk_opts
    )
    assert e2b_server.expire_sandbox(sbx.sandbox_id) is True
    assert e2b_server.sandbox_state(sbx.sandbox_id) == "paused"
    assert sbx.get_info().state == SandboxState.PAUSED
    killer = Sandbox.create(timeout=60, lifecycle={"on_timeout": {"action": "kill"}}, **e2b_server.sdk_opts)
    assert killer.get_info().lifecycle == {"on_timeout": "kill", "auto_resume": False}
    assert e2b_server.expire_sandbox(killer.sandbox_id) is True
    assert e2b_server.sandbox_state(killer.sandbox_id) == "killed"
    plain = Sandbox.create(timeout=60, **e2b_server.sdk_opts)  # the default is kill
    e2b_server.expire_sandbox(plain.sandbox_id)
    assert e2b_server.sandbox_state(plain.sandbox_id) == "killed"


def test_auto_resume_resumes_on_the_next_request_with_at_least_five_minutes(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create(timeout=1, lifecycle={"on_timeout": "pause", "auto_resume": True})
        await await_until(lambda: e2b_env.sandbox_state(sbx.sandbox_id) == "paused", timeout=5)
        out = await sbx.commands.run("echo awake")  # wakes it
        return out.stdout, await sbx.get_info()

    out, info = run_async(go())
    assert out == "awake\n"
    assert info.state == SandboxState.RUNNING
    assert info.lifecycle == {"on_timeout": "pause", "auto_resume": True}
    assert 295 < _remaining(info.end_at) <= 300


def test_auto_resume_by_preview_traffic_sync(e2b_server) -> None:
    import http.client

    sbx = Sandbox.create(timeout=60, lifecycle={"on_timeout": "pause", "auto_resume": True}, **e2b_server.sdk_opts)
    sbx.pause()
    conn = http.client.HTTPConnection("127.0.0.1", e2b_server.proxy_port, timeout=5)
    conn.request("GET", "/", headers={"Host": sbx.get_host(3999)})
    status = conn.getresponse().status
    conn.close()
    assert status == 502  # nothing listens on 3999, but the sandbox is running again
    assert e2b_server.sandbox_state(sbx.sandbox_id) == "running"
    plain = Sandbox.create(**e2b_server.sdk_opts)
    plain.pause()
    conn = http.client.HTTPConnection("127.0.0.1", e2b_server.proxy_port, timeout=5)
    conn.request("GET", "/", headers={"Host": plain.get_host(3999)})
    body = conn.getresponse().read()
    conn.close()
    assert b"was not found" in body
    assert e2b_server.sandbox_state(plain.sandbox_id) == "paused"


def test_connect_timeout_never_shortens_or_moves_the_end(e2b_server, run_async) -> None:
    sbx = Sandbox.create(timeout=100, **e2b_server.sdk_opts)
    end = sbx.get_info().end_at
    time.sleep(0.05)
    Sandbox.connect(sbx.sandbox_id, timeout=10, **e2b_server.sdk_opts)
    assert sbx.get_info().end_at == end  # unchanged, not recomputed from "now"

    async def go():
        await AsyncSandbox.connect(sbx.sandbox_id, timeout=50, **e2b_server.sdk_opts)
        same = (await AsyncSandbox.get_info(sbx.sandbox_id, **e2b_server.sdk_opts)).end_at
        await AsyncSandbox.connect(sbx.sandbox_id, timeout=500, **e2b_server.sdk_opts)
        later = (await AsyncSandbox.get_info(sbx.sandbox_id, **e2b_server.sdk_opts)).end_at
        return same, later

    same, later = run_async(go())
    assert same == end
    assert 495 < _remaining(later) <= 500


def test_wait_until_helper_sees_pause_from_the_server_side(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    handle = sbx.commands.run("sleep 30", background=True)
    sbx.pause()
    pids = e2b_server.sandboxes()[sbx.sandbox_id]["pids"]
    assert handle.pid in pids  # a paused sandbox keeps its processes
    sbx.connect()
    wait_until(lambda: e2b_server.sandbox_state(sbx.sandbox_id) == "running")
    assert [p.pid for p in sbx.commands.list()] == [handle.pid]


def test_filesystem_pause_and_reboot_resume_keep_files_but_not_processes_sync(e2b_server) -> None:
    opts = e2b_server.sdk_opts
    sbx = Sandbox.create(**opts)
    sbx.files.write("disk.txt", "on disk")
    sbx.commands.run("sleep 300", background=True)
    assert sbx.pause(mode="filesystem") is True
    assert sbx.get_info().state == SandboxState.PAUSED
    sbx.connect()
    assert sbx.commands.list() == []  # a cold boot: the processes are gone
    assert sbx.files.read("disk.txt") == "on disk"
    sbx.commands.run("sleep 301", background=True)
    sbx.pause()  # a full pause keeps them ...
    Sandbox.connect(sbx.sandbox_id, on_resume="reboot", **opts)  # ... unless resumed by a reboot
    assert sbx.commands.list() == []
    timed = Sandbox.create(timeout=60, lifecycle={"on_timeout": {"action": "pause", "mode": "filesystem"}}, **opts)
    timed.commands.run("sleep 302", background=True)
    e2b_server.expire_sandbox(timed.sandbox_id)
    timed.connect()
    assert timed.commands.list() == []
