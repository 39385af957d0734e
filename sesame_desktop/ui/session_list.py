"""The session list: each session's name, state (and how it ended), provider, sandbox id and
time left. Removed sessions leave it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from sesame_desktop.core.session_words import header_state
from sesame_desktop.core.sessions import SessionSnapshot, SessionState, format_time_left
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.ui.messages import plain_tooltip
from sesame_desktop.ui.session_usage import usage_part

STATE_COLORS = {
    SessionState.CREATING: "#c77c02",
    SessionState.GETTING_PROJECT: "#c77c02",
    SessionState.RUNNING_TASK: "#1a73e8",
    SessionState.IDLE: "#188038",
    SessionState.RECONNECTING: "#c77c02",
    SessionState.PAUSED: "#5f6368",
    SessionState.STOPPED: "#80868b",
    SessionState.UNCONFIRMED: "#b3261e",
    SessionState.ENDING: "#80868b",
    SessionState.ENDED: "#80868b",
    SessionState.FAILED: "#b3261e",
}

SnapshotRole = Qt.ItemDataRole.UserRole + 1
_DOTS: dict[SessionState, QIcon] = {}


def state_dot(state: SessionState) -> QIcon:
    """A small filled circle in the state's colour."""
    icon = _DOTS.get(state)
    if icon is None:
        pixmap = QPixmap(12, 12)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(STATE_COLORS[state]))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(1, 1, 10, 10)
        painter.end()
        icon = _DOTS[state] = QIcon(pixmap)
    return icon

_Index = QModelIndex | QPersistentModelIndex


def describe(snapshot: SessionSnapshot) -> str:
    """The second line of a list entry."""
    parts = [header_state(snapshot), snapshot.provider.label]  # "Running `npm run dev`", not "Idle"
    if snapshot.sandbox_id:
        parts.append(snapshot.sandbox_id)
    if snapshot.state.open and snapshot.expires_at is not None:
        parts.append(f"{format_time_left(snapshot.time_left())} left")
    if usage := usage_part(snapshot):  # running time and E2B cost estimate (ui/session_usage.py)
        parts.append(usage)
    return " · ".join(parts)


class SessionListModel(QAbstractListModel):
    """A list model over the manager's snapshots, in the order sessions were started.

    The time left is refreshed once a second while any session has a lifetime.
    """

    def __init__(self, manager: SessionManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[SessionSnapshot] = list(manager.snapshots())
        self._row_of = {s.id: i for i, s in enumerate(self._rows)}
        manager.session_added.connect(self._on_manager_session_added)
        manager.session_changed.connect(self._on_manager_session_changed)
        manager.session_removed.connect(self._on_manager_session_removed)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_clock_timeout)
        self._clock.start()

    def snapshot_at(self, row: int) -> SessionSnapshot:
        return self._rows[row]

    def row_of(self, session_id: str) -> int:
        return self._row_of[session_id]

    @Slot(object)
    def _on_manager_session_added(self, snapshot: SessionSnapshot) -> None:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(snapshot)
        self._row_of[snapshot.id] = row
        self.endInsertRows()

    @Slot(object)
    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        row = self._row_of.get(snapshot.id)
        if row is None:
            return
        self._rows[row] = snapshot
        index = self.index(row)
        self.dataChanged.emit(index, index)

    @Slot(str)
    def _on_manager_session_removed(self, session_id: str) -> None:
        row = self._row_of.get(session_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self._row_of = {s.id: i for i, s in enumerate(self._rows)}
        self.endRemoveRows()

    @Slot()
    def _on_clock_timeout(self) -> None:
        rows = [i for i, s in enumerate(self._rows) if s.state.open]  # time left and running time tick
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)),
                                  [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    # -- Qt overrides -----------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        snapshot = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{snapshot.name}\n{describe(snapshot)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            if snapshot.error is not None:
                return plain_tooltip(f"{snapshot.error.title}: {snapshot.error.text()}")
            return plain_tooltip(snapshot.step or describe(snapshot))
        if role == Qt.ItemDataRole.DecorationRole:
            return state_dot(snapshot.state)
        if role == SnapshotRole:
            return snapshot
        return None
