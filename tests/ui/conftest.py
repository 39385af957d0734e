"""Building the real main window over real services for UI tests."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from sesame_desktop.core.paths import AppPaths
from sesame_desktop.services.choice_store import ChoiceStore
from sesame_desktop.services.files import FileService
from sesame_desktop.services.ports import PortService
from sesame_desktop.services.providers import Providers
from sesame_desktop.services.secret_store import SecretStore
from sesame_desktop.services.session_store import SessionStore
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.settings_service import SettingsService
from sesame_desktop.services.terminals import TerminalService
from sesame_desktop.ui.console import ConsoleView
from sesame_desktop.ui.main_window import MainWindow
from sesame_desktop.ui.url_opener import SafeUrlOpener


@pytest.fixture
def app_paths(tmp_path) -> AppPaths:
    return AppPaths.under(tmp_path / "app")


@pytest.fixture
def make_window(qtbot, run_async, app_paths) -> Callable[..., MainWindow]:
    """``make_window(environ={...}, config={...})``: a loaded main window, shown."""

    def make(environ: dict[str, str] | None = None, config: dict | str | None = None,
             store: bool = False) -> MainWindow:
        if config is not None:
            app_paths.config_dir.mkdir(parents=True, exist_ok=True)
            text = config if isinstance(config, str) else json.dumps(config, indent=2)
            app_paths.config_file.write_text(text)
        settings = SettingsService(app_paths, SecretStore(), environ=environ or {})
        manager = SessionManager(Providers(settings, app_paths.data_dir / "workspaces"), lambda: settings.config,
                                 store=SessionStore(app_paths.data_dir) if store else None)
        files, choices = FileService(manager), ChoiceStore(app_paths.config_dir)
        terminals = TerminalService(manager)
        window = MainWindow(settings, manager, files=files, ports=PortService(manager), choices=choices,
                            terminals=terminals, log_dir=app_paths.log_dir)
        window.allow_close()

        def shut_down(_window: MainWindow) -> None:
            """As the app quits (Application.aclose): sessions end first, then the window's work, then the services."""
            run_async(manager.close())
            run_async(window.aclose())
            run_async(files.aclose())
            run_async(choices.aclose())
            run_async(terminals.aclose())

        qtbot.addWidget(window, before_close_func=shut_down)
        window.show()
        run_async(settings.load())
        window.show_welcome_if_new()
        return window

    return make


class _UrlCatcher(QObject):
    """Receives what ``QDesktopServices.openUrl`` would hand to the browser."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def url_catcher():
    catcher = _UrlCatcher()
    schemes = ("http", "https", "file", "javascript")  # the last two must never be opened
    for scheme in schemes:
        QDesktopServices.setUrlHandler(scheme, catcher, "open")
    yield catcher
    for scheme in schemes:
        QDesktopServices.unsetUrlHandler(scheme)


@pytest.fixture
def view(qtbot) -> ConsoleView:
    """A shown console with the safe URL opener (console tests)."""
    console = ConsoleView(url_opener=SafeUrlOpener())
    qtbot.addWidget(console)
    console.resize(800, 400)
    console.show()
    qtbot.waitExposed(console)
    return console
