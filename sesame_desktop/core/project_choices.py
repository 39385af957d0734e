"""What the New Session dialog remembers per project: agent, command, setup, variables.

Kept in ``agent-choices.json`` in the config folder. Secret *names* are kept here, never their
values (those are in the keyring). A damaged file is ignored: the dialog starts blank.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sesame_desktop.core.jsonfile import write_json_atomic
from sesame_desktop.core.sessions import FolderProject, GitProject, Project

FILE_NAME = "agent-choices.json"
MAX_PROJECTS = 200


def project_key(project: Project) -> str:
    if isinstance(project, GitProject):
        return f"git:{project.url.strip()}"
    if isinstance(project, FolderProject):
        return f"folder:{project.path}"
    return "empty"


@dataclass(frozen=True)
class ProjectChoices:
    """The last choices made for one project.

    Attributes:
        agent: preset id, ``"custom"`` or ``""`` (a plain command).
        custom_command: the custom agent command (with ``{prompt}``).
        provider: the provider's value ("local", "e2b").
    """

    agent: str = "claude-code"
    custom_command: str = ""
    setup: str = ""
    env_vars: tuple[tuple[str, str], ...] = ()
    secret_names: tuple[str, ...] = ()
    provider: str = ""

    def general(self) -> ProjectChoices:
        """The choices that carry over to a project seen for the first time (not its setup,
        variables or secrets, which belong to the project they were made for)."""
        return ProjectChoices(agent=self.agent, custom_command=self.custom_command, provider=self.provider)

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "customCommand": self.custom_command, "setup": self.setup,
                "envVars": [list(pair) for pair in self.env_vars], "secretNames": list(self.secret_names),
                "provider": self.provider}

    @classmethod
    def from_json(cls, data: object) -> ProjectChoices:
        if not isinstance(data, dict):
            return cls()
        pairs = data.get("envVars") or []
        env_vars = tuple((str(p[0]), str(p[1])) for p in pairs
                         if isinstance(p, list) and len(p) == 2) if isinstance(pairs, list) else ()
        names = data.get("secretNames") or []
        return cls(agent=str(data.get("agent", "claude-code")), custom_command=str(data.get("customCommand", "")),
                   setup=str(data.get("setup", "")), env_vars=env_vars,
                   secret_names=tuple(str(n) for n in names) if isinstance(names, list) else (),
                   provider=str(data.get("provider", "")))


@dataclass(frozen=True)
class RememberedChoices:
    """Every project's last choices, and the very last ones (for a project seen first)."""

    projects: dict[str, ProjectChoices] = field(default_factory=dict)
    last: ProjectChoices = ProjectChoices()

    def for_project(self, project: Project) -> ProjectChoices | None:
        return self.projects.get(project_key(project))

    def remember(self, project: Project, choices: ProjectChoices) -> RememberedChoices:
        projects = {k: v for k, v in self.projects.items() if k != project_key(project)}
        projects[project_key(project)] = choices
        while len(projects) > MAX_PROJECTS:
            projects.pop(next(iter(projects)))
        return RememberedChoices(projects, choices)


def load_choices(folder: Path) -> RememberedChoices:
    try:
        data = json.loads((folder / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return RememberedChoices()
    if not isinstance(data, dict):
        return RememberedChoices()
    projects = data.get("projects")
    return RememberedChoices(
        {str(k): ProjectChoices.from_json(v) for k, v in projects.items()} if isinstance(projects, dict) else {},
        ProjectChoices.from_json(data.get("last")))


def save_choices(folder: Path, choices: RememberedChoices) -> None:
    write_json_atomic(folder / FILE_NAME, {"version": 1, "last": choices.last.to_json(),
                                           "projects": {k: v.to_json() for k, v in choices.projects.items()}})
