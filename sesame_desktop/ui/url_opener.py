"""The one place where the app opens a URL in the user's browser.

Links come from untrusted output (a sandbox's console, a dev server's port list), so only web
addresses are ever handed to the desktop: ``http``/``https`` with a host. Everything else
(``file:``, ``javascript:``, custom schemes that start local programs, malformed text) is
refused and reported through :attr:`SafeUrlOpener.refused`, never opened.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices

ALLOWED_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class RefusedUrl:
    """A URL that was not opened, and why (in words a user understands)."""

    url: str
    reason: str


def check_url(url: str | QUrl) -> tuple[QUrl | None, str]:
    """Validate ``url`` for opening.

    Returns:
        ``(QUrl, "")`` when it may be opened, else ``(None, reason)``.
    """
    text = url.toString() if isinstance(url, QUrl) else url
    if any(ord(ch) < 0x20 or ch.isspace() for ch in text.strip()) or len(text) > 8192:
        return None, "The link contains spaces or control characters."
    qurl = QUrl(text.strip(), QUrl.ParsingMode.StrictMode)
    if not qurl.isValid():
        return None, "The link is not a valid web address."
    scheme = qurl.scheme().lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = scheme or "(none)"
        return None, f"Only web links (http, https) are opened; this one is '{shown}'."
    if not qurl.host():
        return None, "The link has no host name."
    return qurl, ""


class SafeUrlOpener(QObject):
    """Opens web links in the default browser and refuses everything else.

    Signals:
        opened(str): A URL was handed to the desktop (its string form).
        refused(RefusedUrl): A URL was not opened; ``reason`` is meant for the user.
    """

    opened = Signal(str)
    refused = Signal(object)

    def open(self, url: str | QUrl) -> bool:
        """Open ``url`` if it is a web link; returns whether it was handed to the desktop."""
        qurl, reason = check_url(url)
        text = url.toString() if isinstance(url, QUrl) else url
        if qurl is None:
            self.refused.emit(RefusedUrl(text, reason))
            return False
        if not QDesktopServices.openUrl(qurl):
            self.refused.emit(RefusedUrl(text, "The system could not open a browser for it."))
            return False
        self.opened.emit(qurl.toString())
        return True


_default: SafeUrlOpener | None = None


def default_opener() -> SafeUrlOpener:
    """The application-wide opener (created on first use, after the QApplication)."""
    global _default
    if _default is None:
        _default = SafeUrlOpener()
    return _default
