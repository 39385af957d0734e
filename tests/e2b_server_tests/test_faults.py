"""Fault injection: failing and slow control-plane answers, dropped streams, expiry now."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from e2b import AsyncSandbox, Sandbox
from e2b.exceptions import (
    RateLimitException,
    SandboxException,
    SandboxNotFoundException,
    SandboxNotRunningException,
    SandboxUnreachableException,
    ServiceBusyException,
)

from .conftest import await_until


def test_retryable_failures_are_retried_by_the_sdk(e2b_server) -> None:
    before = e2b_server.stats()["api_calls"]
    e2b_server.fail_next(2, status=503)
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    assert e2b_server.stats()["api_calls"] - before == 3  # two 503s, then the real answer
    assert e2b_server.is_alive(sbx.sandbox_id)
    e2b_server.fail_next(1, status=429, retry_after=0)
    assert Sandbox.get_info(sbx.sandbox_id, **e2b_server.sdk_opts).sandbox_id == sbx.sandbox_id


def test_failures_beyond_the_retries_reach_the_caller(e2b_server, run_async) -> None:
    e2b_server.fail_next(4, status=429)  # first try + 3 retries
    with pytest.raises(RateLimitException):
        Sandbox.create(**e2b_server.sdk_opts)
    assert e2b_server.stats()["pending_failures"] == 0

    e2b_server.fail_next(1, status=503, should_retry=False)
    with pytest.raises(ServiceBusyException):
        Sandbox.create(**e2b_server.sdk_opts)

    async def go():
        e2b_server.fail_next(1, status=500, message="boom")
        with pytest.raises(SandboxException) as err:
            await AsyncSandbox.create(**e2b_server.sdk_opts)
        return err.value

    err = run_async(go())
    assert err.status_code == 500 and "boom" in str(err)
    assert e2b_server.sandbox_ids() == []


def test_delayed_answers(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    e2b_server.delay_next(1, 0.6)
    started = time.monotonic()
    assert Sandbox.get_info(sbx.sandbox_id, **e2b_server.sdk_opts).sandbox_id == sbx.sandbox_id
    assert time.monotonic() - started >= 0.6
    e2b_server.delay_next(1, 1.5)
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        Sandbox.get_info(sbx.sandbox_id, request_timeout=0.3, **e2b_server.sdk_opts)
    assert time.monotonic() - started < 1.4
    e2b_server.delay_next(1, 0.5, target="envd")
    started = time.monotonic()
    assert sbx.commands.run("echo slow").stdout == "slow\n"
    assert time.monotonic() - started >= 0.5


def test_drop_a_stream_mid_way_then_reconnect(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        out: list[str] = []
        handle = await sbx.commands.run(
            "for i in $(seq 1 30); do echo $i; sleep 0.05; done", background=True, on_stdout=out.append
        )
        await await_until(lambda: len(out) >= 2)
        assert e2b_env.drop_streams(sbx.sandbox_id) == 1
        with pytest.raises(SandboxUnreachableException):
            await handle.wait()  # no end event: a lost connection, the sandbox still alive
        running = await sbx.is_running()
        listed = [p.pid for p in await sbx.commands.list()]
        again = await sbx.commands.connect(handle.pid)
        result = await again.wait()
        return handle.pid, running, listed, result

    pid, running, listed, result = run_async(go())
    assert running is True
    assert listed == [pid]  # the process outlived its stream
    assert result.stdout.split()[-1] == "30"


def test_armed_drop_after_n_events_and_watch_drop(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        e2b_env.drop_streams(sbx.sandbox_id, after_events=2)  # start + first output
        with pytest.raises(SandboxUnreachableException):
            await sbx.commands.run("echo a; sleep 0.3; echo b")
        ok = await sbx.commands.run("echo next streams are fine")
        await sbx.files.make_dir("w")
        exits: list[object] = []
        watch = await sbx.files.watch_dir("w", lambda e: None, on_exit=exits.append)
        e2b_env.drop_streams(sbx.sandbox_id)
        await await_until(lambda: exits, timeout=5)
        await watch.stop()
        return ok.stdout, exits

    stdout, exits = run_async(go())
    assert stdout == "next streams are fine\n"
    assert isinstance(exits[0], Exception)


def test_expire_now(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create(timeout=3600)
        task = asyncio.ensure_future(sbx.commands.run("sleep 30"))
        await await_until(lambda: e2b_env.sandboxes()[sbx.sandbox_id].get("pids"))
        assert e2b_env.expire_sandbox(sbx.sandbox_id) is True
        with pytest.raises(SandboxNotRunningException):
            await task
        with pytest.raises(SandboxNotFoundException):
            await sbx.get_info()
        return await sbx.is_running(), await AsyncSandbox.list().next_items()

    running, listed = run_async(go())
    assert running is False and listed == []
