"""Running time and the E2B cost estimate."""

from __future__ import annotations

import json

import pytest

from sesame_desktop.core.config import Provider
from sesame_desktop.core.costs import CostRates, format_cost, load_rates, save_rates, usage_text
from sesame_desktop.core.sessions import SessionSnapshot, SessionState


def snap(provider=Provider.E2B, state=SessionState.IDLE, created=1000.0, sandbox="sbx1"):
    return SessionSnapshot(id="s", name="n", provider=provider, state=state, created_at=created, sandbox_id=sandbox)


def test_default_rates_are_e2bs_published_prices():
    rates = CostRates()
    assert rates.per_second == pytest.approx(2 * 0.000014 + 0.5 * 0.0000045)
    assert CostRates(vcpus=8, memory_gib=4).cost(3600) == pytest.approx(0.468)  # E2B's own example


def test_usage_text():
    assert usage_text(snap(), CostRates(), now=1000 + 3725) == "running 1 h 02 min \u00b7 ~$0.1127"
    assert usage_text(snap(Provider.LOCAL), CostRates(), now=1065) == "running 1 min 05 s"
    assert usage_text(snap(state=SessionState.ENDED), CostRates(), now=2000) == ""
    assert usage_text(snap(sandbox=""), CostRates(), now=1001) == "running 1 s"
    assert format_cost(12.345) == "~$12.35"


def test_rates_saved_and_read_back(tmp_path):
    assert load_rates(tmp_path) == CostRates()
    save_rates(tmp_path, CostRates(vcpu_per_s=0.00002, vcpus=4))
    assert load_rates(tmp_path) == CostRates(vcpu_per_s=0.00002, vcpus=4)
    (tmp_path / "cost-rates.json").write_text(json.dumps({"vcpus": "many", "gib_per_s": -1, "memory_gib": 2}))
    assert load_rates(tmp_path) == CostRates(memory_gib=2)
    (tmp_path / "cost-rates.json").write_text("{broken")
    assert load_rates(tmp_path) == CostRates()
