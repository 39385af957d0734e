"""Taking a session's work home as a pushed branch, with the git token from the keyring."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.git_hosts import compare_url, remote_host
from sesame_desktop.core.secret import Secret
from sesame_desktop.core.sessions import GitProject
from sesame_desktop.sandbox.git_push import push_branch
from sesame_desktop.services.agent_env import git_token_name
from sesame_desktop.services.secret_store import SecretStore
from sesame_desktop.services.sessions import SessionManager

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pushed:
    """A branch delivered to the project's remote.

    Attributes:
        pull_request_url: the host's page for opening a pull request, if known.
    """

    session_id: str
    branch: str
    base: str
    output: str
    pull_request_url: str | None


class PushService:
    """Commits and pushes a session's changes; keeps git tokens in the keyring per host."""

    def __init__(self, manager: SessionManager, secrets: SecretStore) -> None:
        self._manager = manager
        self._secrets = secrets

    def remote(self, session_id: str) -> str | None:
        """The URL the session's project was cloned from; None for uploads and empty projects."""
        project = self._manager.request(session_id).project
        return project.url if isinstance(project, GitProject) else None

    async def has_token(self, session_id: str) -> bool:
        remote = self.remote(session_id)
        if not remote:
            return False
        try:
            return await self._secrets.get_secret(git_token_name(remote_host(remote))) is not None
        except UserFacingError:
            return False

    async def push(self, session_id: str, *, branch: str, message: str, token: Secret | None = None,
                   remember: bool = True) -> Pushed:
        """Push; ``token`` None uses the one stored for the host (if any).

        Raises:
            UserFacingError: in plain words, with git's message as details.
        """
        remote = self.remote(session_id)
        sandbox = self._manager.sandbox(session_id)
        if remote is None or sandbox is None or not self._manager.snapshot(session_id).state.accepts_commands:
            raise UserFacingError(UserMessage("Cannot push", "Only a running session of a cloned project can push a "
                                              "branch.", "Save a patch or apply the changes to your folder instead."))
        host = remote_host(remote)
        if token:
            if remember and host:
                await self._secrets.set_secret(git_token_name(host), token)
        elif host:
            token = await self._secrets.get_secret(git_token_name(host))
        result = await push_branch(sandbox, branch=branch, message=message, token=token)
        log.info("session %s: pushed branch %s", session_id, branch)
        return Pushed(session_id, result.branch, result.base, result.output,
                      compare_url(remote, result.base or "main", result.branch))
