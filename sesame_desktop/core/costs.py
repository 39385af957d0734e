"""How long sessions run and what an E2B sandbox costs meanwhile, estimated.

E2B bills each second a sandbox runs for the CPU and memory its template allocates. The
default rates are E2B's published usage prices ($0.000014 per vCPU-second, $0.0000045 per
GiB-second of memory) for the default sandbox size (2 vCPUs, 0.5 GiB); all four numbers are
editable in Settings ▸ Agents, because prices and templates change. The result is an
estimate, shown as one.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from sesame_desktop.core.config import Provider
from sesame_desktop.core.jsonfile import write_json_atomic
from sesame_desktop.core.sessions import SessionSnapshot, format_duration

FILE_NAME = "cost-rates.json"


@dataclass(frozen=True)
class CostRates:
    """Per-second prices and the sandbox size they apply to.

    Attributes:
        vcpu_per_s: dollars per vCPU per second.
        gib_per_s: dollars per GiB of memory per second.
    """

    vcpu_per_s: float = 0.000014
    gib_per_s: float = 0.0000045
    vcpus: float = 2.0
    memory_gib: float = 0.5

    @property
    def per_second(self) -> float:
        return self.vcpus * self.vcpu_per_s + self.memory_gib * self.gib_per_s

    def cost(self, seconds: float) -> float:
        return max(0.0, seconds) * self.per_second


def format_cost(dollars: float) -> str:
    return f"~${dollars:.4f}" if dollars < 1 else f"~${dollars:.2f}"


def usage_text(snapshot: SessionSnapshot, rates: CostRates, now: float | None = None) -> str:
    """"running 3 min 05 s · ~$0.0056" for an open session; "" otherwise."""
    if not snapshot.state.open:
        return ""
    elapsed = (time.time() if now is None else now) - snapshot.created_at
    text = f"running {format_duration(elapsed)}"
    if snapshot.provider is Provider.E2B and snapshot.sandbox_id:
        text += f" \u00b7 {format_cost(rates.cost(elapsed))}"
    return text


def load_rates(folder: Path) -> CostRates:
    try:
        data = json.loads((folder / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return CostRates()
    if not isinstance(data, dict):
        return CostRates()
    values = {}
    for f in fields(CostRates):
        value = data.get(f.name)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e6:
            values[f.name] = float(value)
    return CostRates(**values)


def save_rates(folder: Path, rates: CostRates) -> None:
    write_json_atomic(folder / FILE_NAME, asdict(rates))
