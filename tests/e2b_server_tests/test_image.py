"""What E2B's default template gives agents and scripts: user ``user`` with passwordless
``sudo``, ``python`` and ``python3``, ``pip``, ``git``, ``node``/``npm``, ``curl``."""

from __future__ import annotations

import time

import pytest
from e2b import AsyncSandbox, CommandExitException, Sandbox

from .conftest import wait_until

TOOLS = (
    "python --version; python3 --version; pip --version; git --version; node --version; npm --version; curl --version"
)


@pytest.fixture
def isolated(e2b_server):
    if e2b_server.isolation != "bwrap":
        pytest.skip("sudo needs the server's bubblewrap isolation")
    return e2b_server


def test_the_tools_of_e2bs_base_image_are_there_sync(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    out = sbx.commands.run(TOOLS).stdout.splitlines()
    assert out[0].startswith("Python 3") and out[1].startswith("Python 3")
    assert out[2].startswith("pip ") and out[3].startswith("git version")
    assert out[4].startswith("v") and out[5][0].isdigit() and out[6].startswith("curl ")
    pip = sbx.commands.run("pip install --no-index not-a-real-package 2>&1 || true").stdout
    assert "externally-managed" not in pip and "No matching distribution" in pip


def test_passwordless_sudo_runs_as_root_and_keeps_io_and_exit_codes_sync(isolated) -> None:
    sbx = Sandbox.create(**isolated.sdk_opts)
    assert sbx.commands.run("whoami; sudo -n true && sudo whoami").stdout == "user\nroot\n"
    out = sbx.commands.run("cd /tmp && sudo sh -c 'pwd; echo $HOME $USER $SUDO_USER; id -u'").stdout
    assert out == "/tmp\n/root root user\n0\n"
    assert sbx.commands.run("echo piped | sudo tee /root/note >/dev/null && sudo cat /root/note").stdout == "piped\n"
    assert sbx.commands.run("sudo -u user whoami; sudo -i pwd").stdout == "user\n/root\n"
    with pytest.raises(CommandExitException) as err:
        sbx.commands.run("sudo sh -c 'echo to-stderr >&2; exit 7'")
    assert (err.value.exit_code, err.value.stderr) == (7, "to-stderr\n")
    with pytest.raises(CommandExitException) as err:
        sbx.commands.run("sudo -u nobody-here true")
    assert "unknown user" in err.value.stderr
    with pytest.raises(CommandExitException):  # /usr is the image's, read-only, even for root
        sbx.commands.run("sudo touch /usr/local/new-file")


def test_sudo_command_ends_with_its_caller_and_forwards_signals_async(isolated, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create(**isolated.sdk_opts)
        handle = await sbx.commands.run("sudo sleep 77", background=True)
        await_ps = "ps -eo user,args | grep -c '^root .*sleep 77' || true"
        running = (await sbx.commands.run(await_ps)).stdout.strip()
        for _ in range(100):
            if running == "1":
                break
            running = (await sbx.commands.run(await_ps)).stdout.strip()
        await sbx.commands.kill(handle.pid)  # the caller is killed: so is what sudo started
        left = "1"
        for _ in range(100):
            left = (await sbx.commands.run(await_ps)).stdout.strip()
            if left == "0":
                break
        term = await sbx.commands.run(
            "sudo sleep 78 & pid=$!; "
            "until ps -eo args | grep -q '^sleep 78'; do sleep 0.02; done; "
            "kill -TERM $pid; wait $pid; echo rc=$?; ps -eo args | grep -c '^sleep 78' || true"
        )
        return running, left, term.stdout

    running, left, term = run_async(go(), timeout=40)
    assert running == "1"
    assert left == "0"
    assert term == "rc=143\n0\n"  # SIGTERM reached the root command; sudo exits as it did


def test_sudo_processes_are_frozen_by_pause_sync(isolated) -> None:
    sbx = Sandbox.create(**isolated.sdk_opts)
    sbx.commands.run("sudo sh -c 'while :; do date +%s%N >> /root/ticks; sleep 0.02; done'", background=True)
    ticks = isolated.state_dir / "sandboxes" / sbx.sandbox_id / "root" / "ticks"
    wait_until(lambda: ticks.exists() and len(ticks.read_text().split()) > 2)
    sbx.pause()
    before = ticks.read_text()
    time.sleep(0.3)
    assert ticks.read_text() == before  # root's processes are the sandbox's too
    sbx.connect()
    wait_until(lambda: ticks.read_text() != before)
