"""Stop on an E2B sandbox: SIGINT inside the sandbox first, a kill after the grace period
(the real SDK against the local E2B-compatible server)."""

from __future__ import annotations

import asyncio

import pytest

from sesame_desktop.core.secret import Secret
from sesame_desktop.sandbox.base import SandboxSpec
from sesame_desktop.sandbox.e2b_provider import E2BProvider
from tests.sandbox.output import Output


@pytest.mark.parametrize(("script", "exit_code", "cleaned"), [
    ("trap 'echo cleaned; exit 5' INT; echo ready; while :; do sleep 0.05; done", 5, True),
    ("trap '' INT; echo ready; while :; do sleep 0.05; done", None, False),  # killed after the grace
], ids=["handles-int", "ignores-int"])
def test_e2b_interrupt_sends_sigint_then_kills(e2b_env, run_async, script, exit_code, cleaned):
    box = run_async(E2BProvider(Secret(e2b_env.api_key)).create(SandboxSpec("s1", "t")))
    try:
        run_async(box.get_project(None, lambda _m: None))
        output = Output()
        handle = run_async(box.start(script, on_stdout=output.on_out, on_stderr=output.on_err))

        async def ready():
            while b"ready" not in output.out:
                await asyncio.sleep(0.02)

        run_async(ready(), timeout=20)
        result = run_async(handle.interrupt(grace_s=1.0), timeout=30)
        assert result.exit_code == exit_code
        assert (b"cleaned" in output.out) is cleaned
        if not cleaned:
            assert result.signal_name == "killed"
    finally:
        run_async(box.kill())
