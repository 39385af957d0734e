"""The shell that runs a local session's commands: the system's own.

``bash`` where it is installed (Linux, macOS), else ``sh``; on Windows PowerShell (``pwsh``,
PowerShell 7, when installed, else the Windows PowerShell every Windows 10/11 has), else
``cmd``. The choice is a pure function of the system's name and what is on ``PATH``, so every
system's rule is tested on any system. E2B sandboxes always run ``bash`` (Linux inside).
"""

from __future__ import annotations

import base64
import enum
import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

Which = Callable[[str], "str | None"]


class ShellKind(enum.Enum):
    POSIX = "posix"
    POWERSHELL = "powershell"
    CMD = "cmd"


POWERSHELL_UTF8 = "try { [Console]::OutputEncoding = [System.Text.Encoding]::UTF8 } catch {}; "
"""Prefixed to PowerShell commands: output as UTF-8, which the console decodes."""


@dataclass(frozen=True)
class Shell:
    """A shell and how it is given one command line.

    Attributes:
        name: for people ("bash", "PowerShell", "cmd").
        program: the executable (a path, or a name looked up on ``PATH``).
        kind: which command-line convention it follows.
    """

    name: str
    program: str
    kind: ShellKind

    def argv(self, command: str) -> list[str]:
        """The arguments that run ``command`` in this shell and then exit."""
        if self.kind is ShellKind.POWERSHELL:
            # -EncodedCommand: no quoting rules of the Windows command line apply to the text.
            encoded = base64.b64encode((POWERSHELL_UTF8 + command).encode("utf-16-le")).decode("ascii")
            return [self.program, "-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
                    "-EncodedCommand", encoded]
        if self.kind is ShellKind.CMD:
            return [self.program, "/d", "/s", "/c", command]
        if self.name == "bash":
            return [self.program, "-l", "-c", command]
        return [self.program, "-c", command]


def choose_shell(os_name: str, which: Which, comspec: str | None = None) -> Shell:
    """The shell for local commands on a system named ``os_name`` (``os.name``: posix, nt).

    Args:
        which: finds a program on ``PATH`` (``shutil.which``).
        comspec: ``%COMSPEC%`` on Windows (cmd's path).
    """
    if os_name == "nt":
        for program in ("pwsh", "powershell"):
            found = which(program)
            if found:
                return Shell("PowerShell", found, ShellKind.POWERSHELL)
        return Shell("cmd", comspec or which("cmd") or "cmd.exe", ShellKind.CMD)
    bash = which("bash")
    if bash:
        return Shell("bash", bash, ShellKind.POSIX)
    return Shell("sh", which("sh") or "/bin/sh", ShellKind.POSIX)


@functools.cache
def system_shell() -> Shell:
    """This computer's shell for local commands (looked up once)."""
    return choose_shell(os.name, shutil.which, os.environ.get("COMSPEC"))
