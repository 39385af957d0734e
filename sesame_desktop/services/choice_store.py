"""The New Session dialog's remembered choices, read and written on an executor."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sesame_desktop.core.project_choices import ProjectChoices, RememberedChoices, load_choices, save_choices
from sesame_desktop.core.sessions import Project
from sesame_desktop.services.tasks import TaskGroupOwner

log = logging.getLogger(__name__)


class ChoiceStore:
    """Keeps :class:`RememberedChoices` in memory and in ``agent-choices.json``."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self.current = RememberedChoices()
        self.loaded = False
        self._lock = asyncio.Lock()
        self._tasks = TaskGroupOwner("choices", on_error=lambda exc: log.warning("choices not saved: %s", exc))

    async def load(self) -> RememberedChoices:
        if not self.loaded:
            stored = await asyncio.get_running_loop().run_in_executor(None, load_choices, self._folder)
            remembered_meanwhile = self.current  # choices made while the file was being read win
            self.current = RememberedChoices({**stored.projects, **remembered_meanwhile.projects},
                                             remembered_meanwhile.last if remembered_meanwhile.projects else stored.last)
            self.loaded = True
        return self.current

    def remember(self, project: Project, choices: ProjectChoices) -> None:
        """Keep ``choices`` for ``project``; written in the background (latest wins)."""
        self.current = self.current.remember(project, choices)
        self._tasks.start(self._save())

    async def _save(self) -> None:
        async with self._lock:  # one write at a time, each of the newest choices
            await asyncio.get_running_loop().run_in_executor(None, save_choices, self._folder, self.current)

    async def aclose(self) -> None:
        await self._tasks.close(timeout=5)
