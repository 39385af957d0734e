"""What a session is, as plain immutable values: its request, its states, its snapshot."""

from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sesame_desktop.core.config import MAX_TIMEOUT_MS, MIN_TIMEOUT_MS, Provider
from sesame_desktop.core.errors import UserFacingError, UserMessage


class SessionState(enum.Enum):
    """What a user sees of a session.

    ``RECONNECTING``: contact with the sandbox is lost; it is presumed alive. ``PAUSED``: the
    sandbox is paused (its lifetime ran out, or the user paused it at quit); *Resume* wakes it.
    ``STOPPED``: a local session restored after a restart: its workspace and output are
    there, its processes are not (*Restart here*). ``UNCONFIRMED``: ending was asked for, but
    E2B never confirmed the sandbox is gone: it *may still be running* and ending is retried.
    """

    CREATING = "creating sandbox"
    GETTING_PROJECT = "getting project"
    RUNNING_TASK = "running task"
    IDLE = "idle"
    RECONNECTING = "reconnecting\u2026"
    PAUSED = "paused"
    STOPPED = "stopped"
    ENDING = "ending"
    UNCONFIRMED = "may still be running"
    ENDED = "ended"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def busy(self) -> bool:
        return self in (SessionState.CREATING, SessionState.GETTING_PROJECT, SessionState.ENDING,
                        SessionState.RECONNECTING)

    @property
    def open(self) -> bool:
        """The sandbox may be alive: ending the session has something to do."""
        return self not in (SessionState.ENDED, SessionState.FAILED, SessionState.STOPPED)

    @property
    def finished(self) -> bool:
        """Nothing runs for this session any more: it can be removed from the list."""
        return not self.open

    @property
    def accepts_commands(self) -> bool:
        return self in (SessionState.RUNNING_TASK, SessionState.IDLE)


@dataclass(frozen=True)
class GitProject:
    url: str
    branch: str = ""


@dataclass(frozen=True)
class FolderProject:
    path: Path


Project = GitProject | FolderProject | None


@dataclass(frozen=True)
class SessionRequest:
    """What the New Session dialog asks for.

    Attributes:
        template: per-session template override ("" = the configured one).
        timeout_ms: per-session lifetime override (None = the configured one).
        agent: the agent preset that runs ``task`` (see :mod:`sesame_desktop.core.agents`),
            ``"custom"``, or ``""`` when ``task`` is a plain command.
        prompt: what the agent was asked to do (already part of ``task``, quoted).
        setup: a command run after the project lands and before the task.
        env_vars: named environment variables for the session's commands.
        secret_names: names of secrets (kept in the keyring) given to the session's commands.
    """

    name: str
    provider: Provider
    project: Project = None
    task: str = ""
    template: str | None = None
    timeout_ms: int | None = None
    agent: str = ""
    prompt: str = ""
    setup: str = ""
    env_vars: tuple[tuple[str, str], ...] = ()
    secret_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionSnapshot:
    """One session at one moment. Signals carry these.

    Attributes:
        step: what is happening now, in words ("Cloning …", "Receiving objects: 40%").
        expires_at: when the sandbox's lifetime runs out (epoch seconds), None for local.
        running: the foreground command running now, if any.
    """

    id: str
    name: str
    provider: Provider
    state: SessionState
    step: str = ""
    sandbox_id: str = ""
    project_dir: str = ""
    created_at: float = field(default_factory=time.time)
    expires_at: float | None = None
    error: UserMessage | None = None
    running: str = ""
    background: int = 0
    ended_how: str = ""
    work_dir: str = ""

    @property
    def title(self) -> str:
        """The state in words, with how it ended or why it paused ("Paused — lifetime reached")."""
        if self.ended_how and self.state in (SessionState.ENDED, SessionState.FAILED, SessionState.PAUSED,
                                             SessionState.STOPPED, SessionState.UNCONFIRMED):
            return f"{self.state.label} \u2014 {self.ended_how}"
        return self.state.label

    def but(self, **changes: Any) -> SessionSnapshot:
        return replace(self, **changes)

    def time_left(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return max(0.0, self.expires_at - (time.time() if now is None else now))


class SandboxGoneError(UserFacingError):
    """The provider said the sandbox does not exist or is not running: the session is over."""


class ContactLostError(UserFacingError):
    """A call to the sandbox failed on the way (network, timeout, 5xx, a dropped stream).

    The sandbox is presumed alive: the session reconnects; it is never ended for this.
    """


def format_duration(seconds: float) -> str:
    """``"1 h 05 min"``, ``"4 min 09 s"``, ``"7 s"``."""
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def format_time_left(seconds: float | None) -> str:
    if seconds is None:
        return "no limit"
    if int(seconds) <= 0:
        return "expired"
    return format_duration(seconds)


# -- validation of what a user types ---------------------------------------------------------

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:[\w./~-]+$")
_BRANCH_BAD = re.compile(r"(^[-/.])|(\.\.)|([\s~^:?*\[\\])|(@\{)|(/$)|(\.lock$)")


def validate_git_url(url: str) -> str | None:
    """A problem with ``url`` in plain words, or None when it looks cloneable."""
    text = url.strip()
    if not text:
        return "Enter the repository's URL."
    if any(ch.isspace() for ch in text):
        return "A repository URL has no spaces."
    if _SCP_LIKE.match(text):
        return None
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https", "ssh", "git"):
        if not parsed.hostname:
            return "The URL has no host name."
        if parsed.scheme in ("http", "https") and parsed.path in ("", "/"):
            return "The URL names a site, not a repository (for example https://github.com/owner/repo)."
        return None
    if parsed.scheme == "file" or text.startswith("/"):
        return None
    return "Use an https://, ssh:// or git@host:owner/repo address."


def validate_branch(branch: str) -> str | None:
    text = branch.strip()
    if text and _BRANCH_BAD.search(text):
        return f"\u201c{text}\u201d is not a valid branch name."
    return None


SESSION_MIN_TIMEOUT_MS = max(MIN_TIMEOUT_MS, 60_000)


def validate_timeout_ms(ms: int) -> str | None:
    if not SESSION_MIN_TIMEOUT_MS <= ms <= MAX_TIMEOUT_MS:
        return "The lifetime must be between 1 minute and 24 hours."
    return None


def suggest_name(project: Project) -> str:
    """A session name from the project: the repository or folder name."""
    if isinstance(project, GitProject):
        tail = project.url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        name = tail.removesuffix(".git") or "session"
        return f"{name} ({project.branch})" if project.branch else name
    if isinstance(project, FolderProject):
        return project.path.name or "session"
    return "session"
