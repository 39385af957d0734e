"""The Files tab: the selected session's project tree, a viewer and file operations."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.file_tree import FileEntry
from sesame_desktop.core.paths import default_download_dir
from sesame_desktop.core.session_words import plural
from sesame_desktop.services.files import Conflict, ConflictAnswer, FileService, TooLargeToView, parent_of
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.tasks import TaskGroupOwner
from sesame_desktop.ui.file_tree_model import FileTreeModel
from sesame_desktop.ui.file_viewer import FileViewer
from sesame_desktop.ui.messages import plain_box, set_informative

log = logging.getLogger(__name__)


class FilePanel(QWidget):
    """One tree per session (kept while the app runs, so open folders survive switching).

    Signals:
        problem(UserMessage): an operation failed.
        status(str): a short progress or result message for the status bar.
    """

    problem = Signal(object)
    status = Signal(str)

    def __init__(self, manager: SessionManager, files: FileService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._files = files
        self._models: dict[str, FileTreeModel] = {}
        self._session_id: str | None = None
        self._tasks = TaskGroupOwner("file-panel", on_error=self._on_task_error)
        self.viewer: FileViewer | None = None
        self.prompt: QInputDialog | None = None
        self.confirmation: QMessageBox | None = None
        self.conflict_box: QMessageBox | None = None

        self.tree = QTreeView()
        self.tree.setObjectName("fileTree")
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSortingEnabled(False)
        self.tree.setAcceptDrops(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.tree.setDropIndicatorShown(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_custom_context_menu_requested)
        self.tree.activated.connect(self._on_tree_activated)
        self.tree.expanded.connect(self._on_tree_expanded)
        self.tree.header().setStretchLastSection(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)

        self.open_action = self._action("&Open", self._open_selected)
        self.download_action = self._action("&Download…", self._download_selected)
        self.upload_action = self._action("&Upload Files…", self._upload_files)
        self.new_folder_action = self._action("&New Folder…", self._new_folder)
        self.rename_action = self._action("&Rename…", self._rename_selected, QKeySequence("F2"))
        self.delete_action = self._action("De&lete…", self._delete_selected, QKeySequence.StandardKey.Delete)
        self.copy_path_action = self._action("Copy &Path", self._copy_path)
        self.refresh_action = self._action("Re&fresh", self._refresh, QKeySequence.StandardKey.Refresh)
        manager.sandbox_ready.connect(self._on_manager_sandbox_ready)

    def _action(self, text: str, slot, shortcut: QKeySequence | QKeySequence.StandardKey | None = None) -> QAction:  # noqa: ANN001
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.tree.addAction(action)
        action.triggered.connect(slot)
        return action

    # -- sessions ---------------------------------------------------------------------------

    @property
    def model(self) -> FileTreeModel | None:
        return self._models.get(self._session_id or "")

    def show_session(self, session_id: str) -> bool:
        """Show the session's tree; False while its sandbox is not ready."""
        self._session_id = session_id
        model = self._models.get(session_id)
        self.tree.setModel(model)
        if model is not None:
            header = self.tree.header()
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        return model is not None

    @Slot(str)
    def _on_manager_sandbox_ready(self, session_id: str) -> None:
        sandbox = self._manager.sandbox(session_id)
        if sandbox is None:
            return
        model = FileTreeModel(self._files, session_id, sandbox.project_dir, self)
        model.load_failed.connect(self.problem)
        model.upload_requested.connect(self._on_model_upload_requested)
        model.load_root()
        self._models[session_id] = model
        if session_id == self._session_id:
            self.show_session(session_id)

    # -- selection helpers ------------------------------------------------------------------

    def selected_entry(self) -> FileEntry | None:
        model = self.model
        return model.entry_at(self.tree.currentIndex()) if model is not None else None

    def _target_folder(self) -> str | None:
        entry = self.selected_entry()
        model = self.model
        if model is None:
            return None
        if entry is None:
            return model.root.path
        return entry.path if entry.is_dir else parent_of(entry.path)

    def _run(self, coro, success: str = "", *, transfer_of: str | None = None) -> None:  # noqa: ANN001
        """Run a file operation; a transfer (``transfer_of`` a session) is that session's work."""
        async def wrapped() -> None:
            try:
                await coro
            except UserFacingError as exc:
                self.problem.emit(exc.message)
                return
            if success:
                self.status.emit(success)

        if transfer_of is not None:
            self._files.start_transfer(transfer_of, wrapped())
        else:
            self._tasks.start(wrapped())

    def _on_task_error(self, exc: BaseException) -> None:
        self.problem.emit(UserMessage("File operation failed", f"An unexpected error occurred ({type(exc).__name__}).",
                                      "The log file has the details."))

    # -- actions ----------------------------------------------------------------------------

    @Slot(QModelIndex)
    def _on_tree_expanded(self, index: QModelIndex) -> None:
        if self.model is not None:
            self.model.on_expanded(index)

    @Slot(QModelIndex)
    def _on_tree_activated(self, index: QModelIndex) -> None:
        entry = self.model.entry_at(index) if self.model is not None else None
        if entry is not None and not entry.is_dir:
            self.open_entry(entry)

    def _open_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None and not entry.is_dir:
            self.open_entry(entry)

    def open_entry(self, entry: FileEntry) -> None:
        session_id = self._session_id
        if session_id is None:
            return

        async def load() -> None:
            try:
                data, refusal = await self._files.read_for_view(session_id, entry.path, entry.size), ""
            except TooLargeToView as exc:
                data, refusal = None, exc.message.explanation
            viewer = FileViewer(entry.path, data, refusal, self)
            viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            viewer.download_requested.connect(lambda: self.download(entry))
            self.viewer = viewer
            viewer.open()

        self._run(load())

    def _download_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self.download(entry)

    def download(self, entry: FileEntry, destination: Path | None = None) -> None:
        """Download ``entry`` into a local folder (asked for when not given)."""
        if destination is None:
            chooser = QFileDialog(self, f"Download {entry.name} to", str(default_download_dir()))
            chooser.setFileMode(QFileDialog.FileMode.Directory)
            chooser.setOption(QFileDialog.Option.ShowDirsOnly, True)
            chooser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            chooser.fileSelected.connect(lambda folder: self.download(entry, Path(folder)))
            chooser.open()
            return
        session_id = self._session_id
        if session_id is None:
            return

        async def run() -> None:
            report = await self._files.download(session_id, entry, destination, self.status.emit,
                                                ask=self.ask_conflict)
            if report.refused:
                self.problem.emit(UserMessage(
                    "Some files were not downloaded",
                    "Their names would have put them outside the chosen folder:\n" + "\n".join(report.refused[:10]),
                    "Rename them in the sandbox and download again."))
            summary = f"Downloaded {plural(report.files, 'file')} ({report.bytes:,} bytes) to {destination}"
            if report.skipped:
                summary += f"; skipped {len(report.skipped)}"
                self.problem.emit(UserMessage(
                    "Some items were skipped",
                    f"{summary}. Skipped:\n" + "\n".join(report.skipped[:10])
                    + (f"\n… and {len(report.skipped) - 10} more" if len(report.skipped) > 10 else ""),
                    "Symbolic links are not followed; copy what they point to in the sandbox if you need it."))
            self.status.emit(summary)

        self._run(run(), transfer_of=session_id)

    async def ask_conflict(self, target: Path) -> ConflictAnswer:
        """Ask what to do with a download whose name exists in the destination."""
        kind = "folder" if target.is_dir() else "file"
        box = plain_box(QMessageBox.Icon.Question, "Already exists",
                        f"A {kind} named \u201c{target.name}\u201d already exists in {target.parent}.",
                        QMessageBox.StandardButton.NoButton, self)
        set_informative(box, "Replace it with the downloaded one, keep both (the download gets a "
                        "numbered name), or skip this one?")
        buttons = {
            box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole): Conflict.REPLACE,
            box.addButton("Keep Both", QMessageBox.ButtonRole.AcceptRole): Conflict.KEEP_BOTH,
            box.addButton("Skip", QMessageBox.ButtonRole.RejectRole): Conflict.SKIP,
        }
        box.setCheckBox(QCheckBox("Do this for every item that already exists", box))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        answered: asyncio.Future[ConflictAnswer] = asyncio.get_running_loop().create_future()

        def on_finished(_result: int) -> None:
            if not answered.done():
                choice = buttons.get(box.clickedButton(), Conflict.SKIP)
                answered.set_result(ConflictAnswer(choice, box.checkBox().isChecked()))

        box.finished.connect(on_finished)
        self.conflict_box = box
        box.open()
        try:
            return await answered
        finally:
            self.conflict_box = None
            if not answered.done():
                box.close()

    def _upload_files(self) -> None:
        folder = self._target_folder()
        if folder is None:
            return
        chooser = QFileDialog(self, "Upload files")
        chooser.setFileMode(QFileDialog.FileMode.ExistingFiles)
        chooser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        chooser.filesSelected.connect(lambda names: self.upload([Path(n) for n in names], folder))
        chooser.open()

    @Slot(list, str)
    def _on_model_upload_requested(self, paths: list, folder: str) -> None:
        self.upload(paths, folder)

    def upload(self, paths: list[Path], folder: str) -> None:
        session_id = self._session_id
        if session_id is None:
            return

        async def run() -> None:
            report = await self._files.upload(session_id, paths, folder, self.status.emit)
            self.status.emit(f"Uploaded {plural(report.files, 'file')} ({report.bytes:,} bytes)")
            if self.model is not None:
                self.model.refresh(folder)

        self._run(run(), transfer_of=session_id)

    def _ask(self, title: str, label: str, text: str, then) -> None:  # noqa: ANN001
        prompt = QInputDialog(self)
        prompt.setWindowTitle(title)
        prompt.setLabelText(label)
        prompt.setTextValue(text)
        prompt.setTextEchoMode(QLineEdit.EchoMode.Normal)
        prompt.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        prompt.textValueSelected.connect(then)
        self.prompt = prompt
        prompt.open()

    def _new_folder(self) -> None:
        folder, session_id = self._target_folder(), self._session_id
        if folder is None or session_id is None:
            return
        self._ask("New Folder", f"New folder in {folder}:", "",
                  lambda name: self._run(self._files.make_dir(session_id, folder, name), f"Created {name}"))

    def _rename_selected(self) -> None:
        entry, session_id = self.selected_entry(), self._session_id
        if entry is None or session_id is None:
            return
        self._ask("Rename", f"New name for {entry.name}:", entry.name,
                  lambda name: self._run(self._files.rename(session_id, entry.path, name), f"Renamed to {name}"))

    def _delete_selected(self) -> None:
        entry, session_id = self.selected_entry(), self._session_id
        if entry is None or session_id is None:
            return
        box = plain_box(QMessageBox.Icon.Warning, "Delete", f"Delete \u201c{entry.name}\u201d?",
                        QMessageBox.StandardButton.Cancel, self)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        set_informative(box, "The folder and everything in it is deleted in the sandbox." if entry.is_dir
                        else "The file is deleted in the sandbox.")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: button is delete and self._run(
            self._files.remove(session_id, entry.path), f"Deleted {entry.name}"))
        self.confirmation = box
        box.open()

    def _copy_path(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            QGuiApplication.clipboard().setText(entry.path)
            self.status.emit(f"Copied {entry.path}")

    def _refresh(self) -> None:
        if self.model is not None:
            self.model.refresh()

    @Slot(QPoint)
    def _on_tree_custom_context_menu_requested(self, pos: QPoint) -> None:
        if self.model is None:
            return
        entry = self.selected_entry() if self.tree.indexAt(pos).isValid() else None
        if entry is None:
            self.tree.setCurrentIndex(QModelIndex())
        menu = QMenu(self)
        if entry is not None and not entry.is_dir:
            menu.addAction(self.open_action)
        if entry is not None:
            menu.addAction(self.download_action)
        menu.addAction(self.upload_action)
        menu.addAction(self.new_folder_action)
        if entry is not None:
            menu.addSeparator()
            menu.addAction(self.rename_action)
            menu.addAction(self.delete_action)
            menu.addAction(self.copy_path_action)
        menu.addSeparator()
        menu.addAction(self.refresh_action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    async def aclose(self) -> None:
        await self._tasks.close()
        for model in self._models.values():
            await model.aclose()
