"""What the benchmarks' stall probes read besides the clock: a thread's wait for a CPU, and
garbage-collection pauses."""

from __future__ import annotations

import gc
import time


class CpuWait:
    """Time the calling thread spent runnable but waiting for a CPU (Linux ``schedstat``; 0
    elsewhere). On a machine shared with other busy programs the OS may hold a busy thread back
    for tens of ms: that is not a stall the program causes, so the benchmarks take it out of
    their stall figures and print it beside them. Read it from the thread it was made on."""

    def __init__(self) -> None:
        try:
            self._file = open("/proc/thread-self/schedstat", "rb")  # noqa: SIM115 - read on every tick
        except OSError:
            self._file = None

    def seconds(self) -> float:
        if self._file is None:
            return 0.0
        self._file.seek(0)
        return int(self._file.read().split()[1]) / 1e9

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class GcPauses:
    """The longest garbage collection (any generation, any thread) while installed, in seconds."""

    def __init__(self) -> None:
        self.longest = self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            self.longest = max(self.longest, time.perf_counter() - self._started)

    def close(self) -> None:
        gc.callbacks.remove(self._on_gc)
