"""A thin Qt item model over :class:`~sesame_desktop.core.file_tree.FileNode` for one session.

Folders load when opened (``canFetchMore``/``fetchMore``); a huge folder shows its rows in
batches as the view asks for more. Refreshes after changes in the sandbox arrive as minimal
row operations, so selection and open folders survive.
"""

from __future__ import annotations

import mimetypes
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QMimeData, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from sesame_desktop.core.errors import UserMessage
from sesame_desktop.core.file_tree import FileEntry, FileNode, Insert, Remove, Update, is_heavy, plan_refresh
from sesame_desktop.services.files import FileService, Listing

_Index = QModelIndex | QPersistentModelIndex
PathRole = Qt.ItemDataRole.UserRole + 1
EntryRole = Qt.ItemDataRole.UserRole + 2


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class _Icons:
    """Icons by kind, from the icon theme where there is one, else the style's."""

    def __init__(self) -> None:
        style = QApplication.style()
        self.folder = QIcon.fromTheme("folder", style.standardIcon(QStyle.StandardPixmap.SP_DirIcon))
        self.file = QIcon.fromTheme("text-x-generic", style.standardIcon(QStyle.StandardPixmap.SP_FileIcon))
        self._by_kind: dict[str, QIcon] = {}

    def for_entry(self, entry: FileEntry) -> QIcon:
        if entry.is_dir:
            return self.folder
        kind = (mimetypes.guess_type(entry.name)[0] or "").replace("/", "-")
        if not kind:
            return self.file
        icon = self._by_kind.get(kind)
        if icon is None:
            icon = QIcon.fromTheme(kind, QIcon.fromTheme(kind.split("-")[0] + "-x-generic", self.file))
            self._by_kind[kind] = icon
        return icon


class FileTreeModel(QAbstractItemModel):
    """The project folder of one session.

    Signals:
        load_failed(UserMessage): a folder could not be listed.
        upload_requested(list, str): local paths dropped onto a sandbox folder.
    """

    load_failed = Signal(object)
    upload_requested = Signal(list, str)
    COLUMNS = ("Name", "Size", "Modified")

    def __init__(self, service: FileService, session_id: str, project_dir: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.session_id = session_id
        self.root = FileNode(FileEntry(PurePosixPath(project_dir).name, project_dir, True, 0, 0.0))
        self._icons = _Icons()
        service.listed.connect(self._on_service_listed)
        service.folders_changed.connect(self._on_service_folders_changed)

    # -- helpers ----------------------------------------------------------------------------

    def node(self, index: _Index) -> FileNode:
        return index.internalPointer() if index.isValid() else self.root

    def index_of(self, node: FileNode, column: int = 0) -> QModelIndex:
        if node is self.root:
            return QModelIndex()
        return self.createIndex(node.row(), column, node)

    def refresh(self, path: str | None = None) -> None:
        """List a loaded folder again (the root when ``path`` is None)."""
        node = self.root.find(path) if path else self.root
        if node is not None and node.is_dir and (node.loaded or node is self.root):
            node.loading = True
            self._service.request_listing(self.session_id, node.path)

    def load_root(self) -> None:
        if not self.root.loaded and not self.root.loading:
            self.refresh()

    # -- slots ------------------------------------------------------------------------------

    @Slot(object)
    def _on_service_listed(self, listing: Listing) -> None:
        if listing.session_id != self.session_id:
            return
        node = self.root.find(listing.path)
        if node is None or not node.is_dir:
            return
        node.loading = False
        if listing.error is not None:
            node.error = listing.error.text()
            if not node.loaded:
                node.children = []
            self.load_failed.emit(listing.error)
            return
        node.error = ""
        parent = self.index_of(node)
        if not node.loaded:
            node.children = []
            node.pending = list(listing.entries)
            self._show_batch(node, parent)
            return
        ops, node.pending = plan_refresh([c.entry for c in node.children or []], bool(node.pending),
                                         listing.entries)
        assert node.children is not None
        for op in ops:
            if isinstance(op, Remove):
                self.beginRemoveRows(parent, op.row, op.row)
                del node.children[op.row]
                self.endRemoveRows()
            elif isinstance(op, Insert):
                self.beginInsertRows(parent, op.row, op.row)
                node.children.insert(op.row, FileNode(op.entry, parent=node))
                self.endInsertRows()
            elif isinstance(op, Update):
                node.children[op.row].entry = op.entry
                self.dataChanged.emit(self.index(op.row, 0, parent), self.index(op.row, len(self.COLUMNS) - 1, parent))

    @Slot(str, tuple)
    def _on_service_folders_changed(self, session_id: str, folders: tuple) -> None:
        if session_id != self.session_id:
            return
        for folder in folders:
            node = self.root.find(folder)
            if node is not None and node.loaded and not node.loading:
                self.refresh(folder)

    def _show_batch(self, node: FileNode, parent: QModelIndex) -> None:
        batch = node.take_batch()
        if not batch:
            return
        assert node.children is not None
        first = len(node.children)
        self.beginInsertRows(parent, first, first + len(batch) - 1)
        node.children.extend(FileNode(entry, parent=node) for entry in batch)
        self.endInsertRows()

    # -- Qt overrides -----------------------------------------------------------------------

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self.node(parent)
        if node.children is None or not 0 <= row < len(node.children) or not 0 <= column < len(self.COLUMNS):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node: FileNode = index.internalPointer()
        if node.parent is None or node.parent is self.root:
            return QModelIndex()
        return self.createIndex(node.parent.row(), 0, node.parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children or ())

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return len(self.COLUMNS)

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: N802, B008
        node = self.node(parent)
        if not node.is_dir:
            return False
        return not node.loaded or bool(node.children) or bool(node.pending)

    def canFetchMore(self, parent: _Index) -> bool:  # noqa: N802
        node = self.node(parent)
        return node.is_dir and ((not node.loaded and not node.loading) or bool(node.pending))

    def fetchMore(self, parent: _Index) -> None:  # noqa: N802
        node = self.node(parent)
        if not node.is_dir:
            return
        if not node.loaded:
            if not node.loading:
                node.loading = True
                self._service.request_listing(self.session_id, node.path)
            return
        self._show_batch(node, self.index_of(node) if parent.isValid() else QModelIndex())

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: FileNode = index.internalPointer()
        entry, column = node.entry, index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return entry.name
            if column == 1:
                return "" if entry.is_dir else human_size(entry.size)
            return datetime.fromtimestamp(entry.modified).strftime("%Y-%m-%d %H:%M") if entry.modified else ""
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self._icons.for_entry(entry)
        if role == Qt.ItemDataRole.ForegroundRole and (entry.name.startswith(".") or is_heavy(entry.name)):
            return QColor("#80868b")
        if role == Qt.ItemDataRole.ToolTipRole:
            return node.error or entry.path
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == PathRole:
            return entry.path
        if role == EntryRole:
            return entry
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not index.isValid() or self.node(index).is_dir:
            base |= Qt.ItemFlag.ItemIsDropEnabled
        return base

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return ["text/uri-list"]

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,  # noqa: N802
                        parent: _Index) -> bool:
        return data.hasUrls() and any(url.isLocalFile() for url in data.urls()) and self.node(parent).is_dir

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,  # noqa: N802
                     parent: _Index) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        paths = [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]
        self.upload_requested.emit(paths, self.node(parent).path)
        return True
