"""The Processes tab: every command the selected session started, with Stop and Restart.

Foreground and background commands alike, newest first, each with its state and start time;
the ports a command's processes listen on are listed under it (local and E2B sessions), and
the session's other ports (a server started in the Terminal tab, say) under "Other ports".
Commands come from the user or an agent and may be any length: they are shown as plain text,
elided, with the whole command in the tooltip.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.ports import PortInfo
from sesame_desktop.core.session_words import plural
from sesame_desktop.core.sessions import SessionSnapshot
from sesame_desktop.services.ports import PortService
from sesame_desktop.services.session_processes import ProcessInfo
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.tasks import TaskGroupOwner

log = logging.getLogger(__name__)

COLUMNS = ("Command", "Kind", "State", "Started")
PID_ROLE = Qt.ItemDataRole.UserRole
PORT_ROLE = Qt.ItemDataRole.UserRole + 1
OTHER_PORTS = "Other ports"


def started_words(started_at: float, now: float | None = None) -> str:
    """``14:03:12`` today, with the date before when it was not today."""
    now = time.time() if now is None else now
    if time.strftime("%Y-%m-%d", time.localtime(started_at)) == time.strftime("%Y-%m-%d", time.localtime(now)):
        return time.strftime("%H:%M:%S", time.localtime(started_at))
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(started_at))


class ProcessesView(QWidget):
    """The selected session's commands; Stop and Restart act on the selected one."""

    def __init__(self, manager: SessionManager, ports: PortService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._ports = ports
        self._session_id: str | None = None
        self._owners: dict[int, frozenset[int]] = {}  # pid -> its ports, where known
        self._tasks = TaskGroupOwner("processes-view")
        self.tree = QTreeWidget()
        self.tree.setObjectName("processesTree")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(self._on_tree_current_item_changed)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the selected command (Ctrl+C first, by force if it does not stop)")
        self.stop_button.clicked.connect(self._on_stop_button_clicked)
        self.restart_button = QPushButton("Restart")
        self.restart_button.setToolTip("Stop the selected command if it runs, then start it again")
        self.restart_button.clicked.connect(self._on_restart_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.restart_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        manager.commands_changed.connect(self._on_manager_commands_changed)
        manager.session_changed.connect(self._on_manager_session_changed)
        manager.session_removed.connect(self._on_manager_session_removed)
        if ports is not None:
            ports.ports_changed.connect(self._on_ports_ports_changed)
        self._refresh()

    @property
    def session_id(self) -> str | None:
        return self._session_id

    def show_session(self, session_id: str | None) -> None:
        self._session_id = session_id
        self._owners = {}
        self._refresh()
        self._find_owners()

    def port_rows(self) -> dict[str, list[int]]:
        """The ports listed under each row (by its first column's text)."""
        return {self.tree.topLevelItem(i).text(0): [int(self.tree.topLevelItem(i).child(c).data(0, PORT_ROLE))
                                                    for c in range(self.tree.topLevelItem(i).childCount())]
                for i in range(self.tree.topLevelItemCount())}

    async def aclose(self) -> None:
        await self._tasks.close()

    def _find_owners(self) -> None:
        if self._session_id is not None and self._ports is not None and self._ports.ports(self._session_id):
            self._tasks.start(self._load_owners(self._session_id), key="owners")  # latest wins

    async def _load_owners(self, session_id: str) -> None:
        try:
            owners = await self._manager.process_ports(session_id)
        except UserFacingError as exc:  # the next change of the ports asks again
            log.info("which command holds each port is not known now: %s", exc.message.title)
            return
        if session_id == self._session_id:
            self._owners = owners
            self._refresh()

    def rows(self) -> list[tuple[str, ...]]:
        """The texts shown, row by row (the whole command in the first column)."""
        return [tuple(self.tree.topLevelItem(i).data(c, Qt.ItemDataRole.DisplayRole) for c in range(len(COLUMNS)))
                for i in range(self.tree.topLevelItemCount())]

    def select_command(self, command: str) -> bool:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.text(0) == command:
                self.tree.setCurrentItem(item)
                return True
        return False

    def _selected(self) -> ProcessInfo | None:
        item = self.tree.currentItem()
        if item is None or self._session_id is None:
            return None
        pid = item.data(0, PID_ROLE)
        return next((p for p in self._manager.processes(self._session_id) if p.pid == pid), None)

    def _refresh(self) -> None:
        selected = self.tree.currentItem()
        selected_pid = selected.data(0, PID_ROLE) if selected is not None else None
        self.tree.clear()
        processes = self._manager.processes(self._session_id) if self._session_id is not None else ()
        infos = self._ports.ports(self._session_id) if self._ports is not None and self._session_id else ()
        placed: set[int] = set()
        for process in processes:
            item = QTreeWidgetItem([
                process.command,
                "Background" if process.background else "Foreground",
                "Running" if process.running else "Ended",
                started_words(process.started_at),
            ])
            item.setToolTip(0, process.command)
            item.setData(0, PID_ROLE, process.pid)
            self.tree.addTopLevelItem(item)
            for info in (i for i in infos if i.port in self._owners.get(process.pid, ())):
                self._add_port(item, info)
                placed.add(info.port)
            if process.pid == selected_pid:
                self.tree.setCurrentItem(item)
        if rest := [i for i in infos if i.port not in placed]:
            group = QTreeWidgetItem([OTHER_PORTS, "", "", ""])
            group.setToolTip(0, "Ports that none of the commands listed here opened (a server started "
                                "in the Terminal tab, say), or whose command is not known yet")
            group.setData(0, PID_ROLE, None)
            self.tree.addTopLevelItem(group)
            for info in rest:
                self._add_port(group, info)
        self.tree.expandAll()
        running = sum(p.running for p in processes)
        self.tree.setToolTip(f"{plural(len(processes), 'command')}, {running} running" if processes else
                             "Commands the session starts (foreground and background) are listed here.")
        self._update_buttons()

    @staticmethod
    def _add_port(parent: QTreeWidgetItem, info: PortInfo) -> None:
        child = QTreeWidgetItem([f"Port {info.port}", "", "Listening", ""])  # the URL: tooltip and Ports tab
        child.setToolTip(0, info.url)
        child.setData(0, PORT_ROLE, info.port)
        parent.addChild(child)

    def _update_buttons(self) -> None:
        process = self._selected()
        accepts = (self._session_id is not None
                   and self._manager.snapshot(self._session_id).state.accepts_commands)
        self.stop_button.setEnabled(process is not None and process.running)
        self.restart_button.setEnabled(process is not None and accepts)

    @Slot(str)
    def _on_manager_commands_changed(self, session_id: str) -> None:
        if session_id == self._session_id:
            self._refresh()
            self._find_owners()  # a restarted server may hold its port again before a scan misses it

    @Slot(object)
    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        if snapshot.id == self._session_id:
            self._refresh()

    @Slot(str, object)
    def _on_ports_ports_changed(self, session_id: str, _infos: object) -> None:
        if session_id == self._session_id:
            self._refresh()
            self._find_owners()

    @Slot(str)
    def _on_manager_session_removed(self, session_id: str) -> None:
        if session_id == self._session_id:
            self.show_session(None)

    @Slot()
    def _on_tree_current_item_changed(self) -> None:
        self._update_buttons()

    @Slot()
    def _on_stop_button_clicked(self) -> None:
        process = self._selected()
        if process is not None and self._session_id is not None:
            self._manager.stop_process(self._session_id, process.pid)

    @Slot()
    def _on_restart_button_clicked(self) -> None:
        process = self._selected()
        if process is not None and self._session_id is not None:
            self._manager.restart_process(self._session_id, process.pid)
