"""A cancellation the app asked for stays a cancellation: never an error for the user."""

from __future__ import annotations

import asyncio

import pytest

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.secret import Secret
from sesame_desktop.sandbox.base import SandboxSpec
from sesame_desktop.sandbox.e2b_provider import E2BProvider
from tests.sandbox.output import Output


@pytest.fixture
def box(e2b_env, run_async):
    provider = E2BProvider(Secret(e2b_env.api_key))
    sandbox = run_async(provider.create(SandboxSpec(session_id="sess-c", name="cancel")))
    yield sandbox
    run_async(sandbox.kill())


@pytest.mark.parametrize("call", ["wait", "list_dir", "read_file", "run"])
def test_cancelling_an_sdk_call_is_a_cancellation(box, run_async, qtbot, call):
    output = Output()
    started = asyncio.Event()

    async def scenario() -> None:
        if call == "wait":
            handle = await box.start("sleep 30", on_stdout=output.on_out, on_stderr=output.on_err, cwd="/")
            started.set()
            await handle.wait()
        elif call == "run":
            started.set()
            await box.run("sleep 30", on_stdout=output.on_out, on_stderr=output.on_err, cwd="/")
        else:
            started.set()
            while True:  # many short requests: the cancel lands inside one of them
                await (box.list_dir("/") if call == "list_dir" else box.read_file("/etc/hostname"))

    task = asyncio.ensure_future(scenario())
    qtbot.waitUntil(started.is_set, timeout=10_000)
    qtbot.wait(200)
    task.cancel()
    qtbot.waitUntil(task.done, timeout=10_000)
    if not task.cancelled():
        exc = task.exception()
        assert not isinstance(exc, UserFacingError), f"a cancel became an error: {exc.message}"
        raise AssertionError(f"a cancel became {exc!r}")
