"""The API key in a real Secret Service keyring, and every way the keyring can fail."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
import secretstorage

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.secret import Secret
from sesame_desktop.services.secret_store import ACCOUNT_NAME, SERVICE_NAME, SecretStore

KEY = Secret("e2b_" + "5ec7e7" * 6)


@pytest.fixture
def selected_backend():
    """Select a keyring backend for one test, restoring the previous one after."""
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


class PlaintextFileKeyring(keyring.backend.KeyringBackend):
    """A real plaintext-file backend, ranked like ``keyrings.alt``'s (priority 0.5)."""

    priority = 0.5
    path: Path

    def set_password(self, service, username, password):
        self.path.write_text(f"{service}/{username}={password}")

    def get_password(self, service, username):
        return self.path.read_text().split("=", 1)[1] if self.path.exists() else None

    def delete_password(self, service, username):
        self.path.unlink()


def test_round_trip_in_the_real_keyring(real_keyring, run_async):
    store = SecretStore()
    run_async(store.set_api_key(KEY))
    assert run_async(store.get_api_key()) == KEY
    assert keyring.get_password(SERVICE_NAME, ACCOUNT_NAME) == KEY.reveal()
    run_async(store.delete_api_key())
    assert run_async(store.get_api_key()) is None
    run_async(store.delete_api_key())  # deleting twice is fine


def test_no_keyring_at_all(selected_backend, run_async):
    selected_backend(keyring.backends.fail.Keyring())
    with pytest.raises(UserFacingError) as info:
        run_async(SecretStore().set_api_key(KEY))
    message = info.value.message
    assert message.title == "No secure keyring"
    assert "gnome-keyring" in message.next_step and "E2B_API_KEY" in message.next_step
    assert KEY.reveal() not in message.text() + message.details


def test_plaintext_backend_is_refused_and_nothing_is_written(selected_backend, run_async, tmp_path):
    backend = PlaintextFileKeyring()
    backend.path = tmp_path / "keyring.txt"
    selected_backend(backend)
    with pytest.raises(UserFacingError, match="No secure keyring"):
        run_async(SecretStore().set_api_key(KEY))
    with pytest.raises(UserFacingError, match="No secure keyring"):
        run_async(SecretStore().get_api_key())
    assert not backend.path.exists()


def test_locked_keyring(private_secret_service, run_async):
    store = SecretStore()
    run_async(store.set_api_key(KEY))
    connection = secretstorage.dbus_init()
    secretstorage.get_default_collection(connection).lock()
    connection.close()
    with pytest.raises(UserFacingError) as info:
        run_async(store.get_api_key())
    assert info.value.message.title == "The keyring is locked"
    assert "Unlock" in info.value.message.next_step
    assert "E2B_API_KEY" in info.value.message.next_step


def test_keyring_service_and_bus_gone(private_secret_service, run_async):
    private_secret_service.stop()
    with pytest.raises(UserFacingError) as info:
        run_async(SecretStore().set_api_key(KEY), timeout=60)
    assert info.value.message.title == "No secure keyring"
    assert "E2B_API_KEY" in info.value.message.next_step


def test_keyring_that_never_answers(private_secret_service, run_async):
    """D-Bus starts a fresh gnome-keyring on demand, which waits for a prompt nobody can see."""
    private_secret_service.stop_keyring()
    with pytest.raises(UserFacingError) as info:
        run_async(SecretStore(timeout_s=2).set_api_key(KEY), timeout=30)
    assert info.value.message.title == "The keyring did not answer"
    assert "E2B_API_KEY" in info.value.message.next_step


class FailingKeyring(keyring.backend.KeyringBackend):
    """Stands in for a backend whose service answers with an error (cannot be provoked here)."""

    priority = 5

    def set_password(self, service, username, password):
        raise keyring.errors.PasswordSetError(f"refused to store {password}")

    def get_password(self, service, username):
        raise keyring.errors.KeyringError("backend exploded")

    def delete_password(self, service, username):
        raise keyring.errors.PasswordDeleteError("no")


def test_keyring_error_is_plain_words_without_the_key(selected_backend, run_async):
    selected_backend(FailingKeyring())
    with pytest.raises(UserFacingError) as info:
        run_async(SecretStore().set_api_key(KEY))
    message = info.value.message
    assert message.title == "The keyring failed"
    assert "PasswordSetError" in message.details
    assert KEY.reveal() not in message.details + message.text()
    with pytest.raises(UserFacingError, match="The keyring failed"):
        run_async(SecretStore().get_api_key())
