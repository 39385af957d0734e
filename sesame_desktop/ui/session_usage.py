"""The running time and E2B cost estimate shown in the session list (rates from Settings)."""

from __future__ import annotations

from sesame_desktop.core.costs import CostRates, usage_text
from sesame_desktop.core.sessions import SessionSnapshot


class UsageRates:
    """The rates the session list uses; Settings ▸ Agents replaces them when saved."""

    current: CostRates = CostRates()

    @classmethod
    def set(cls, rates: CostRates) -> None:
        cls.current = rates


def usage_part(snapshot: SessionSnapshot) -> str:
    return usage_text(snapshot, UsageRates.current)
