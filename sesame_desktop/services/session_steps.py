"""The steps of a session between "the project is in place" and "the task runs".

:class:`SessionSteps` is a part of :class:`~sesame_desktop.services.sessions.SessionManager`:

1. the session's **environment** (agent key, project variables and secrets) is gathered
   before the sandbox is made, and given only to that sandbox's commands;
2. the **start point** of the Changes tab is recorded in the sandbox;
3. the project's **setup** command runs (``npm ci``…); if it fails the session stops, with
   the step named and its output;
4. a preset **agent** missing from the template is installed (npm or pip, progress in the
   console).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from sesame_desktop.core.agents import install_command, preset, present_command
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.sessions import GitProject, SessionRequest
from sesame_desktop.sandbox import changes

if TYPE_CHECKING:
    from sesame_desktop.services.sessions import SessionManager

log = logging.getLogger(__name__)

EnvironmentSource = Callable[[SessionRequest], Awaitable[Mapping[str, str]]]
OUTPUT_TAIL = 4000


class SessionSteps:
    """Environment, start point, setup and agent install (a part of the session manager)."""

    _environment_source: EnvironmentSource | None = None

    @property
    def _keyless(self) -> set[SessionRequest]:
        """Requests whose agent got no key (kept per manager)."""
        found: set[SessionRequest] | None = self.__dict__.get("_keyless_requests")
        if found is None:
            found = self.__dict__["_keyless_requests"] = set()
        return found

    def set_environment_source(self, source: EnvironmentSource | None) -> None:
        """Where a session's environment variables come from (keyring secrets included)."""
        self._environment_source = source

    async def session_environment(self, request: SessionRequest) -> dict[str, str]:
        """The variables every command of the session gets (and no other session's)."""
        if self._environment_source is None:
            envs = dict(request.env_vars)
        else:
            envs = dict(await self._environment_source(request))
        agent = preset(request.agent)
        if agent is not None and not any(envs.get(name) for name in agent.key_vars):
            self._keyless.add(request)
        return envs

    async def _captured_foreground(self: SessionManager, session: Any, command: str) -> tuple[Any, str]:
        """Run ``command`` in the console like a typed one; returns its result and output tail."""
        session_id = session.snapshot.id
        tail = bytearray()

        def tap(tapped_id: str, _stream: str, chunk: bytes | str) -> None:
            if tapped_id == session_id:  # E2B output comes as str
                tail.extend(chunk.encode("utf-8", "replace") if isinstance(chunk, str) else chunk)
                del tail[:-OUTPUT_TAIL]

        self._taps.append(tap)
        try:
            result = await self._foreground(session, command)
        finally:
            self._taps.remove(tap)
        return result, tail.decode("utf-8", "replace")

    async def prepare_work(self: SessionManager, session: Any) -> None:
        """Start point, setup, agent install. Raises ``UserFacingError`` to stop the session."""
        request: SessionRequest = session.request
        sandbox = session.sandbox
        assert sandbox is not None
        try:
            await changes.take_base(sandbox, cloned=isinstance(request.project, GitProject))
        except UserFacingError as exc:
            log.warning("session %s: %s", session.snapshot.id, exc.message.title)
            self._meta(session, f"{exc.message.title}: {exc.message.text()}")
        if request.setup.strip():
            self._update(session, step="Running the setup command\u2026")
            result, output = await self._captured_foreground(session, request.setup.strip())
            if result is None or not result.ok:
                how = (f"ended with exit code {result.exit_code}" if result is not None and result.exit_code is not None
                       else "was stopped" if result is not None else "could not run")
                raise UserFacingError(UserMessage(
                    "Setup failed",
                    f"The setup step \u201c{request.setup.strip()}\u201d {how}, so the task did not start.",
                    "Its output is in the console. Fix the project's setup command and start a new session.",
                    details=output[-OUTPUT_TAIL:]))
        agent = preset(request.agent)
        if agent is None:
            return
        if request in self._keyless:
            self._keyless.discard(request)
            self._meta(session, f"No key for {agent.label} is set: add it in Settings \u25b8 Agent Keys and Secrets "
                                f"(or give the project a secret named {agent.key_var}). The agent may refuse to start.")
        found = await sandbox.run(present_command(agent), on_stdout=lambda _b: None, on_stderr=lambda _b: None)
        if found.ok:
            return
        self._update(session, step=f"Installing {agent.label}\u2026")
        self._meta(session, f"{agent.label} is not in this sandbox's template: installing it.")
        result, output = await self._captured_foreground(session, install_command(agent))
        if result is None or not result.ok:
            raise UserFacingError(UserMessage(
                f"{agent.label} could not be installed",
                f"Installing {agent.label} failed, so the task did not start.",
                "Its output is in the console. Use a template that has the agent, or check the sandbox's "
                "network.", details=output[-OUTPUT_TAIL:]))

    async def save_work_now(self: SessionManager, session_id: str) -> None:
        """Save the session's work on this computer now (the Changes tab's *Save Work*).

        Raises:
            UserFacingError: the work could not be saved, or this app keeps no session records.
        """
        session = self._sessions[session_id]
        if getattr(self, "_store", None) is None or session.sandbox is None or not session.snapshot.state.open:
            raise UserFacingError(UserMessage("Work not saved", "This session's work cannot be saved now.",
                                              "It is saved when the session ends."))
        await self.save_work(session)

    @staticmethod
    def _meta(session: Any, text: str) -> None:
        """A note in the console (the output API differs between versions of the manager)."""
        target = getattr(session, "output", None)
        if target is not None and hasattr(target, "meta"):
            target.meta(text)
        else:
            session.buffer.add_meta(text)
