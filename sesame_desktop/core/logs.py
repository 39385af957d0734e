"""Logging to a file in the user's log folder, with secrets scrubbed from every line.

Every handler the app installs formats through :class:`RedactingFormatter`, which replaces the
registered secrets (the API key in use) and anything shaped like an E2B key (``e2b_…``) after
the whole record, traceback included, has been formatted. So a key that ends up in an
exception message or a library's debug line still never reaches the log.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

from sesame_desktop.core.secret import Secret

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
MASK = "********"
# An E2B key is "e2b_" and 40 hex digits. A module or logger name ("sandbox.e2b_provider",
# "tests.e2b_server") is letters only, and must stay readable: a key-shaped word has a digit.
_KEY_SHAPE = re.compile(r"\be2b_(?=[A-Za-z]*[0-9])[A-Za-z0-9]{16,}")
MIN_SECRET_LENGTH = 8  # a shorter registered "secret" would mask ordinary words


class SecretRegistry:
    """The secrets to scrub from logs and messages. Thread-safe (executors log too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()

    def add(self, secret: Secret | str) -> None:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if len(value) >= MIN_SECRET_LENGTH:
            with self._lock:
                self._values = self._values | {value}

    def scrub(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return _KEY_SHAPE.sub("e2b_" + MASK, text)


SECRETS = SecretRegistry()


def scrub(text: str) -> str:
    """``text`` without any known secret: use before showing library messages to the user."""
    return SECRETS.scrub(text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def teardown_logging() -> None:
    """Remove and close the handlers :func:`setup_logging` installed."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_sesame", False):
            root.removeHandler(handler)
            handler.close()


def setup_logging(log_file: Path, *, level: int = logging.INFO, to_stderr: bool = True) -> Path:
    """Send the app's logging to ``log_file`` (rotated) and, optionally, to stderr.

    Returns:
        The log file in use.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    teardown_logging()
    root = logging.getLogger()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    ]
    if to_stderr:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(RedactingFormatter(LOG_FORMAT))
        handler._sesame = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "hpack", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_file
