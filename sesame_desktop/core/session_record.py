"""A session as a plain JSON-able record: what is kept on disk so a session survives the app.

The record holds the request (so a session can be retried or duplicated), the last snapshot
(state, sandbox id, how it ended, where its saved work is), the commands started in it (with
their pids, so a restarted app can reattach to those still running) and its ports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sesame_desktop.core.config import Provider
from sesame_desktop.core.errors import UserMessage
from sesame_desktop.core.sessions import (
    FolderProject,
    GitProject,
    Project,
    SessionRequest,
    SessionSnapshot,
    SessionState,
)

RECORD_VERSION = 1


@dataclass(frozen=True)
class CommandRecord:
    """A command started in a session.

    Attributes:
        pid: the sandbox's process id (0 until it started).
        background: started in the background (a dev server) rather than in the foreground.
        done: it ended (and the app saw it end).
    """

    command: str
    pid: int = 0
    background: bool = False
    done: bool = False
    started_at: float = 0.0


@dataclass(frozen=True)
class SessionRecord:
    snapshot: SessionSnapshot
    request: SessionRequest
    commands: tuple[CommandRecord, ...] = ()
    ports: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _project_to(project: Project) -> dict[str, str] | None:
    if isinstance(project, GitProject):
        return {"kind": "git", "url": project.url, "branch": project.branch}
    if isinstance(project, FolderProject):
        return {"kind": "folder", "path": str(project.path)}
    return None


def _project_from(data: dict[str, str] | None) -> Project:
    if not data:
        return None
    if data.get("kind") == "git":
        return GitProject(data.get("url", ""), data.get("branch", ""))
    if data.get("kind") == "folder":
        return FolderProject(Path(data.get("path", "")))
    return None


def to_json(record: SessionRecord) -> dict[str, Any]:
    snap, req = record.snapshot, record.request
    return {
        "version": RECORD_VERSION,
        "snapshot": {
            "id": snap.id, "name": snap.name, "provider": snap.provider.value, "state": snap.state.name,
            "step": snap.step, "sandbox_id": snap.sandbox_id, "project_dir": snap.project_dir,
            "created_at": snap.created_at, "expires_at": snap.expires_at,
            "error": asdict(snap.error) if snap.error is not None else None,
            "running": snap.running, "background": snap.background, "ended_how": snap.ended_how,
            "work_dir": snap.work_dir,
        },
        "request": {
            "name": req.name, "provider": req.provider.value, "project": _project_to(req.project),
            "task": req.task, "template": req.template, "timeout_ms": req.timeout_ms,
            # the agent fields; secrets by name only (their values stay in the keyring)
            "agent": req.agent, "prompt": req.prompt, "setup": req.setup,
            "env_vars": [list(pair) for pair in req.env_vars], "secret_names": list(req.secret_names),
        },
        "commands": [asdict(c) for c in record.commands],
        "ports": list(record.ports),
        "extra": record.extra,
    }


def from_json(data: dict[str, Any]) -> SessionRecord:
    """The record back; raises ``KeyError``/``ValueError``/``TypeError`` on a damaged one."""
    s, r = data["snapshot"], data["request"]
    error = UserMessage(**s["error"]) if s.get("error") else None
    snapshot = SessionSnapshot(
        id=str(s["id"]), name=str(s["name"]), provider=Provider(s["provider"]), state=SessionState[s["state"]],
        step=str(s.get("step", "")), sandbox_id=str(s.get("sandbox_id", "")),
        project_dir=str(s.get("project_dir", "")), created_at=float(s.get("created_at", 0.0)),
        expires_at=s.get("expires_at"), error=error, running=str(s.get("running", "")),
        background=int(s.get("background", 0)), ended_how=str(s.get("ended_how", "")),
        work_dir=str(s.get("work_dir", "")))
    request = SessionRequest(
        name=str(r.get("name", "")), provider=Provider(r["provider"]), project=_project_from(r.get("project")),
        task=str(r.get("task", "")), template=r.get("template"), timeout_ms=r.get("timeout_ms"),
        agent=str(r.get("agent", "")), prompt=str(r.get("prompt", "")), setup=str(r.get("setup", "")),
        env_vars=tuple((str(p[0]), str(p[1])) for p in r.get("env_vars", []) if isinstance(p, list) and len(p) == 2),
        secret_names=tuple(str(n) for n in r.get("secret_names", [])))
    commands = tuple(CommandRecord(**c) for c in data.get("commands", []))
    return SessionRecord(snapshot, request, commands, tuple(int(p) for p in data.get("ports", [])),
                         dict(data.get("extra", {})))
