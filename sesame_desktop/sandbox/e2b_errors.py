"""E2B SDK exceptions translated, once, into messages people understand.

The SDK's ``exceptions`` module gives a class for each kind of failure; :data:`TABLE` maps
those classes (most specific first) to messages. Text is looked at in one place only: the SDK
has no class for a template that does not exist (a plain 404 from the control plane).

A cancellation the app asked for (a task cancelled while it awaited the SDK, or the SDK's own
stream task cancelled by a disconnect) reaches here as an SDK exception caused by an
``asyncio.CancelledError``: :func:`translate` raises ``CancelledError`` again instead of
turning it into an error message, so it is never shown to the user.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import e2b
import httpx

from sesame_desktop.core.cancels import cancel_requested
from sesame_desktop.core.config import ENV_TEMPLATE, ENV_TIMEOUT
from sesame_desktop.core.errors import UserFacingError, UserMessage, caused_by_cancel
from sesame_desktop.core.logs import scrub

log = logging.getLogger(__name__)

from sesame_desktop.sandbox.e2b_advice import DASHBOARD_KEYS as DASHBOARD_KEYS
from sesame_desktop.sandbox.e2b_advice import no_key_error as no_key_error


@dataclass(frozen=True)
class Context:
    """What is known about a failed call besides the exception.

    Attributes:
        template: the template the sandbox was asked for ("" for E2B's default).
        template_typed: it was typed in the New Session dialog, not taken from Settings.
        expired: the sandbox's lifetime has passed on the client's clock.
        details: the exception in words (scrubbed), for the details view.
    """

    template: str
    expired: bool
    details: str
    template_typed: bool = False


Message = Callable[[BaseException, Context], UserMessage]


def _key_rejected(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="E2B rejected the API key",
        explanation="E2B did not accept the API key: it may be mistyped, revoked or from another team.",
        next_step="Copy a valid key from the E2B dashboard into Settings → E2B API key.",
        details=ctx.details, link=DASHBOARD_KEYS, fix_in_settings=True)


def _git_auth(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="The git server refused the credentials",
        explanation="git in the sandbox could not sign in to the repository's server.",
        next_step="Use a URL with a valid access token, or upload the folder instead.",
        details=ctx.details)


def _rate_limited(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="Too many requests to E2B",
        explanation="E2B is limiting how fast this account can create or use sandboxes.",
        next_step="Wait a minute and try again, or end sessions you no longer need.",
        details=ctx.details)


def _template_missing(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="Template not found",
        explanation=f"E2B has no template named \u201c{ctx.template or 'the configured one'}\u201d for this account.",
        next_step=_template_advice(ctx, "or check the template's name in the E2B dashboard."),
        details=ctx.details)


def _template_advice(ctx: Context, rest: str) -> str:
    """Where to fix the template: where it was typed (the Settings field first, the variable second)."""
    if ctx.template_typed:
        return f"Correct the template in the New Session dialog, or leave it empty to use E2B's default; {rest}"
    return (f"Clear the Template field in Settings (or the {ENV_TEMPLATE} environment variable) to use "
            f"E2B's default, {rest}")


def _template_failed(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="The template cannot be used",
        explanation=f"E2B could not start a sandbox from the template \u201c{ctx.template or 'default'}\u201d.",
        next_step=_template_advice(ctx, "or check the template in the E2B dashboard."),
        details=ctx.details)


def _sandbox_gone(_exc: BaseException, ctx: Context) -> UserMessage:
    if ctx.expired:
        return UserMessage(
            title="Sandbox lifetime reached",
            explanation="The sandbox reached the end of its lifetime and was stopped by E2B.",
            next_step=f"Start a new session; for longer work set a longer Sandbox lifetime in Settings "
            f"(or the {ENV_TIMEOUT} environment variable), or extend the session before it runs out.",
            details=ctx.details)
    return UserMessage(
        title="Sandbox gone",
        explanation="The session's sandbox is no longer running: it may have been stopped from the "
        "E2B dashboard or reached its lifetime.",
        next_step="Start a new session.",
        details=ctx.details)


def _disk_full(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="Sandbox disk full", explanation="The sandbox has no space left for this.",
        next_step="Remove files in the sandbox, or start a session with a larger template.", details=ctx.details)


def _file_missing(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="File not found", explanation="The file or folder does not exist in the sandbox.",
        next_step="Refresh the file tree.", details=ctx.details)


def _unreachable(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="E2B cannot be reached",
        explanation="Sesame Desktop could not connect to E2B: the network may be down, or a proxy "
        "or firewall is blocking it.",
        next_step="Check your internet connection and try again, or start a Local session, which "
        "needs no network.",
        details=ctx.details)


def _unresponsive(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="The sandbox does not respond",
        explanation="The sandbox is running but does not answer.",
        next_step="Wait a moment and try again; if it stays silent, end the session and start a new one.",
        details=ctx.details)


def _busy(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="E2B had a problem",
        explanation="E2B is temporarily unavailable (503).",
        next_step="Try again in a moment; E2B's status page says whether there is an outage.",
        details=ctx.details)


def _timed_out(_exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="E2B did not answer in time",
        explanation="A request to E2B timed out.",
        next_step="Try again; if it keeps happening, check your connection.", details=ctx.details)


def _invalid(exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="E2B refused the request",
        explanation=f"E2B said the request is not valid: {scrub(str(exc))[:300]}",
        next_step="Check the values in Settings and the session's options.", details=ctx.details)


def _server_error(exc: BaseException, ctx: Context) -> UserMessage:
    status = getattr(exc, "status_code", None)
    return UserMessage(
        title="E2B had a problem",
        explanation=f"E2B answered with an error ({status}).",
        next_step="Try again in a moment; E2B's status page says whether there is an outage.",
        details=ctx.details)


def _other(exc: BaseException, ctx: Context) -> UserMessage:
    return UserMessage(
        title="E2B error",
        explanation=f"The request to E2B failed: {scrub(str(exc))[:300] or type(exc).__name__}.",
        next_step="Try again; the log file has the details.",
        details=ctx.details)


_NETWORK: tuple[type[BaseException], ...] = (httpx.TransportError, ConnectionError)

TABLE: tuple[tuple[tuple[type[BaseException], ...], Message], ...] = (
    ((e2b.GitAuthException,), _git_auth),
    ((e2b.AuthenticationException,), _key_rejected),
    ((e2b.RateLimitException,), _rate_limited),
    ((e2b.TemplateException,), _template_failed),
    ((e2b.SandboxNotFoundException, e2b.SandboxNotRunningException), _sandbox_gone),
    ((e2b.NotEnoughSpaceException,), _disk_full),
    ((e2b.FileNotFoundException,), _file_missing),
    ((e2b.SandboxUnreachableException, httpx.ConnectError, httpx.ConnectTimeout), _unreachable),
    ((e2b.GuestUnresponsiveException,), _unresponsive),
    ((e2b.ServiceBusyException,), _busy),
    ((httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout, e2b.TimeoutException, TimeoutError), _timed_out),
    ((*_NETWORK, OSError), _unreachable),
    ((e2b.InvalidArgumentException,), _invalid),
)
"""Exception classes, most specific first, and the message each becomes."""


def _is_template_missing(exc: BaseException) -> bool:
    """The SDK has no class for this: a 404 from the control plane that names a template."""
    return getattr(exc, "status_code", None) == 404 and "template" in str(exc).lower()


def message_for(exc: BaseException, *, template: str = "", expired: bool = False,
                template_typed: bool = False) -> UserMessage:
    """The message for an SDK (or transport) exception, through :data:`TABLE`."""
    ctx = Context(template, expired, scrub(f"{type(exc).__name__}: {exc}"), template_typed)
    if _is_template_missing(exc):
        return _template_missing(exc, ctx)
    for classes, make in TABLE:
        if isinstance(exc, classes):
            return make(exc, ctx)
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return _server_error(exc, ctx)
    return _other(exc, ctx)


def translate(exc: BaseException, *, template: str = "", expired: bool = False,
              template_typed: bool = False) -> UserFacingError:
    """The user-facing form of an exception the SDK (or its transport) raised.

    Raises:
        asyncio.CancelledError: ``exc`` is how the SDK reports a cancellation the app asked
            for; it stays a cancellation (``raise translate(exc)`` then re-raises it).
    """
    if isinstance(exc, UserFacingError):
        return exc
    if caused_by_cancel(exc) or (cancel_requested() and isinstance(exc, e2b.TimeoutException)):
        log.debug("a cancelled E2B call: %s", scrub(f"{type(exc).__name__}: {exc}"))
        raise asyncio.CancelledError()
    log.info("E2B error: %s", scrub(f"{type(exc).__name__}: {exc}"))
    return UserFacingError(message_for(exc, template=template, expired=expired, template_typed=template_typed))


