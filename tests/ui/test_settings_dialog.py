"""The settings dialog driven with qtbot against the real keyring and real files."""

from __future__ import annotations

import json

import keyring
import keyring.backends.fail
import pytest
import secretstorage
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from sesame_desktop.core.config import Provider
from sesame_desktop.services.secret_store import ACCOUNT_NAME, SERVICE_NAME

KEY = "e2b_" + "abc123" * 6


def open_dialog(window, qtbot):
    dialog = window.open_settings()
    qtbot.waitUntil(lambda: not dialog.key_loading)
    return dialog


def save(dialog, qtbot, *, expect_close: bool = True) -> None:
    save_button = dialog.buttons.button(dialog.buttons.StandardButton.Save)
    if expect_close:
        with qtbot.waitSignal(dialog.finished):
            qtbot.mouseClick(save_button, Qt.MouseButton.LeftButton)
    else:
        qtbot.mouseClick(save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.error_text != "" and dialog.buttons.isEnabled())


def test_set_key_reopen_and_it_reads_back_from_the_keyring(real_keyring, make_window, qtbot, app_paths):
    window = make_window()
    dialog = open_dialog(window, qtbot)
    assert dialog.key_edit.text() == ""
    assert dialog.key_edit.echoMode() is QLineEdit.EchoMode.Password
    qtbot.keyClicks(dialog.key_edit, KEY)
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findText("E2B"))
    dialog.lifetime_unit.setCurrentIndex(dialog.lifetime_unit.findText("hours"))
    dialog.lifetime_spin.setValue(2)
    qtbot.keyClicks(dialog.template_edit, "my-agent")
    save(dialog, qtbot)

    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) == KEY
    saved = json.loads(app_paths.settings_file.read_text())
    assert saved == {"welcomeDismissed": False, "provider": "e2b", "timeoutMs": 7_200_000, "template": "my-agent"}
    assert window.key_label.text() == "E2B key: set (keyring)"
    assert window.provider_label.text() == "Provider: E2B"
    assert not window.welcome.isVisible()

    reopened = open_dialog(window, qtbot)
    assert reopened is not dialog
    assert reopened.key_edit.text() == KEY
    assert reopened.key_edit.echoMode() is QLineEdit.EchoMode.Password
    reopened.show_key_button.click()
    assert reopened.key_edit.echoMode() is QLineEdit.EchoMode.Normal
    assert reopened.show_key_button.text() == "Hide"
    assert (reopened.lifetime_spin.value(), reopened.lifetime_unit.currentText()) == (2, "hours")
    assert reopened.template_edit.text() == "my-agent"

    reopened.key_edit.clear()  # an empty key removes it from the keyring
    save(reopened, qtbot, expect_close=False)  # not while E2B is the provider: it needs the key
    assert "Provider E2B needs an API key" in reopened.error_text
    reopened.provider_combo.setCurrentIndex(reopened.provider_combo.findText("Local"))
    save(reopened, qtbot)
    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) is None
    assert window.key_label.text() == "E2B key: not set"


def test_environment_values_show_locked(real_keyring, make_window, qtbot):
    window = make_window(environ={"E2B_API_KEY": KEY, "E2B_SANDBOX_TIMEOUT": "90000",
                                  "SANDBOX_PROVIDER": "e2b"})
    dialog = open_dialog(window, qtbot)
    assert dialog.key_edit.text() == ""
    assert dialog.key_edit.placeholderText() == "Set by E2B_API_KEY"
    assert "E2B_API_KEY" in dialog.key_note.text()
    assert not dialog.lifetime_spin.isEnabled() and not dialog.lifetime_unit.isEnabled()
    assert "E2B_SANDBOX_TIMEOUT" in dialog.lifetime_note.text() and dialog.lifetime_note.isVisible()
    assert (dialog.lifetime_spin.value(), dialog.lifetime_unit.currentText()) == (2, "minutes")
    assert not dialog.provider_combo.isEnabled()
    assert "SANDBOX_PROVIDER" in dialog.provider_combo.toolTip()
    assert dialog.template_edit.isEnabled() and not dialog.template_note.isVisible()
    save(dialog, qtbot)
    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) is None


def test_config_file_values_show_locked_naming_the_file(make_window, qtbot, app_paths):
    window = make_window(config={"sandboxProvider": {"e2b": {"template": "from-file"}}})
    dialog = open_dialog(window, qtbot)
    assert not dialog.template_edit.isEnabled()
    assert str(app_paths.config_file) in dialog.template_note.text()
    dialog.reject()


def test_no_keyring_says_what_to_do_and_keeps_what_was_typed(make_window, qtbot):
    assert isinstance(keyring.get_keyring(), keyring.backends.fail.Keyring)
    window = make_window()
    dialog = open_dialog(window, qtbot)
    assert "No secure keyring" in dialog.key_note.text()
    qtbot.keyClicks(dialog.key_edit, KEY)
    save(dialog, qtbot, expect_close=False)
    assert dialog.isVisible()
    assert "No secure keyring" in dialog.error_text
    assert "gnome-keyring" in dialog.error_text and "E2B_API_KEY" in dialog.error_text
    assert dialog.key_edit.text() == KEY
    assert KEY not in dialog.error_text
    dialog.reject()


def test_locked_keyring_message(private_secret_service, make_window, qtbot):
    window = make_window()
    dialog = open_dialog(window, qtbot)
    secretstorage.get_default_collection(secretstorage.dbus_init()).lock()
    qtbot.keyClicks(dialog.key_edit, KEY)
    save(dialog, qtbot, expect_close=False)
    assert "The keyring is locked" in dialog.error_text
    assert "Unlock" in dialog.error_text
    dialog.reject()


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("template_edit", "has spaces", "Template: the template name 'has spaces' contains spaces"),
        ("key_edit", "e2b_with space", "API key: the API key contains spaces"),
    ],
)
def test_bad_input_is_named_beside_the_dialog(real_keyring, make_window, qtbot, field, text, message):
    window = make_window()
    dialog = open_dialog(window, qtbot)
    qtbot.keyClicks(getattr(dialog, field), text)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert message in dialog.error_text
    assert getattr(dialog, field).text() == text
    dialog.reject()


def test_lifetime_range_follows_the_unit(make_window, qtbot):
    dialog = open_dialog(make_window(), qtbot)
    assert (dialog.lifetime_spin.value(), dialog.lifetime_unit.currentText()) == (1, "hours")
    assert dialog.lifetime_spin.maximum() == 24
    dialog.lifetime_unit.setCurrentIndex(dialog.lifetime_unit.findText("minutes"))
    assert dialog.lifetime_spin.maximum() == 1440
    dialog.reject()


def test_dashboard_link_opens_e2b(make_window, qtbot, url_catcher):
    dialog = open_dialog(make_window(), qtbot)
    dialog.dashboard_link.linkActivated.emit("https://e2b.dev/dashboard?tab=keys")
    assert url_catcher.urls == ["https://e2b.dev/dashboard?tab=keys"]
    dialog.reject()


def test_a_unicode_key_is_refused_at_the_door(real_keyring, make_window, qtbot):
    window = make_window()
    dialog = open_dialog(window, qtbot)
    dialog.key_edit.setText("e2b_ключ0123456789abcdef")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "copy it again from the E2B dashboard" in dialog.error_text
    assert "codec" not in dialog.error_text
    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) is None
    dialog.reject()


def test_no_keyring_refuses_provider_e2b_and_shows_the_whole_error(make_window, qtbot, app_paths):
    assert isinstance(keyring.get_keyring(), keyring.backends.fail.Keyring)
    window = make_window()
    dialog = open_dialog(window, qtbot)
    rows_before = [dialog.key_edit.height(), dialog.template_edit.height(), dialog.lifetime_spin.height()]
    assert min(rows_before) >= dialog.template_edit.minimumSizeHint().height()  # no row squeezed
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findData(Provider.E2B))
    qtbot.keyClicks(dialog.key_edit, KEY)
    save(dialog, qtbot, expect_close=False)
    assert "Provider E2B needs an API key, and it cannot be kept" in dialog.error_text
    assert "Choose Local" in dialog.error_text
    label = dialog.error_label
    assert label.height() >= label.heightForWidth(label.width())  # the whole text fits: not cut off
    assert [dialog.key_edit.height(), dialog.template_edit.height(), dialog.lifetime_spin.height()] == rows_before
    assert window._settings.config.provider.value is Provider.LOCAL  # nothing saved
    dialog.reject()


def test_saving_e2b_with_no_key_at_all_says_so(real_keyring, make_window, qtbot):
    window = make_window()
    dialog = open_dialog(window, qtbot)
    assert "Local provider" in dialog.intro_label.text()
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findData(Provider.E2B))
    assert "once an API key is set" in dialog.intro_label.text()
    save(dialog, qtbot, expect_close=False)
    assert "Provider E2B needs an API key: enter it in E2B API key" in dialog.error_text
    assert window._settings.config.provider.value is Provider.LOCAL
    qtbot.keyClicks(dialog.key_edit, KEY)
    save(dialog, qtbot)
    assert window._settings.config.provider.value is Provider.E2B
    again = open_dialog(window, qtbot)
    assert again.intro_label.text().startswith("New sessions run in E2B cloud sandboxes with your API key")
    again.reject()


def test_the_console_scrollback_limit_is_saved_and_shown_again(real_keyring, make_window, qtbot, app_paths):
    window = make_window()
    dialog = open_dialog(window, qtbot)
    assert dialog.scrollback_spin.value() == 64  # the default, not written until changed
    dialog.scrollback_spin.setValue(16)
    save(dialog, qtbot)
    assert json.loads(app_paths.settings_file.read_text())["scrollbackMb"] == 16
    assert open_dialog(window, qtbot).scrollback_spin.value() == 16
