"""Helpers for the local E2B server's own tests (the fixtures live in the server's plugin)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import pytest


def wait_until(cond: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> None:
    """Poll ``cond`` until it is truthy (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


async def await_until(cond: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> None:
    """Async :func:`wait_until`, for coroutines run through ``run_async``."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
