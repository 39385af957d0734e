"""``python -m tests.e2b_server --port P --api-key K`` by hand, and clean shutdown."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2b import Sandbox
from e2b.exceptions import AuthenticationException

from tests.e2b_server.pytest_plugin import REPO_ROOT, E2BServer

from .conftest import free_port, wait_until


def host_processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains ``marker`` (read-only scan of /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_standalone_port_and_key_and_shutdown_cleans_up() -> None:
    port = free_port()
    server = E2BServer.start("--port", str(port), "--api-key", "e2b_by_hand")
    try:
        assert server.api_url == f"http://127.0.0.1:{port}" == server.sandbox_url
        assert server.api_key == "e2b_by_hand"
        assert server.domain == f"localhost:{server.proxy_port}"
        assert set(server.env) == {"E2B_API_URL", "E2B_SANDBOX_URL", "E2B_API_KEY", "E2B_DOMAIN"}
        with pytest.raises(AuthenticationException):
            Sandbox.create(**{**server.sdk_opts, "api_key": "e2b_other"})
        sbx = Sandbox.create(**server.sdk_opts)
        marker = f"{port}{os.getpid() % 100}"
        sbx.commands.run(f"sleep {marker} & sleep {marker}.5", background=True)
        sbx.commands.run(f"sleep {marker}.7", background=True)
        wait_until(lambda: len(host_processes_with(f"sleep {marker}")) == 3)
    finally:
        server.stop()
    deadline = time.monotonic() + 5
    while host_processes_with(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_processes_with(f"sleep {marker}") == []
    assert not Path(server.state_dir).exists()


def test_a_killed_test_run_leaves_no_server_behind(tmp_path: Path) -> None:
    """The fixture's server dies (and cleans up) with the process that started it."""
    script = tmp_path / "starter.py"
    script.write_text(
        "import sys, time\n"
        "from tests.e2b_server.pytest_plugin import E2BServer\n"
        "s = E2BServer.start()\n"
        "print(s.process.pid, s.state_dir, s.log_path, flush=True)\n"
        "time.sleep(60)\n"
    )
    starter = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert starter.stdout is not None
    pid_text, state_dir, log_path = starter.stdout.readline().decode().split()
    server_pid = int(pid_text)
    assert Path(f"/proc/{server_pid}").exists()
    starter.kill()  # no cleanup code runs in the starter
    starter.wait()
    starter.stdout.close()
    wait_until(lambda: not Path(f"/proc/{server_pid}").exists() or _is_zombie(server_pid), timeout=10)
    wait_until(lambda: not Path(state_dir).exists(), timeout=5)
    shutil.rmtree(Path(log_path).parent)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True
