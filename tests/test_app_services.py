"""One owner for service lifetimes: Application builds every service and closes them all."""

from __future__ import annotations

import inspect

import pytest

from sesame_desktop.app import Application
from sesame_desktop.core.paths import AppPaths
from sesame_desktop.services.terminals import TerminalService
from sesame_desktop.ui.main_window import MainWindow
from sesame_desktop.ui.session_panel import SessionPanel


def test_the_main_window_creates_no_service_of_its_own():
    params = inspect.signature(MainWindow.__init__).parameters
    for name in ("files", "ports", "choices", "terminals"):
        assert name in params and params[name].default is inspect.Parameter.empty, f"{name} must come from the app"
    panel = inspect.signature(SessionPanel.__init__).parameters
    assert "terminals" in panel and panel["terminals"].default is inspect.Parameter.empty


def test_the_window_uses_the_apps_terminal_service(qapp, qtbot, run_async, tmp_path):
    app = Application(qapp, AppPaths.under(tmp_path / "app"), None)
    app.window.allow_close()
    qtbot.addWidget(app.window)
    try:
        assert isinstance(app.terminals, TerminalService)
        assert app.window.session_panel.terminals._service is app.terminals
        assert app.terminals.parent() is None  # no widget owns (or deletes) it
    finally:
        run_async(app.sessions.close())
        run_async(app.aclose())


def test_application_closes_every_service_it_built(qapp, qtbot, run_async, tmp_path):
    app = Application(qapp, AppPaths.under(tmp_path / "app"), None)
    app.window.allow_close()
    qtbot.addWidget(app.window)
    run_async(app.settings.load())
    app.window.welcome.dismiss_button.click()  # starts window work (saving the choice)
    run_async(app.sessions.close())
    run_async(app.aclose())
    assert not app.window._tasks.tasks
    for owner in (app.files._tasks, app.leftovers._tasks, app.window._tasks, app.terminals._tasks):
        with pytest.raises(RuntimeError, match="closed"):
            owner.start(_noop())
    with pytest.raises(RuntimeError, match="closed"):
        app.choices._tasks.start(_noop())


async def _noop() -> None:
    return None
