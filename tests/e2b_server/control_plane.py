"""E2B's control-plane REST API (``E2B_API_URL``): sandboxes create/connect/list/info/timeout/kill.

Requests must carry ``X-API-KEY`` (else 401). Errors are ``{"code": int, "message": str}``.
Injected faults (:mod:`.faults`) apply before anything else, as a gateway failure would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote

from .envd_http import header, read_body, send_json
from .faults import Faults
from .sandboxes import ENVD_VERSION, Sandbox, SandboxManager, iso, utcnow

log = logging.getLogger("e2b_server.control_plane")

DEFAULT_TIMEOUT = 300
MAX_TIMEOUT = 86_400
INVALID_KEY = "Invalid API key, please visit https://e2b.dev/docs/api-key for more information."

_SANDBOX_PATH = re.compile(r"^(?:/v2)?/sandboxes/([^/]+)(/[a-z]+)?$")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ControlPlane:
    """ASGI app for the control-plane port."""

    def __init__(self, manager: SandboxManager, faults: Faults, api_key: str, domain: str) -> None:
        self.manager = manager
        self.faults = faults
        self.api_key = api_key
        self.domain = domain

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        self.faults.api_calls += 1
        delay = self.faults.take_delay("api")
        if delay:
            await asyncio.sleep(delay)
        failure = self.faults.take_failure()
        if failure is not None:
            headers: list[tuple[bytes, bytes]] = []
            if failure.should_retry is not None:
                headers.append((b"should-retry", b"true" if failure.should_retry else b"false"))
            if failure.retry_after is not None:
                headers.append((b"retry-after", str(failure.retry_after).encode()))
            await read_body(receive)
            await send_json(
                send, failure.status, {"code": failure.status, "message": failure.message}, headers
            )
            return
        try:
            if header(scope, "x-api-key") != self.api_key:
                raise ApiError(401, INVALID_KEY)
            status, body, extra = await self.route(scope, receive)
        except ApiError as e:
            await send_json(send, e.status, {"code": e.status, "message": e.message})
            return
        if status == 204:
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            await send_json(send, status, body, extra)

    async def route(self, scope: dict, receive: Any) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        method, path = scope["method"], scope["path"].rstrip("/")
        query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
        raw = await read_body(receive)
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError as e:
            raise ApiError(400, f"invalid JSON body: {e}") from e
        if path in ("/sandboxes", "/v2/sandboxes"):
            if method == "POST":
                return 201, await self.create(body), []
            if method == "GET":
                return self.list(query, v2=path.startswith("/v2"))
        m = _SANDBOX_PATH.match(path)
        if m:
            sandbox_id, action = m.group(1), m.group(2) or ""
            if action == "" and method == "GET":
                return 200, self.detail(self.require(sandbox_id)), []
            if action == "" and method == "DELETE":
                if not self.manager.kill(sandbox_id, "killed"):
                    raise ApiError(404, f"sandbox '{sandbox_id}' not found")
                return 204, None, []
            if action == "/timeout" and method == "POST":
                sbx = self.require(sandbox_id)
                self.manager.set_timeout(sbx, _timeout(body.get("timeout"), None))
                return 204, None, []
            if action == "/refreshes" and method == "POST":
                sbx = self.require(sandbox_id)
                duration = body.get("duration")
                if duration:
                    self.manager.set_timeout(sbx, _timeout(duration, None))
                return 204, None, []
            if action == "/connect" and method == "POST":
                sbx = self.manager.get(sandbox_id)
                if sbx is None:
                    raise ApiError(404, f"sandbox '{sandbox_id}' not found")
                if body.get("timeout") is not None:  # connecting never shortens the lifetime
                    t = _timeout(body.get("timeout"), None)
                    self.manager.set_timeout(sbx, max(t, _remaining(sbx)))
                return 200, self.created(sbx), []
            if action == "/metrics" and method == "GET":
                self.require(sandbox_id)
                return 200, [], []
            if action in ("/pause", "/resume", "/snapshots", "/fork"):
                self.require(sandbox_id)
                raise ApiError(400, f"'{action[1:]}' is not supported by the local E2B server")
        raise ApiError(404, f"no route for {method} {path}")

    def require(self, sandbox_id: str) -> Sandbox:
        sbx = self.manager.get(sandbox_id)
        if sbx is None:
            raise ApiError(404, f"sandbox '{sandbox_id}' not found")
        return sbx

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        template = body.get("templateID")
        if not isinstance(template, str) or not template:
            raise ApiError(400, "templateID is required")
        if template not in self.manager.templates:
            raise ApiError(404, f"template '{template}' not found")
        timeout = _timeout(body.get("timeout"), DEFAULT_TIMEOUT)
        metadata = body.get("metadata") or {}
        env_vars = body.get("envVars") or {}
        if not isinstance(metadata, dict) or not isinstance(env_vars, dict):
            raise ApiError(400, "metadata and envVars must be objects")
        sbx = await self.manager.create(
            template, timeout, {str(k): str(v) for k, v in metadata.items()},
            {str(k): str(v) for k, v in env_vars.items()},
        )  # fmt: skip
        return self.created(sbx)

    def created(self, sbx: Sandbox) -> dict[str, Any]:
        return {
            "templateID": sbx.template_id,
            "alias": sbx.template_id,
            "sandboxID": sbx.sandbox_id,
            "clientID": sbx.client_id,
            "envdVersion": ENVD_VERSION,
            "envdAccessToken": sbx.envd_access_token,
            "domain": self.domain,
        }

    def listed(self, sbx: Sandbox) -> dict[str, Any]:
        return {
            "templateID": sbx.template_id,
            "alias": sbx.template_id,
            "sandboxID": sbx.sandbox_id,
            "clientID": sbx.client_id,
            "startedAt": iso(sbx.started_at),
            "endAt": iso(sbx.end_at),
            "cpuCount": 2,
            "memoryMB": 512,
            "diskSizeMB": 1024,
            "envdVersion": ENVD_VERSION,
            "state": "running",
            "metadata": dict(sbx.metadata),
        }

    def detail(self, sbx: Sandbox) -> dict[str, Any]:
        return {**self.listed(sbx), "envdAccessToken": sbx.envd_access_token, "domain": self.domain}

    def list(self, query: dict[str, list[str]], v2: bool) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        sandboxes = sorted(self.manager.sandboxes.values(), key=_key)
        sandboxes = [s for s in sandboxes if s.alive]
        states = {s for v in query.get("state", []) for s in v.split(",") if s}
        if states and "running" not in states:
            sandboxes = []
        wanted: dict[str, str] = {}
        for raw in query.get("metadata", []):
            for k, v in parse_qsl(raw, keep_blank_values=True):
                wanted[unquote(k)] = unquote(v)
        sandboxes = [s for s in sandboxes if all(s.metadata.get(k) == v for k, v in wanted.items())]
        if (query.get("order") or [""])[0] == "desc":
            sandboxes.reverse()
        if not v2:
            return 200, [self.listed(s) for s in sandboxes], []
        try:
            limit = int((query.get("limit") or ["100"])[0])
        except ValueError as e:
            raise ApiError(400, "limit must be an integer") from e
        limit = max(1, min(limit, 100))
        # The token is the sort key of the last item sent, so a page stays right when sandboxes
        # come and go between calls.
        desc = (query.get("order") or [""])[0] == "desc"
        token = (query.get("nextToken") or [""])[0]
        if token:
            try:
                after = tuple(base64.urlsafe_b64decode(token.encode()).decode().split("|", 1))
            except Exception as e:
                raise ApiError(400, "invalid nextToken") from e
            sandboxes = [s for s in sandboxes if ((_key(s) < after) if desc else (_key(s) > after))]
        page = sandboxes[:limit]
        headers: list[tuple[bytes, bytes]] = []
        if len(sandboxes) > limit:
            nxt = base64.urlsafe_b64encode("|".join(_key(page[-1])).encode()).decode()
            headers.append((b"x-next-token", nxt.encode()))
        return 200, [self.listed(s) for s in page], headers


def _key(sbx: Sandbox) -> tuple[str, str]:
    """Sort key of the list: start time, then id."""
    return (sbx.started_at.isoformat(), sbx.sandbox_id)


def _remaining(sbx: Sandbox) -> float:
    return max(0.0, (sbx.end_at - utcnow()).total_seconds())


def _timeout(value: Any, default: int | None) -> int:
    if value is None:
        if default is None:
            raise ApiError(400, "timeout is required")
        return default
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ApiError(400, "timeout must be a non-negative number of seconds")
    if value > MAX_TIMEOUT:
        raise ApiError(400, f"timeout cannot be greater than {MAX_TIMEOUT // 3600} hours")
    return int(value)
