"""envd's ``process.Process`` Connect service, on the SDK's generated server classes.

Streams (``Start``, ``Connect``) send ``start{pid}`` at once, then ``data`` events, a
``keepalive`` every ``Keepalive-Ping-Interval`` seconds of silence, and ``end`` last.
``Connect-Timeout-Ms`` on ``Start`` is the process lifetime: when it passes, the process group
is killed and the stream ends with ``deadline_exceeded``. A client disconnect does not kill
the process. When the sandbox dies mid-stream, or a drop is injected, the HTTP connection is
cut without an end-of-stream (see :mod:`.streams`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import signal
from collections.abc import AsyncIterator

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from e2b.envd.process import process_pb as pb
from e2b.envd.process.process_connect import ProcessASGIApplication
from protobuf import Oneof

from .processes import EndInfo, ManagedProcess
from .sandboxes import Isolation, Sandbox
from .streams import StreamControl, current_sandbox, drop_connection

log = logging.getLogger("e2b_server.envd_process")

DEFAULT_KEEPALIVE = 50.0


def request_user(ctx: RequestContext) -> str:
    """The user of an envd request: ``Authorization: Basic base64(user:)``, else ``user``."""
    auth = ctx.request_headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            name = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
        except Exception as e:
            raise ConnectError(Code.INVALID_ARGUMENT, f"invalid authorization: {e}") from e
        if name not in ("user", "root"):
            raise ConnectError(Code.PERMISSION_DENIED, f"user '{name}' does not exist")
        return name
    return "user"


def _keepalive(ctx: RequestContext) -> float:
    try:
        return max(0.05, float(ctx.request_headers.get("keepalive-ping-interval", "")))
    except ValueError:
        return DEFAULT_KEEPALIVE


def _end_event(end: EndInfo) -> pb.ProcessEvent:
    return pb.ProcessEvent(
        event=Oneof(
            "end",
            pb.ProcessEvent.EndEvent(
                exit_code=end.exit_code, exited=end.exited, status=end.status, error=end.error
            ),
        )
    )


class ProcessService:
    """Implements ``process.Process`` for whichever sandbox the request is routed to."""

    def __init__(self, isolation: Isolation, streams: StreamControl) -> None:
        self.isolation = isolation
        self.streams = streams

    @staticmethod
    def _find(sbx: Sandbox, selector: pb.ProcessSelector | None) -> ManagedProcess:
        sel = selector.selector if selector is not None else None
        if sel is not None and sel.field == "pid":
            proc = sbx.processes.get(sel.value)
            if proc is not None:
                return proc
            raise ConnectError(Code.NOT_FOUND, f"process with pid {sel.value} not found")
        if sel is not None and sel.field == "tag":
            for proc in sbx.processes.values():
                if proc.tag == sel.value:
                    return proc
            raise ConnectError(Code.NOT_FOUND, f"process with tag {sel.value} not found")
        raise ConnectError(Code.INVALID_ARGUMENT, "process selector is required")

    async def list(self, request: pb.ListRequest, ctx: RequestContext) -> pb.ListResponse:
        sbx = current_sandbox()
        return pb.ListResponse(
            processes=[
                pb.ProcessInfo(
                    config=pb.ProcessConfig(cmd=p.cmd, args=p.args, envs=p.envs, cwd=p.cwd),
                    pid=p.pid,
                    tag=p.tag,
                )
                for p in sbx.processes.values()
                if p.end is None
            ]
        )

    def start(self, request: pb.StartRequest, ctx: RequestContext) -> AsyncIterator[pb.StartResponse]:
        return self._start(request, ctx)

    async def _start(self, request: pb.StartRequest, ctx: RequestContext) -> AsyncIterator[pb.StartResponse]:
        sbx = current_sandbox()
        user = request_user(ctx)
        cfg = request.process or pb.ProcessConfig()
        pty = None
        if request.pty is not None:
            size = request.pty.size or pb.PTY.Size(cols=80, rows=24)
            pty = (size.rows or 24, size.cols or 80)
        try:
            proc = ManagedProcess(
                sbx,
                self.isolation,
                cmd=cfg.cmd,
                args=list(cfg.args),
                envs=dict(cfg.envs),
                cwd=cfg.cwd if cfg.has_field("cwd") else None,
                user=user,
                tag=request.tag if request.has_field("tag") else None,
                stdin=bool(request.stdin) if request.has_field("stdin") else True,
                pty_size=pty,
            )
        except FileNotFoundError as e:
            raise ConnectError(Code.INVALID_ARGUMENT, str(e)) from e
        except OSError as e:
            raise ConnectError(Code.INTERNAL, f"error starting process: {e}") from e
        remaining = ctx.timeout_ms
        if remaining is not None:
            proc.set_deadline(remaining / 1000.0)
        log.info("sandbox %s: started pid %s: %s %s", sbx.sandbox_id, proc.pid, cfg.cmd, cfg.args)
        async for event in self._stream(proc, ctx, is_start=True):
            yield pb.StartResponse(event=event)

    def connect(self, request: pb.ConnectRequest, ctx: RequestContext) -> AsyncIterator[pb.ConnectResponse]:
        return self._connect(request, ctx)

    async def _connect(
        self, request: pb.ConnectRequest, ctx: RequestContext
    ) -> AsyncIterator[pb.ConnectResponse]:
        proc = self._find(current_sandbox(), request.process)
        async for event in self._stream(proc, ctx, is_start=False):
            yield pb.ConnectResponse(event=event)

    async def _stream(
        self, proc: ManagedProcess, ctx: RequestContext, is_start: bool
    ) -> AsyncIterator[pb.ProcessEvent]:
        queue = proc.subscribe()
        handle = self.streams.register(proc.sandbox.sandbox_id)
        loop = asyncio.get_running_loop()
        remaining = ctx.timeout_ms
        deadline = None if remaining is None else loop.time() + remaining / 1000.0
        keepalive = _keepalive(ctx)
        try:
            yield pb.ProcessEvent(event=Oneof("start", pb.ProcessEvent.StartEvent(pid=proc.pid)))
            handle.sent_event()
            while True:
                wait = keepalive
                if deadline is not None:
                    wait = min(wait, deadline - loop.time())
                getter = asyncio.ensure_future(queue.get())
                dropper = asyncio.ensure_future(handle.dropped.wait())
                done, _ = await asyncio.wait(
                    {getter, dropper}, timeout=max(0.0, wait), return_when=asyncio.FIRST_COMPLETED
                )
                for f in (getter, dropper):
                    if not f.done():
                        f.cancel()
                if dropper in done:
                    drop_connection("stream dropped (fault injection)")
                if getter not in done:
                    if deadline is not None and loop.time() >= deadline:
                        if is_start and proc.end is None:
                            proc.deadline_hit = True
                            proc.kill_group(signal.SIGKILL)
                            try:  # answer once the process is really gone
                                await asyncio.wait_for(proc.exited.wait(), 2)
                            except TimeoutError:
                                pass
                        raise ConnectError(Code.DEADLINE_EXCEEDED, "context deadline exceeded")
                    yield pb.ProcessEvent(event=Oneof("keepalive", pb.ProcessEvent.KeepAlive()))
                    handle.sent_event()
                    continue
                kind, a, b = getter.result()
                if kind == "drop":
                    drop_connection("sandbox was killed")
                if kind == "end":
                    if is_start and proc.deadline_hit and deadline is not None:
                        raise ConnectError(Code.DEADLINE_EXCEEDED, "context deadline exceeded")
                    yield _end_event(a)
                    return
                yield pb.ProcessEvent(event=Oneof("data", pb.ProcessEvent.DataEvent(output=Oneof(a, b))))
                handle.sent_event()
        finally:
            proc.unsubscribe(queue)
            self.streams.unregister(handle)

    async def update(self, request: pb.UpdateRequest, ctx: RequestContext) -> pb.UpdateResponse:
        proc = self._find(current_sandbox(), request.process)
        if request.pty is not None and request.pty.size is not None:
            try:
                proc.resize(request.pty.size.rows, request.pty.size.cols)
            except ValueError as e:
                raise ConnectError(Code.FAILED_PRECONDITION, str(e)) from e
        return pb.UpdateResponse()

    async def _send(self, proc: ManagedProcess, inp: pb.ProcessInput | None) -> None:
        if inp is None or inp.input is None:
            return
        data = inp.input.value
        if inp.input.field == "pty" and not proc.is_pty:
            raise ConnectError(Code.FAILED_PRECONDITION, "process is not a PTY")
        try:
            await proc.write_stdin(data)
        except (BrokenPipeError, OSError) as e:
            raise ConnectError(Code.FAILED_PRECONDITION, f"error writing to stdin: {e}") from e

    async def send_input(self, request: pb.SendInputRequest, ctx: RequestContext) -> pb.SendInputResponse:
        proc = self._find(current_sandbox(), request.process)
        await self._send(proc, request.input)
        return pb.SendInputResponse()

    async def stream_input(
        self, request: AsyncIterator[pb.StreamInputRequest], ctx: RequestContext
    ) -> pb.StreamInputResponse:
        sbx = current_sandbox()
        proc: ManagedProcess | None = None
        async for msg in request:
            ev = msg.event
            if ev is None:
                continue
            if ev.field == "start":
                proc = self._find(sbx, ev.value.process)
            elif ev.field == "data":
                if proc is None:
                    raise ConnectError(Code.FAILED_PRECONDITION, "start event must come first")
                await self._send(proc, ev.value.input)
        return pb.StreamInputResponse()

    async def send_signal(self, request: pb.SendSignalRequest, ctx: RequestContext) -> pb.SendSignalResponse:
        proc = self._find(current_sandbox(), request.process)
        sig = {pb.Signal.SIGKILL: signal.SIGKILL, pb.Signal.SIGTERM: signal.SIGTERM}.get(request.signal)
        if sig is None:
            raise ConnectError(Code.INVALID_ARGUMENT, f"invalid signal: {request.signal}")
        await proc.kill_and_reap(sig)
        return pb.SendSignalResponse()

    async def close_stdin(self, request: pb.CloseStdinRequest, ctx: RequestContext) -> pb.CloseStdinResponse:
        proc = self._find(current_sandbox(), request.process)
        try:
            proc.close_stdin()
        except ValueError as e:
            raise ConnectError(Code.FAILED_PRECONDITION, str(e)) from e
        return pb.CloseStdinResponse()


def make_process_app(isolation: Isolation, streams: StreamControl) -> ProcessASGIApplication:
    return ProcessASGIApplication(ProcessService(isolation, streams))
