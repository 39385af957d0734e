"""The installer scripts and the release workflow: they parse and name files that exist."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHELL_SCRIPTS = sorted((ROOT / "packaging").rglob("*.sh"))
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def test_every_installer_recipe_exists():
    for path in ("packaging/sesame-desktop.spec", "packaging/build.py", "packaging/make_icons.py",
                 "packaging/linux/build-deb.sh", "packaging/linux/smoke-deb.sh", "packaging/linux/with-keyring.sh",
                 "packaging/windows/sesame-desktop.iss", "packaging/windows/build-installer.ps1",
                 "packaging/macos/build-dmg.sh", "packaging/macos/entitlements.plist"):
        assert (ROOT / path).is_file(), path


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_script_parses_and_is_executable(script: Path):
    result = subprocess.run(["bash", "-n", str(script)], check=False, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert os.access(script, os.X_OK), f"chmod +x {script.relative_to(ROOT)}"
    assert "set -euo pipefail" in script.read_text()


def test_workflow_runs_the_same_scripts_on_all_three_systems():
    text = WORKFLOW.read_text()
    assert re.search(r"os: \[ubuntu-latest, windows-latest, macos-latest\]", text)
    assert 'python-version: "3.12"' in text
    for script in re.findall(r"(?<![\w/])(?:\./)?(packaging/[\w/.-]+\.(?:sh|ps1|py))", text):
        assert (ROOT / script).is_file(), script
    for tests in re.findall(r"(?<![\w/])(tests/[\w/.-]+\.py)", text):  # the cross-platform tests it runs
        assert (ROOT / tests).is_file(), tests
    for needed in ("packaging/linux/smoke-deb.sh", "packaging/windows/build-installer.ps1 -Smoke",
                   "packaging/macos/build-dmg.sh --smoke"):
        assert needed in text


def test_inno_setup_script_installs_per_user_with_a_start_menu_entry():
    iss = (ROOT / "packaging" / "windows" / "sesame-desktop.iss").read_text()
    assert "PrivilegesRequired=lowest" in iss
    assert re.search(r'^Name: "\{autoprograms\}\\\{#AppName\}"', iss, re.MULTILINE)
    assert "SetupIconFile=..\\..\\resources\\sesame-desktop.ico" in iss
    assert (ROOT / "resources" / "sesame-desktop.ico").is_file()
