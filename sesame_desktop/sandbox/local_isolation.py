"""What a local command may see: its environment, and (on Linux) bubblewrap's view of the disk.

Local commands are written by someone else (an agent, a project's scripts), so they get:

- a minimal, explicit environment (:func:`command_environment`): the variables a shell and
  its tools need (``PATH``, the locale, the temp folder; on Windows the system folders), the
  session's own variables, and nothing else: not ``E2B_API_KEY``, not the D-Bus session bus
  address, not the SSH agent socket;
- under bubblewrap (:func:`bwrap_argv`), a view of the disk in which the user's D-Bus session
  bus and keyring sockets (``/run/user/<uid>``, ``$XDG_RUNTIME_DIR``), the user's home (with
  ``~/.ssh``, ``~/.gnupg`` and the keyring files), other users' homes and the app's own
  config, data and log folders are empty folders.

Without bubblewrap (it is missing, the kernel forbids it, and always on macOS and Windows)
commands run with the user's full rights; the app says so to the user
(:mod:`sesame_desktop.core.isolation`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import PurePosixPath

from sesame_desktop.sandbox.child_watch import use_pidfd_child_watcher

log = logging.getLogger(__name__)

SANDBOX_HOME = "/home/user"

POSIX_PASSED = frozenset({
    "PATH", "LANG", "LANGUAGE", "TZ", "TERM", "COLORTERM", "USER", "LOGNAME", "TMPDIR",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
})
"""Variables of the app's environment a POSIX command gets (plus ``LC_*``)."""

WINDOWS_PASSED = frozenset({
    "PATH", "PATHEXT", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "TEMP", "TMP", "USERNAME",
    "USERDOMAIN", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "APPDATA", "LOCALAPPDATA", "PROGRAMDATA",
    "PROGRAMFILES", "PROGRAMFILES(X86)", "PROGRAMW6432", "COMMONPROGRAMFILES", "COMMONPROGRAMFILES(X86)",
    "COMMONPROGRAMW6432", "PUBLIC", "ALLUSERSPROFILE", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE",
    "PROCESSOR_IDENTIFIER", "OS", "PSMODULEPATH", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
})
"""Variables of the app's environment a Windows command gets (names compared in upper case)."""

APP_SECRETS = frozenset({"E2B_API_KEY", "E2B_ACCESS_TOKEN"})
"""The app's own secrets: never in a command's environment, whatever else is passed."""

SYSTEM_FOLDERS = frozenset({"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/nix", "/opt",
                            "/proc", "/run", "/sbin", "/srv", "/sys", "/usr", "/var"})
"""Folders never hidden, whoever calls them home (``nobody``'s home is ``/nonexistent`` or ``/``)."""

ALREADY_EMPTY = ("/tmp", "/home")
"""Mounted empty in every isolated sandbox before anything else."""


def command_environment(environ: Mapping[str, str], session_envs: Mapping[str, str], home: str,
                        os_name: str | None = None) -> dict[str, str]:
    """The environment of a local command.

    Args:
        environ: the app's environment (``os.environ``).
        session_envs: the session's own variables (they win over the app's).
        home: the command's ``HOME`` (the session's home folder).
        os_name: ``os.name`` of the system the command runs on.
    """
    os_name = os.name if os_name is None else os_name
    if os_name == "nt":
        env = {name: value for name, value in environ.items() if name.upper() in WINDOWS_PASSED}
    else:
        env = {name: value for name, value in environ.items()
               if name in POSIX_PASSED or name.startswith("LC_")}
    env.update(session_envs)
    env["HOME"] = home
    for name in list(env):
        if name.upper() in APP_SECRETS:
            del env[name]
    return env


def folders_to_hide(*, home: str | None, runtime_dir: str | None, user_homes: Iterable[str],
                    app_folders: Iterable[str], exists: Callable[[str], bool] = os.path.isdir) -> list[str]:
    """The host folders an isolated command sees as empty, in mount order.

    ``/tmp`` and ``/home`` are always empty; the rest is listed only when it exists, is not a
    system folder, and is not already inside another hidden folder.

    Args:
        home: the user's home folder.
        runtime_dir: ``$XDG_RUNTIME_DIR`` (the session bus, the keyring's and agents' sockets).
        user_homes: home folders of the computer's (human) users.
        app_folders: the app's config, data and log folders.
    """
    candidates = ["/run/user", runtime_dir, home, *user_homes, *app_folders]
    hidden: list[str] = list(ALREADY_EMPTY)
    for raw in candidates:
        if not raw or not os.path.isabs(raw):
            continue
        path = os.path.normpath(raw)
        if path in SYSTEM_FOLDERS or not exists(path):
            continue
        pure = PurePosixPath(path)
        if any(pure == PurePosixPath(h) or PurePosixPath(h) in pure.parents for h in hidden):
            continue
        hidden.append(path)
    return hidden


def human_homes() -> list[str]:
    """Home folders of root and of the computer's people (uid 1000 and up), from the user database."""
    if sys.platform == "win32":
        return []
    import pwd

    return [entry.pw_dir for entry in pwd.getpwall() if entry.pw_uid == 0 or 1000 <= entry.pw_uid < 65534]


def host_folders_to_hide(app_folders: Sequence[str]) -> list[str]:
    """:func:`folders_to_hide` for this computer and user (reads the disk: call on an executor)."""
    def real(path: str | None) -> str | None:
        return os.path.realpath(path) if path and os.path.isabs(path) else path  # bwrap mounts on real paths

    return folders_to_hide(home=real(os.path.expanduser("~")), runtime_dir=real(os.environ.get("XDG_RUNTIME_DIR")),
                           user_homes=[h for h in map(real, human_homes()) if h],
                           app_folders=[f for f in map(real, app_folders) if f])


def bwrap_argv(bwrap: str, *, home: str, cwd: str, hidden: Sequence[str], command: Sequence[str]) -> list[str]:
    """The bubblewrap command line that runs ``command`` isolated.

    The root is read-only; ``hidden`` folders are empty (``/tmp`` and ``/home`` first, so
    the session's ``home`` can then appear as ``/home/user``); the command sees only its own
    processes and dies with the app. Paths to bind are read on the host, before any of this.
    The environment is bwrap's own (:func:`command_environment`): values on a command line
    would be readable by every user of the computer.
    """
    argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for folder in hidden:
        argv += ["--tmpfs", folder]
    argv += ["--bind", home, SANDBOX_HOME, "--unshare-pid", "--die-with-parent", "--chdir", cwd]
    argv += ["--setenv", "HOME", SANDBOX_HOME, "--setenv", "PWD", cwd, *command]
    return argv


async def bubblewrap_works() -> bool:
    """Whether ``bwrap`` is installed and can create the namespaces it needs here (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    use_pidfd_child_watcher()
    try:
        proc = await asyncio.create_subprocess_exec(
            bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
            "--die-with-parent", "true",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    except (OSError, TimeoutError):
        return False
    if proc.returncode != 0:
        log.warning("bubblewrap cannot isolate sessions here: %s", err.decode(errors="replace").strip())
    return proc.returncode == 0
