"""A session record keeps the agent fields, and secrets only by name."""

from __future__ import annotations

import json

from sesame_desktop.core.config import Provider
from sesame_desktop.core.session_record import SessionRecord, from_json, to_json
from sesame_desktop.core.sessions import GitProject, SessionRequest, SessionSnapshot, SessionState


def test_agent_fields_round_trip():
    request = SessionRequest("n", Provider.LOCAL, GitProject("https://h/r.git"), task="claude -p 'x'",
                             agent="claude-code", prompt="x \"y\"\nz", setup="npm ci",
                             env_vars=(("STAGE", "blue"),), secret_names=("DEPLOY_TOKEN",))
    record = SessionRecord(SessionSnapshot("s", "n", Provider.LOCAL, SessionState.IDLE), request)
    data = json.loads(json.dumps(to_json(record)))
    assert from_json(data).request == request
    assert "DEPLOY_TOKEN" in json.dumps(data) and data["request"]["secret_names"] == ["DEPLOY_TOKEN"]
    del data["request"]["agent"], data["request"]["env_vars"]  # a record written before agents
    assert from_json(data).request.agent == "" and from_json(data).request.env_vars == ()
