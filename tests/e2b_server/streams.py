"""Per-request context for envd calls, and cutting a streaming response like a lost connection.

The envd router sets the request's sandbox (:func:`current_sandbox`) and wraps ASGI ``send``.
A handler that calls :func:`drop_connection` makes every later ``send`` fail, so the response
never gets its end-of-stream envelope; the router then returns without completing the response
and uvicorn closes the socket, which the SDK sees as a transport failure (as when E2B's proxy
loses a sandbox mid-stream).

:class:`StreamControl` keeps the open streams so that a sandbox kill, or the
``drop_streams`` test hook, can cut them, and arms drops for streams yet to come.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .sandboxes import Sandbox

_sandbox: contextvars.ContextVar[Sandbox] = contextvars.ContextVar("e2b_sandbox")
_request: contextvars.ContextVar[RequestToken] = contextvars.ContextVar("e2b_request")


class DropConnection(Exception):
    """Raised to abort the current HTTP response without an end-of-stream."""


@dataclass
class RequestToken:
    drop: bool = False


def current_sandbox() -> Sandbox:
    return _sandbox.get()


def drop_connection(reason: str) -> None:
    token = _request.get(None)
    if token is not None:
        token.drop = True
    raise DropConnection(reason)


ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


async def run_in_sandbox_context(
    app: ASGIApp, sandbox: Sandbox, scope: dict, receive: Any, send: Any
) -> None:
    """Run an envd ASGI app for ``sandbox``, able to drop the connection mid-response."""
    token = RequestToken()
    t_req = _request.set(token)
    t_sbx = _sandbox.set(sandbox)

    async def guarded_send(message: dict) -> None:
        if token.drop:
            raise DropConnection("connection dropped")
        await send(message)

    try:
        await app(scope, receive, guarded_send)
    except DropConnection:
        return
    finally:
        _request.reset(t_req)
        _sandbox.reset(t_sbx)


@dataclass(eq=False)
class StreamHandle:
    """One open server stream (process or watch)."""

    sandbox_id: str
    drop_after: int | None = None
    events_sent: int = 0
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def sent_event(self) -> None:
        self.events_sent += 1
        if self.drop_after is not None and self.events_sent >= self.drop_after:
            self.dropped.set()


@dataclass
class _ArmedDrop:
    sandbox_id: str | None
    after_events: int
    count: int


class StreamControl:
    """Open streams, and drops armed for the next streams."""

    def __init__(self) -> None:
        self.active: set[StreamHandle] = set()
        self.armed: list[_ArmedDrop] = []

    def register(self, sandbox_id: str) -> StreamHandle:
        handle = StreamHandle(sandbox_id)
        for rule in self.armed:
            if rule.sandbox_id in (None, sandbox_id) and rule.count > 0:
                rule.count -= 1
                handle.drop_after = rule.after_events
                break
        self.armed = [r for r in self.armed if r.count > 0]
        self.active.add(handle)
        return handle

    def unregister(self, handle: StreamHandle) -> None:
        self.active.discard(handle)

    def drop_now(self, sandbox_id: str | None = None) -> int:
        """Cut the open streams of ``sandbox_id`` (all when None); return how many."""
        n = 0
        for handle in list(self.active):
            if sandbox_id is None or handle.sandbox_id == sandbox_id:
                handle.dropped.set()
                n += 1
        return n

    def arm(self, sandbox_id: str | None, after_events: int, count: int = 1) -> None:
        """Drop the next ``count`` streams (of ``sandbox_id``, or any) after ``after_events``
        events (the ``start`` event counts as one)."""
        self.armed.append(_ArmedDrop(sandbox_id, max(1, after_events), count))

    def reset(self) -> None:
        self.armed.clear()
