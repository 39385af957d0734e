"""Secrets never reach the log, even inside tracebacks and library messages."""

import logging

import pytest

from sesame_desktop.core.logs import SECRETS, scrub, setup_logging, teardown_logging
from sesame_desktop.core.secret import Secret


def test_secret_never_shows_in_repr_or_format():
    secret = Secret("e2b_topsecretvalue")
    assert "topsecret" not in repr(secret) + str(secret) + f"{secret}" + "%s" % secret
    assert secret.reveal() == "e2b_topsecretvalue"


@pytest.fixture
def log_file(tmp_path):
    yield setup_logging(tmp_path / "logs" / "app.log", to_stderr=False)
    teardown_logging()


def test_log_file_scrubs_registered_and_key_shaped_secrets(log_file):
    SECRETS.add(Secret("not-e2b-shaped-but-secret"))
    log = logging.getLogger("test.secrets")
    log.warning("key is %s", "not-e2b-shaped-but-secret")
    log.warning("library said: Authorization failed for e2b_1234567890abcdef1234567890abcdef12345678")
    try:
        raise ValueError("bad key not-e2b-shaped-but-secret")
    except ValueError:
        log.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "not-e2b-shaped-but-secret" not in text
    assert "1234567890abcdef" not in text
    assert text.count("********") == 4
    assert "ValueError: bad key ********" in text


def test_scrub_leaves_ordinary_text_alone():
    assert scrub("cloning https://example.com/repo.git") == "cloning https://example.com/repo.git"


def test_module_names_are_not_masked_but_keys_next_to_them_are(log_file):
    for name in ("sesame_desktop.sandbox.e2b_provider", "sesame_desktop.sandbox.e2b_errors", "tests.e2b_server"):
        logging.getLogger(name).warning("from %s: key e2b_0123456789abcdef0123456789abcdef01234567", name)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "sandbox.e2b_provider: from sesame_desktop.sandbox.e2b_provider: key e2b_********" in text
    assert "sandbox.e2b_errors:" in text and "tests.e2b_server:" in text
    assert "0123456789abcdef" not in text
    assert scrub("import e2b_provider; e2b_errors.translate()") == "import e2b_provider; e2b_errors.translate()"
