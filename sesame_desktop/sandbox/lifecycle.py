"""What a sandbox that outlives a connection (or the app) offers: probe, reconnect, reattach.

A cloud sandbox keeps running when the app loses contact with it, and its commands keep
running when their output stream drops. :class:`Reattachable` is how the session manager
finds its way back: it asks how the sandbox is (:meth:`Reattachable.probe`), reconnects to it,
lists the commands still running in it and attaches to them again. Ending is confirmed:
:meth:`Reattachable.end` says whether the provider confirmed the sandbox is gone.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass

from sesame_desktop.sandbox.base import CommandHandle, OutputCallback


class CommandEndedError(Exception):
    """The command to attach to is no longer running (it ended while nobody followed it)."""


class Liveness(enum.Enum):
    """How a sandbox is, as far as the provider can tell right now."""

    RUNNING = "running"
    PAUSED = "paused"
    GONE = "gone"
    UNKNOWN = "unknown"  # the provider could not be asked (network, 5xx): presume alive


@dataclass(frozen=True)
class RunningCommand:
    """A command still running in a sandbox (as the sandbox lists it)."""

    pid: int
    command: str


class Reattachable(abc.ABC):
    """A sandbox the app can lose contact with and find again."""

    @abc.abstractmethod
    async def probe(self) -> Liveness:
        """How the sandbox is; never raises (``UNKNOWN`` when the provider cannot be asked)."""

    @abc.abstractmethod
    async def reconnect(self) -> None:
        """Connect to the sandbox again (resuming it when it is paused).

        Raises:
            SandboxGoneError: the sandbox does not exist any more.
            ContactLostError: the provider could not be reached; try again later.
        """

    @abc.abstractmethod
    async def running_commands(self) -> list[RunningCommand]:
        """The commands still running in the sandbox."""

    @abc.abstractmethod
    async def attach(self, pid: int, *, on_stdout: OutputCallback, on_stderr: OutputCallback) -> CommandHandle:
        """Follow a running command again: its further output goes to the callbacks.

        Raises:
            CommandEndedError: the command is not running any more.
        """

    @abc.abstractmethod
    async def pause(self) -> None:
        """Pause the sandbox: kept, no compute billed, resumed by :meth:`reconnect`."""

    @abc.abstractmethod
    async def end(self) -> bool:
        """Ask the provider to end the sandbox; True when it confirmed the sandbox is gone.

        Raises:
            ContactLostError: the provider could not be reached (the caller retries).
        """
