"""A cancel swallowed by the awaited call (CPython 3.11's ``asyncio.wait_for``, inside the e2b
SDK, when the result and the cancel arrive together) still ends the task that asked for it."""

from __future__ import annotations

import asyncio

from sesame_desktop.core.cancels import raise_if_cancel_swallowed
from sesame_desktop.services.tasks import TaskGroupOwner


async def call_that_swallows_a_cancel(started: asyncio.Event) -> str:
    """What ``wait_for`` does in that race: the cancel lands, the result is returned instead."""
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "the result that arrived at the same moment"
    return "never"


async def follower(started: asyncio.Event, reached: list[str], check: bool) -> None:
    reached.append(await call_that_swallows_a_cancel(started))
    if check:
        raise_if_cancel_swallowed()
    await asyncio.Event().wait()  # a watch loop, waiting for the next change


def test_the_check_ends_a_task_whose_cancel_was_swallowed(run_async):
    async def scenario(check: bool) -> tuple[bool, list[str]]:
        owner = TaskGroupOwner("test")
        started, reached = asyncio.Event(), []
        task = owner.start(follower(started, reached, check))
        await started.wait()
        await owner.close(timeout=0.5)
        stuck = not task.done()
        if stuck:  # what the owner gave up on: end it for the test's own clean-up
            task.cancel()
            await asyncio.wait({task})
        return stuck, reached

    stuck, reached = run_async(scenario(check=True))
    assert reached == ["the result that arrived at the same moment"] and not stuck
    stuck, reached = run_async(scenario(check=False))  # without it the task would run on
    assert reached == ["the result that arrived at the same moment"] and stuck


def test_the_check_lets_a_task_that_was_not_cancelled_go_on(run_async):
    async def scenario() -> bool:
        raise_if_cancel_swallowed()
        return True

    assert run_async(scenario())
