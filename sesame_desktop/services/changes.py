"""The Changes tab's service: what each session changed, refreshed as its files change.

Once a session's sandbox holds the project, a session task watches the project folder and,
a moment after the last change (debounced), asks the sandbox for the list of changed files
(:mod:`sesame_desktop.sandbox.changes`). The foreground command ending refreshes too. A newer
refresh of the same session replaces an older one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from sesame_desktop.core.changes import ChangedFile, ChangeList, FileDiff
from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.sessions import SessionSnapshot
from sesame_desktop.core.cancels import raise_if_cancel_swallowed
from sesame_desktop.sandbox import changes
from sesame_desktop.services.sessions import SessionManager

log = logging.getLogger(__name__)

DEBOUNCE_S = 0.4


@dataclass(frozen=True)
class ChangesUpdate:
    """A session's changed files, newly read.

    Attributes:
        problem: why the list could not be read this time (the last good one stays).
    """

    session_id: str
    changes: ChangeList | None
    problem: str = ""


class ChangeService(QObject):
    """Keeps each session's list of changed files current.

    Signals:
        updated(ChangesUpdate): a session's list was read again.
    """

    updated = Signal(object)

    def __init__(self, manager: SessionManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._lists: dict[str, ChangeList] = {}
        self._dirty: dict[str, asyncio.Event] = {}
        self._running: dict[str, str] = {}
        manager.sandbox_ready.connect(self._on_manager_sandbox_ready)
        manager.session_changed.connect(self._on_manager_session_changed)

    def changes(self, session_id: str) -> ChangeList | None:
        return self._lists.get(session_id)

    def refresh(self, session_id: str) -> None:
        """Read the session's changes again soon."""
        event = self._dirty.get(session_id)
        if event is not None:
            event.set()

    async def diff(self, session_id: str, change: ChangedFile) -> FileDiff:
        sandbox = self._manager.sandbox(session_id)
        if sandbox is None:
            return FileDiff(change.path, note="The session's sandbox is gone.")
        try:
            return await changes.diff_of(sandbox, change)
        except UserFacingError as exc:
            return FileDiff(change.path, note=f"{exc.message.title}: {exc.message.text()}")

    def _on_manager_sandbox_ready(self, session_id: str) -> None:
        if session_id in self._dirty:
            return
        self._dirty[session_id] = asyncio.Event()
        self._manager.start_session_task(session_id, self._follow(session_id), key="changes")

    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        before = self._running.get(snapshot.id, "")
        self._running[snapshot.id] = snapshot.running
        if before and not snapshot.running:
            self.refresh(snapshot.id)

    async def _follow(self, session_id: str) -> None:
        sandbox = self._manager.sandbox(session_id)
        if sandbox is None:
            return
        dirty = self._dirty[session_id]
        project = sandbox.project_dir.rstrip("/")

        def on_change(path: str) -> None:
            if "/.git/" not in path[len(project):] + "/":
                dirty.set()

        watch = None
        try:
            try:
                watch = await sandbox.watch(sandbox.project_dir, on_change)
            except UserFacingError as exc:
                log.info("session %s: changes refresh only after commands (%s)", session_id, exc.message.title)
            dirty.set()
            while True:
                raise_if_cancel_swallowed()  # by the SDK call just made (watch, or the listing)
                await dirty.wait()
                await asyncio.sleep(DEBOUNCE_S)
                dirty.clear()
                await self._read(session_id)
        finally:
            if watch is not None:
                await watch.stop()

    async def _read(self, session_id: str) -> None:
        sandbox = self._manager.sandbox(session_id)
        if sandbox is None:
            return
        try:
            listed = await changes.list_changes(sandbox)
        except UserFacingError as exc:
            self.updated.emit(ChangesUpdate(session_id, self._lists.get(session_id), exc.message.title))
            return
        if listed is None:
            self.updated.emit(ChangesUpdate(session_id, None, "This session's start point was not recorded."))
            return
        if self._lists.get(session_id) != listed:
            self._lists[session_id] = listed
            self.updated.emit(ChangesUpdate(session_id, listed))
