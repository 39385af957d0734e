"""A session's state in words, as its header and input line say it."""

from __future__ import annotations

import time

from sesame_desktop.core.config import Provider
from sesame_desktop.core.session_words import header_state, header_time_left, no_commands_reason, plural
from sesame_desktop.core.sessions import SessionSnapshot, SessionState


def snap(**changes) -> SessionSnapshot:
    return SessionSnapshot(id="s1", name="demo", provider=Provider.LOCAL, state=SessionState.IDLE).but(**changes)


def test_the_header_names_the_running_command_not_idle():
    assert header_state(snap(running="npm run dev")) == "Running `npm run dev`"
    assert header_state(snap()) == "Idle"
    assert header_state(snap(state=SessionState.PAUSED)) == "Paused"
    assert header_state(snap(state=SessionState.PAUSED, ended_how="lifetime reached")) == "Paused \u2014 lifetime reached"


def test_background_processes_are_counted_in_proper_plurals():
    assert header_state(snap(background=1)) == "Idle · 1 background process"
    assert header_state(snap(background=2, running="make")) == "Running `make` · 2 background processes"
    assert plural(1, "file") == "1 file" and plural(3, "file") == "3 files" and plural(0, "file") == "0 files"


def test_time_left_shows_for_a_live_e2b_sandbox_only():
    now = time.time()
    e2b = snap(provider=Provider.E2B, expires_at=now + 125)
    assert header_time_left(e2b, now) == "2 min 05 s left"
    assert header_time_left(e2b.but(state=SessionState.PAUSED), now) == ""
    assert header_time_left(snap(expires_at=now + 125), now) == ""  # local: no lifetime shown
    assert header_time_left(snap(provider=Provider.E2B), now) == ""


def test_the_input_line_explains_why_it_is_off_in_a_sentence():
    assert no_commands_reason(SessionState.FAILED) == "The session has failed: press Retry to start it again"
    for state in SessionState:
        assert "is failed" not in no_commands_reason(state)
