"""The Changes tab: the files the session changed, and each one's diff, coloured.

File names and diffs come from the sandbox: they are shown as plain text with character
formats, never as rich text. Binary and large files are named with a note instead of a diff.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.changes import ChangedFile, ChangeKind, ChangeList, DiffLineKind, FileDiff, classify_diff
from sesame_desktop.services.changes import ChangeService, ChangesUpdate
from sesame_desktop.services.tasks import TaskGroupOwner

LINE_COLOURS = {
    DiffLineKind.HEADER: ("#5f6368", None),
    DiffLineKind.HUNK: ("#8430ce", None),
    DiffLineKind.ADDED: ("#0d652d", "#e6f4ea"),
    DiffLineKind.DELETED: ("#a50e0e", "#fce8e6"),
    DiffLineKind.CONTEXT: (None, None),
    DiffLineKind.NOTE: ("#5f6368", None),
}
KIND_COLOURS = {ChangeKind.ADDED: "#188038", ChangeKind.MODIFIED: "#c77c02", ChangeKind.DELETED: "#b3261e",
                ChangeKind.TYPE_CHANGED: "#5f6368"}
FileRole = Qt.ItemDataRole.UserRole + 1


class ChangesView(QWidget):
    """The selected session's changes.

    Signals:
        diff_shown(str): the diff (or note) of a file is on screen (its path).
        push_requested(str): the user wants to commit and push the session's changes (its id).
        save_requested(str): the user wants the work saved on this computer now (its id).
        apply_requested(str): the user wants the changes applied to the uploaded folder (its id).
    """

    diff_shown = Signal(str)
    push_requested = Signal(str)
    save_requested = Signal(str)
    apply_requested = Signal(str)

    def __init__(self, service: ChangeService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._session_id: str | None = None
        self._tasks = TaskGroupOwner("changes-view")
        self.summary = QLabel("No changes yet.")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setObjectName("changesSummary")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self._on_refresh_button_clicked)
        self.files = QListWidget()
        self.files.setObjectName("changedFiles")
        self.files.currentItemChanged.connect(self._on_files_current_item_changed)
        self.diff = QPlainTextEdit()
        self.diff.setObjectName("diffText")
        self.diff.setReadOnly(True)
        self.diff.setUndoRedoEnabled(False)
        self.diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.diff.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.actions = QHBoxLayout()
        self.push_button = QPushButton("Commit and Push\u2026")
        self.push_button.setObjectName("pushButton")
        self.push_button.setToolTip("Commit the changes to a new branch and push it to the project's repository")
        self.push_button.setEnabled(False)
        self.push_button.clicked.connect(self._on_push_button_clicked)
        self.save_button = QPushButton("Save Work")
        self.save_button.setToolTip("Save a bundle, a patch and the changed files on this computer now")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.apply_button = QPushButton("Apply to My Folder\u2026")
        self.apply_button.setToolTip("Copy the changes into the folder the project was uploaded from")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self._on_apply_button_clicked)
        self.actions.addWidget(self.save_button)
        self.actions.addWidget(self.apply_button)
        self.actions.addStretch(1)
        self.actions.addWidget(self.push_button)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh_button)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.files)
        splitter.addWidget(self.diff)
        splitter.setSizes([140, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(self.actions)
        service.updated.connect(self._on_service_updated)

    @property
    def session_id(self) -> str | None:
        return self._session_id

    def show_session(self, session_id: str) -> None:
        self._session_id = session_id
        self._tasks.cancel_all()
        self._show_list(self._service.changes(session_id))

    def diff_text(self) -> str:
        return self.diff.toPlainText()

    def file_paths(self) -> list[str]:
        return [self.files.item(i).data(FileRole).path for i in range(self.files.count())]

    def select_file(self, path: str) -> None:
        for row in range(self.files.count()):
            if self.files.item(row).data(FileRole).path == path:
                self.files.setCurrentRow(row)
                return

    async def aclose(self) -> None:
        await self._tasks.close()

    def _show_list(self, changes: ChangeList | None, problem: str = "") -> None:
        current = self.files.currentItem()
        keep = current.data(FileRole).path if current is not None else None
        self.files.blockSignals(True)
        self.files.clear()
        for change in (changes.files if changes else ()):
            item = QListWidgetItem(f"{change.kind.letter}  {change.path}    {change.summary()}")
            item.setData(FileRole, change)
            item.setForeground(QColor(KIND_COLOURS[change.kind]))
            # a tooltip takes rich text: the (untrusted) name is escaped inside an explicit paragraph
            item.setToolTip(f"<p>{html.escape(change.path)}: {change.kind.value}</p>")
            self.files.addItem(item)
        self.files.blockSignals(False)
        text = changes.describe() if changes is not None else "Changes appear here once the project is in place."
        self.summary.setText(f"{text} ({problem})" if problem else text)
        if keep is not None:
            self.select_file(keep)
            if self.files.currentItem() is not None:
                self._request_diff(self.files.currentItem().data(FileRole))
                return
        self.diff.clear()

    def _request_diff(self, change: ChangedFile) -> None:
        if self._session_id is not None:
            self._tasks.start(self._load_diff(self._session_id, change), key="diff")

    async def _load_diff(self, session_id: str, change: ChangedFile) -> None:
        shown = await self._service.diff(session_id, change)
        if session_id == self._session_id:
            self._show_diff(shown)

    def _show_diff(self, shown: FileDiff) -> None:
        self.diff.clear()
        cursor = self.diff.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if shown.note:
            note = QTextCharFormat()
            note.setFontItalic(True)
            cursor.insertText(shown.note, note)
        else:
            first = True
            for line in classify_diff(shown.text):
                fmt = QTextCharFormat()
                fg, bg = LINE_COLOURS[line.kind]
                if fg:
                    fmt.setForeground(QColor(fg))
                if bg:
                    fmt.setBackground(QColor(bg))
                if line.kind is DiffLineKind.HEADER:
                    fmt.setFontWeight(QFont.Weight.Bold)
                cursor.insertText(("" if first else "\n") + line.text, fmt)
                first = False
        self.diff.moveCursor(QTextCursor.MoveOperation.Start)
        self.diff_shown.emit(shown.path)

    @Slot(object)
    def _on_service_updated(self, update: ChangesUpdate) -> None:
        if update.session_id == self._session_id:
            self._show_list(update.changes, update.problem)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_files_current_item_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self._request_diff(current.data(FileRole))

    @Slot()
    def _on_push_button_clicked(self) -> None:
        if self._session_id is not None:
            self.push_requested.emit(self._session_id)

    @Slot()
    def _on_save_button_clicked(self) -> None:
        if self._session_id is not None:
            self.save_requested.emit(self._session_id)

    @Slot()
    def _on_apply_button_clicked(self) -> None:
        if self._session_id is not None:
            self.apply_requested.emit(self._session_id)

    @Slot()
    def _on_refresh_button_clicked(self) -> None:
        if self._session_id is not None:
            self._service.refresh(self._session_id)
