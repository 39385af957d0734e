"""envd's HTTP side and router: ``/health``, ``/files`` and dispatch to the Connect services.

Every request is routed by its ``E2b-Sandbox-Id`` header, as E2B's proxy does (signed
``/files`` links, which carry none, by their signature). A sandbox that
does not exist (never did, killed, expired) is answered as the proxy answers: 502 with
``{"code": 502, "message": "The sandbox <id> was not found"}``; a wrong ``X-Access-Token``
gets 401.
"""

from __future__ import annotations

import asyncio
import base64
import email.parser
import email.policy
import gzip
import hashlib
import hmac
import json
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .envd_filesystem import read_metadata, write_metadata
from .sandboxes import Sandbox, SandboxManager
from .streams import run_in_sandbox_context


async def send_json(
    send: Any, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": data})


async def send_bytes(send: Any, status: int, data: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(data)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise ConnectionError("client disconnected")
        chunks.append(msg.get("body", b""))
        if not msg.get("more_body"):
            return b"".join(chunks)


def header(scope: dict, name: str) -> str | None:
    key = name.lower().encode()
    for k, v in scope.get("headers", []):
        if k.lower() == key:
            return v.decode("latin-1")
    return None


def not_found_body(sandbox_id: str) -> dict[str, Any]:
    return {"code": 502, "message": f"The sandbox {sandbox_id} was not found", "sandboxId": sandbox_id}


class EnvdRouter:
    """ASGI app for the envd port (``E2B_SANDBOX_URL``)."""

    def __init__(self, manager: SandboxManager, process_app: Any, filesystem_app: Any) -> None:
        self.manager = manager
        self.process_app = process_app
        self.filesystem_app = filesystem_app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope["path"]
        sandbox_id = header(scope, "e2b-sandbox-id")
        if sandbox_id is None and path == "/files":
            await self.signed_files(scope, receive, send)
            return
        sandbox_id = sandbox_id or ""
        sbx = self.manager.get_running(sandbox_id)
        if sbx is None:  # also a paused sandbox without auto-resume, as E2B's proxy answers
            await send_json(send, 502, not_found_body(sandbox_id))
            return
        token = header(scope, "x-access-token")
        if token != sbx.envd_access_token:
            await send_json(send, 401, {"code": 401, "message": "invalid access token"})
            return
        if path == "/health":
            await send_bytes(send, 204, b"", [])
        elif path == "/files":
            await self.files(sbx, scope, receive, send)
        elif path.startswith("/process.Process/"):
            await run_in_sandbox_context(self.process_app, sbx, scope, receive, send)
        elif path.startswith("/filesystem.Filesystem/"):
            await run_in_sandbox_context(self.filesystem_app, sbx, scope, receive, send)
        else:
            await send_json(send, 404, {"code": 404, "message": f"no route for {path}"})

    async def signed_files(self, scope: dict, receive: Any, send: Any) -> None:
        """``download_url``/``upload_url`` links: no sandbox header (E2B routes them by host
        name); the sandbox is the one whose access token makes the v1 signature match."""
        query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
        signature = (query.get("signature") or [""])[0]
        path = (query.get("path") or [""])[0]
        user = (query.get("username") or [""])[0]
        expiration = (query.get("signature_expiration") or [""])[0]
        operation = "read" if scope["method"] == "GET" else "write"
        if not signature:
            await send_json(send, 401, {"code": 401, "message": "missing signature"})
            return
        if expiration and not expiration.isdigit():
            await send_json(send, 400, {"code": 400, "message": "invalid signature_expiration"})
            return
        for sbx in list(self.manager.sandboxes.values()):
            raw = f"{path}:{operation}:{user}:{sbx.envd_access_token}" + (
                f":{expiration}" if expiration else ""
            )
            digest = base64.b64encode(hashlib.sha256(raw.encode()).digest()).rstrip(b"=").decode()
            if sbx.alive and hmac.compare_digest(f"v1_{digest}", signature):
                # envd checks the signature first, then its expiry (a forger learns nothing)
                if expiration and int(expiration) < time.time():
                    await send_json(send, 401, {"code": 401, "message": "signature is already expired"})
                    return
                running = self.manager.get_running(sbx.sandbox_id)
                if running is None:
                    await send_json(send, 502, not_found_body(sbx.sandbox_id))
                    return
                await self.files(running, scope, receive, send)
                return
        await send_json(send, 401, {"code": 401, "message": "invalid signature"})

    async def files(self, sbx: Sandbox, scope: dict, receive: Any, send: Any) -> None:
        query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
        user = (query.get("username") or ["user"])[0] or "user"
        path = (query.get("path") or [""])[0]
        if scope["method"] == "GET":
            await self.download(sbx, scope, send, path, user)
        elif scope["method"] == "POST":
            await self.upload(sbx, scope, receive, send, path, user)
        else:
            await send_json(send, 405, {"code": 405, "message": "method not allowed"})

    async def download(self, sbx: Sandbox, scope: dict, send: Any, path: str, user: str) -> None:
        if not path:
            await send_json(send, 400, {"code": 400, "message": "path is required"})
            return
        host = sbx.host_path(path, user)
        if host.is_dir():
            await send_json(send, 400, {"code": 400, "message": f"path '{path}' is a directory"})
            return
        try:
            data = await asyncio.to_thread(host.read_bytes)
        except FileNotFoundError:
            await send_json(send, 404, {"code": 404, "message": f"path '{path}' does not exist"})
            return
        except PermissionError as e:
            await send_json(send, 401, {"code": 401, "message": f"permission denied: {e}"})
            return
        headers = [(b"content-type", b"application/octet-stream")]
        if "gzip" in (header(scope, "accept-encoding") or ""):
            data = gzip.compress(data, compresslevel=1)
            headers.append((b"content-encoding", b"gzip"))
        await send_bytes(send, 200, data, headers)

    async def upload(self, sbx: Sandbox, scope: dict, receive: Any, send: Any, path: str, user: str) -> None:
        body = await read_body(receive)
        ctype = header(scope, "content-type") or ""
        encoding = (header(scope, "content-encoding") or "").lower()
        files: list[tuple[str, bytes]] = []
        # X-Metadata-<key> headers (header names arrive lower-cased, as envd's canonical form
        # loses their case too)
        metadata = {
            k.decode("latin-1")[len("x-metadata-") :]: v.decode("latin-1")
            for k, v in scope.get("headers", [])
            if k.lower().startswith(b"x-metadata-")
        }
        try:
            if encoding == "gzip":
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            if ctype.startswith("multipart/form-data"):
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
                )
                parts = list(msg.iter_parts())
                for part in parts:
                    name = path if len(parts) == 1 and path else (part.get_filename() or path)
                    if not name:
                        raise ValueError("path is required")
                    files.append((name, part.get_payload(decode=True) or b""))
            else:
                if not path:
                    raise ValueError("path is required")
                files.append((path, body))
        except (ValueError, zlib.error) as e:
            await send_json(send, 400, {"code": 400, "message": f"invalid upload: {e}"})
            return
        result = []
        for fpath, data in files:
            try:
                host = sbx.writable_path(fpath, user)
                await asyncio.to_thread(_write_file, sbx, host, data, user)
            except IsADirectoryError:
                await send_json(send, 400, {"code": 400, "message": f"path '{fpath}' is a directory"})
                return
            except PermissionError as e:
                await send_json(send, 403, {"code": 403, "message": f"cannot write '{fpath}': {e.strerror}"})
                return
            except OSError as e:
                status = 507 if e.errno == 28 else 500
                await send_json(send, status, {"code": status, "message": str(e)})
                return
            entry: dict[str, Any] = {"name": host.name, "type": "file", "path": sbx.sandbox_path(host)}
            try:  # a write replaces the file's metadata: without any, what it had is cleared
                write_metadata(host, metadata)
            except OSError as e:
                if metadata:  # (without metadata on a filesystem without xattrs: nothing to clear)
                    await send_json(send, 500, {"code": 500, "message": f"cannot store metadata: {e}"})
                    return
            if metadata:
                entry["metadata"] = read_metadata(host)
            result.append(entry)
        await send_json(send, 200, result)


def _write_file(sbx: Sandbox, host: Path, data: bytes, user: str) -> None:
    """Write (overwrite) a file, creating its parent folders, owned by ``user``, as envd does."""
    for parent in reversed([p for p in host.parents if not p.exists()]):
        parent.mkdir()
        sbx.give_to(parent, user)
    if host.is_dir():
        raise IsADirectoryError(str(host))
    existed = host.exists()
    with open(host, "wb") as f:
        f.write(data)
    if not existed:
        sbx.give_to(host, user)
