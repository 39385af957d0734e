"""A session's environment: its agent's key and the project's variables and secrets.

Values come from the keyring at the moment the session starts and go only into that
session's sandbox (``SandboxSpec.envs``); they are registered with the log scrubber and never
written anywhere by the app.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sesame_desktop.core.agents import preset
from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.secret import Secret
from sesame_desktop.core.sessions import SessionRequest
from sesame_desktop.services.secret_store import SecretStore

log = logging.getLogger(__name__)


def agent_key_name(agent_id: str) -> str:
    """The keyring entry of an agent's key."""
    return f"agent:{agent_id}"


def session_secret_name(name: str) -> str:
    """The keyring entry of a named session secret."""
    return f"secret:{name}"


def git_token_name(host: str) -> str:
    """The keyring entry of the token for pushing to ``host``."""
    return f"git-token:{host.lower()}"


class SessionEnvironment:
    """Builds a session's environment variables from its request and the keyring."""

    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets

    async def __call__(self, request: SessionRequest) -> Mapping[str, str]:
        envs: dict[str, str] = {}
        agent = preset(request.agent)
        if agent is not None:
            envs.update(agent.env)
            key = await self._read(agent_key_name(agent.id))
            if key:
                envs[agent.key_var] = key.reveal()
        envs.update(request.env_vars)
        for name in request.secret_names:
            value = await self._read(session_secret_name(name))
            if value:
                envs[name] = value.reveal()
            else:
                log.warning("session secret %s is not in the keyring", name)
        return envs

    async def _read(self, name: str) -> Secret | None:
        """A secret, or None when the keyring has none or cannot be read (the session goes on:
        the agent then reports its missing key in its own words)."""
        try:
            return await self._secrets.get_secret(name)
        except UserFacingError as exc:
            log.warning("%s not read from the keyring: %s", name.split(":", 1)[0], exc.message.title)
            return None
