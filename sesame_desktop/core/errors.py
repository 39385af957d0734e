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
    """

    title: str
    explanation: str
    next_step: str = ""
    details: str = ""
    link: str = ""

    def text(self) -> str:
        return " ".join(part for part in (self.explanation, self.next_step) if part)


class UserFacingError(Exception):
    """An exception that carries a :class:`UserMessage`; the UI shows it as it is."""

    def __init__(self, message: UserMessage) -> None:
        super().__init__(f"{message.title}: {message.explanation}")
        self.message = message
