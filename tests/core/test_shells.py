"""The shell for local commands on each system, chosen by rules tested here on any system."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from sesame_desktop.core.shells import POWERSHELL_UTF8, Shell, ShellKind, choose_shell, system_shell


def which_from(found: dict[str, str]):
    return lambda name: found.get(name)


def test_posix_prefers_bash_then_sh():
    assert choose_shell("posix", which_from({"bash": "/bin/bash", "sh": "/bin/sh"})) == \
        Shell("bash", "/bin/bash", ShellKind.POSIX)
    assert choose_shell("posix", which_from({"sh": "/bin/sh"})) == Shell("sh", "/bin/sh", ShellKind.POSIX)
    assert choose_shell("posix", which_from({})).program == "/bin/sh"


def test_windows_prefers_powershell_7_then_windows_powershell_then_cmd():
    pwsh = r"C:\Program Files\PowerShell\7\pwsh.exe"
    winps = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
    cmd = r"C:\Windows\system32\cmd.exe"
    # bash on PATH (Git for Windows, WSL's launcher) is not the system's shell there.
    assert choose_shell("nt", which_from({"pwsh": pwsh, "powershell": winps, "bash": "bash.exe"}), cmd) == \
        Shell("PowerShell", pwsh, ShellKind.POWERSHELL)
    assert choose_shell("nt", which_from({"powershell": winps}), cmd).program == winps
    assert choose_shell("nt", which_from({}), cmd) == Shell("cmd", cmd, ShellKind.CMD)


def test_command_lines():
    assert Shell("bash", "/bin/bash", ShellKind.POSIX).argv("echo hi") == ["/bin/bash", "-l", "-c", "echo hi"]
    assert Shell("sh", "/bin/sh", ShellKind.POSIX).argv("echo hi") == ["/bin/sh", "-c", "echo hi"]
    assert Shell("cmd", "cmd.exe", ShellKind.CMD).argv("echo hi") == ["cmd.exe", "/d", "/s", "/c", "echo hi"]
    command = 'Write-Output "a \\"quoted\\" $env:PATH"'
    argv = Shell("PowerShell", "pwsh.exe", ShellKind.POWERSHELL).argv(command)
    assert argv[:-1] == ["pwsh.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
                         "-EncodedCommand"]
    # No quoting rule of the Windows command line can touch the text: it travels as base64.
    assert base64.b64decode(argv[-1]).decode("utf-16-le") == POWERSHELL_UTF8 + command


@pytest.mark.skipif(os.name == "nt", reason="POSIX shells")
def test_this_systems_shell_runs_a_command():
    shell = system_shell()
    assert shell.kind is ShellKind.POSIX
    if sys.platform.startswith("linux") or sys.platform == "darwin":
        assert shell.name == "bash"  # Debian and macOS both have it
    out = subprocess.run(shell.argv("echo $((6 * 7))"), capture_output=True, text=True, check=True).stdout
    assert out.strip() == "42"


@pytest.mark.skipif(os.name != "nt", reason="runs on the Windows runner only")
def test_windows_only_powershell_runs_an_encoded_command():
    shell = system_shell()
    assert shell.kind is ShellKind.POWERSHELL
    out = subprocess.run(shell.argv('$x = 6 * 7; Write-Output "answer: $x ü"'), capture_output=True,
                         check=True).stdout
    assert out.decode("utf-8").strip() == "answer: 42 ü"
