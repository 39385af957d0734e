"""The Ports tab (the selected session's dev servers) and the "Dev server on 5173" notice.

Both open URLs only through the :class:`SafeUrlOpener`, and only the URLs the provider made
(:attr:`PortInfo.url`); nothing typed or printed in a session reaches the browser from here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.ports import PortInfo, PortSource
from sesame_desktop.services.ports import PortService
from sesame_desktop.ui.messages import plain_label
from sesame_desktop.ui.url_opener import SafeUrlOpener

PortRole = Qt.ItemDataRole.UserRole + 1
NOTICE_TIMEOUT_MS = 15_000
NO_SESSION_HINT = "Dev servers a session starts appear here with a link to open them."
NO_PORTS_HINT = ("No dev server is listening in this session.\n\nA server the session starts (for "
                 "example npm run dev) appears here with a link to open it.")

_Index = QModelIndex | QPersistentModelIndex


class PortListModel(QAbstractTableModel):
    """Rows over an immutable tuple of :class:`PortInfo`: port, address."""

    HEADERS = ("Port", "Address")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ports: tuple[PortInfo, ...] = ()

    @property
    def ports(self) -> tuple[PortInfo, ...]:
        return self._ports

    def set_ports(self, ports: tuple[PortInfo, ...]) -> None:
        if ports == self._ports:
            return
        self.beginResetModel()
        self._ports = ports
        self.endResetModel()

    def port_at(self, row: int) -> PortInfo:
        return self._ports[row]

    def row_of(self, port: int) -> int | None:
        return next((i for i, info in enumerate(self._ports) if info.port == port), None)

    # -- Qt overrides -----------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt override
        return 0 if parent.isValid() else len(self._ports)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt override
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ports):
            return None
        info = self._ports[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(info.port) if index.column() == 0 else info.url
        if role == Qt.ItemDataRole.ToolTipRole:
            how = "printed its URL" if info.source is PortSource.OUTPUT else "found listening"
            return f"{info.url}\nPort {info.port} in the sandbox ({how}). Double-click to open."
        if role == PortRole:
            return info
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None


class PortsView(QStackedWidget):
    """The selected session's listening ports, with Open in Browser and Copy URL.

    A hint stands in front of the list while there is nothing to show. Double-click or Enter
    on a row opens it; Ctrl+C copies its URL.

    Attributes:
        hint: the empty-state label.
        table: the list of ports.
    """

    def __init__(self, service: PortService, opener: SafeUrlOpener, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("portsView")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._service = service
        self._opener = opener
        self._session_id: str | None = None

        self.hint = plain_label(NO_SESSION_HINT)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setMargin(16)
        self.hint.setStyleSheet("color: palette(mid);")

        self.model = PortListModel(self)
        self.table = QTreeView()
        self.table.setObjectName("portsTable")
        self.table.setModel(self.model)
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAllColumnsShowFocus(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.header().setStretchLastSection(True)
        self.table.setColumnWidth(0, 70)
        self.table.activated.connect(self._on_table_activated)
        self.table.selectionModel().currentChanged.connect(self._on_table_current_changed)

        self.open_action = QAction("Open in Browser", self)
        self.open_action.triggered.connect(self.open_selected)
        self.copy_action = QAction("Copy URL", self)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_selected)
        self.table.addActions([self.open_action, self.copy_action])
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self.open_button = QPushButton("Open in Browser")
        self.open_button.setObjectName("openPortButton")
        self.open_button.clicked.connect(self.open_selected)
        self.copy_button = QPushButton("Copy URL")
        self.copy_button.setObjectName("copyPortUrlButton")
        self.copy_button.clicked.connect(self.copy_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.addWidget(self.hint)
        self.addWidget(page)
        self._page = page

        service.ports_changed.connect(self._on_service_ports_changed)
        self._update_buttons()

    @property
    def session_id(self) -> str | None:
        return self._session_id

    def show_session(self, session_id: str | None) -> None:
        """Show ``session_id``'s ports (None: no session)."""
        self._session_id = session_id
        self.hint.setText(NO_SESSION_HINT if session_id is None else NO_PORTS_HINT)
        self._show(self._service.ports(session_id) if session_id is not None else ())

    def selected_port(self) -> PortInfo | None:
        index = self.table.currentIndex()
        return self.model.port_at(index.row()) if index.isValid() else None

    @Slot()
    def open_selected(self) -> None:
        """Open the selected port's URL in the browser."""
        info = self.selected_port()
        if info is not None:
            self._opener.open(info.url)

    @Slot()
    def copy_selected(self) -> None:
        """Put the selected port's URL on the clipboard."""
        info = self.selected_port()
        if info is not None:
            QGuiApplication.clipboard().setText(info.url)

    # -- updating ---------------------------------------------------------------------------

    def _show(self, ports: tuple[PortInfo, ...]) -> None:
        selected = self.selected_port()
        self.model.set_ports(ports)
        row = self.model.row_of(selected.port) if selected is not None else None
        if row is None and ports:
            row = 0
        if row is not None:
            self.table.setCurrentIndex(self.model.index(row, 0))
        self.setCurrentWidget(self._page if ports else self.hint)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.selected_port() is not None
        for widget in (self.open_button, self.copy_button, self.open_action, self.copy_action):
            widget.setEnabled(has)

    # -- slots ------------------------------------------------------------------------------

    @Slot(str, object)
    def _on_service_ports_changed(self, session_id: str, ports: tuple[PortInfo, ...]) -> None:
        if session_id == self._session_id:
            self._show(ports)

    @Slot(QModelIndex)
    def _on_table_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self._opener.open(self.model.port_at(index.row()).url)

    @Slot(QModelIndex, QModelIndex)
    def _on_table_current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_buttons()


class PortNotice(QFrame):
    """A small, non-modal notice of a new port: "Dev server on 5173 — Open", with a close button.

    It sits in the status bar, hides by itself after a while, and hides when its port closes.

    Attributes:
        info: the port shown, None while hidden.
    """

    def __init__(self, service: PortService, opener: SafeUrlOpener, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("portNotice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#portNotice { background: palette(alternate-base); border-radius: 4px; }")
        self._service = service
        self._opener = opener
        self.info: PortInfo | None = None
        self._session_id = ""
        self.label = plain_label()
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("portNoticeOpen")
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.close_button = QToolButton()
        self.close_button.setText("\u00d7")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 2, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.open_button)
        layout.addWidget(self.close_button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(NOTICE_TIMEOUT_MS)
        self._timer.timeout.connect(self.dismiss)
        service.port_opened.connect(self._on_service_port_opened)
        service.ports_changed.connect(self._on_service_ports_changed)
        self.hide()

    def text(self) -> str:
        """What the notice says, as one line ("Dev server on 5173 — Open")."""
        return f"{self.label.text()} {self.open_button.text()}" if self.info is not None else ""

    def show_port(self, session_id: str, info: PortInfo) -> None:
        self._session_id = session_id
        self.info = info
        self.label.setText(f"Dev server on {info.port} \u2014")
        name = self._service.session_name(session_id)
        self.setToolTip(f"{info.url}\nin the session \u201c{name}\u201d" if name else info.url)
        self.open_button.setToolTip(f"Open {info.url} in the browser")
        self.show()
        self._timer.start()

    @Slot()
    def dismiss(self) -> None:
        self._timer.stop()
        self.info = None
        self.hide()

    # -- slots ------------------------------------------------------------------------------

    @Slot(str, object)
    def _on_service_port_opened(self, session_id: str, info: PortInfo) -> None:
        self.show_port(session_id, info)

    @Slot(str, object)
    def _on_service_ports_changed(self, session_id: str, ports: tuple[PortInfo, ...]) -> None:
        if self.info is not None and session_id == self._session_id and \
                self.info.port not in {p.port for p in ports}:
            self.dismiss()

    @Slot()
    def _on_open_button_clicked(self) -> None:
        info = self.info
        if info is not None:
            self._opener.open(info.url)
        self.dismiss()
