"""Start-up and shut-down of Sesame Desktop.

Order of start-up:

1. Parse the command line (``--config``, ``--base-dir``, ``--quit-after-start``, ``--smoke``:
   see :mod:`sesame_desktop.smoke`).
2. Set up logging to the user's log folder (secrets scrubbed from every line).
3. Create the ``QApplication``; build the main window's frame (:meth:`MainWindow.frame`: the
   session list, the toolbar, empty-state hints, a status bar saying "Loading…"), show it and
   let Qt paint it. Nothing else is imported before that (``tests/test_startup_imports.py``
   holds the list): the window is on the screen in under twice the time a bare PySide6
   window takes (``bench/startup.py``).
4. Import asyncio and qasync and create the event loop; install ``sys.excepthook`` and the
   loop's exception handler, which log and show a non-modal message: the app keeps running.
   Then build the services and hand them to the window (:meth:`MainWindow.attach`).
5. Build the session workspace (console, terminal, files, ports, agent tabs) in the
   background, one part per turn of the event loop (:mod:`sesame_desktop.ui.workspace`), and
   load the configuration on an executor (files, keyring; a ``config.json`` key moves into the
   keyring); greet a new user.
6. Restore the sessions of earlier runs (reattaching to their sandboxes), then look for
   sandboxes of this app that no session knows.
7. Run until Quit or the window is closed; with sessions open, ask first (End all, Pause
   all or Cancel). Then end or pause the sessions (confirmed) and close the window within a
   time limit, so quitting never hangs; what is not confirmed is retried at the next start.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

import sesame_desktop
from sesame_desktop import APP_ID, APP_NAME
from sesame_desktop.core.logs import setup_logging, teardown_logging
from sesame_desktop.core.paths import AppPaths
from sesame_desktop.ui.main_window import MainWindow

# The first window is shown before these are imported (see main() and
# tests/test_startup_imports.py): asyncio and qasync, the services, the session workspace.
if TYPE_CHECKING:
    from sesame_desktop.services.session_lifecycle import QuitChoice
    from sesame_desktop.ui.messages import MessageCenter

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 10.0
FIRST_PAINT_WAIT_S = 1.0
ICON_PATH = Path(__file__).with_name("resources") / "sesame-desktop.svg"


class _Parser(argparse.ArgumentParser):
    """Names the version only when asked for help or for the version (see ``sesame_desktop.__getattr__``)."""

    def format_help(self) -> str:
        self.description = f"{APP_NAME} {sesame_desktop.__version__}"
        return super().format_help()


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        print(f"{parser.prog} {sesame_desktop.__version__}")
        parser.exit()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = _Parser(prog="sesame-desktop", description=APP_NAME)
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="a Sesame-style config.json (default: config.json in the user's config folder)")
    parser.add_argument("--base-dir", type=Path, metavar="DIR",
                        help="keep config, data and logs under DIR instead of the user's folders")
    parser.add_argument("--quit-after-start", action="store_true",
                        help="quit as soon as the window is shown and the settings are loaded")
    parser.add_argument("--smoke", action="store_true",
                        help="check the window, the keyring and a local session, print one line per "
                             "step and exit with a bitmask of the failed steps (see sesame_desktop/smoke.py)")
    parser.add_argument("--script", type=Path, metavar="FILE",
                        help="run a scripted session plan (JSON, see sesame_desktop/scripted.py); for tests")
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    return parser.parse_args(argv)


class Application:
    """Holds the parts for one run of the app and drives start-up and shut-down.

    Attributes:
        window: the main window.
        settings: the settings service.
        messages: where errors are shown.
        after_paint: when :func:`main` built the services after the window's first paint: how
            long after it they were ready (imports included), and the longest stretch of it the
            window handled no input (seconds).
    """

    def __init__(self, qapp: QApplication, paths: AppPaths, config_path: Path | None,
                 window: MainWindow | None = None) -> None:
        """Build the services and hand them to ``window`` (one :meth:`MainWindow.frame` already
        shown), or to a main window made here."""
        import asyncio

        from sesame_desktop.services.choice_store import ChoiceStore
        from sesame_desktop.services.files import FileService
        from sesame_desktop.services.leftovers import LeftoverSandboxes
        from sesame_desktop.services.ports import PortService
        from sesame_desktop.services.providers import Providers
        from sesame_desktop.services.secret_store import SecretStore
        from sesame_desktop.services.session_store import SessionStore
        from sesame_desktop.services.sessions import SessionManager
        from sesame_desktop.services.settings_service import SettingsService
        from sesame_desktop.services.terminals import TerminalService

        self.qapp = qapp
        self.paths = paths
        self.settings = SettingsService(paths, SecretStore(), config_path=config_path)
        providers = Providers(self.settings, paths.workspaces_dir, private_folders=paths.private_folders)
        self.sessions = SessionManager(providers, lambda: self.settings.config, store=SessionStore(paths.data_dir))
        self.leftovers = LeftoverSandboxes(providers, self.sessions)
        self.files = FileService(self.sessions)
        self.ports = PortService(self.sessions)
        self.choices = ChoiceStore(paths.config_dir)
        self.terminals = TerminalService(self.sessions)
        self.ports.ports_changed.connect(
            lambda session_id, infos: self.sessions.record_ports(session_id, tuple(i.port for i in infos)))
        if window is None:
            window = MainWindow(self.settings, self.sessions, files=self.files, ports=self.ports,
                                choices=self.choices, terminals=self.terminals, log_dir=paths.log_dir)
        else:
            window.attach(self.settings, self.sessions, files=self.files, ports=self.ports, choices=self.choices,
                          terminals=self.terminals)
        self.window = window
        self.window.setWindowIcon(qapp.windowIcon())
        self.messages: MessageCenter = self.window.messages
        self.leftovers.found.connect(
            lambda found: self.window.offer_to_end_leftovers(found, self.leftovers.end, self.leftovers.adopt))
        self.leftovers.ended.connect(
            lambda n: self.window.statusBar().showMessage(f"Stopped {n} sandbox{'es' if n != 1 else ''}", 8000))
        self.leftovers.problem.connect(self.messages.show_message)
        self.after_paint: tuple[float, float] | None = None
        self._quit = asyncio.Event()
        self.window.quit_requested.connect(self._quit.set)
        if self.window.quit_asked:  # Quit chosen while the services were still being built
            self._quit.set()

    def request_quit(self) -> None:
        self._quit.set()

    async def run(self, *, quit_after_start: bool = False, script: Path | None = None) -> int:
        from sesame_desktop.services.session_lifecycle import QuitChoice

        started = time.monotonic()
        self.window.show()
        # The rest waits for the first paint: the workspace builds in the background, the
        # settings (keyring) load on their thread, neither in the way of the first window.
        if not await self.window.wait_painted(FIRST_PAINT_WAIT_S):
            log.info("the window was not painted within %.1f s; going on", FIRST_PAINT_WAIT_S)
        self.window.workspace.start()
        if await self._load_unless_quit():
            # What start-up built lives as long as the app: keep it out of every later full
            # garbage collection (they otherwise cost 5-12 ms of the GUI's frame budget). Done
            # once the window shows: the collection itself takes 20-30 ms.
            gc.collect()
            gc.freeze()
            self.window.show_welcome_if_new()
            restored = await self.sessions.restore()
            self.window.sessions_known()
            if restored:
                log.info("restored %d sessions", restored)
            self.leftovers.check()
            QApplication.setApplicationVersion(sesame_desktop.__version__)  # not needed by the first window
            log.info("%s %s started", APP_NAME, sesame_desktop.__version__)
            if script is not None:
                from sesame_desktop.scripted import run_script  # tests only

                if await run_script(self, script, started):
                    quit_after_start = True
        if quit_after_start:
            self._quit.set()
        choice: QuitChoice | None = QuitChoice.END_ALL
        while True:
            await self._quit.wait()
            self._quit.clear()
            choice = QuitChoice.END_ALL if quit_after_start else await self.window.confirm_quit()
            if choice is not None:
                break
        await self.shutdown(choice)
        return 0

    async def _load_unless_quit(self) -> bool:
        """Load the settings; a quit asked for meanwhile (a keyring that never answers) wins."""
        import asyncio

        load = asyncio.ensure_future(self.settings.load())
        quit_asked = asyncio.ensure_future(self._quit.wait())
        try:
            await asyncio.wait({load, quit_asked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            quit_asked.cancel()
        if load.done():
            load.result()
            return True
        log.info("quit before the settings finished loading")
        load.cancel()
        await asyncio.wait({load})
        return False

    async def aclose(self) -> None:
        """Close every service this app built (after the sessions closed), and the window's own work."""
        await self.leftovers.aclose()
        await self.window.aclose()
        await self.files.aclose()
        await self.choices.aclose()
        await self.terminals.aclose()

    async def shutdown(self, choice: QuitChoice | None = None) -> None:
        """End (or pause) open sessions and close the window, within a time limit (by default End All)."""
        import asyncio

        from sesame_desktop.services.session_lifecycle import QuitChoice

        choice = QuitChoice.END_ALL if choice is None else choice
        log.info("shutting down")
        open_sessions = len(self.sessions.open_sessions())
        if open_sessions:
            verb = "Pausing" if choice is QuitChoice.PAUSE_ALL else "Saving the work and ending"
            self.window.statusBar().showMessage(f"{verb} {open_sessions} session{'s' if open_sessions > 1 else ''}…")
        try:
            unconfirmed = await asyncio.wait_for(self.sessions.close(timeout=SHUTDOWN_TIMEOUT_S - 2, choice=choice),
                                                 timeout=SHUTDOWN_TIMEOUT_S)
            if unconfirmed:
                log.warning("not confirmed at quit (retried at the next start): %s", ", ".join(unconfirmed))
            await asyncio.wait_for(self.aclose(), timeout=2)
        except TimeoutError:
            log.warning("shut-down took longer than %.0f s; quitting anyway", SHUTDOWN_TIMEOUT_S)
        self.window.allow_close()
        self.window.close()


def wait_for_first_paint(window: MainWindow, timeout_s: float) -> bool:
    """Run Qt's event loop until ``window`` (shown) has been painted, at most ``timeout_s``.

    Used once, before the app's own (asyncio) loop exists: the window is on the screen while
    the rest of the app is imported and built.
    """
    if window.painted:
        return True
    waiter = QEventLoop()
    window.first_painted.connect(waiter.quit)
    QTimer.singleShot(int(timeout_s * 1000), waiter, waiter.quit)
    waiter.exec()
    window.first_painted.disconnect(waiter.quit)
    waiter.deleteLater()
    if not window.painted:
        log.info("the window was not painted within %.1f s; going on", timeout_s)
    return window.painted


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    smoke_dir = None
    if args.smoke and not args.base_dir:  # a smoke run leaves nothing behind
        smoke_dir = tempfile.TemporaryDirectory(prefix="sesame-smoke-", ignore_cleanup_errors=True)
        args.base_dir = Path(smoke_dir.name)
    paths = AppPaths.under(args.base_dir.resolve()) if args.base_dir else AppPaths.default()
    setup_logging(paths.log_file)
    log.info("log file: %s", paths.log_file)

    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(APP_NAME)
    QApplication.setDesktopFileName(APP_ID)
    qapp = QApplication(sys.argv[:1])
    qapp.setQuitOnLastWindowClosed(False)
    qapp.setWindowIcon(QIcon(str(ICON_PATH)))

    # The window first: shown and painted before asyncio, qasync and the services are imported.
    window = MainWindow.frame(paths.config_dir, paths.log_dir)
    window.setWindowIcon(qapp.windowIcon())
    sys.excepthook = window.messages.excepthook
    if args.smoke:
        from sesame_desktop.smoke import WINDOW_TIMEOUT_S, run_smoke, window_step
    shown = time.monotonic()
    window.show()
    wait_for_first_paint(window, WINDOW_TIMEOUT_S if args.smoke else FIRST_PAINT_WAIT_S)
    if args.smoke:  # its line marks the moment the window is painted (bench/startup.py times it)
        window_failed = window_step(window, shown)
    painted = time.perf_counter()

    import asyncio

    import qasync  # after PySide6: qasync picks its Qt binding at import

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(window.messages.loop_exception_handler)
    imported = time.perf_counter()

    async def start() -> int:
        await asyncio.sleep(0)  # the window handles what came in meanwhile, then the services are built
        built = time.perf_counter()
        app = Application(qapp, paths, args.config, window=window)
        done = time.perf_counter()
        app.after_paint = (done - painted, max(imported - painted, done - built))
        log.info("services built %.0f ms after the first paint (longest block %.0f ms)",
                 app.after_paint[0] * 1000, app.after_paint[1] * 1000)
        sys.excepthook = app.messages.excepthook
        if hasattr(signal, "SIGTERM") and os.name == "posix":
            loop.add_signal_handler(signal.SIGTERM, app.request_quit)
            loop.add_signal_handler(signal.SIGINT, app.request_quit)
        if args.smoke:
            return await run_smoke(app, window_failed)
        return await app.run(quit_after_start=args.quit_after_start, script=args.script)

    try:
        with loop:
            code = loop.run_until_complete(start())
    finally:
        sys.excepthook = sys.__excepthook__
        teardown_logging()
        if smoke_dir is not None:
            smoke_dir.cleanup()
    return code
