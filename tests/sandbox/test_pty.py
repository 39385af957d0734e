"""Interactive terminals: a real shell on a real PTY, locally (with and without bubblewrap) and
in an E2B sandbox through the real SDK against the local E2B-compatible server."""

from __future__ import annotations

import asyncio

import pytest

from sesame_desktop.core.secret import Secret
from sesame_desktop.sandbox.base import SandboxSpec
from sesame_desktop.sandbox.e2b_provider import E2BProvider
from sesame_desktop.sandbox.local import LocalProvider, bubblewrap_works
from sesame_desktop.sandbox.pty import open_pty


@pytest.fixture(params=["bwrap", "plain", "e2b"])
def sandbox(request, tmp_path, run_async):
    if request.param == "e2b":
        env = request.getfixturevalue("e2b_env")
        provider = E2BProvider(Secret(env.api_key))
    else:
        isolate = request.param == "bwrap"
        if isolate and not run_async(bubblewrap_works()):
            pytest.fail("bubblewrap is needed for the isolated local provider")
        provider = LocalProvider(tmp_path / "workspaces", isolate=isolate)
    box = run_async(provider.create(SandboxSpec(session_id="s1", name="test")))
    run_async(box.get_project(None, lambda _m: None))
    yield box
    run_async(box.kill())


async def _until(received: bytearray, needle: bytes, timeout: float = 15) -> None:
    async def poll() -> None:
        while needle not in received:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def test_a_shell_on_a_pty_echoes_runs_commands_resizes_and_ends(sandbox, run_async):
    received = bytearray()

    async def scenario() -> int | None:
        pty = await open_pty(sandbox, 100, 30, received.extend)
        try:
            await pty.write(b"stty size; echo $TERM; pwd\r")
            await _until(received, b"30 100")
            await _until(received, b"xterm-256color")
            await _until(received, sandbox.project_dir.encode())
            await pty.resize(120, 40)
            await pty.write(b"stty size\r")
            await _until(received, b"40 120")
            await pty.write(b"exit 3\r")
            return await asyncio.wait_for(pty.wait(), 15)
        finally:
            await pty.close()

    code = run_async(scenario(), timeout=40)
    assert code == 3
    assert b"\x1b[?2004h" in received  # readline on a real terminal (not a pipe)


def test_closing_ends_a_busy_shell(sandbox, run_async):
    received = bytearray()

    async def scenario() -> None:
        pty = await open_pty(sandbox, 80, 24, received.extend)
        await pty.write(b"echo started; sleep 600\r")
        await _until(received, b"started\r\n")
        await asyncio.wait_for(pty.close(), 10)
        await asyncio.wait_for(pty.wait(), 10)

    run_async(scenario(), timeout=30)


@pytest.mark.parametrize("isolate", [True, False], ids=["bwrap", "plain"])
def test_a_local_terminal_gets_the_minimal_environment_without_the_apps_secrets(
    isolate, tmp_path, run_async, monkeypatch
):
    monkeypatch.setenv("E2B_API_KEY", "e2b_should_never_show")
    provider = LocalProvider(tmp_path / "workspaces", isolate=isolate)
    box = run_async(provider.create(SandboxSpec(session_id="s2", name="test")))
    run_async(box.get_project(None, lambda _m: None))
    received = bytearray()

    async def scenario() -> None:
        pty = await open_pty(box, 80, 24, received.extend)
        try:
            await pty.write(b'echo "key=[$E2B_API_KEY] home=$HOME"\r')
            await _until(received, b"key=[] home=")
        finally:
            await pty.close()

    try:
        run_async(scenario(), timeout=30)
    finally:
        run_async(box.kill())
    assert b"e2b_should_never_show" not in received
