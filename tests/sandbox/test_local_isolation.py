"""What a local command can reach: no app secrets in its environment; under bubblewrap no
session bus, keyring, home, other users' homes or app folders. A real gnome-keyring holds the
E2B key, and a local session tries to read it both ways (environment, and the session bus)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from sesame_desktop.sandbox.base import SandboxSpec
from sesame_desktop.sandbox.local import LocalProvider, bubblewrap_works
from sesame_desktop.sandbox.local_isolation import command_environment, folders_to_hide
from sesame_desktop.services.secret_store import ACCOUNT_NAME, SERVICE_NAME
from tests.fixtures.keyring_service import RunningSecretService
from tests.sandbox.output import Output

FAKE_KEY = "e2b_" + "5ec7e7" * 6
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bubblewrap and D-Bus: Linux")


def test_a_posix_command_gets_only_what_a_shell_needs():
    environ = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm", "USER": "ada",
               "E2B_API_KEY": FAKE_KEY, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
               "XDG_RUNTIME_DIR": "/run/user/1000", "SSH_AUTH_SOCK": "/tmp/ssh-x/agent.1", "DISPLAY": ":0",
               "LD_PRELOAD": "/evil.so", "PYTHONPATH": "/app", "https_proxy": "http://proxy:3128"}
    env = command_environment(environ, {"ANTHROPIC_API_KEY": "session's own", "E2B_API_KEY": "x"}, "/home/user",
                              os_name="posix")
    assert env == {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm", "USER": "ada",
                   "https_proxy": "http://proxy:3128", "ANTHROPIC_API_KEY": "session's own", "HOME": "/home/user"}


def test_a_windows_command_gets_the_system_folders_but_no_secrets():
    environ = {"PATH": r"C:\Windows\system32", "SYSTEMROOT": r"C:\Windows", "ComSpec": r"C:\Windows\cmd.exe",
               "TEMP": r"C:\Temp", "LOCALAPPDATA": r"C:\Users\ada\AppData\Local", "E2B_API_KEY": FAKE_KEY,
               "e2b_api_key": FAKE_KEY, "GITHUB_TOKEN": "ghp_x"}
    env = command_environment(environ, {}, r"C:\ws\home", os_name="nt")
    assert env == {"PATH": r"C:\Windows\system32", "SYSTEMROOT": r"C:\Windows", "ComSpec": r"C:\Windows\cmd.exe",
                   "TEMP": r"C:\Temp", "LOCALAPPDATA": r"C:\Users\ada\AppData\Local", "HOME": r"C:\ws\home"}


def test_folders_to_hide():
    existing = {"/run/user", "/var/run-user-1000", "/root", "/srv/homes/bob", "/opt/app-data", "/home/ada/.config/x"}
    hidden = folders_to_hide(home="/root", runtime_dir="/var/run-user-1000",
                             user_homes=["/root", "/home/ada", "/srv/homes/bob", "/nonexistent", "/", "/usr/sbin"],
                             app_folders=["/home/ada/.config/x", "/opt/app-data", "relative"],
                             exists=existing.__contains__)
    # /tmp and /home first; nothing twice, nothing inside a hidden folder, no system folder.
    assert hidden == ["/tmp", "/home", "/run/user", "/var/run-user-1000", "/root", "/srv/homes/bob", "/opt/app-data"]


def run(run_async, box, command: str) -> Output:
    output = Output()
    run_async(box.run(command, on_stdout=output.on_out, on_stderr=output.on_err), timeout=30)
    return output


@pytest.fixture(params=[True, False], ids=["bwrap", "plain"])
def isolate(request, run_async):
    if request.param and not sys.platform.startswith("linux"):
        pytest.skip("bubblewrap isolates local sessions on Linux only")
    if request.param and not run_async(bubblewrap_works()):
        pytest.fail("bubblewrap is needed for the isolated local provider (scripts/system-packages.txt)")
    return request.param


def test_the_app_environment_does_not_reach_commands(isolate, tmp_path, run_async, monkeypatch):
    monkeypatch.setenv("E2B_API_KEY", FAKE_KEY)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nowhere/bus")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # hidden in the sandbox: temp files go to its own /tmp
    box = run_async(LocalProvider(tmp_path / "ws", isolate=isolate).create(
        SandboxSpec("s1", "t", envs={"SESSION_VAR": "mine"})))
    try:
        run_async(box.get_project(None, lambda _m: None))
        if os.name == "nt":
            out = run(run_async, box, "Get-ChildItem env: | ForEach-Object { $_.Name + '=' + $_.Value }").out
        else:
            out = run(run_async, box, "env").out
        names = {line.split("=", 1)[0] for line in out.decode().splitlines() if "=" in line}
        assert FAKE_KEY.encode() not in out
        assert "E2B_API_KEY" not in names and "DBUS_SESSION_BUS_ADDRESS" not in names
        assert "SESSION_VAR" in names and "PATH" in names
        if os.name != "nt":
            assert run(run_async, box, "mktemp >/dev/null && echo made").out == b"made\n"
        if isolate:  # nor from the app's process: it is not in the command's process view
            found = run(run_async, box, f"grep -l {FAKE_KEY} /proc/[0-9]*/environ 2>/dev/null; echo done").out
            assert found == b"done\n"
    finally:
        run_async(box.kill())


@pytest.fixture
def desktop_keyring(monkeypatch):
    """A gnome-keyring holding the E2B key, its bus at $XDG_RUNTIME_DIR/bus as on a desktop.

    The runtime folder is outside /tmp and /home (as /run/user/<uid> is), so only hiding
    $XDG_RUNTIME_DIR itself keeps a sandbox from the bus.
    """
    import keyring.backends.SecretService

    base = Path(tempfile.mkdtemp(prefix="sesame-keyring-", dir="/var/tmp"))
    service = RunningSecretService(base, bus_in_runtime_dir=True)
    try:
        service.wait_ready()
        for name in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"):
            monkeypatch.setenv(name, service.env[name])
        keyring.backends.SecretService.Keyring().set_password(SERVICE_NAME, ACCOUNT_NAME, FAKE_KEY)
        yield service
    finally:
        service.stop()
        shutil.rmtree(base, ignore_errors=True)


LOOKUP = f"secret-tool lookup service {SERVICE_NAME} username {ACCOUNT_NAME}"


@linux_only
@pytest.mark.keyring
def test_a_local_session_cannot_read_the_key_from_the_keyring(isolate, desktop_keyring, tmp_path, run_async):
    runtime = desktop_keyring.env["XDG_RUNTIME_DIR"]
    bus = f"unix:path={runtime}/bus"
    # The attack works from this computer's own shell: the test can fail.
    host = subprocess.run(["sh", "-c", LOOKUP], capture_output=True, text=True, env=os.environ.copy(), timeout=30)
    assert host.stdout.strip() == FAKE_KEY

    box = run_async(LocalProvider(tmp_path / "ws", isolate=isolate).create(SandboxSpec("s1", "t")))
    try:
        run_async(box.get_project(None, lambda _m: None))
        # 1. Through what the environment says (the session bus address, the runtime folder).
        implicit = run(run_async, box, f"timeout 10 {LOOKUP}; echo status=$?")
        assert FAKE_KEY.encode() not in implicit.out + implicit.err
        assert b"status=0" not in implicit.out
        # 2. Through the bus's well-known place, named explicitly.
        explicit = run(run_async, box, f"DBUS_SESSION_BUS_ADDRESS={bus} timeout 10 {LOOKUP}; echo status=$?; "
                                       f"find {runtime} /run/user -mindepth 1 2>/dev/null | wc -l")
        if isolate:
            assert FAKE_KEY.encode() not in explicit.out + explicit.err
            status, visible = explicit.out.decode().split()[-2:]
            assert status != "status=0" and visible == "0"  # the runtime folder and /run/user are empty
        else:  # without isolation the user's rights are the command's: what the app says to the user
            assert FAKE_KEY.encode() in explicit.out
    finally:
        run_async(box.kill())


@linux_only
def test_homes_ssh_gnupg_and_app_folders_are_hidden(run_async, tmp_path, monkeypatch):
    if not run_async(bubblewrap_works()):
        pytest.fail("bubblewrap is needed for the isolated local provider (scripts/system-packages.txt)")
    home = Path(tempfile.mkdtemp(prefix="sesame-home-", dir="/var/tmp"))
    app = Path(tempfile.mkdtemp(prefix="sesame-app-", dir="/var/tmp"))
    try:
        for secret in (home / ".ssh" / "id_ed25519", home / ".gnupg" / "private-keys-v1.d" / "k.key",
                       app / "config" / "config.json", app / "data" / "sessions.sqlite"):
            secret.parent.mkdir(parents=True)
            secret.write_text("secret\n")
        monkeypatch.setenv("HOME", str(home))
        provider = LocalProvider(app / "data" / "workspaces", isolate=True,
                                 private_folders=[app / "config", app / "data"])
        box = run_async(provider.create(SandboxSpec("s1", "t")))
        try:
            run_async(box.get_project(None, lambda _m: None))
            out = run(run_async, box, f"find {home} {app} -type f 2>/dev/null | wc -l; ls /home; echo $HOME; "
                                      "echo ok > file.txt && cat file.txt").out.decode().split()
            assert out == ["0", "user", "/home/user", "ok"]  # nothing to read; its own home still works
            assert (app / "data" / "workspaces" / "s1" / "home" / "project" / "file.txt").read_text() == "ok\n"
        finally:
            run_async(box.kill())
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(app, ignore_errors=True)
