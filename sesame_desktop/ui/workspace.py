"""The session workspace: what the main window shows of the selected session.

The session panel (console, terminal, processes' header), the file panel, the Ports and
Processes tabs, the agent tabs (Transcript, Changes, notifications) and the session actions
of the toolbar. None of it is needed to show the first window with no session, and it is
the larger part of the app's code: the window is shown first, with empty-state hints where
these go, and the workspace is built afterwards, one part per turn of the event loop (so
input is handled between parts), started by the app once the window has been painted and
has its services (:meth:`Workspace.start`). Whatever needs it earlier builds the rest at once
(:meth:`Workspace.ensure`): the session manager asks before its first session is added,
because the parts built here follow sessions from their start.
"""

from __future__ import annotations

import functools
import importlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from sesame_desktop.core.preview_links import preview_link
from sesame_desktop.ui.window_parts import replace_tab

if TYPE_CHECKING:
    from sesame_desktop.services.files import FileService
    from sesame_desktop.services.ports import PortService
    from sesame_desktop.services.sessions import SessionManager
    from sesame_desktop.services.settings_service import SettingsService
    from sesame_desktop.services.terminals import TerminalService
    from sesame_desktop.ui.agent_tabs import AgentTabs
    from sesame_desktop.ui.file_panel import FilePanel
    from sesame_desktop.ui.main_window import MainWindow
    from sesame_desktop.ui.ports_view import PortNotice, PortsView
    from sesame_desktop.ui.processes_view import ProcessesView
    from sesame_desktop.ui.session_panel import SessionPanel
    from sesame_desktop.ui.toolbar import SessionActions, SessionListMenu

log = logging.getLogger(__name__)


def _imports(*modules: str) -> list[Callable[[], object]]:
    """One building step per module: importing it (and what it imports)."""
    return [functools.partial(importlib.import_module, name) for name in modules]


class Workspace(QObject):
    """Builds the session parts of ``window`` (in steps, or at once) and routes the selection.

    Attributes:
        session_panel, file_panel, ports_view, processes_view, agent_tabs, port_notice,
        session_actions, session_menu: the parts, None until built.
        step_times: how long each building step took (seconds), in order.

    Signals:
        built(): every part is built.
    """

    built = Signal()

    def __init__(self, window: MainWindow, sessions: SessionManager, *, files: FileService, ports: PortService,
                 terminals: TerminalService, settings: SettingsService) -> None:
        super().__init__(window)
        self._window = window
        self._sessions = sessions
        self._files = files
        self._ports = ports
        self._terminals = terminals
        self._settings = settings
        self.session_panel: SessionPanel | None = None
        self.file_panel: FilePanel | None = None
        self.ports_view: PortsView | None = None
        self.processes_view: ProcessesView | None = None
        self.agent_tabs: AgentTabs | None = None
        self.port_notice: PortNotice | None = None
        self.session_actions: SessionActions | None = None
        self.session_menu: SessionListMenu | None = None
        self._shown_once = False
        self.step_times: list[float] = []
        # Each step is short (the window handles input between them): the larger modules are
        # imported in steps of their own before the parts that use them are built.
        self._steps: list[Callable[[], object]] = [
            *_imports("sesame_desktop.core.terminal", "sesame_desktop.ui.console", "sesame_desktop.ui.terminal_tab"),
            self._build_session_panel,
            *_imports("sesame_desktop.ui.file_tree_model"),
            self._build_file_panel,
            self._build_side_views,
            *_imports("sesame_desktop.ui.changes_view", "sesame_desktop.services.transcripts"),
            self._build_agent_tabs,
        ]
        self._started = False
        self._closed = False

    @property
    def done(self) -> bool:
        return not self._steps

    @property
    def session_id(self) -> str | None:
        """The session shown, None before one is (or before the workspace is built)."""
        return self.session_panel.session_id if self.session_panel is not None else None

    def start(self) -> None:
        """Build the parts in the background: one step per turn of the event loop."""
        if not self._started and not self._closed:
            self._started = True
            QTimer.singleShot(0, self, self._on_step_timer_timeout)

    def ensure(self) -> None:
        """Build whatever is not built yet, now."""
        while self._steps and not self._closed:
            self._run_step()

    def show_session(self, session_id: str) -> None:
        """The selected session changed: every part shows it."""
        self.ensure()
        assert self.session_panel and self.file_panel and self.ports_view and self.agent_tabs
        assert self.processes_view and self.session_actions
        self.session_panel.show_session(session_id)
        self._window.files_view.set_empty(not self.file_panel.show_session(session_id))
        self.ports_view.show_session(session_id)
        self.agent_tabs.show_session(session_id)
        self.processes_view.show_session(session_id)
        self.session_actions.sync()
        if not self._shown_once:  # some views need more room once they show a session
            self._shown_once = True
            self._window.window_state.keep_minimums()

    async def aclose(self) -> None:
        """Stop building, and stop the parts' own work."""
        self._closed = True
        if self.agent_tabs is not None:
            await self.agent_tabs.aclose()
        if self.file_panel is not None:
            await self.file_panel.aclose()
        if self.processes_view is not None:
            await self.processes_view.aclose()

    # -- building ---------------------------------------------------------------------------

    def _run_step(self) -> None:
        step = self._steps.pop(0)
        started = time.perf_counter()
        step()
        self.step_times.append(time.perf_counter() - started)
        log.debug("workspace: %s took %.1f ms", getattr(step, "__name__", step), self.step_times[-1] * 1000)
        if not self._steps:
            log.info("workspace built in %.0f ms (longest step %.0f ms)",
                     sum(self.step_times) * 1000, max(self.step_times) * 1000)
            self._window.window_state.keep_minimums()  # the panes now hold the session's views
            self.built.emit()

    @Slot()
    def _on_step_timer_timeout(self) -> None:
        if self._steps and not self._closed:
            self._run_step()
        if self._steps and not self._closed:
            QTimer.singleShot(0, self, self._on_step_timer_timeout)

    def _build_session_panel(self) -> None:
        from sesame_desktop.ui.session_panel import SessionPanel
        from sesame_desktop.ui.toolbar import SessionActions, SessionListMenu

        window = self._window
        panel = self.session_panel = SessionPanel(self._sessions, window.url_opener, terminals=self._terminals)
        panel.problem.connect(window.messages.show_message)
        panel.session_started.connect(window.select_session)
        panel.apply_requested.connect(window.apply_work_later)
        panel.settings_requested.connect(window.open_settings)
        panel.console.link_rewriter = self._preview_link
        window.console_view.set_view(panel)
        actions = self.session_actions = SessionActions(panel, self._sessions, window)
        window.toolbar.addActions(list(actions.all()))
        self.session_menu = SessionListMenu(window.session_list, actions,
                                            (panel.rename_action, panel.duplicate_action, panel.remove_action))

    def _build_file_panel(self) -> None:
        from sesame_desktop.ui.file_panel import FilePanel

        window = self._window
        panel = self.file_panel = FilePanel(self._sessions, self._files)
        panel.problem.connect(window.messages.show_message)
        panel.status.connect(lambda text: window.statusBar().showMessage(text, 6000))
        window.files_view.set_view(panel)
        self._sessions.sandbox_ready.connect(self._on_sessions_sandbox_ready)

    def _build_side_views(self) -> None:
        from sesame_desktop.ui.ports_view import PortNotice, PortsView
        from sesame_desktop.ui.processes_view import ProcessesView

        window = self._window
        self.ports_view = PortsView(self._ports, window.url_opener)
        replace_tab(window.side_tabs, window.ports_page, self.ports_view)
        self.processes_view = ProcessesView(self._sessions, self._ports)
        replace_tab(window.side_tabs, window.processes_page, self.processes_view)
        self.port_notice = PortNotice(self._ports, window.url_opener)
        window.statusBar().insertPermanentWidget(0, self.port_notice)

    def _build_agent_tabs(self) -> None:
        from sesame_desktop.ui.agent_tabs import AgentTabs
        from sesame_desktop.ui.window_parts import HintedView

        window = self._window
        assert self.session_panel is not None
        agent_tabs = self.agent_tabs = AgentTabs(
            window, self._sessions, self._settings, window.url_opener, hinted=HintedView,
            show_message=window.messages.show_message, select_session=window.select_session,
            apply_work=window.apply_work, focus_console=self.session_panel.console.setFocus)
        side = window.side_tabs
        current = side.currentIndex()
        for page in (window.transcript_page, window.changes_page):  # their places, at the end
            side.removeTab(side.indexOf(page))
            page.deleteLater()
        agent_tabs.add_to(side)
        side.setCurrentIndex(current)

    # -- routing ----------------------------------------------------------------------------

    def _preview_link(self, url: str) -> str:
        """A printed local URL on the selected session's preview URL for its port (Ports tab)."""
        session_id = self.session_id
        if session_id is None:
            return url
        return preview_link(url, {info.port: info.url for info in self._ports.ports(session_id)})

    @Slot(str)
    def _on_sessions_sandbox_ready(self, session_id: str) -> None:
        if session_id == self.session_id and self.file_panel is not None:
            self._window.files_view.set_empty(not self.file_panel.show_session(session_id))
