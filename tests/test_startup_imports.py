"""Start-up cost: what the first window needs, and nothing it does not (the e2b SDK)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Modules a start-up imports before the window shows; none of them may pull the e2b SDK in
# (about a third of a second) before a session or the leftover check asks for E2B.
START_UP_MODULES = (
    "sesame_desktop.app",
    "sesame_desktop.services.providers",
    "sesame_desktop.services.leftovers",
    "sesame_desktop.sandbox.ports",
    "sesame_desktop.ui.main_window",
)

HEAVY = ("e2b", "httpx", "sesame_desktop.sandbox.e2b_provider", "sesame_desktop.sandbox.e2b_errors")
#: dialogs imported when first opened
ON_DEMAND = ("sesame_desktop.ui.new_session_dialog", "sesame_desktop.ui.settings_dialog",
             "sesame_desktop.ui.push_dialog")


def imported_after(code: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run([sys.executable, "-c", code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, timeout=120, env=env, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("module", START_UP_MODULES)
def test_start_up_modules_do_not_import_the_e2b_sdk(module):
    modules = imported_after(f"import {module}")
    assert module in modules
    assert not {m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY}
    assert not set(ON_DEMAND) & modules


def test_the_check_itself_can_fail():
    """The same check sees the SDK once E2B is really asked for."""
    modules = imported_after("import sesame_desktop.sandbox.e2b_provider")
    assert "e2b" in modules and "httpx" in modules


def test_a_start_with_no_key_never_imports_the_e2b_sdk(tmp_path):
    """Start (settings, restore, leftover check with no key), quit: the SDK stays unloaded."""
    code = f"""
import sys
sys.argv = ["sesame-desktop", "--base-dir", {str(tmp_path / 'base')!r}, "--quit-after-start"]
from sesame_desktop.app import main
assert main() == 0
"""
    modules = imported_after(code)
    assert "sesame_desktop.services.leftovers" in modules
    assert "e2b" not in modules
