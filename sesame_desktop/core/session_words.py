"""A session's state in the words its header shows ("Running `npm run dev`", "Idle", "Paused")."""

from __future__ import annotations

from sesame_desktop.core.config import Provider
from sesame_desktop.core.sessions import SessionSnapshot, SessionState, format_time_left

#: states in which a sandbox's lifetime runs
_COUNTING = (SessionState.GETTING_PROJECT, SessionState.RUNNING_TASK, SessionState.IDLE,
             SessionState.RECONNECTING)

#: what the input line says when a session takes no commands, by state
_NO_COMMANDS = {
    SessionState.CREATING: "The sandbox is being created…",
    SessionState.GETTING_PROJECT: "The project is being fetched…",
    SessionState.RECONNECTING: "Reconnecting to the sandbox…",
    SessionState.PAUSED: "The session is paused: press Resume to continue",
    SessionState.STOPPED: "The session has stopped: press Restart Here to continue",
    SessionState.ENDING: "The session is ending…",
    SessionState.UNCONFIRMED: "The session may still be running: press End Again",
    SessionState.ENDED: "The session has ended",
    SessionState.FAILED: "The session has failed: press Retry to start it again",
}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``; ``many`` for irregular plurals (``process`` → ``processes``)."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def header_state(snapshot: SessionSnapshot) -> str:
    """The state in words, with the command that runs."""
    state = snapshot.state
    if snapshot.running and state.accepts_commands:
        words = f"Running `{snapshot.running}`"
    elif state is SessionState.RUNNING_TASK:
        words = "Running"
    else:
        words = snapshot.title
    if snapshot.background and state.accepts_commands:
        words += f" · {plural(snapshot.background, 'background process', 'background processes')}"
    return words


def header_time_left(snapshot: SessionSnapshot, now: float | None = None) -> str:
    """``"42 min 05 s left"`` for an E2B sandbox that is alive; ``""`` otherwise."""
    if snapshot.provider is not Provider.E2B or snapshot.expires_at is None or snapshot.state not in _COUNTING:
        return ""
    return f"{format_time_left(snapshot.time_left(now))} left"


def no_commands_reason(state: SessionState) -> str:
    """Why the input line is off, in a sentence (never "The session is failed")."""
    return _NO_COMMANDS.get(state, f"The session is {state.value}")
