"""Reattaching to commands started by an earlier client (another process that has exited,
as after an app restart): ``commands.list()`` finds them, ``commands.connect(pid)`` streams
their output from then on and ends with their exit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from e2b import AsyncSandbox, CommandExitException, Sandbox
from e2b.exceptions import NotFoundException

from .conftest import await_until, wait_until

_EARLIER_CLIENT = """
import json, os, sys
from e2b import Sandbox
sbx = Sandbox.create(timeout=120)
h = sbx.commands.run(sys.argv[1], background=True, envs={"WHO": "earlier"}, cwd="/tmp")
print(json.dumps({"id": sbx.sandbox_id, "pid": h.pid}), flush=True)
os._exit(0)  # gone without closing anything, as a crashed or restarted app
"""

LOOP = "for i in $(seq 1 100000); do echo tick-$WHO-$i; sleep 0.02; done"


def _earlier_client(e2b_server, cmd: str) -> tuple[str, int]:
    r = subprocess.run(
        [sys.executable, "-c", _EARLIER_CLIENT, cmd],
        env={"PATH": "/usr/bin:/bin", **e2b_server.env},
        capture_output=True,
        timeout=60,
        check=True,
    )
    info = json.loads(r.stdout.decode().splitlines()[-1])
    return info["id"], info["pid"]


def _ticks(chunks: list[str]) -> list[int]:
    return [int(line.rsplit("-", 1)[1]) for line in "".join(chunks).splitlines() if line.startswith("tick-")]


def test_list_and_connect_to_a_command_of_an_earlier_client_sync(e2b_server) -> None:
    sandbox_id, pid = _earlier_client(e2b_server, LOOP)
    sbx = Sandbox.connect(sandbox_id, **e2b_server.sdk_opts)
    procs = sbx.commands.list()
    assert [(p.pid, p.cmd, p.args[-1], p.envs, p.cwd) for p in procs] == [
        (pid, "/bin/bash", LOOP, {"WHO": "earlier"}, "/tmp")
    ]
    seen: list[str] = []
    handle = sbx.commands.connect(pid)
    for stdout, _stderr, _pty in handle:
        if stdout:
            seen.append(stdout)
        if len(_ticks(seen)) >= 5:
            break
    ticks = _ticks(seen)
    assert ticks == list(range(ticks[0], ticks[0] + len(ticks)))
    assert "tick-earlier-" in "".join(seen)
    assert sbx.commands.kill(pid) is True
    wait_until(lambda: sbx.commands.list() == [])
    with pytest.raises(NotFoundException):  # gone: nothing left to reattach to
        sbx.commands.connect(pid)


def test_list_and_connect_to_a_command_of_an_earlier_client_async(e2b_env, run_async) -> None:
    sandbox_id, pid = _earlier_client(e2b_env, "sleep 0.5; echo finished-$WHO; exit 3")

    async def go():
        sbx = await AsyncSandbox.connect(sandbox_id)
        listed = [p.pid for p in await sbx.commands.list()]
        out: list[str] = []
        handle = await sbx.commands.connect(pid, on_stdout=out.append)
        with pytest.raises(CommandExitException) as err:
            await handle.wait()
        await await_until(lambda: True)
        return listed, out, err.value

    listed, out, err = run_async(go())
    assert listed == [pid]
    assert "".join(out) == "finished-earlier\n"
    assert err.exit_code == 3
