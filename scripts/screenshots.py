"""Screenshots for the README, grabbed offscreen from the real widgets.

    python scripts/screenshots.py [--out docs]

Runs the real main window and settings dialog with a private, empty configuration and a
private gnome-keyring (when gnome-keyring-daemon is installed), so no personal setting or key
can end up in a picture.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DEMO_TASK = r"""
import sys, time
E = "\x1b["
print(f"{E}1mSetting up the project{E}0m")
for i in range(0, 101, 10):
    sys.stdout.write(f"\r{E}36mInstalling{E}0m [{'#' * (i // 10):<10}] {i:3d}%"); sys.stdout.flush()
print()
print(f"{E}32m✔{E}0m 3 files checked, {E}33m1 warning{E}0m")
print(f"{E}2m  src/app.py:1{E}0m  {E}33mwarning{E}0m unused import")
print(f"Dev server ready at {E}4mhttp://localhost:5173{E}0m")
print("tests failed: 0", file=sys.stderr)
"""


def private_environment() -> Path:
    home = Path(tempfile.mkdtemp(prefix="sesame-shots-"))
    for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_STATE_HOME", ".local/state"), ("XDG_RUNTIME_DIR", "run")):
        (home / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        os.environ[var] = str(home / sub)
    for var in ("E2B_API_KEY", "SANDBOX_PROVIDER", "E2B_SANDBOX_TIMEOUT", "E2B_SANDBOX_TEMPLATE"):
        os.environ.pop(var, None)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return home


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    home = private_environment()
    sys.path.insert(0, str(REPO))

    keyring_service = None
    import shutil

    if shutil.which("gnome-keyring-daemon") and shutil.which("dbus-daemon"):
        import keyring
        import keyring.backends.SecretService

        from tests.fixtures.keyring_service import RunningSecretService

        keyring_service = RunningSecretService(home / "keyring")
        keyring_service.wait_ready()
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = keyring_service.address
        keyring.set_keyring(keyring.backends.SecretService.Keyring())

    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QApplication

    import qasync

    from sesame_desktop.app import ICON_PATH
    from sesame_desktop.core.config import Provider
    from sesame_desktop.core.sessions import FolderProject, SessionRequest, SessionState
    from sesame_desktop.core.paths import AppPaths
    from sesame_desktop.services.providers import Providers
    from sesame_desktop.services.secret_store import SecretStore
    from sesame_desktop.services.sessions import SessionManager
    from sesame_desktop.services.settings_service import SettingsService
    from sesame_desktop.ui.main_window import MainWindow
    from PySide6.QtGui import QIcon

    app = QApplication([])
    app.setWindowIcon(QIcon(str(ICON_PATH)))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    args.out.mkdir(parents=True, exist_ok=True)

    written = ["main-window.png", "settings.png", "session.png", "ports.png", "toolbar-header.png",
               "processes.png", "session-running.png", "session-small.png"]

    async def shoot() -> None:
        paths = AppPaths.under(home / "app")
        settings = SettingsService(paths, SecretStore(), environ={})
        sessions = SessionManager(Providers(settings, paths.data_dir / "workspaces"), lambda: settings.config)
        from sesame_desktop.services.choice_store import ChoiceStore
        from sesame_desktop.services.files import FileService
        from sesame_desktop.services.ports import PortService

        files, choices = FileService(sessions), ChoiceStore(paths.config_dir)
        from sesame_desktop.services.terminals import TerminalService

        window = MainWindow(settings, sessions, files=files, ports=PortService(sessions), choices=choices,
                            terminals=TerminalService(sessions), log_dir=paths.log_dir)
        window.allow_close()
        window.resize(1280, 800)
        window.show()
        await settings.load()
        window.show_welcome_if_new()
        await asyncio.sleep(0.2)
        window.grab().save(str(args.out / "main-window.png"))
        dialog = window.open_settings()
        while dialog.key_loading:
            await asyncio.sleep(0.05)
        dialog.adjustSize()
        await asyncio.sleep(0.2)
        dialog.grab().save(str(args.out / "settings.png"))
        dialog.reject()

        window.welcome.hide()
        project = home / "demo-project"
        (project / "src").mkdir(parents=True)
        (project / "src" / "app.py").write_text("print('hello')\n")
        (project / "README.md").write_text("# Demo\n")
        (project / "package.json").write_text("{}\n")
        (project / "check.py").write_text(DEMO_TASK)
        snapshot = sessions.start_session(SessionRequest(
            "demo-project", Provider.LOCAL, FolderProject(project), task="python3 check.py"))
        window.select_session(snapshot.id)
        while sessions.snapshot(snapshot.id).state is not SessionState.IDLE:
            await asyncio.sleep(0.05)
        window.file_panel.tree.expand(window.file_panel.model.index(0, 0))
        await asyncio.sleep(0.8)
        window.grab().save(str(args.out / "session.png"))

        sessions.run_command(snapshot.id, "python3 -m http.server 8123 --bind 127.0.0.1", background=True)
        for _ in range(100):
            if window._ports.ports(snapshot.id):
                break
            await asyncio.sleep(0.05)
        window.side_tabs.setCurrentWidget(window.ports_view)
        await asyncio.sleep(0.3)
        window.side_tabs.grab().save(str(args.out / "ports.png"))

        # the toolbar and the session header while a command runs, a server in the background
        sessions.run_command(snapshot.id, "sleep 20")
        while not sessions.snapshot(snapshot.id).running:
            await asyncio.sleep(0.05)
        window.side_tabs.setCurrentWidget(window.processes_view)
        window.processes_view.select_command("python3 -m http.server 8123 --bind 127.0.0.1")
        await asyncio.sleep(0.4)
        bottom = window.session_panel.views.mapTo(window, QPoint(0, 0)).y()
        window.grab(QRect(0, 0, window.width(), bottom + 4)).save(str(args.out / "toolbar-header.png"))
        window.side_tabs.grab().save(str(args.out / "processes.png"))
        window.grab().save(str(args.out / "session-running.png"))
        window.resize(760, 480)  # the smallest window: nothing cut, nothing overlapping
        await asyncio.sleep(0.4)
        window.grab().save(str(args.out / "session-small.png"))
        window.resize(1280, 800)
        sessions.interrupt(snapshot.id)
        if keyring_service is not None:  # the agent's key goes in the (private) keyring
            from scripts.screenshot_agent import shoot_agent

            written.extend(await shoot_agent(window, sessions, settings, home, args.out))
        await sessions.close()
        await window.aclose()
        await files.aclose()
        await choices.aclose()
        window.close()

    try:
        with loop:
            loop.run_until_complete(shoot())
    finally:
        if keyring_service is not None:
            keyring_service.stop()
    print(f"wrote {', '.join(written)} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
