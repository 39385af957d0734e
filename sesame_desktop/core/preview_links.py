"""Printed local URLs (``http://localhost:5173/x``) turned into the session's preview URL.

A dev server in a sandbox prints the address it listens on *inside* the sandbox. Opened as
it is, ``localhost`` would point at the user's own computer; the preview URL the provider
made for that port (``https://5173-<id>.e2b.app``) is where it really is.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "::", "[::1]", "[::]"})


def preview_link(url: str, previews: Mapping[int, str]) -> str:
    """``url`` on the preview URL of its port when it names a local host and the port has one.

    ``previews`` maps the session's ports to their preview URLs (from the provider, never from
    output). Anything else comes back unchanged.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in LOCAL_HOSTS:
        return url
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    base = previews.get(port)
    if not base:
        return url
    rest = parts.path or "/"
    if parts.query:
        rest += "?" + parts.query
    if parts.fragment:
        rest += "#" + parts.fragment
    return base.rstrip("/") + rest
