"""pytest fixtures for the local E2B server (registered in ``tests/conftest.py``).

``e2b_server`` (function scope) gives a :class:`E2BServer` handle on one server process shared
by the whole session; before each test it is reset: every sandbox killed, faults and armed
stream drops cleared, templates back to the defaults. ``e2b_env`` additionally puts the
server's ``E2B_*`` variables into ``os.environ`` for the test (so ``AsyncSandbox.create()``
with no arguments talks to it).

The server runs as a subprocess (``python -m tests.e2b_server``) in its own session, so its
asyncio/uvicorn loop never shares a process with the test's qasync loop; stopping it (SIGTERM,
then SIGKILL to its process group) kills every sandbox and every process they started.

Example::

    def test_hello(e2b_server, run_async):
        async def go():
            sbx = await AsyncSandbox.create(**e2b_server.sdk_opts)
            result = await sbx.commands.run("echo hi")
            e2b_server.kill_sandbox(sbx.sandbox_id)          # as from the E2B dashboard
            return result.stdout
        assert run_async(go()) == "hi\\n"
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_API_KEY = "e2b_local_test_key"


class E2BServer:
    """A running local E2B server and its test hooks (all synchronous, over HTTP)."""

    def __init__(self, info: dict[str, Any], process: subprocess.Popen | None, log_path: Path | None) -> None:
        self.info = info
        self.process = process
        self.log_path = log_path
        self.api_url: str = info["api_url"]
        self.sandbox_url: str = info["sandbox_url"]
        self.api_key: str = info["api_key"]
        self.domain: str = info["domain"]
        self.proxy_port: int = info["proxy_port"]
        self.admin_url: str = info["admin_url"]
        self.isolation: str = info["isolation"]
        self.network: str = info["network"]
        #: the address a sandbox uses for the host's loopback: ``10.0.2.2`` with a private
        #: network namespace per sandbox (slirp4netns), ``127.0.0.1`` on the host's network
        self.host_alias: str = info["host_alias"]
        self.state_dir = Path(info["state_dir"])

    # -- how to reach it ---------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """``E2B_*`` variables for the SDK, in this process or a child process."""
        return {
            "E2B_API_URL": self.api_url,
            "E2B_SANDBOX_URL": self.sandbox_url,
            "E2B_API_KEY": self.api_key,
            "E2B_DOMAIN": self.domain,
        }

    @property
    def sdk_opts(self) -> dict[str, str]:
        """The same as keyword arguments for ``AsyncSandbox.create/connect/list``."""
        return {
            "api_key": self.api_key,
            "api_url": self.api_url,
            "sandbox_url": self.sandbox_url,
            "domain": self.domain,
        }

    def preview_url(self, host: str) -> str:
        """The browser URL for ``sandbox.get_host(port)``: plain ``http://`` on loopback."""
        return f"http://{host}"

    # -- hooks -------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.admin_url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def kill_sandbox(self, sandbox_id: str) -> bool:
        """Kill a sandbox from outside (as from the E2B dashboard). False if not running."""
        return self._call("POST", f"/sandboxes/{sandbox_id}/kill", {})["killed"]

    def expire_sandbox(self, sandbox_id: str) -> bool:
        """End a running sandbox's lifetime now (as when its timeout runs out): it is killed,
        or paused when it was created with ``lifecycle={"on_timeout": "pause"}``. False if it
        was not running."""
        return self._call("POST", f"/sandboxes/{sandbox_id}/expire", {})["ended"]

    def sandbox_state(self, sandbox_id: str) -> str:
        """``running``, ``paused``, or ``killed`` (killed, expired or never created)."""
        s = self.sandboxes().get(sandbox_id)
        return s["state"] if s and s["alive"] else "killed"

    def fail_next(
        self,
        n: int,
        status: int = 503,
        should_retry: bool | None = None,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``n`` control-plane calls with ``status`` (and ``Should-Retry`` /
        ``Retry-After`` headers when given). The SDK's own retries count as calls."""
        self._call(
            "POST", "/faults/fail",
            {"n": n, "status": status, "should_retry": should_retry, "retry_after": retry_after, "message": message},
        )  # fmt: skip

    def delay_next(self, n: int, seconds: float, target: str = "api") -> None:
        """Delay the answers of the next ``n`` calls: ``target`` "api" (control plane) or "envd"."""
        self._call("POST", "/faults/delay", {"n": n, "seconds": seconds, "target": target})

    def drop_streams(
        self, sandbox_id: str | None = None, after_events: int | None = None, count: int = 1
    ) -> int:
        """Cut streams (process and watch) like a lost connection, without an end-of-stream.

        ``after_events=None``: cut the streams open now (of ``sandbox_id``, or all); returns how
        many. Otherwise arm: the next ``count`` streams are cut after ``after_events`` events
        (the ``start`` event counts as one)."""
        return self._call(
            "POST", "/faults/drop", {"sandbox_id": sandbox_id, "after_events": after_events, "count": count}
        )["dropped"]

    def set_templates(self, templates: Iterable[str]) -> None:
        """Set the templates that exist; creating from any other answers 404."""
        self._call("POST", "/templates", {"templates": list(templates)})

    def sandboxes(self) -> dict[str, dict[str, Any]]:
        """Every sandbox this server has had: running ones with details, dead ones with reason."""
        return self._call("GET", "/sandboxes")

    def sandbox_ids(self) -> list[str]:
        """Ids of the running sandboxes."""
        return [sid for sid, s in self.sandboxes().items() if s["alive"]]

    def is_alive(self, sandbox_id: str) -> bool:
        s = self.sandboxes().get(sandbox_id)
        return bool(s and s["alive"])

    def host_root(self, sandbox_id: str) -> Path:
        """The host folder backing the sandbox's ``/home/user``."""
        return self.state_dir / "sandboxes" / sandbox_id / "home" / "user"

    def stats(self) -> dict[str, int]:
        """``api_calls`` answered so far, ``pending_failures``, ``open_streams``."""
        return self._call("GET", "/faults")

    def reset(self, kill_sandboxes: bool = True) -> None:
        self._call("POST", "/reset", {"kill_sandboxes": kill_sandboxes})

    def log_tail(self, lines: int = 50) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # -- process -----------------------------------------------------------------------
    @classmethod
    def start(cls, *args: str, timeout: float = 20.0, env: dict[str, str] | None = None) -> E2BServer:
        """Start ``python -m tests.e2b_server --port 0 <args>`` and wait for its ports.

        The server gets SIGTERM if this process dies without stopping it (so a killed test
        run leaves no server and no sandbox behind). The kernel ties that to the *thread*
        that starts it: call this from a thread that outlives the server (the fixtures use
        the main thread). ``env``: variables to override."""
        log_dir = Path(tempfile.mkdtemp(prefix="e2b-server-log-"))
        log_path = log_dir / "server.log"
        env = {**os.environ, **(env or {})}
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        argv = [sys.executable, "-m", "tests.e2b_server", *args]
        if "--port" not in args:
            argv += ["--port", "0"]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                preexec_fn=_terminate_with_parent,  # noqa: PLW1509 - only a prctl, no locks
            )
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                line += chunk
        if not line.endswith(b"\n"):
            proc.kill()
            proc.wait()
            proc.stdout.close()
            raise RuntimeError(f"local E2B server did not start:\n{log_path.read_text(errors='replace')}")
        return cls(json.loads(line), proc, log_path)

    def stop(self) -> None:
        """SIGTERM (the server kills its sandboxes), then SIGKILL its whole process group."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        rc = proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self.process = None
        if rc == 0 and self.log_path is not None:  # keep the log of a server that failed
            shutil.rmtree(self.log_path.parent, ignore_errors=True)


def _terminate_with_parent() -> None:
    """In the server's child process: ask the kernel for SIGTERM when the parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="session")
def e2b_server_session() -> Iterator[E2BServer]:
    """One local E2B server for the whole session (see :func:`e2b_server`)."""
    server = E2BServer.start("--api-key", DEFAULT_API_KEY)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def e2b_server(e2b_server_session: E2BServer) -> Iterator[E2BServer]:
    """The session's local E2B server, reset for this test (no sandboxes, no faults)."""
    server = e2b_server_session
    if server.process is not None and server.process.poll() is not None:
        raise RuntimeError(f"local E2B server died:\n{server.log_tail()}")
    server.reset()
    yield server
    try:
        server.reset()
    except (urllib.error.URLError, OSError):
        pass


@pytest.fixture
def e2b_host_alias(e2b_server_session: E2BServer) -> str:
    """How a sandbox addresses the host's loopback (for a server a test runs on 127.0.0.1 and
    a sandbox must reach: ``http://<alias>:<port>/``)."""
    return e2b_server_session.host_alias


@pytest.fixture
def e2b_env(e2b_server: E2BServer, monkeypatch: pytest.MonkeyPatch) -> E2BServer:
    """:func:`e2b_server` with its ``E2B_*`` variables set in ``os.environ`` for the test."""
    for key, value in e2b_server.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("E2B_DEBUG", raising=False)
    return e2b_server
