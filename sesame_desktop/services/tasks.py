"""Owners for asyncio tasks: every long-lived coroutine has one, which cancels it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskGroupOwner:
    """Keeps the tasks it starts, reports their failures, and cancels them on :meth:`close`.

    Unlike ``asyncio.TaskGroup`` one failing task does not cancel its siblings, and tasks can
    be started from synchronous code (a Qt slot). Starting a task under a ``key`` cancels the
    older task with the same key first (latest wins).

    Args:
        on_error: called with an exception a task raised (not for cancellation).
    """

    def __init__(self, name: str, on_error: Callable[[BaseException], None] | None = None) -> None:
        self._name = name
        self._on_error = on_error
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keyed: dict[str, asyncio.Task[Any]] = {}
        self._closed = False

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        return frozenset(self._tasks)

    def running(self, key: str) -> bool:
        """Whether the task started under ``key`` is still running."""
        task = self._keyed.get(key)
        return task is not None and not task.done()

    def task(self, key: str) -> asyncio.Task[Any] | None:
        """The task started under ``key``, while it runs."""
        task = self._keyed.get(key)
        return task if task is not None and not task.done() else None

    def start(self, coro: Coroutine[Any, Any, Any], *, key: str | None = None) -> asyncio.Task[Any]:
        if self._closed:
            coro.close()
            raise RuntimeError(f"{self._name} is closed; no new tasks")
        if key is not None and (older := self._keyed.get(key)) is not None:
            older.cancel()
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self._name}:{key or getattr(coro, '__qualname__', 'task')}")
        self._tasks.add(task)
        if key is not None:
            self._keyed[key] = task
        task.add_done_callback(self._on_task_done)
        return task

    def _on_task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        for key, keyed in list(self._keyed.items()):
            if keyed is task:
                del self._keyed[key]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("task %s failed", task.get_name(), exc_info=exc)
            if self._on_error is not None:
                self._on_error(exc)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def close(self, timeout: float = 5.0) -> None:
        """Cancel every task and wait (at most ``timeout`` seconds) for them to finish."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                log.warning("task %s did not stop within %.1f s", task.get_name(), timeout)

