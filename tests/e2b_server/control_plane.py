"""E2B's control-plane REST API (``E2B_API_URL``): sandboxes create/connect/list/info/timeout/kill.

Requests must carry ``X-API-KEY`` (else 401). Errors are ``{"code": int, "message": str}``.
Injected faults (:mod:`.faults`) apply before anything else, as a gateway failure would.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote

from .envd_http import header, read_body, send_json
from .faults import Faults
from .sandboxes import ENVD_VERSION, Sandbox, SandboxManager, iso, utcnow
from .unsupported import STATUS as STATUS_NOT_EMULATED
from .unsupported import refused_create, refused_route

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
        refused = refused_route(path)
        if refused is not None:
            raise ApiError(STATUS_NOT_EMULATED, refused)
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
                sbx = self.require_running(sandbox_id)
                self.manager.set_timeout(sbx, _timeout(body.get("timeout"), None))
                return 204, None, []
            if action == "/refreshes" and method == "POST":
                sbx = self.require_running(sandbox_id)
                duration = body.get("duration")
                if duration:
                    self.manager.set_timeout(sbx, _timeout(duration, None))
                return 204, None, []
            if action == "/connect" and method == "POST":
                sbx = self.require(sandbox_id)
                timeout = body.get("timeout")
                if sbx.state == "paused":  # connecting resumes a paused sandbox
                    reboot = body.get("memory") is False  # on_resume="reboot"
                    self.manager.resume(sbx, _timeout(timeout, DEFAULT_TIMEOUT), reboot=reboot)
                    return 201, self.created(sbx), []
                if timeout is not None:  # never shortens nor moves the end: only extends
                    self.manager.extend_to(sbx, _timeout(timeout, None))
                return 200, self.created(sbx), []
            if action == "/resume" and method == "POST":  # the older call connect replaced
                sbx = self.require(sandbox_id)
                if sbx.state != "paused":
                    raise ApiError(409, f"Sandbox {sandbox_id} is already running")
                self.manager.resume(sbx, _timeout(body.get("timeout"), DEFAULT_TIMEOUT))
                return 201, self.created(sbx), []
            if action == "/pause" and method == "POST":
                sbx = self.require(sandbox_id)
                if not self.manager.pause(sbx, memory=body.get("memory") is not False):
                    raise ApiError(409, f"Sandbox {sandbox_id} is already paused")
                return 204, None, []
        raise ApiError(404, f"no route for {method} {path}")

    def require(self, sandbox_id: str) -> Sandbox:
        """A running or paused sandbox, else 404."""
        sbx = self.manager.get(sandbox_id)
        if sbx is None:
            raise ApiError(404, f"sandbox '{sandbox_id}' not found")
        return sbx

    def require_running(self, sandbox_id: str) -> Sandbox:
        """A running sandbox: a paused one accepts nothing but info, listing, connect/resume
        and kill (404, as for a sandbox E2B cannot find among the running ones)."""
        sbx = self.require(sandbox_id)
        if sbx.state != "running":
            raise ApiError(404, f"sandbox '{sandbox_id}' is paused: resume it with connect")
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
        refused = refused_create(body)
        if refused is not None:
            raise ApiError(STATUS_NOT_EMULATED, refused)
        internet = body.get("allow_internet_access", body.get("allowInternetAccess"))  # (E2B's key is snake_case)
        if internet is not None and not isinstance(internet, bool):
            raise ApiError(400, "allow_internet_access must be a boolean")
        auto_pause = body.get("autoPause", False)
        auto_resume_cfg = body.get("autoResume") or {}
        if not isinstance(auto_pause, bool) or not isinstance(auto_resume_cfg, dict):
            raise ApiError(400, "autoPause must be a boolean and autoResume an object")
        auto_resume = bool(auto_resume_cfg.get("enabled", False))
        if auto_resume and not auto_pause:
            raise ApiError(400, "autoResume can only be enabled when autoPause is true")
        if auto_resume and body.get("autoPauseMemory") is False:
            raise ApiError(400, "autoResume cannot be combined with a filesystem-only auto-pause")
        sbx = await self.manager.create(
            template, timeout, {str(k): str(v) for k, v in metadata.items()},
            {str(k): str(v) for k, v in env_vars.items()},
            on_timeout="pause" if auto_pause else "kill", auto_resume=auto_resume,
            internet=internet is not False, auto_pause_memory=body.get("autoPauseMemory") is not False,
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
            "state": sbx.state,
            "metadata": dict(sbx.metadata),
        }

    def detail(self, sbx: Sandbox) -> dict[str, Any]:
        out = {
            **self.listed(sbx),
            "envdAccessToken": sbx.envd_access_token,
            "domain": self.domain,
            "lifecycle": {"onTimeout": sbx.on_timeout, "autoResume": sbx.auto_resume},
        }
        if sbx.state == "paused":
            out["pauseMode"] = sbx.pause_mode
        return out

    def list(self, query: dict[str, list[str]], v2: bool) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        """E2B's listing: newest first unless ``order=asc``; filters ``state`` (running,
        paused; both by default on v2, running only on the older v1 call), ``metadata``
        (url-encoded ``k=v&...``), ``template`` (id or alias), ``startedAfter`` /
        ``startedBefore`` (RFC 3339, inclusive); pages of ``limit`` (default and max 100)
        with the next page's token in ``x-next-token`` (absent on the last page)."""
        order = (query.get("order") or ["desc"])[0] or "desc"
        if order not in ("asc", "desc"):
            raise ApiError(400, f"invalid order '{order}': expected 'asc' or 'desc'")
        desc = order == "desc"
        sandboxes = sorted((s for s in self.manager.sandboxes.values() if s.alive), key=_key, reverse=desc)
        states = {s for v in query.get("state", []) for s in v.split(",") if s}
        unknown = states - {"running", "paused"}
        if unknown:
            raise ApiError(400, f"invalid state '{min(unknown)}': expected 'running' or 'paused'")
        if not states:
            states = {"running", "paused"} if v2 else {"running"}
        sandboxes = [s for s in sandboxes if s.state in states]
        wanted: dict[str, str] = {}
        for raw in query.get("metadata", []):
            for k, v in parse_qsl(raw, keep_blank_values=True):
                wanted[unquote(k)] = unquote(v)
        sandboxes = [s for s in sandboxes if all(s.metadata.get(k) == v for k, v in wanted.items())]
        template = (query.get("template") or [""])[0]
        if template:
            sandboxes = [s for s in sandboxes if s.template_id == template]
        after = _time_param(query, "startedAfter")
        before = _time_param(query, "startedBefore")
        if after is not None:
            sandboxes = [s for s in sandboxes if s.started_at >= after]
        if before is not None:
            sandboxes = [s for s in sandboxes if s.started_at <= before]
        if not v2:
            return 200, [self.listed(s) for s in sandboxes], []
        try:
            limit = int((query.get("limit") or ["100"])[0])
        except ValueError as e:
            raise ApiError(400, "limit must be an integer") from e
        if limit < 1 or limit > 100:
            raise ApiError(400, "limit must be between 1 and 100")
        # The token is the sort key of the last item sent, so a page stays right when sandboxes
        # come and go between calls.
        token = (query.get("nextToken") or [""])[0]
        if token:
            try:
                cursor = tuple(base64.urlsafe_b64decode(token.encode()).decode().split("|", 1))
            except Exception as e:
                raise ApiError(400, "invalid nextToken") from e
            sandboxes = [s for s in sandboxes if ((_key(s) < cursor) if desc else (_key(s) > cursor))]
        page = sandboxes[:limit]
        headers: list[tuple[bytes, bytes]] = []
        if len(sandboxes) > limit:
            nxt = base64.urlsafe_b64encode("|".join(_key(page[-1])).encode()).decode()
            headers.append((b"x-next-token", nxt.encode()))
        return 200, [self.listed(s) for s in page], headers


def _time_param(query: dict[str, list[str]], name: str) -> dt.datetime | None:
    raw = (query.get(name) or [""])[0]
    if not raw:
        return None
    try:
        t = dt.datetime.fromisoformat(raw)
    except ValueError as e:
        raise ApiError(400, f"invalid {name} '{raw}': expected an RFC 3339 time") from e
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


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
