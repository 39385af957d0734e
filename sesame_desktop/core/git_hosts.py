"""Git remotes as people know them: host names, branch names, pull-request pages."""

from __future__ import annotations

import re
from urllib.parse import quote, urlparse

from sesame_desktop.core.sessions import validate_branch

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[\w./~-]+)$")


def remote_host(url: str) -> str:
    """The host a remote URL points at ("github.com"); "" for a local path."""
    text = url.strip()
    match = _SCP_LIKE.match(text)
    if match and "://" not in text:
        return match.group("host").lower()
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https", "ssh", "git") and parsed.hostname:
        return parsed.hostname.lower() + (f":{parsed.port}" if parsed.port else "")
    return ""


def _web_base(url: str) -> str | None:
    """``https://host/owner/repo`` for a remote URL; None for local paths."""
    text = url.strip()
    match = _SCP_LIKE.match(text)
    if match and "://" not in text:
        return f"https://{match.group('host')}/{match.group('path').removesuffix('.git').strip('/')}"
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https", "ssh", "git") or not parsed.hostname:
        return None
    scheme = parsed.scheme if parsed.scheme in ("http", "https") else "https"
    netloc = parsed.hostname + (f":{parsed.port}" if parsed.port and scheme in ("http", "https")
                                and parsed.scheme in ("http", "https") else "")
    path = parsed.path.removesuffix(".git").strip("/")
    return f"{scheme}://{netloc}/{path}" if path else None


def compare_url(remote: str, base: str, branch: str) -> str | None:
    """The page that opens a pull (merge) request of ``branch`` into ``base`` on the host."""
    web = _web_base(remote)
    if web is None:
        return None
    host = urlparse(web).hostname or ""
    b, h = quote(base, safe=""), quote(branch, safe="")
    if host == "gitlab.com" or host.startswith("gitlab."):
        return f"{web}/-/merge_requests/new?merge_request%5Bsource_branch%5D={h}&merge_request%5Btarget_branch%5D={b}"
    if host == "bitbucket.org":
        return f"{web}/pull-requests/new?source={h}&dest={b}"
    return f"{web}/compare/{b}...{h}?expand=1"  # GitHub, Gitea, Forgejo, Codeberg


def branch_from_name(name: str) -> str:
    """A branch name suggested from a session name ("Fix login (dev)" → "sesame/fix-login-dev")."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "changes"
    return f"sesame/{slug}"


def validate_push_branch(branch: str) -> str | None:
    if not branch.strip():
        return "Enter a branch name."
    return validate_branch(branch)
