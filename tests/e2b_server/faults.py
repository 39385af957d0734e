"""Injected faults: failing and delayed answers (stream drops live in :mod:`.streams`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Failure:
    status: int
    should_retry: bool | None
    retry_after: int | None
    message: str


@dataclass
class Faults:
    """Faults armed by the test hooks, consumed one per matching request."""

    failures: list[Failure] = field(default_factory=list)
    delays: dict[str, list[float]] = field(default_factory=lambda: {"api": [], "envd": []})
    #: how many control-plane requests were answered (including failed ones)
    api_calls: int = 0

    def fail_next(
        self,
        n: int,
        status: int = 503,
        should_retry: bool | None = None,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        msg = message or {
            429: "Rate limit exceeded",
            500: "Internal server error",
            502: "Bad gateway",
            503: "Service temporarily unavailable",
            504: "Gateway timeout",
        }.get(status, f"injected error {status}")
        self.failures.extend(Failure(status, should_retry, retry_after, msg) for _ in range(n))

    def delay_next(self, n: int, seconds: float, target: str = "api") -> None:
        self.delays.setdefault(target, []).extend([seconds] * n)

    def take_failure(self) -> Failure | None:
        return self.failures.pop(0) if self.failures else None

    def take_delay(self, target: str) -> float:
        queue = self.delays.get(target) or []
        return queue.pop(0) if queue else 0.0

    def reset(self) -> None:
        self.failures.clear()
        for q in self.delays.values():
            q.clear()
        self.api_calls = 0
