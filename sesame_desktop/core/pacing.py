"""Pauses for long pure-Python loops in worker threads, so the GUI thread gets the GIL.

A thread running Python keeps the GIL until another thread has asked for it and the switch
interval (5 ms) has passed. The GUI thread gives the GIL up and takes it back at every Qt
call, dozens of times per event, waiting up to 5 ms each time: while a worker listed,
decoded or sorted 100,000 entries, turns of the GUI's event loop took 30-130 ms with only
2-5 ms of its own work in them. A real sleep frees the GIL at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

WORK_S = 0.004  # Python work between two pauses…
PAUSE_S = 0.001  # …during which the GIL is surely free for the GUI thread
T = TypeVar("T")


class Pacer:
    """Call :meth:`tick` often from a worker thread's loop (never from the GUI thread's)."""

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until = time.perf_counter() + WORK_S

    def tick(self) -> None:
        if time.perf_counter() >= self._until:
            time.sleep(PAUSE_S)
            self._until = time.perf_counter() + WORK_S


def paced(items: Iterable[T]) -> Iterator[T]:
    """``items``, with a pause every ``WORK_S`` of the work that consumes or makes them."""
    pacer = Pacer()
    for item in items:
        yield item
        pacer.tick()
