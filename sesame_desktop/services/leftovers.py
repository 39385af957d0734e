"""Start-up reconciliation: every E2B sandbox tagged by this app, matched with the sessions.

A sandbox runs (and costs) until its lifetime ends, even when the app that started it has
crashed or been killed. Every sandbox the app creates carries ``app=sesame-desktop`` and its
session's id in its metadata, so the next start (after the sessions are restored) lists them:

- a sandbox a restored session knows is that session's (it reattaches by itself);
- a sandbox whose session was recorded without it (the app died while creating it) is
  given back to that session, which reattaches;
- the rest are offered to the user: end them, or adopt them as new sessions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from sesame_desktop.core.config import Provider
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.sandbox.base import SandboxProvider
from sesame_desktop.services.session_lifecycle import KILL_BACKOFF_S
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.tasks import TaskGroupOwner

if TYPE_CHECKING:  # the e2b SDK is imported only when a check runs
    from sesame_desktop.sandbox.e2b_provider import E2BProvider, RunningSandbox

log = logging.getLogger(__name__)


class LeftoverSandboxes(QObject):
    """Looks for this app's running E2B sandboxes that no open session owns.

    Signals:
        found(tuple): ``RunningSandbox`` records of leftover sandboxes (only when there are some).
        ended(int): how many leftover sandboxes :meth:`end` stopped.
        adopted(tuple): ids of the sessions :meth:`adopt` made.
        problem(UserMessage): listing or ending failed.
    """

    found = Signal(tuple)
    ended = Signal(int)
    adopted = Signal(tuple)
    problem = Signal(object)

    def __init__(self, providers: Callable[[Provider], Awaitable[SandboxProvider]], manager: SessionManager,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._providers = providers
        self._manager = manager
        self._tasks = TaskGroupOwner("leftovers")

    def check(self) -> None:
        self._tasks.start(self._check(), key="check")

    async def _provider(self) -> E2BProvider | None:
        try:
            provider = await self._providers(Provider.E2B)
        except UserFacingError:
            return None  # no key (or no keyring): nothing of ours can be running on E2B
        from sesame_desktop.sandbox.e2b_provider import E2BProvider

        return provider if isinstance(provider, E2BProvider) else None

    async def _check(self) -> None:
        provider = await self._provider()
        if provider is None:
            return
        try:
            running = await provider.running_app_sandboxes()
        except UserFacingError as exc:
            log.info("could not look for leftover sandboxes: %s", exc.message.title)
            return
        ours = {s.sandbox_id for s in self._manager.snapshots()}
        waiting = {s.id for s in self._manager.snapshots() if not s.sandbox_id}
        leftovers = []
        for sandbox in running:
            if sandbox.sandbox_id in ours:
                continue
            if sandbox.session_id in waiting:
                self._manager.give_sandbox(sandbox.session_id, sandbox.sandbox_id)
                continue
            leftovers.append(sandbox)
        leftovers = tuple(leftovers)
        if leftovers:
            log.info("%d sandboxes from an earlier run are still running", len(leftovers))
            self.found.emit(leftovers)

    def adopt(self, sandboxes: tuple[RunningSandbox, ...]) -> None:
        """Make a session of each sandbox (it reattaches to the sandbox and its commands)."""
        self.adopted.emit(tuple(self._manager.adopt(s) for s in sandboxes))

    def end(self, sandboxes: tuple[RunningSandbox, ...]) -> None:
        self._tasks.start(self._end(sandboxes), key="end")

    async def _end(self, sandboxes: tuple[RunningSandbox, ...]) -> None:
        provider = await self._provider()
        if provider is None:
            return
        ended, failures = 0, []
        for sandbox in sandboxes:
            for delay in (*KILL_BACKOFF_S, None):
                try:
                    await provider.kill_sandbox(sandbox.sandbox_id)
                    ended += 1
                    break
                except UserFacingError as exc:
                    if delay is None:
                        failures.append(f"{sandbox.sandbox_id}: {exc.message.title}")
                    else:
                        await asyncio.sleep(delay)
        self.ended.emit(ended)
        if failures:
            self.problem.emit(UserMessage(
                "Some sandboxes were not stopped", "\n".join(failures),
                "They are listed again at the next start; you can also stop them in the E2B dashboard."))

    async def aclose(self) -> None:
        await self._tasks.close()
