"""The real app as a process, given files that are not config files: it starts and says why."""

from __future__ import annotations

import os

from tests.test_app_process import run_app


def test_app_starts_with_a_fifo_as_config(tmp_path):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    result = run_app(["--base-dir", str(tmp_path / "base"), "--config", str(fifo)], {}, timeout=30)
    assert result.returncode == 0, result.stderr
    log_text = (tmp_path / "base" / "logs" / "sesame-desktop.log").read_text()
    assert f"{fifo}: is a named pipe (FIFO), not a regular file" in log_text


def test_app_starts_with_dev_zero_as_config(tmp_path):
    result = run_app(["--base-dir", str(tmp_path / "base"), "--config", "/dev/zero"], {}, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "MemoryError" not in result.stderr
    log_text = (tmp_path / "base" / "logs" / "sesame-desktop.log").read_text()
    assert "/dev/zero: is a device, not a regular file" in log_text
