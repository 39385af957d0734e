"""The project tree of one session as a Qt model, mirroring :class:`~sesame_desktop.core.file_tree.FileNode`.

The node tree (no Qt) is the truth; this adapter mirrors it in a ``QStandardItemModel``, so
that a view laying out 50,000 rows never calls into Python per row (a Python item model
costs several microseconds a row on every relayout, and a big folder relayouts often).

- A folder that was never opened holds one placeholder row, so the view draws its arrow;
  opening it (:meth:`on_expanded`) asks for its listing.
- A listing's rows are added to the model at once (one relayout of the view, done in C++),
  then their cells are filled in batches with the event loop running in between, so a folder
  of 100,000 files never stalls the window (adding rows batch by batch relayouted all of
  them on every turn).
- A refresh after a change in the sandbox becomes a minimal set of row operations
  (:func:`plan_refresh`, worked out on an executor for big folders): open folders and the
  selection survive.
"""

from __future__ import annotations

import asyncio
import mimetypes
import time
from datetime import datetime
from pathlib import Path, PurePosixPath

from PySide6.QtCore import QMimeData, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QStandardItemModel
from PySide6.QtWidgets import QApplication, QStyle

from sesame_desktop.core.file_tree import (
    INSERT,
    REMOVE,
    UPDATE,
    FileEntry,
    FileNode,
    Operation,
    Row,
    entry_of,
    is_heavy,
    plan_refresh,
    rows_of,
)
from sesame_desktop.services.files import FileService, Listing
from sesame_desktop.services.tasks import TaskGroupOwner
from sesame_desktop.ui.messages import plain_tooltip

_Index = QModelIndex | QPersistentModelIndex
PathRole = Qt.ItemDataRole.UserRole + 1
IsDirRole = Qt.ItemDataRole.UserRole + 2
SizeRole = Qt.ItemDataRole.UserRole + 3
ModifiedRole = Qt.ItemDataRole.UserRole + 4

SHOW_CHUNK = 25  # rows filled between two looks at the clock
BATCH_BUDGET_S = 0.010  # time spent adding rows per turn of the event loop
SYNC_PLAN_LIMIT = 4000  # entries; above it a refresh plan is worked out on an executor
SYNC_FILL_LIMIT = 1000  # new rows; above it their cells are filled from the next turn on
PLACEHOLDER = "Loading…"
GREY = QColor("#80868b")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class _Fill:
    """Rows already added to the model whose cells are still to be set: the node's pending
    entries, taken in order (the node's rows grow a thousand at a time, ahead of the cells).
    Each ``FileEntry`` is made as its row is filled, and dropped after."""

    def __init__(self, node: FileNode, first_row: int) -> None:
        self.node = node
        self.row = first_row
        self._taken: list[Row] = []
        self._next = 0

    @property
    def done(self) -> bool:
        return self._next >= len(self._taken) and not self.node.pending

    def take(self, limit: int) -> list[tuple[int, FileEntry]]:
        if self._next >= len(self._taken):
            self._taken, self._next = self.node.take_batch(), 0
        end = min(self._next + limit, len(self._taken))
        rows = [(self.row + k - self._next, entry_of(self._taken[k])) for k in range(self._next, end)]
        self.row += end - self._next
        self._next = end
        return rows


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


class FileTreeModel(QStandardItemModel):
    """The project folder of one session.

    Signals:
        load_failed(UserMessage): a folder could not be listed.
        upload_requested(list, str): local paths dropped onto a sandbox folder.
        folder_shown(str): every row of a folder listing is in the model (tests, benchmarks).
    """

    load_failed = Signal(object)
    upload_requested = Signal(list, str)
    folder_shown = Signal(str)
    COLUMNS = ("Name", "Size", "Modified")

    def __init__(self, service: FileService, session_id: str, project_dir: str,
                 parent: QObject | None = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self._service = service
        self.session_id = session_id
        self.root = FileNode(FileEntry(PurePosixPath(project_dir).name, project_dir, True, 0, 0.0))
        self._folders: dict[str, QPersistentModelIndex] = {}  # folder path -> its row
        self._icons = _Icons()
        self._tasks = TaskGroupOwner(f"file-tree-{session_id}")
        self._filling: set[str] = set()  # folders whose new rows are still being filled
        self._refresh_after_fill: set[str] = set()
        service.listed.connect(self._on_service_listed)
        service.folders_changed.connect(self._on_service_folders_changed)

    # -- lookups ----------------------------------------------------------------------------

    def entry_at(self, index: _Index) -> FileEntry | None:
        """The entry of a row (any column), or None for the placeholder and the root."""
        if not index.isValid():
            return None
        name = self.index(index.row(), 0, index.parent())
        path = name.data(PathRole)
        if path is None:
            return None
        return FileEntry(name.data(), path, bool(name.data(IsDirRole)), int(name.data(SizeRole) or 0),
                         float(name.data(ModifiedRole) or 0.0))

    def node(self, index: _Index) -> FileNode | None:
        """The folder node of a folder row (the root for no index), else None."""
        if not index.isValid():
            return self.root
        entry = self.entry_at(index)
        return self.root.find(entry.path) if entry is not None and entry.is_dir else None

    def _folder_index(self, node: FileNode) -> QModelIndex:
        return QModelIndex() if node is self.root else QModelIndex(self._folders[node.path])

    # -- loading ----------------------------------------------------------------------------

    def load_root(self) -> None:
        if not self.root.loaded and not self.root.loading:
            self.refresh()

    def refresh(self, path: str | None = None) -> None:
        """List a loaded folder again (the root when ``path`` is None)."""
        node = self.root.find(path) if path else self.root
        if node is not None and node.is_dir and (node.loaded or node is self.root):
            node.loading = True
            self._service.request_listing(self.session_id, node.path)

    @Slot(QModelIndex)
    def on_expanded(self, index: QModelIndex) -> None:
        """The view opened a folder: list it if it never was."""
        node = self.node(index)
        if node is not None and not node.loaded and not node.loading:
            node.loading = True
            self._service.request_listing(self.session_id, node.path)

    @Slot(object)
    def _on_service_listed(self, listing: Listing) -> None:
        if listing.session_id != self.session_id:
            return
        node = self.root.find(listing.path)
        if node is None:
            return
        node.loading = False
        if node.changed_while_loading:  # this listing may predate the change: list once more
            node.changed_while_loading = False
            node.loading = True
            self._service.request_listing(self.session_id, node.path)
        if listing.error is not None:
            node.error = listing.error.text()
            self.load_failed.emit(listing.error)
            return
        node.error = ""
        if not node.loaded:
            folder = self._folder_index(node)
            if self.rowCount(folder):  # the placeholder
                self.removeRows(0, self.rowCount(folder), folder)
            node.shown = []
            node.pending = rows_of(listing.entries)
            self._start_showing(node)
            return
        if node.path in self._filling:  # rows are being filled: plan once they all are
            self._refresh_after_fill.add(node.path)
            return
        rows = list(node.shown or ())  # a C-level copy, planned from off the GUI thread
        if len(rows) + len(listing.entries) <= SYNC_PLAN_LIMIT:
            self._apply(node, *plan_refresh(rows, bool(node.pending), rows_of(listing.entries)))
        else:  # a big folder: work out the changes off the GUI thread
            self._tasks.start(self._plan_elsewhere(node, rows, listing), key=f"plan:{node.path}")

    @Slot(str, tuple)
    def _on_service_folders_changed(self, session_id: str, folders: tuple) -> None:
        if session_id != self.session_id:
            return
        for folder in folders:
            node = self.root.find(folder)
            if node is None:
                continue
            if node.loading:
                node.changed_while_loading = True
            elif node.loaded:
                self.refresh(folder)

    # -- rows -------------------------------------------------------------------------------

    def _fill_row(self, folder: QModelIndex, row: int, entry: FileEntry) -> None:
        """Set the cells of a new row through the model, so no Python item object is kept
        per row (each would add to every full garbage collection)."""
        name = self.index(row, 0, folder)
        cells = {
            Qt.ItemDataRole.DisplayRole: entry.name,
            Qt.ItemDataRole.DecorationRole: self._icons.for_entry(entry),
            Qt.ItemDataRole.ToolTipRole: plain_tooltip(entry.path),
            PathRole: entry.path,
            IsDirRole: entry.is_dir,
        }
        grey = entry.name.startswith(".") or is_heavy(entry.name)
        if grey:
            cells[Qt.ItemDataRole.ForegroundRole] = GREY
        self.setItemData(name, cells)
        self._set_size_and_time(folder, row, entry, grey)
        if entry.is_dir:
            self._folders[entry.path] = QPersistentModelIndex(name)
            self.insertRows(0, 1, name)
            if self.columnCount(name) < len(self.COLUMNS):
                self.insertColumns(0, len(self.COLUMNS), name)
            self.setItemData(self.index(0, 0, name), {Qt.ItemDataRole.DisplayRole: PLACEHOLDER,
                                                      Qt.ItemDataRole.ForegroundRole: GREY})

    def _set_size_and_time(self, folder: QModelIndex, row: int, entry: FileEntry, grey: bool = False) -> None:
        self.setItemData(self.index(row, 0, folder), {SizeRole: entry.size, ModifiedRole: entry.modified})
        size = {Qt.ItemDataRole.DisplayRole: "" if entry.is_dir else human_size(entry.size),
                Qt.ItemDataRole.TextAlignmentRole: int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)}
        modified = {Qt.ItemDataRole.DisplayRole: datetime.fromtimestamp(entry.modified).strftime("%Y-%m-%d %H:%M")
                    if entry.modified else ""}
        if grey:
            size[Qt.ItemDataRole.ForegroundRole] = modified[Qt.ItemDataRole.ForegroundRole] = GREY
        self.setItemData(self.index(row, 1, folder), size)
        self.setItemData(self.index(row, 2, folder), modified)

    def _forget(self, path: str) -> None:
        """Drop the rows kept for a removed folder and everything under it."""
        prefix = path.rstrip("/") + "/"
        for key in [k for k in self._folders if k == path or k.startswith(prefix)]:
            del self._folders[key]

    def _start_showing(self, node: FileNode) -> None:
        """Add every pending entry as a row at once (one relayout of the view, in C++), then
        fill the rows' cells a time budget at a time (data changes need no relayout). A big
        folder's first cells wait for the next turn of the event loop: adding 100,000 rows and
        laying them out is a step of its own."""
        folder = self._folder_index(node)
        first = self.rowCount(folder)
        rows = len(node.pending)
        if rows:
            self.insertRows(first, rows, folder)
        fill = _Fill(node, first)
        if rows <= SYNC_FILL_LIMIT:
            self._fill_some(folder, fill)
        if fill.done:
            self.folder_shown.emit(node.path)
        else:
            self._filling.add(node.path)
            self._tasks.start(self._fill_rest(node, fill), key=f"show:{node.path}")

    def _fill_some(self, folder: QModelIndex, fill: _Fill) -> None:
        """Fill rows for at most ``BATCH_BUDGET_S`` (at least one chunk)."""
        deadline = time.perf_counter() + BATCH_BUDGET_S
        while not fill.done:
            for row, entry in fill.take(SHOW_CHUNK):
                self._fill_row(folder, row, entry)
            if time.perf_counter() > deadline:
                break

    async def _fill_rest(self, node: FileNode, fill: _Fill) -> None:
        try:
            while not fill.done:
                await asyncio.sleep(0)  # let the window paint and take input between batches
                self._fill_some(self._folder_index(node), fill)
        finally:
            self._filling.discard(node.path)
        self.folder_shown.emit(node.path)
        if node.path in self._refresh_after_fill:
            self._refresh_after_fill.discard(node.path)
            self.refresh(node.path)

    async def _plan_elsewhere(self, node: FileNode, rows: list[Row], listing: Listing) -> None:
        generation = node.generation
        has_pending = bool(node.pending)
        ops, pending = await asyncio.get_running_loop().run_in_executor(
            None, lambda: plan_refresh(rows, has_pending, rows_of(listing.entries), worker=True))
        if node.generation != generation:  # rows changed meanwhile: the plan is stale
            self.refresh(node.path)
            return
        if len(ops) <= SHOW_CHUNK:
            self._apply(node, ops, pending)
            return
        # Many changes (a build wrote thousands of files): apply them a time budget at a time.
        # Each operation keeps the node's rows and the model's in step, so a newer refresh
        # that cancels this one plans from a consistent state.
        done = 0
        while done < len(ops):
            if node.generation != generation:  # rows were shown meanwhile: plan again
                self.refresh(node.path)
                return
            deadline = time.perf_counter() + BATCH_BUDGET_S
            while done < len(ops):
                end = min(done + SHOW_CHUNK, len(ops))
                self._apply(node, ops[done:end], None)
                done = end
                if time.perf_counter() > deadline:
                    break
            generation = node.generation
            await asyncio.sleep(0)
        self._apply(node, [], pending)

    def _apply(self, node: FileNode, ops: list[Operation], pending: list[Row] | None) -> None:
        """Apply row operations; ``pending`` (unless None) then replaces the entries not shown yet."""
        assert node.shown is not None
        folder = self._folder_index(node)
        for kind, row, new in ops:
            if kind == REMOVE:
                self._forget(node.shown[row][1])
                node.remove_row(row)
                self.removeRow(row, folder)
            elif kind == INSERT and new is not None:
                node.insert_row(row, new)
                self.insertRow(row, folder)
                self._fill_row(folder, row, entry_of(new))
            elif kind == UPDATE and new is not None:
                node.update_row(row, new)
                self._set_size_and_time(folder, row, entry_of(new))
        if pending is None:
            return
        node.pending = pending
        if pending:
            self._start_showing(node)

    async def aclose(self) -> None:
        await self._tasks.close()

    # -- Qt overrides (only called while something is dragged over the view) ----------------

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return ["text/uri-list"]

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,  # noqa: N802
                        parent: _Index) -> bool:
        return data.hasUrls() and any(url.isLocalFile() for url in data.urls()) and self.node(parent) is not None

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,  # noqa: N802
                     parent: _Index) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        paths = [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]
        folder = self.node(parent)
        assert folder is not None
        self.upload_requested.emit(paths, folder.path)
        return True
