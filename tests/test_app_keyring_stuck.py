"""A keyring daemon that stops answering never makes quitting wait (the real app, SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.services.secret_store import SecretStore

QUIT_LIMIT_S = 15


def test_sigterm_quits_while_the_keyring_hangs(stopped_keyring, tmp_path):
    base = tmp_path / "base"
    log_file = base / "logs" / "sesame-desktop.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_"))}
    env.update(stopped_keyring.env)
    env["QT_QPA_PLATFORM"] = "offscreen"
    app = subprocess.Popen([sys.executable, "-m", "sesame_desktop", "--base-dir", str(base)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while not (log_file.exists() and "log file:" in log_file.read_text()):
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.05)
        time.sleep(1.0)  # start-up is now waiting on the keyring, which never answers
        app.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            out, err = app.communicate(timeout=QUIT_LIMIT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the app did not quit within {QUIT_LIMIT_S} s of SIGTERM while the keyring hung")
        assert app.returncode == 0, err
        assert time.monotonic() - started < QUIT_LIMIT_S
        log_text = log_file.read_text()
        assert "quit before the settings finished loading" in log_text
        assert "shutting down" in log_text
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()


def test_every_keyring_call_has_a_bound(stopped_keyring, run_async):
    import keyring
    from sesame_desktop.core.secret import Secret

    keyring.set_keyring(keyring.backends.SecretService.Keyring())
    store = SecretStore(timeout_s=1.5)
    for call in (store.get_api_key, lambda: store.set_api_key(Secret("e2b_0123456789abcdef")),
                 store.delete_api_key):
        started = time.monotonic()
        with pytest.raises(UserFacingError) as info:
            run_async(call(), timeout=20)
        assert info.value.message.title == "The keyring did not answer"
        assert time.monotonic() - started < 10
