"""The preview proxy: E2B's edge proxy for sandbox ports, on loopback.

The server's ``domain`` is ``localhost:<proxy port>``, so ``sandbox.get_host(3000)`` is
``3000-<sandboxID>.localhost:<proxy port>``. Browsers resolve every ``*.localhost`` name to
loopback (Chromium does it itself; this machine's libc resolver does not, so non-browser
clients connect to 127.0.0.1 and send the name in the ``Host`` header). The proxy reads the
first request head, takes the port and sandbox id from ``Host``, connects to
``127.0.0.1:<port>`` in the sandbox's network namespace (through its agent, see
:mod:`.network`; on the host's loopback when sandboxes share the host network) and relays
bytes both ways, so keep-alive, streaming and WebSocket upgrades pass through unchanged. Plain ``http://`` only:
there is no TLS on loopback.

Answers when it cannot route, as E2B's proxy: 502 ``{"code": 502, "message": "The sandbox
<id> was not found"}`` for a sandbox that is not running, 502 ``"... port is not open"`` when
nothing listens on the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re

from .sandboxes import SandboxManager

log = logging.getLogger("e2b_server.proxy")

_HOST = re.compile(r"^(\d{1,5})-([a-z0-9]+)\.", re.IGNORECASE)
_MAX_HEAD = 65536


class PreviewProxy:
    def __init__(self, manager: SandboxManager) -> None:
        self.manager = manager
        self.connections: set[asyncio.Task] = set()
        self._by_sandbox: dict[asyncio.Task, str] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            if task is not None:
                self.connections.discard(task)
                self._by_sandbox.pop(task, None)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        host = ""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"host":
                host = value.strip().decode("latin-1")
                break
        m = _HOST.match(host)
        if not m:
            await _answer(writer, 400, {"code": 400, "message": f"invalid host '{host}'"})
            return
        port, sandbox_id = int(m.group(1)), m.group(2).lower()
        if self.manager.get_running(sandbox_id) is None:  # a paused one: resumed if auto_resume
            await _answer(
                writer, 502,
                {"code": 502, "message": f"The sandbox {sandbox_id} was not found", "sandboxId": sandbox_id},
            )  # fmt: skip
            return
        try:
            sbx = self.manager.get(sandbox_id)
            if sbx is not None and sbx.net is not None:  # its own network namespace
                sock = await asyncio.to_thread(sbx.net.open_port, port)
                if sock is None:
                    raise ConnectionRefusedError(port)
                up_reader, up_writer = await asyncio.open_connection(sock=sock)
            else:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await _answer(
                writer, 502,
                {"code": 502, "message": f"The sandbox is running but port is not open: {port}",
                 "sandboxId": sandbox_id, "port": port},
            )  # fmt: skip
            return
        task = asyncio.current_task()
        if task is not None:
            self._by_sandbox[task] = sandbox_id
        up_writer.write(head)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        up_writer.close()

    def cut(self, sandbox_id: str) -> None:
        """Close the open connections to a sandbox (it was paused: its network stops)."""
        for task, sid in list(self._by_sandbox.items()):
            if sid == sandbox_id:
                task.cancel()

    async def close(self) -> None:
        for task in list(self.connections):
            task.cancel()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
        if dst.can_write_eof():
            dst.write_eof()
    except (ConnectionError, OSError):
        with contextlib.suppress(Exception):
            dst.close()


async def _answer(writer: asyncio.StreamWriter, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    reason = {400: "Bad Request", 502: "Bad Gateway"}.get(status, "Error")
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\nconnection: close\r\n\r\n".encode()
        + data
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()
