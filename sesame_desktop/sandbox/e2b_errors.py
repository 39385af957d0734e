"""E2B SDK exceptions translated, once, into messages people understand."""

from __future__ import annotations

import logging

import e2b
import httpx

from sesame_desktop.core.config import ENV_API_KEY, ENV_TEMPLATE, ENV_TIMEOUT
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.logs import scrub

log = logging.getLogger(__name__)

DASHBOARD_KEYS = "https://e2b.dev/dashboard?tab=keys"


def no_key_error() -> UserFacingError:
    return UserFacingError(UserMessage(
        title="No E2B API key",
        explanation="E2B sessions need an API key, and none is set.",
        next_step=f"Add your key in Settings (or set {ENV_API_KEY}), or start a Local session instead.",
        link=DASHBOARD_KEYS,
    ))


def _network_error(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError | ConnectionError | OSError) and not isinstance(
        exc, httpx.ReadTimeout)


def translate(exc: BaseException, *, template: str = "", expired: bool = False) -> UserFacingError:
    """The user-facing form of an exception the SDK (or its transport) raised."""
    if isinstance(exc, UserFacingError):
        return exc
    details = scrub(f"{type(exc).__name__}: {exc}")
    log.info("E2B error: %s", details)
    text = str(exc).lower()
    status = getattr(exc, "status_code", None)
    if isinstance(exc, e2b.AuthenticationException) or status == 401 or "invalid api key" in text:
        return UserFacingError(UserMessage(
            title="E2B rejected the API key",
            explanation="E2B did not accept the API key: it may be mistyped, revoked or from another team.",
            next_step="Copy a valid key from the E2B dashboard into Settings.",
            details=details, link=DASHBOARD_KEYS))
    if isinstance(exc, e2b.RateLimitException) or status == 429:
        return UserFacingError(UserMessage(
            title="Too many requests to E2B",
            explanation="E2B is limiting how fast this account can create or use sandboxes.",
            next_step="Wait a minute and try again, or end sessions you no longer need.",
            details=details))
    if status == 404 and "template" in text:
        return UserFacingError(UserMessage(
            title="Template not found",
            explanation=f"E2B has no template named \u201c{template or 'the configured one'}\u201d for this account.",
            next_step=f"Clear the template in Settings (or {ENV_TEMPLATE}) to use E2B's default, "
            "or check the template's name in the E2B dashboard.",
            details=details))
    if isinstance(exc, e2b.SandboxNotFoundException | e2b.SandboxNotRunningException) or (
            isinstance(exc, e2b.TimeoutException) and "sandbox" in text and "not" in text):
        if expired:
            return UserFacingError(UserMessage(
                title="Sandbox lifetime reached",
                explanation="The sandbox reached the end of its lifetime and was stopped by E2B.",
                next_step=f"Start a new session; for longer work set a longer lifetime in Settings "
                f"(or {ENV_TIMEOUT}), or extend the session before it runs out.",
                details=details))
        return UserFacingError(UserMessage(
            title="Sandbox gone",
            explanation="The session's sandbox is no longer running: it may have been stopped from the "
            "E2B dashboard or reached its lifetime.",
            next_step="Start a new session.",
            details=details))
    if isinstance(exc, e2b.NotEnoughSpaceException):
        return UserFacingError(UserMessage(
            title="Sandbox disk full", explanation="The sandbox has no space left for this.",
            next_step="Remove files in the sandbox, or start a session with a larger template.", details=details))
    if isinstance(exc, e2b.FileNotFoundException):
        return UserFacingError(UserMessage(
            title="File not found", explanation="The file or folder does not exist in the sandbox.",
            next_step="Refresh the file tree.", details=details))
    if _network_error(exc) or isinstance(exc, e2b.SandboxUnreachableException):
        return UserFacingError(UserMessage(
            title="E2B cannot be reached",
            explanation="Sesame Desktop could not connect to E2B: the network may be down, or a proxy "
            "or firewall is blocking it.",
            next_step="Check your internet connection and try again, or start a Local session, which "
            "needs no network.",
            details=details))
    if isinstance(exc, e2b.TimeoutException):
        return UserFacingError(UserMessage(
            title="E2B did not answer in time",
            explanation="A request to E2B timed out.",
            next_step="Try again; if it keeps happening, check your connection.", details=details))
    if status is not None and status >= 500:
        return UserFacingError(UserMessage(
            title="E2B had a problem",
            explanation=f"E2B answered with an error ({status}).",
            next_step="Try again in a moment; E2B's status page says whether there is an outage.",
            details=details))
    return UserFacingError(UserMessage(
        title="E2B error",
        explanation=f"The request to E2B failed: {scrub(str(exc))[:300] or type(exc).__name__}.",
        next_step="Try again; the log file has the details.",
        details=details))
