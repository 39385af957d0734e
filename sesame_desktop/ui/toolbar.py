"""The main toolbar (New Session and the selected session's actions) and the session list's menu.

The session actions act through the session panel's own buttons, so the toolbar, the list's
context menu and the header always agree on what a session can do now: an action is shown
and enabled exactly when the matching header button is.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QListView, QMenu, QToolBar, QWidget

from sesame_desktop.core.sessions import SessionSnapshot
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.ui.session_panel import SessionPanel


class SessionActions:
    """One ``QAction`` per header button of the session panel, kept in step with it.

    Attributes:
        stop, end, extend, resume, restart, retry: the actions, in toolbar order.
    """

    def __init__(self, panel: SessionPanel, manager: SessionManager, owner: QWidget) -> None:
        self._panel = panel
        self.stop = self._action("Stop", panel.stop_button, owner, "Stop the running command")
        self.stop.setShortcut(QKeySequence("Ctrl+."))
        self.end = self._action("End Session", panel.end_button, owner, "Save the work, then end the sandbox")
        self.end.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.extend = self._action("Extend", panel.extend_button, owner,
                                   "Give the sandbox its full lifetime again, from now")
        self.resume = self._action("Resume", panel.resume_button, owner, "Wake the paused sandbox")
        self.restart = self._action("Restart Here", panel.restart_button, owner,
                                    "Continue this local session in its workspace")
        self.retry = self._action("Retry", panel.retry_button, owner, "Start this session again")
        self._buttons = {self.stop: panel.stop_button, self.end: panel.end_button,
                         self.extend: panel.extend_button, self.resume: panel.resume_button,
                         self.restart: panel.restart_button, self.retry: panel.retry_button}
        for action in self._buttons:
            owner.addAction(action)  # shortcuts work wherever the focus is in the window
        manager.session_changed.connect(self._on_manager_session_changed)
        manager.session_removed.connect(self._on_manager_session_removed)
        self.sync()

    @staticmethod
    def _action(text: str, button: QAbstractButton, owner: QWidget, tip: str) -> QAction:
        action = QAction(text, owner)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(button.click)
        return action

    def all(self) -> tuple[QAction, ...]:
        return tuple(self._buttons)

    def sync(self) -> None:
        """Show and enable each action as its header button is (hidden buttons: hidden actions)."""
        has_session = self._panel.session_id is not None
        for action, button in self._buttons.items():
            action.setVisible(has_session and not button.isHidden())
            action.setEnabled(has_session and button.isEnabled() and not button.isHidden())

    @Slot(object)
    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        if snapshot.id == self._panel.session_id:
            self.sync()

    @Slot(str)
    def _on_manager_session_removed(self, _session_id: str) -> None:
        self.sync()


def build_toolbar(new_session: QAction, actions: SessionActions, parent: QWidget) -> QToolBar:
    """New Session first, then the selected session's actions; text beside icons, not movable."""
    toolbar = QToolBar("Main", parent)
    toolbar.setObjectName("mainToolBar")
    toolbar.setMovable(False)
    toolbar.setFloatable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    toolbar.addAction(new_session)
    toolbar.addSeparator()
    for action in actions.all():
        toolbar.addAction(action)
    return toolbar


class SessionListMenu:
    """The session list's context menu: the clicked session's actions (it is selected first)."""

    def __init__(self, view: QListView, actions: SessionActions, extra: tuple[QAction, ...] = ()) -> None:
        self._view = view
        self._actions = actions
        self._extra = extra
        self.menu: QMenu | None = None
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._on_view_custom_context_menu_requested)

    def build(self, index: QModelIndex) -> QMenu | None:
        if not index.isValid():
            return None
        self._view.setCurrentIndex(index)
        self._actions.sync()
        menu = QMenu(self._view)
        for action in self._actions.all():
            if action.isVisible():
                menu.addAction(action)
        if self._extra:
            menu.addSeparator()
            for action in self._extra:
                menu.addAction(action)
        self.menu = menu
        return menu

    @Slot(QPoint)
    def _on_view_custom_context_menu_requested(self, pos: QPoint) -> None:
        menu = self.build(self._view.indexAt(pos))
        if menu is not None:
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self._view.viewport().mapToGlobal(pos))
