"""Ports that each session's dev servers listen on, kept current while the session is open.

For every session whose sandbox is ready, a task owned by the session (so it ends with it)
asks the sandbox which ports its processes listen on (:func:`listening_ports`) about every
0.45 s. The finished lines of every session's console are read as well (plain text, as the
console buffer made it: no second decoding or escape parsing): a local URL printed there
(``http://localhost:5173``) does not become an entry by itself, it makes the next scan
happen at once and then every 0.1 s for up to 5 s, until a scan confirms that a process of
the session listens on that port. So a dev server that prints its URL shows up within a
tenth of a second of printing it, and text in the output can never add a port that is not
really the session's (a host service, envd's port, a made-up number). The URL of an entry is
always the one the provider makes (:meth:`Sandbox.preview_url`), never text from the output.

A port that closes leaves the list at the next scan. A port that appears for the first time
in a session is announced once (:attr:`PortService.port_opened`); if the server restarts on
the same port it comes back to the list without a second announcement.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal, Slot

from sesame_desktop.core.ports import EXCLUDED_PORTS, URL_HINT, PortInfo, PortSource, local_url_ports
from sesame_desktop.core.sessions import SessionSnapshot, SessionState
from sesame_desktop.sandbox.base import Sandbox
from sesame_desktop.services.sessions import SessionManager

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.45
"""Between two scans of an open session."""
HINT_POLL_INTERVAL_S = 0.1
"""Between two scans while a printed URL waits to be confirmed."""
HINT_TTL_S = 5.0
"""How long a printed URL keeps the fast scans going."""
MAX_BACKOFF_S = 5.0
"""The longest wait between scans after failed ones (a sandbox that does not answer)."""

Scanner = Callable[[Sandbox], Awaitable[set[int]]]


async def listening_ports(sandbox: Sandbox) -> set[int]:
    """:func:`sesame_desktop.sandbox.ports.listening_ports`, imported with the first scan (it
    brings psutil and the local process code, which the first window does not need)."""
    from sesame_desktop.sandbox.ports import listening_ports as scan

    return await scan(sandbox)


@dataclass(eq=False)
class _Watch:
    """The service's record of one session's ports."""

    sandbox: Sandbox
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    ports: tuple[PortInfo, ...] = ()
    urls: dict[int, str] = field(default_factory=dict)
    hints: dict[int, float] = field(default_factory=dict)  # port -> monotonic deadline
    announced: set[int] = field(default_factory=set)
    failures: int = 0


class PortService(QObject):
    """Watches every open session's listening ports.

    Args:
        manager: the session manager to attach to (sandbox_ready, output, session ends).
        interval_s: time between two scans of a session.
        scanner: how to ask a sandbox for its listening ports (tests pass a recorder).

    Signals:
        ports_changed(str, tuple): a session's ports changed: its id and all its ports now,
            a ``tuple[PortInfo, ...]`` sorted by port (empty when the session ends).
        port_opened(str, PortInfo): a port appeared for the first time in the session.
    """

    ports_changed = Signal(str, object)
    port_opened = Signal(str, object)

    def __init__(self, manager: SessionManager, *, interval_s: float = POLL_INTERVAL_S,
                 scanner: Scanner = listening_ports, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._interval = interval_s
        self._scan = scanner
        self._watches: dict[str, _Watch] = {}
        manager.sandbox_ready.connect(self._on_manager_sandbox_ready)
        manager.session_changed.connect(self._on_manager_session_changed)
        manager.add_line_tap(self._on_manager_line, URL_HINT)

    def ports(self, session_id: str) -> tuple[PortInfo, ...]:
        """The session's ports now (empty for unknown or ended sessions)."""
        watch = self._watches.get(session_id)
        return watch.ports if watch is not None else ()

    def session_name(self, session_id: str) -> str:
        """The session's name, for a notification."""
        try:
            return self._manager.snapshot(session_id).name
        except KeyError:
            return ""

    # -- watching ---------------------------------------------------------------------------

    async def _watch(self, session_id: str, watch: _Watch) -> None:
        """Scan the session's sandbox until the session ends (the manager cancels this)."""
        while self._watches.get(session_id) is watch:
            watch.wake.clear()
            try:
                await self._apply(session_id, watch, await self._scan(watch.sandbox))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed scan is retried, never fatal
                watch.failures += 1
                if watch.failures == 1:
                    log.info("session %s: ports not checked: %s", session_id, exc)
                await self._pause(watch, min(MAX_BACKOFF_S, self._interval * 2 ** watch.failures))
                continue
            watch.failures = 0
            now = time.monotonic()
            watch.hints = {p: t for p, t in watch.hints.items() if t > now}
            await self._pause(watch, HINT_POLL_INTERVAL_S if watch.hints else self._interval)

    @staticmethod
    async def _pause(watch: _Watch, seconds: float) -> None:
        """Wait ``seconds``, or less when a printed URL asks for a scan now."""
        if watch.wake.is_set():
            return
        try:
            async with asyncio.timeout(seconds):
                await watch.wake.wait()
        except TimeoutError:
            pass

    async def _apply(self, session_id: str, watch: _Watch, found: set[int]) -> None:
        """Make ``found`` the session's ports; emit what changed."""
        found = {p for p in found if p not in EXCLUDED_PORTS}
        current = {info.port: info for info in watch.ports}
        if found == set(current):
            return
        now = time.monotonic()
        for port in sorted(found - set(current)):
            if port not in watch.urls:
                watch.urls[port] = await watch.sandbox.preview_url(port)
            printed = watch.hints.pop(port, 0.0) > now
            current[port] = PortInfo(port, watch.urls[port], PortSource.OUTPUT if printed else PortSource.SCAN)
        if self._watches.get(session_id) is not watch:
            return  # the session ended while the URLs were made
        watch.ports = tuple(current[p] for p in sorted(found))
        self.ports_changed.emit(session_id, watch.ports)
        for info in watch.ports:
            if info.port not in watch.announced:
                watch.announced.add(info.port)
                self.port_opened.emit(session_id, info)

    # -- slots ------------------------------------------------------------------------------

    @Slot(str)
    def _on_manager_sandbox_ready(self, session_id: str) -> None:
        sandbox = self._manager.sandbox(session_id)
        if sandbox is None or session_id in self._watches:
            return
        watch = _Watch(sandbox)
        self._watches[session_id] = watch
        self._manager.start_session_task(session_id, self._watch(session_id, watch), key="ports")

    @Slot(object)
    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        if snapshot.state.open and snapshot.state is not SessionState.ENDING:
            return
        watch = self._watches.pop(snapshot.id, None)
        if watch is not None and watch.ports:
            self.ports_changed.emit(snapshot.id, ())

    def _on_manager_line(self, session_id: str, stream: str, line: str) -> None:
        """A line tap (finished plain-text lines of the console): a local URL asks for a scan now."""
        watch = self._watches.get(session_id)
        if watch is None:
            return
        ports = [p for p in local_url_ports(line) if p not in EXCLUDED_PORTS]
        if not ports:
            return
        deadline = time.monotonic() + HINT_TTL_S
        for port in ports:
            if port not in {info.port for info in watch.ports}:
                watch.hints[port] = deadline
        if watch.hints:
            watch.wake.set()
