"""Smoke mode (``sesame-desktop --smoke``): prove that this copy of the app really works.

Used on the packaged app (the frozen bundle, the installed ``.deb``, the Windows and macOS
installers) and from source by the tests. The app starts as usual, then runs three steps:

1. ``window`` — the real main window is shown (and exposed by the windowing system), with
   its title and its (SVG) icon rendering; then
   ``settings``: the configuration loads and the session workspace (console, files, ports,
   agent tabs), which the app builds after the window's first paint, is built, as in a
   normal start-up; the line says when the services were ready after the first paint and
   the workspace's build time, each with the longest the window did not answer input;
2. ``keyring`` — a throw-away secret is written to the OS keyring under
   :data:`SMOKE_SERVICE` (never the real API-key entry), read back and deleted, through the
   same secure-backend choice as the app's secret store (on an executor);
3. ``session`` — a local-provider sandbox is created in the app's data folder, runs
   ``echo sesame-smoke`` in the system's shell (bash on Linux and macOS, showing its library
   path: a frozen app's children must not inherit the bundle's; PowerShell or cmd on
   Windows) and is killed. Nothing in it is Linux-only: bubblewrap is used where it works.

Each step prints one line on stdout, ``smoke: <step>: ok (<detail>)`` or
``smoke: <step>: FAILED: <why>``, and the same line goes to the log. The exit status is a
bitmask of the failed steps (:class:`Failed`): 0 all passed, 1 window, 2 keyring, 4 session,
8 the rest of start-up (settings) or shut-down; for example 6 means the keyring and the session
failed. A crash before the steps run ends with a traceback and no ``smoke: result`` line.

Without ``--base-dir`` the run keeps its config, data and log in a temporary folder that is
removed at exit, so a smoke run leaves nothing behind.
"""

from __future__ import annotations

import enum
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtWidgets import QMainWindow, QWidget

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.logs import scrub

if TYPE_CHECKING:  # asyncio is imported where it is used: the window step runs before it is loaded
    from concurrent.futures import Executor

    from sesame_desktop.app import Application

log = logging.getLogger(__name__)

SMOKE_SERVICE = "sesame-desktop-smoke"
SMOKE_OUTPUT = b"sesame-smoke"
# The second line shows the library path the command sees: in a frozen app it must not be
# the bundle's (see packaging/pyi_rth_child_env.py). One command per kind of shell: the
# local step runs in the system's own (bash, or PowerShell/cmd on Windows).
# Keyed by ``ShellKind`` value (core/shells.py is imported with the session step: this module is
# imported before the window shows, and keeps that light; so are secrets and asyncio).
SMOKE_COMMANDS = {
    "posix": 'echo sesame-smoke; echo "library path: ${LD_LIBRARY_PATH-}${DYLD_LIBRARY_PATH-}"',
    "powershell": 'Write-Output sesame-smoke; Write-Output "PowerShell $($PSVersionTable.PSVersion)"',
    "cmd": "echo sesame-smoke",
}
SMOKE_COMMAND = SMOKE_COMMANDS["posix"]
WINDOW_TIMEOUT_S = 30.0
KEYRING_TIMEOUT_S = 60.0
SESSION_TIMEOUT_S = 60.0

T = TypeVar("T")


class Failed(enum.IntFlag):
    """Exit-status bits, one per step that failed."""

    WINDOW = 1
    KEYRING = 2
    SESSION = 4
    INTERNAL = 8


class SmokeFailure(Exception):
    """A step failed; the message says why in plain words."""


def report(step: str, failure: str | None, detail: str = "") -> None:
    """Print and log the one result line of ``step``."""
    if failure is None:
        line = f"smoke: {step}: ok" + (f" ({detail})" if detail else "")
    else:
        line = f"smoke: {step}: FAILED: {scrub(failure)}"
    log.info("%s", line)
    stream = sys.stdout
    if stream is not None:  # a windowed Windows build has no stdout unless it is redirected
        print(line, file=stream, flush=True)


async def _timed(awaitable: Awaitable[T], timeout_s: float, what: str) -> T:
    import asyncio

    try:
        return await asyncio.wait_for(awaitable, timeout_s)
    except TimeoutError:
        raise SmokeFailure(f"{what} did not finish within {timeout_s:.0f} s") from None


def check_window(window: QWidget, shown_at: float) -> str:
    """Step 1: the main window is a real, titled window, shown and exposed, its icon renders.

    Runs right after the window's first paint, before the rest of the app is built (see
    ``sesame_desktop.app.main``), so that its result line marks the moment the window is on the
    screen: ``bench/startup.py`` and ``bench/packaged_app.py`` time launch-to-window by it.
    """
    if not isinstance(window, QMainWindow):
        raise SmokeFailure(f"the main window is a {type(window).__name__}, not a QMainWindow")
    handle = window.windowHandle()
    if not (window.isVisible() and handle is not None and handle.isExposed()):
        raise SmokeFailure(f"the window was not exposed within {WINDOW_TIMEOUT_S:.0f} s")
    shown_after = time.monotonic() - shown_at
    if not window.windowTitle():
        raise SmokeFailure("the window has no title")
    if window.windowIcon().pixmap(64, 64).isNull():  # a frozen app without Qt's SVG plugins
        raise SmokeFailure("the window icon does not render (Qt's SVG icon plugin is missing?)")
    size = window.size()
    cpu = time.process_time()  # since the process started: bench/startup.py compares it too
    return (f"{window.windowTitle()!r} {size.width()}x{size.height()}, exposed {shown_after * 1000:.0f} ms after "
            f"show(), {cpu * 1000:.0f} ms of CPU")


def window_step(window: QWidget, shown_at: float) -> Failed:
    """Run and report :func:`check_window` (``shown_at``: when ``show()`` was called)."""
    try:
        detail = check_window(window, shown_at)
    except SmokeFailure as exc:
        report("window", str(exc))
        return Failed.WINDOW
    report("window", None, detail)
    return Failed(0)


async def load_settings(app: Application) -> str:
    """The rest of a normal start-up: the configuration loads (files, keyring) and the
    session workspace is built."""
    import asyncio

    workspace = app.window.workspace
    workspace.start()  # as a normal start-up does once the window is painted
    config = await _timed(app.settings.load(), KEYRING_TIMEOUT_S, "loading the settings")
    if not workspace.done:
        built = asyncio.get_running_loop().create_future()

        def on_built() -> None:
            if not built.done():
                built.set_result(None)

        workspace.built.connect(on_built)
        try:
            await _timed(built, WINDOW_TIMEOUT_S, "building the session workspace")
        finally:
            workspace.built.disconnect(on_built)
    steps = workspace.step_times
    services = "" if app.after_paint is None else (
        f"services ready {app.after_paint[0] * 1000:.0f} ms after the first paint, "
        f"longest block {app.after_paint[1] * 1000:.0f} ms; ")
    return (f"provider {config.provider.value.label}; {services}workspace built in {sum(steps) * 1000:.0f} ms, "
            f"longest step {max(steps) * 1000:.0f} ms")


async def keyring_round_trip(
    executor: Executor | None = None, *, timeout_s: float = KEYRING_TIMEOUT_S, service: str = SMOKE_SERVICE
) -> str:
    """Step 2: write, read back and delete a throw-away secret in the secure keyring backend.

    Runs the blocking keyring calls on ``executor`` (default: the loop's). Returns the
    backend's name.

    Raises:
        SmokeFailure: no secure backend, a keyring error, or the secret did not round-trip.
    """
    import asyncio

    import keyring.errors

    import secrets

    from sesame_desktop.services.secret_store import (
        secure_backend,
        translate_keyring_error,
    )

    def round_trip() -> str:
        backend = secure_backend()
        account = f"probe-{secrets.token_hex(4)}"
        value = secrets.token_urlsafe(24)
        backend.set_password(service, account, value)
        try:
            if backend.get_password(service, account) != value:
                raise SmokeFailure("the keyring returned a different secret than the one written")
        finally:
            backend.delete_password(service, account)
        if backend.get_password(service, account) is not None:
            raise SmokeFailure("the keyring still holds the secret after deleting it")
        return f"{type(backend).__module__}.{type(backend).__qualname__}"

    loop = asyncio.get_running_loop()
    try:
        return await _timed(loop.run_in_executor(executor, round_trip), timeout_s, "the keyring")
    except (SmokeFailure, asyncio.CancelledError):
        raise
    except (UserFacingError, keyring.errors.KeyringError) as exc:
        message = translate_keyring_error(exc).message
        raise SmokeFailure(f"{message.title}: {message.details or message.explanation}") from None


async def run_local_command(workspace_root: Path, *, timeout_s: float = SESSION_TIMEOUT_S) -> str:
    """Step 3: one command in a local-provider sandbox under ``workspace_root``."""
    from sesame_desktop.sandbox.base import SandboxSpec
    from sesame_desktop.sandbox.local import LocalProvider

    stdout = bytearray()
    stderr = bytearray()
    provider = LocalProvider(workspace_root)
    sandbox = await _timed(provider.create(SandboxSpec(session_id="smoke", name="smoke")), timeout_s,
                           "creating a local sandbox")
    command = SMOKE_COMMANDS[sandbox.shell.kind.value]
    try:
        result = await _timed(
            sandbox.run(command, on_stdout=stdout.extend, on_stderr=stderr.extend),
            timeout_s,
            f"running {command!r} in {sandbox.shell.name}",
        )
    finally:
        await _timed(sandbox.kill(), timeout_s, "ending the local sandbox")
    if result.exit_code != 0:
        raise SmokeFailure(f"{command!r} exited in {sandbox.shell.name} with {result.exit_code}: "
                           f"{bytes(stderr).decode(errors='replace').strip()[-300:]}")
    if SMOKE_OUTPUT not in stdout:
        raise SmokeFailure(f"{command!r} printed {bytes(stdout)[-300:]!r}, not {SMOKE_OUTPUT!r}")
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and sys.platform != "win32" and bundle.encode() in stdout:
        raise SmokeFailure(f"the command inherited the bundle's library path: {bytes(stdout)[-300:]!r}")
    isolation = ", isolated" if sandbox.isolated else ", not isolated"
    return f"a local command printed {SMOKE_OUTPUT.decode()!r} and exited 0 in {sandbox.shell.name}{isolation}"


async def _step(name: str, bit: Failed, check: Callable[[], Awaitable[str]]) -> Failed:
    import asyncio

    try:
        detail = await check()
    except asyncio.CancelledError:
        raise
    except SmokeFailure as exc:
        report(name, str(exc))
        return bit
    except Exception as exc:  # noqa: BLE001 - every failure becomes a result line, not a traceback
        log.exception("smoke step %s", name)
        report(name, f"{type(exc).__name__}: {exc}")
        return bit
    report(name, None, detail)
    return Failed(0)


async def run_smoke(app: Application, window: Failed) -> int:
    """Run the other steps on the started ``app`` (``window``: what :func:`window_step` found),
    shut it down, and return the exit status."""
    failed = Failed(0) | window
    failed |= await _step("settings", Failed.INTERNAL, lambda: load_settings(app))
    failed |= await _step("keyring", Failed.KEYRING, keyring_round_trip)
    failed |= await _step("session", Failed.SESSION,
                          lambda: run_local_command(app.paths.workspaces_dir))
    try:
        await app.shutdown()
    except Exception as exc:  # noqa: BLE001 - every failure becomes a result line, not a traceback
        log.exception("smoke: shut-down")
        report("shutdown", f"{type(exc).__name__}: {exc}")
        failed |= Failed.INTERNAL
    else:
        report("shutdown", None)
    names = ", ".join(bit.name.lower() for bit in Failed if bit in failed and bit.name)
    report("result", None if not failed else f"exit status {int(failed)} ({names})")
    return int(failed)
