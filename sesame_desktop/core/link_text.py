"""What a hyperlink shows against where it goes (untrusted OSC 8 links), without Qt.

A program can print ``https://bank.example`` as the text of a link to ``https://evil.test``;
:func:`shown_host_mismatch` tells when the visible text names another host than the target, so
the console can show the real target before opening it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sesame_desktop.core.sgr import Run

_HOST_IN_TEXT = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62})"
    r"(?::\d+)?(?:[/?#]\S*)?",
    re.IGNORECASE,
)


def _host_of(url: str) -> str:
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")


def is_web_link(url: str) -> bool:
    """Whether ``url`` is an ``http``/``https`` address with a host (all a link may be)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and not any(
        ord(ch) < 0x20 or ch.isspace() for ch in url.strip()
    )


def link_text(text: str, runs: tuple[Run, ...], column: int) -> str | None:
    """The visible text of the OSC 8 hyperlink at ``column`` (``None`` when there is none)."""
    for start, end, style in runs:
        if start <= column < end and style.link:
            a, b = start, end
            for s, e, other in runs:  # neighbouring runs of the same link (colours change)
                if other.link == style.link and (e == a or s == b):
                    a, b = min(a, s), max(b, e)
            return text[a:b]
    return None


def shown_host_mismatch(visible: str, target: str) -> str | None:
    """The host the visible text names, when it is not the target's host; else ``None``."""
    m = _HOST_IN_TEXT.fullmatch(visible.strip())
    if m is None:
        return None
    shown = m.group(1).lower().rstrip(".")
    real = _host_of(target)
    if not real or shown == real:
        return None
    return shown
