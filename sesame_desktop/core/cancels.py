"""Whether the running asyncio task has been asked to stop."""

from __future__ import annotations

import asyncio


def cancel_requested() -> bool:
    """True when the current task has a cancel pending (False outside a task or a loop)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop
        return False
    return task is not None and task.cancelling() > 0


def raise_if_cancel_swallowed() -> None:
    """Raise ``CancelledError`` when the current task was asked to stop but runs on.

    CPython 3.11's ``asyncio.wait_for`` (the e2b SDK awaits a stream's first event with it) can
    swallow a cancel that arrives just as the awaited result does. A task that then goes on to
    wait for something else would never end, and its owner gives up on it. Call this after such
    an await, in a task's main flow (not in ``finally`` blocks, where a cancel is being handled).
    """
    if cancel_requested():
        raise asyncio.CancelledError
