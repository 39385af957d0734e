"""Config and settings files are read only when they are regular files of a sane size."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from sesame_desktop.core.config import ConfigError, load_config_file
from sesame_desktop.core.jsonfile import FileTooLarge, NotARegularFile, read_regular_file, remove_api_key
from sesame_desktop.core.settings import load_settings


def in_thread(func, *args):  # noqa: ANN001, ANN201
    """Run ``func`` on a thread; a call that hangs fails the test instead of the run."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = func(*args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():
        # unblock the reader of a FIFO so the thread can end
        fd = os.open(args[0], os.O_WRONLY | os.O_NONBLOCK) if Path(args[0]).is_fifo() else None
        if fd is not None:
            os.close(fd)
        thread.join(5)
        pytest.fail(f"{func.__name__} blocked on {args[0]}")
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]


def test_a_fifo_config_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError) as caught:
        in_thread(load_config_file, fifo)
    assert "named pipe" in caught.value.reason
    settings, problems = in_thread(load_settings, fifo)
    assert problems and "named pipe" in problems[0].message


def test_dev_zero_is_refused_as_a_device():
    with pytest.raises(ConfigError) as caught:
        in_thread(load_config_file, Path("/dev/zero"))
    assert "device" in caught.value.reason
    with pytest.raises(NotARegularFile):
        read_regular_file(Path("/dev/zero"))


def test_a_huge_config_file_is_refused_unread(tmp_path):
    big = tmp_path / "config.json"
    big.write_text(json.dumps({"padding": "x" * 2_000_000}))
    with pytest.raises(ConfigError) as caught:
        load_config_file(big)
    assert "larger than" in caught.value.reason
    with pytest.raises(FileTooLarge):
        read_regular_file(big, limit=1000)
    assert read_regular_file(big, limit=big.stat().st_size) == big.read_bytes()


def test_a_symlinked_config_is_migrated_through_the_link(tmp_path):
    target = tmp_path / "dotfiles" / "sesame.json"
    target.parent.mkdir()
    target.write_text(json.dumps({"sandboxProvider": {"e2b": {"apiKey": "e2b_secretsecret", "timeout": 60000}}}))
    link = tmp_path / "config.json"
    link.symlink_to(target)
    assert remove_api_key(link) is True
    assert link.is_symlink() and link.resolve() == target
    assert json.loads(target.read_text()) == {"sandboxProvider": {"e2b": {"timeout": 60000}}}
    assert "e2b_secretsecret" not in target.read_text()


def test_a_hard_linked_config_loses_the_key_under_every_name(tmp_path):
    first = tmp_path / "config.json"
    first.write_text(json.dumps({"sandboxProvider": {"e2b": {"apiKey": "e2b_secretsecret"}}}, indent=4))
    second = tmp_path / "backup.json"
    os.link(first, second)
    assert remove_api_key(first) is True
    for name in (first, second):
        assert "e2b_secretsecret" not in name.read_text()
        assert json.loads(name.read_text()) == {"sandboxProvider": {"e2b": {}}}
    assert os.stat(first).st_ino == os.stat(second).st_ino

