"""The local provider through paths every system shares: run here on Linux, and as they are on
the Windows and macOS runners (.github/workflows/release.yml). Commands are plain ``python``
calls, which bash, PowerShell and cmd run alike."""

from __future__ import annotations

import asyncio
import os
import socket

import psutil
import pytest

from sesame_desktop.core.shells import system_shell
from sesame_desktop.sandbox.base import SandboxSpec
from sesame_desktop.sandbox.local import LocalProvider
from sesame_desktop.sandbox.ports import listening_ports
from tests.sandbox.output import Output

PY = "python" if os.name == "nt" else "python3"


@pytest.fixture
def box(tmp_path, run_async):
    """A local sandbox without bubblewrap, as on macOS and Windows."""
    sandbox = run_async(LocalProvider(tmp_path / "ws", isolate=False).create(SandboxSpec("x", "x")))
    run_async(sandbox.get_project(None, lambda _m: None))
    yield sandbox
    run_async(sandbox.kill())


def until(run_async, condition, timeout=20.0):
    async def poll():
        while not condition():
            await asyncio.sleep(0.02)

    run_async(poll(), timeout=timeout)


def gone(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def test_cross_platform_stream_stdin_and_exit_code(box, run_async):
    assert box.shell_name == system_shell().name and box.full_rights
    output = Output()
    result = run_async(box.run(f"{PY} -c \"import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)\"",
                               on_stdout=output.on_out, on_stderr=output.on_err), timeout=30)
    assert result.exit_code == 3 and output.out.strip() == b"out" and output.err.strip() == b"err"

    output = Output()

    async def echo_input():
        handle = await box.start(f"{PY} -c \"print('got ' + input())\"", on_stdout=output.on_out,
                                 on_stderr=output.on_err, stdin=True)
        await handle.send_stdin(b"one\n")
        return await handle.wait()

    assert run_async(echo_input(), timeout=30).ok and output.out.strip() == b"got one"


SPAWNER = (f"{PY} -c \"import subprocess, sys; c = subprocess.Popen([sys.executable, '-c', "
           "'import time; time.sleep(300)']); print(c.pid, flush=True); c.wait()\"")
"""A child of the shell that holds a grandchild and prints the grandchild's pid."""


@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_cross_platform_kill_and_interrupt_end_the_whole_tree(box, run_async, how):
    output = Output()
    handle = run_async(box.start(SPAWNER, on_stdout=output.on_out, on_stderr=output.on_err))
    until(run_async, lambda: output.out.strip().isdigit())
    grandchild = psutil.Process(int(output.out.strip()))
    if how == "kill":
        run_async(handle.kill(), timeout=30)
        result = run_async(handle.wait(), timeout=30)
        assert result.exit_code is None and result.signal_name == "killed"
    else:
        result = run_async(handle.interrupt(grace_s=1.0), timeout=30)
        # POSIX: SIGINT ends python (KeyboardInterrupt); Windows: the tree is terminated.
        assert result.exit_code is None or result.exit_code != 0
    until(run_async, lambda: gone(grandchild))


def test_cross_platform_ports_of_the_session_only(box, run_async):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with socket.socket() as outside:  # this computer's own server: never the session's
        outside.bind(("127.0.0.1", 0))
        outside.listen()
        assert run_async(listening_ports(box)) == set()
        handle = run_async(box.start(f"{PY} -m http.server {port} --bind 127.0.0.1", on_stdout=lambda _b: None,
                                     on_stderr=lambda _b: None))
        found: set[int] = set()

        async def until_listed():
            while port not in found:
                found.update(await listening_ports(box))
                await asyncio.sleep(0.02)

        run_async(until_listed(), timeout=30)
        assert found == {port}
        run_async(handle.kill(), timeout=30)
        assert run_async(listening_ports(box)) == set()


def test_cross_platform_job_objects_only_on_windows(box, run_async):
    output = Output()
    handle = run_async(box.start(f"{PY} -c \"print('hi')\"", on_stdout=output.on_out, on_stderr=output.on_err))
    assert (handle.tree.job is not None) is (os.name == "nt")
    run_async(handle.wait(), timeout=30)


ORPHAN_MAKER = (f"{PY} -c \"import subprocess, sys; c = subprocess.Popen([sys.executable, '-c', "
                "'import time; time.sleep(300)']); print(c.pid, flush=True)\"")
"""Starts a grandchild and exits at once: the grandchild is nobody's descendant any more."""


@pytest.mark.skipif(os.name != "nt", reason="runs on the Windows runner only (job objects)")
def test_windows_only_an_orphan_ends_with_the_session_through_the_job(tmp_path, run_async):
    sandbox = run_async(LocalProvider(tmp_path / "ws", isolate=False).create(SandboxSpec("j", "j")))
    run_async(sandbox.get_project(None, lambda _m: None))
    output = Output()
    result = run_async(sandbox.run(ORPHAN_MAKER, on_stdout=output.on_out, on_stderr=output.on_err), timeout=60)
    assert result.ok, output.err
    orphan = psutil.Process(int(output.out.strip()))
    assert orphan.is_running()  # the command ended; its orphan did not
    run_async(sandbox.kill(), timeout=30)
    until(run_async, lambda: gone(orphan))


@pytest.mark.parametrize(("path", "rel"), [
    ("C:/ws/s1/home/project/a.txt", "project/a.txt"),
    ("C:\\ws\\s1\\home\\project\\b c.txt", "project/b c.txt"),  # typed or pasted the Windows way
    ("src/main.py", "project/src/main.py"),
    ("C:/ws/s1/home", "."),
    ("D:/elsewhere/x", None), ("C:/ws/s1/homework/x", None), ("/etc/passwd", None),
])
def test_cross_platform_windows_paths_of_a_session(path, rel):
    from sesame_desktop.sandbox.local import relative_to_home

    if rel is None:
        with pytest.raises(ValueError):
            relative_to_home(path, "C:/ws/s1/home", "C:/ws/s1/home/project", windows=True)
    else:
        assert relative_to_home(path, "C:/ws/s1/home", "C:/ws/s1/home/project", windows=True).as_posix() == rel
