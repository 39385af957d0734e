"""Assembles the server: one HTTP port for the control plane, envd and the admin API, one
port for the preview proxy. See the package docstring for the whole picture.

Routing on the main port: ``/_admin/...`` is the test-hook API; a request that carries
``E2b-Sandbox-Id`` (every envd call does) or asks for an envd path (``/health``, ``/files``,
``/process.Process/...``, ``/filesystem.Filesystem/...``) goes to envd; the rest is the
control plane. So ``E2B_API_URL`` and ``E2B_SANDBOX_URL`` are the same URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from .control_plane import ControlPlane
from .envd_filesystem import make_filesystem_app
from .envd_http import EnvdRouter, header, read_body, send_json
from .envd_process import make_process_app
from .faults import Faults
from .network import GATEWAY
from .proxy import PreviewProxy
from .sandboxes import Isolation, SandboxManager, iso
from .streams import StreamControl

log = logging.getLogger("e2b_server")

DEFAULT_TEMPLATES = ("base", "code-interpreter-v1", "desktop")
_ENVD_PREFIXES = ("/process.Process/", "/filesystem.Filesystem/")
_ADMIN_SANDBOX = re.compile(r"^/_admin/sandboxes/([^/]+)/(kill|expire)$")


@dataclass
class Options:
    port: int = 0
    proxy_port: int = 0
    api_key: str = "e2b_local_test_key"
    templates: tuple[str, ...] = DEFAULT_TEMPLATES
    isolation: str = "auto"
    network: str = "auto"
    state_dir: str | None = None
    host: str = "127.0.0.1"


class Server:
    """All parts of one running server."""

    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self._own_state = opts.state_dir is None
        self.state_dir = Path(opts.state_dir or tempfile.mkdtemp(prefix="e2b-local-server-"))
        self.isolation = Isolation(opts.isolation, opts.network)
        self.isolation.probe(self.state_dir)
        self.faults = Faults()
        self.streams = StreamControl()
        self.manager = SandboxManager(self.state_dir, self.isolation, set(opts.templates))
        self.main_sock = _listen(opts.host, opts.port)
        self.proxy_sock = _listen(opts.host, opts.proxy_port)
        self.port = self.main_sock.getsockname()[1]
        self.proxy_port = self.proxy_sock.getsockname()[1]
        self.domain = f"localhost:{self.proxy_port}"
        self.control_plane = ControlPlane(self.manager, self.faults, opts.api_key, self.domain)
        self.envd = EnvdRouter(
            self.manager, make_process_app(self.isolation, self.streams), make_filesystem_app(self.streams)
        )
        self.proxy = PreviewProxy(self.manager)
        self.manager.on_pause.append(self._on_manager_pause)

    def _on_manager_pause(self, sbx: Any) -> None:
        """A paused sandbox's connections end, as when E2B snapshots its VM."""
        self.streams.drop_now(sbx.sandbox_id)
        self.proxy.cut(sbx.sandbox_id)

    @property
    def info(self) -> dict[str, Any]:
        url = f"http://{self.opts.host}:{self.port}"
        return {
            "api_url": url,
            "sandbox_url": url,
            "admin_url": url + "/_admin",
            "api_key": self.opts.api_key,
            "domain": self.domain,
            "proxy_port": self.proxy_port,
            "isolation": self.isolation.mode,
            "isolation_reason": self.isolation.reason,
            "network": self.isolation.network,
            "network_reason": self.isolation.network_reason,
            # how a sandbox reaches a server the host runs on 127.0.0.1 (tests' git servers)
            "host_alias": GATEWAY if self.isolation.network == "private" else "127.0.0.1",
            "state_dir": str(self.state_dir),
            "pid": os.getpid(),
        }

    # -- ASGI --------------------------------------------------------------------------
    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path.startswith("/_admin/"):
            await self.admin(scope, receive, send)
        elif (
            header(scope, "e2b-sandbox-id") is not None
            or path in ("/health", "/files")
            or path.startswith(_ENVD_PREFIXES)
        ):
            delay = self.faults.take_delay("envd")
            if delay:
                await asyncio.sleep(delay)
            await self.envd(scope, receive, send)
        else:
            await self.control_plane(scope, receive, send)

    async def admin(self, scope: dict, receive: Any, send: Any) -> None:
        """The test hooks (see the package docstring)."""
        raw = await read_body(receive)
        body = json.loads(raw) if raw else {}
        path, method = scope["path"], scope["method"]
        m = _ADMIN_SANDBOX.match(path)
        if m and method == "POST" and m.group(2) == "kill":
            await send_json(send, 200, {"killed": self.manager.kill(m.group(1), "killed")})
        elif m and method == "POST":  # expire: the lifetime ends now (killed or paused by lifecycle)
            sbx = self.manager.get(m.group(1))
            ended = sbx is not None and sbx.state == "running"
            if ended:
                self.manager.set_timeout(sbx, 0)
                await asyncio.sleep(0)  # let the expiry timer run
                for _ in range(100):
                    if not sbx.alive or sbx.state == "paused":
                        break
                    await asyncio.sleep(0.005)
            await send_json(
                send, 200,
                {"killed": ended and not sbx.alive, "ended": ended,
                 "state": "killed" if sbx is None or not sbx.alive else sbx.state},
            )  # fmt: skip
        elif path == "/_admin/info":
            await send_json(send, 200, self.info)
        elif path == "/_admin/sandboxes":
            running = {
                s.sandbox_id: {
                    "alive": True,
                    "root": str(s.root),
                    "template": s.template_id,
                    "metadata": s.metadata,
                    "end_at": iso(s.end_at),
                    "state": s.state,
                    "lifecycle": {"on_timeout": s.on_timeout, "auto_resume": s.auto_resume},
                    "pids": sorted(s.processes),
                }
                for s in self.manager.sandboxes.values()
                if s.alive
            }
            dead = {sid: {"alive": False, "reason": r} for sid, r in self.manager.dead.items()}
            await send_json(send, 200, {**dead, **running})
        elif path == "/_admin/faults/fail" and method == "POST":
            self.faults.fail_next(
                int(body.get("n", 1)), int(body.get("status", 503)), body.get("should_retry"),
                body.get("retry_after"), body.get("message"),
            )  # fmt: skip
            await send_json(send, 200, {"ok": True})
        elif path == "/_admin/faults/delay" and method == "POST":
            self.faults.delay_next(int(body.get("n", 1)), float(body["seconds"]), body.get("target", "api"))
            await send_json(send, 200, {"ok": True})
        elif path == "/_admin/faults/drop" and method == "POST":
            sandbox_id = body.get("sandbox_id")
            if body.get("after_events") is None:
                n = self.streams.drop_now(sandbox_id)
            else:
                self.streams.arm(sandbox_id, int(body["after_events"]), int(body.get("count", 1)))
                n = 0
            await send_json(send, 200, {"dropped": n})
        elif path == "/_admin/faults" and method == "GET":
            await send_json(
                send, 200,
                {"api_calls": self.faults.api_calls, "pending_failures": len(self.faults.failures),
                 "open_streams": len(self.streams.active)},
            )  # fmt: skip
        elif path == "/_admin/templates" and method == "POST":
            self.manager.templates = set(body["templates"])
            await send_json(send, 200, {"templates": sorted(self.manager.templates)})
        elif path == "/_admin/reset" and method == "POST":
            self.faults.reset()
            self.streams.reset()
            self.manager.templates = set(self.opts.templates)
            if body.get("kill_sandboxes", True):
                self.manager.kill_all()
            await send_json(send, 200, {"ok": True})
        else:
            await send_json(send, 404, {"code": 404, "message": f"no admin route {method} {path}"})

    # -- running -----------------------------------------------------------------------
    async def serve(self) -> None:
        config = uvicorn.Config(
            self,
            http="h11",
            ws="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        server = _Uvicorn(config)
        loop = asyncio.get_running_loop()

        def stop() -> None:  # kill sandboxes first: their streams end, shutdown is quick
            self.manager.kill_all()
            server.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        proxy_server = await asyncio.start_server(self.proxy.handle, sock=self.proxy_sock)
        log.info("isolation: %s (%s)", self.isolation.mode, self.isolation.reason)
        log.info("network: %s (%s)", self.isolation.network, self.isolation.network_reason)
        if self.isolation.mode != "bwrap":
            log.warning("isolation FALLBACK: sandboxes are NOT isolated: %s", self.isolation.reason)
        print(json.dumps(self.info), flush=True)
        try:
            await server.serve(sockets=[self.main_sock])
        finally:
            self.manager.kill_all()
            proxy_server.close()
            await self.proxy.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proxy_server.wait_closed(), 1)
            if self._own_state:
                shutil.rmtree(self.state_dir, ignore_errors=True)
            else:
                self.manager.cleanup_dirs()


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling (it re-raises the signal after shutdown, which
    would kill the process before the sandboxes are cleaned up)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def run(opts: Options) -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    server = Server(opts)
    asyncio.run(server.serve())
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is cleaned up: skip interpreter finalisation, where native extensions
    # loaded with the e2b package (its HTTP transport) have been seen to abort rarely.
    os._exit(0)
