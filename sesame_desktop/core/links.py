"""Finding web addresses in plain text (console lines, log output)."""

from __future__ import annotations

import re
from typing import Any

_URL_RE = re.compile(
    r"(?<![A-Za-z0-9])https?://[^\s<>\"'`{}|\\^\x00-\x1f\x7f\u3000-\u303f\uff00-\uffef]+",
    re.IGNORECASE,
)
"""A web address; it ends at spaces, quotes, brackets and CJK punctuation."""
_TRAILING = ".,;:!?*"
_PAIRS = {")": "(", "]": "[", "}": "{"}


def _trim(url: str) -> str:
    """Drop punctuation that ends a sentence or closes brackets opened before the URL."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _PAIRS and url.count(last) > url.count(_PAIRS[last]):
            url = url[:-1]
        else:
            break
    return url


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """The ``http``/``https`` URLs in ``text`` as ``(start, end, url)``, in order.

    A URL needs a host: ``http://`` alone is not one.
    """
    found: list[tuple[int, int, str]] = []
    if "://" not in text:
        return found
    for m in _URL_RE.finditer(text):
        url = _trim(m.group())
        scheme_end = url.index("://") + 3
        if len(url) > scheme_end and url[scheme_end] not in "/?#:":
            found.append((m.start(), m.start() + len(url), url))
    return found


def link_at(text: str, runs: tuple[Any, ...], column: int) -> str | None:
    """The link target at ``column``: an OSC 8 hyperlink in ``runs``, else a URL in ``text``.

    Args:
        runs: ``(start, end, style)`` spans whose style has a ``link`` attribute.
    """
    if not 0 <= column < len(text):
        return None
    for start, end, style in runs:
        if start <= column < end and style.link:
            return str(style.link)
    for start, end, url in find_urls(text):
        if start <= column < end:
            return url
    return None
