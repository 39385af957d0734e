"""Errors a user can meet, in plain words: what happened, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserMessage:
    """A message for people, not programmers.

    Attributes:
        title: a few words ("No secure keyring").
        explanation: what happened, in plain language.
        next_step: what the user can do about it.
        details: optional technical text (already scrubbed of secrets) for a "details" view.
        link: an optional https URL that helps (a dashboard, a help page).
        fix_in_settings: the fix is in the Settings dialog (the message offers to open it).
    """

    title: str
    explanation: str
    next_step: str = ""
    details: str = ""
    link: str = ""
    fix_in_settings: bool = False

    def text(self) -> str:
        return " ".join(part for part in (self.explanation, self.next_step) if part)


class UserFacingError(Exception):
    """An exception that carries a :class:`UserMessage`; the UI shows it as it is."""

    def __init__(self, message: UserMessage) -> None:
        super().__init__(f"{message.title}: {message.explanation}")
        self.message = message


def caused_by_cancel(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised because of, an ``asyncio.CancelledError``.

    Libraries turn a cancellation into their own exception (the E2B SDK's "Request was
    cancelled"); a cancellation the app asked for is never an error to show.
    """
    import asyncio  # here, not at the top: the first window is shown before asyncio is loaded

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, asyncio.CancelledError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
