"""The ``--smoke`` mode run from source, as the packaged app runs it (tests/packaging)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sesame_desktop.smoke import SMOKE_SERVICE, Failed

STEPS = ["window", "settings", "keyring", "session", "shutdown", "result"]


def run_smoke(args: list[str], env_extra: dict[str, str], *, drop_bus: bool = False,
              timeout: float = 90) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_"))}
    if drop_bus:
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.update({"QT_QPA_PLATFORM": "offscreen", **env_extra})
    return subprocess.run([sys.executable, "-m", "sesame_desktop", "--smoke", *args],
                          check=False, capture_output=True, text=True, timeout=timeout, env=env)


def result_lines(stdout: str) -> dict[str, str]:
    """``{step: "ok (…)" or "FAILED: …"}`` from the ``smoke: <step>: …`` lines, in order."""
    lines = [line for line in stdout.splitlines() if line.startswith("smoke: ")]
    return dict(line.removeprefix("smoke: ").split(": ", 1) for line in lines)


def smoke_items() -> list:
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        return list(collection.search_items({"service": SMOKE_SERVICE}))
    finally:
        connection.close()


@pytest.mark.keyring
def test_every_step_passes_with_a_real_keyring_and_leaves_no_secret(real_keyring, tmp_path: Path):
    base = tmp_path / "base"
    result = run_smoke(["--base-dir", str(base)], real_keyring.env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result_lines(result.stdout)
    assert list(lines) == STEPS
    assert all(value.startswith("ok") for value in lines.values()), lines
    assert lines["keyring"] == "ok (keyring.backends.SecretService.Keyring)"
    assert "printed 'sesame-smoke' and exited 0" in lines["session"]
    # The session ran in the app's data folder under --base-dir, and the log has every line.
    assert (base / "data" / "workspaces" / "smoke").is_dir()
    log_text = (base / "logs" / "sesame-desktop.log").read_text()
    for step in STEPS:
        assert f"smoke: {step}: ok" in log_text
    # The throw-away secret was deleted, and the real API-key entry never touched.
    assert smoke_items() == []
    import keyring

    from sesame_desktop.services.secret_store import ACCOUNT_NAME, SERVICE_NAME

    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) is None


def test_a_missing_keyring_fails_only_the_keyring_step_with_its_bit(tmp_path: Path):
    result = run_smoke(["--base-dir", str(tmp_path / "base")], {}, drop_bus=True)
    assert result.returncode == Failed.KEYRING == 2, result.stdout + result.stderr
    lines = result_lines(result.stdout)
    assert list(lines) == STEPS
    assert lines["keyring"].startswith("FAILED: No secure keyring")
    assert lines["result"] == "FAILED: exit status 2 (keyring)"
    for step in ("window", "settings", "session", "shutdown"):
        assert lines[step].startswith("ok"), lines


def test_without_base_dir_it_leaves_nothing_behind(tmp_path: Path):
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    tmp.mkdir()
    env = {"HOME": str(home), "TMPDIR": str(tmp), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local/share"), "XDG_STATE_HOME": str(home / ".local/state"),
           "XDG_CACHE_HOME": str(home / ".cache")}
    result = run_smoke([], env, drop_bus=True)
    lines = result_lines(result.stdout)
    assert lines["session"].startswith("ok"), result.stdout + result.stderr
    assert result.returncode == Failed.KEYRING  # no keyring here: only that step failed
    assert list(tmp.iterdir()) == []
    assert not home.exists() or [p for p in home.rglob("*") if p.is_file()] == []


def test_the_flag_is_documented_in_help():
    out = subprocess.run([sys.executable, "-m", "sesame_desktop", "--help"],
                         check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "--smoke" in out.stdout and "bitmask" in out.stdout


@pytest.mark.skipif(os.name == "nt", reason="POSIX shells; the Windows runner smoke-tests PowerShell")
def test_posix_the_local_step_needs_neither_bash_nor_bubblewrap(tmp_path: Path):
    """A system with only ``sh`` on PATH (no bash, no bwrap): the local step still passes."""
    import shutil

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sh").symlink_to(shutil.which("sh"))
    result = run_smoke(["--base-dir", str(tmp_path / "base")], {"PATH": str(bin_dir)}, drop_bus=True)
    lines = result_lines(result.stdout)
    assert lines["session"] == "ok (a local command printed 'sesame-smoke' and exited 0 in sh, not isolated)", \
        result.stdout + result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bubblewrap: Linux")
def test_the_local_step_names_the_shell_and_the_isolation(tmp_path: Path):
    result = run_smoke(["--base-dir", str(tmp_path / "base")], {}, drop_bus=True)
    assert result_lines(result.stdout)["session"] == \
        "ok (a local command printed 'sesame-smoke' and exited 0 in bash, isolated)", result.stdout + result.stderr


@pytest.mark.skipif(os.name != "nt", reason="runs on the Windows runner only")
def test_windows_only_the_local_step_runs_in_powershell(tmp_path: Path):
    result = run_smoke(["--base-dir", str(tmp_path / "base")], {}, drop_bus=True)
    assert "exited 0 in PowerShell, not isolated" in result_lines(result.stdout)["session"], \
        result.stdout + result.stderr
