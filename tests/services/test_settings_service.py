"""The settings service: loading every source, moving a config.json key into the keyring, saving."""

from __future__ import annotations

import json
import os

import keyring
import keyring.backends.fail
import pytest

from sesame_desktop.core.config import OriginKind, Provider
from sesame_desktop.core.paths import AppPaths
from sesame_desktop.core.secret import Secret
from sesame_desktop.services.secret_store import ACCOUNT_NAME, SERVICE_NAME, SecretStore
from sesame_desktop.services.settings_service import SettingsService

KEY = "e2b_" + "c0ffee" * 6


@pytest.fixture
def paths(tmp_path) -> AppPaths:
    return AppPaths.under(tmp_path / "app")


def make_service(paths: AppPaths, environ: dict[str, str] | None = None) -> SettingsService:
    return SettingsService(paths, SecretStore(), environ=environ or {})


def write_config(paths: AppPaths, data: dict) -> str:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2)
    paths.config_file.write_text(text)
    return text


def test_config_json_key_moves_into_the_keyring(real_keyring, run_async, paths, qtbot):
    write_config(paths, {"editor": "vim", "sandboxProvider": {"type": "e2b", "e2b": {"apiKey": KEY, "timeout": 600000}}})
    service = make_service(paths)
    with qtbot.waitSignal(service.notice) as notice:
        config = run_async(service.load())
    assert "moved" in notice.args[0].title
    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) == KEY
    data = json.loads(paths.config_file.read_text())
    assert data == {"editor": "vim", "sandboxProvider": {"type": "e2b", "e2b": {"timeout": 600000}}}
    assert config.provider.value is Provider.E2B
    assert service.key_status.has_key and service.key_status.origin.kind is OriginKind.KEYRING
    assert config.problems == ()
    keyring.delete_password(SERVICE_NAME, ACCOUNT_NAME)


def test_key_stays_in_the_file_when_the_keyring_cannot_take_it(run_async, paths, qtbot):
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        text = write_config(paths, {"sandboxProvider": {"e2b": {"apiKey": KEY}}})
        service = make_service(paths)
        with qtbot.waitSignal(service.problems_found) as problems:
            run_async(service.load())
    finally:
        keyring.set_keyring(previous)
    assert paths.config_file.read_text() == text
    (problem,) = problems.args[0]
    assert problem.source == str(paths.config_file)
    assert "could not be moved to the system keyring" in problem.message
    assert "No secure keyring" in problem.message
    assert KEY not in str(problem)
    assert not service.key_status.has_key
    assert service.key_status.problem is not None


def test_broken_config_file_still_loads_with_defaults(run_async, paths, qtbot):
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text("{ this is not json")
    service = make_service(paths, {"E2B_SANDBOX_TIMEOUT": "-3"})
    with qtbot.waitSignal(service.problems_found) as problems:
        config = run_async(service.load())
    sources = [p.source for p in problems.args[0]]
    assert sources == [str(paths.config_file), "E2B_SANDBOX_TIMEOUT"]
    assert "not valid JSON" in problems.args[0][0].message
    assert config.provider.value is Provider.LOCAL
    assert config.timeout_ms.value == 3_600_000


def test_save_writes_unlocked_values_and_the_key(real_keyring, run_async, paths):
    service = make_service(paths, {"E2B_SANDBOX_TEMPLATE": "from-env"})
    run_async(service.load())
    run_async(service.save(provider=Provider.E2B, timeout_ms=7_200_000, template="ignored",
                           api_key=Secret(KEY), key_changed=True))
    saved = json.loads(paths.settings_file.read_text())
    assert saved == {"welcomeDismissed": False, "provider": "e2b", "timeoutMs": 7_200_000}
    assert service.config.template.value == "from-env"
    assert service.key_status.has_key
    assert KEY not in paths.settings_file.read_text()
    again = make_service(paths, {"E2B_SANDBOX_TEMPLATE": "from-env"})
    config = run_async(again.load())
    assert (config.provider.value, config.timeout_ms.value) == (Provider.E2B, 7_200_000)
    assert run_async(again.api_key()) == Secret(KEY)
    run_async(again.save(provider=Provider.E2B, timeout_ms=7_200_000, template="",
                         api_key=None, key_changed=True))
    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) is None
    assert not again.key_status.has_key


def test_environment_key_wins_and_is_never_written(real_keyring, run_async, paths):
    service = make_service(paths, {"E2B_API_KEY": KEY})
    run_async(service.load())
    assert service.key_status.has_key
    assert service.key_status.origin.detail == "E2B_API_KEY"
    assert run_async(service.api_key()) == Secret(KEY)
    run_async(service.save(provider=Provider.E2B, timeout_ms=60_000, template="",
                           api_key=Secret("e2b_other"), key_changed=True))
    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) is None


def test_a_symlinked_config_json_keeps_its_link_and_loses_the_key(real_keyring, run_async, paths, qtbot, tmp_path):
    target = tmp_path / "dotfiles" / "sesame.json"
    target.parent.mkdir()
    target.write_text(json.dumps({"sandboxProvider": {"type": "e2b", "e2b": {"apiKey": KEY}}}))
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.symlink_to(target)
    service = make_service(paths)
    with qtbot.waitSignal(service.notice) as notice:
        run_async(service.load())
    assert str(target) in notice.args[0].explanation  # says which file really lost the key
    assert paths.config_file.is_symlink()
    assert KEY not in target.read_text()
    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) == KEY
    keyring.delete_password(SERVICE_NAME, ACCOUNT_NAME)


def test_a_hard_linked_config_json_loses_the_key_under_both_names(real_keyring, run_async, paths, qtbot, tmp_path):
    write_config(paths, {"sandboxProvider": {"e2b": {"apiKey": KEY}}})
    other = tmp_path / "other-name.json"
    os.link(paths.config_file, other)
    service = make_service(paths)
    with qtbot.waitSignal(service.notice):
        run_async(service.load())
    assert KEY not in paths.config_file.read_text() and KEY not in other.read_text()
    keyring.delete_password(SERVICE_NAME, ACCOUNT_NAME)


def test_the_scrollback_limit_is_saved_checked_and_defaulted(real_keyring, run_async, paths, qtbot):
    service = make_service(paths)
    assert run_async(service.load()).scrollback_chars == 64 << 20  # the default
    run_async(service.save(provider=Provider.LOCAL, timeout_ms=60_000, template="", api_key=None,
                           key_changed=False, scrollback_mb=8))
    assert json.loads(paths.settings_file.read_text())["scrollbackMb"] == 8
    config = run_async(make_service(paths).load())
    assert (config.scrollback_mb, config.scrollback_chars) == (8, 8 << 20)
    paths.settings_file.write_text(json.dumps({"scrollbackMb": 0}))
    broken = make_service(paths)
    with qtbot.waitSignal(broken.problems_found) as problems:
        config = run_async(broken.load())
    assert config.scrollback_chars == 64 << 20
    assert any("scrollbackMb" in p.message and "1 to 4096" in p.message for p in problems.args[0])
