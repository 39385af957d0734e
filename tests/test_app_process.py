"""The real app as a process: it starts, shows its window, quits cleanly, and leaks no key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from sesame_desktop.services.secret_store import ACCOUNT_NAME, SERVICE_NAME

KEY = "e2b_" + "feedface" * 5


def run_app(args: list[str], env_extra: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_"))}
    env.update({"QT_QPA_PLATFORM": "offscreen", **env_extra})
    return subprocess.run(
        [sys.executable, "-m", "sesame_desktop", *args, "--quit-after-start"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


@pytest.mark.keyring
def test_app_moves_the_config_key_into_the_keyring_and_writes_it_nowhere(real_keyring, tmp_path):
    base = tmp_path / "base"
    config = tmp_path / "sesame" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"sandboxProvider": {"type": "e2b", "e2b": {"apiKey": KEY, "timeout": 600000}}}))
    result = run_app(["--base-dir", str(base), "--config", str(config)], real_keyring.env)
    assert result.returncode == 0, result.stderr
    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) == KEY
    assert json.loads(config.read_text()) == {"sandboxProvider": {"type": "e2b", "e2b": {"timeout": 600000}}}
    written = files_under(base, config.parent)
    assert (base / "logs" / "sesame-desktop.log") in written
    log_text = (base / "logs" / "sesame-desktop.log").read_text()
    assert "moved the API key" in log_text and "started" in log_text and "shutting down" in log_text
    for path in written:
        assert KEY.encode() not in path.read_bytes(), f"the key leaked into {path}"
    assert KEY not in result.stdout + result.stderr


def test_app_with_the_key_in_the_environment_logs_no_key(tmp_path):
    base = tmp_path / "base"
    result = run_app(["--base-dir", str(base)], {"E2B_API_KEY": KEY, "E2B_SANDBOX_TIMEOUT": "nope"})
    assert result.returncode == 0, result.stderr
    log_text = (base / "logs" / "sesame-desktop.log").read_text()
    assert "E2B_SANDBOX_TIMEOUT: the timeout must be a number of milliseconds" in log_text
    for path in files_under(base):
        assert KEY.encode() not in path.read_bytes(), f"the key leaked into {path}"
    assert KEY not in result.stdout + result.stderr


def test_app_starts_with_an_unreadable_config(tmp_path):
    config = tmp_path / "config.json"
    config.write_bytes(b"\x00\xff not json")
    result = run_app(["--base-dir", str(tmp_path / "base"), "--config", str(config)], {})
    assert result.returncode == 0, result.stderr
    assert f"{config}: is not UTF-8 text" in (tmp_path / "base" / "logs" / "sesame-desktop.log").read_text()


def test_version_and_help():
    out = subprocess.run([sys.executable, "-m", "sesame_desktop", "--version"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("sesame-desktop ")
