"""The Transcript tab: an agent's run as steps — messages, tool calls, files, final answer.

Everything shown is untrusted text from the sandbox: it is inserted as plain text with
character formats (colours, bold), never as rich text or HTML.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from sesame_desktop.core.transcript import EntryKind, TranscriptEntry
from sesame_desktop.services.transcripts import TranscriptService, TranscriptUpdate

TITLE_COLOURS = {
    EntryKind.START: "#5f6368",
    EntryKind.MESSAGE: "#1a73e8",
    EntryKind.THINKING: "#80868b",
    EntryKind.TOOL: "#8430ce",
    EntryKind.TOOL_RESULT: "#188038",
    EntryKind.ANSWER: "#188038",
    EntryKind.ERROR: "#b3261e",
}
MARKS = {
    EntryKind.START: "\u25cf",
    EntryKind.MESSAGE: "\u25b8",
    EntryKind.THINKING: "\u2026",
    EntryKind.TOOL: "\u2692",
    EntryKind.TOOL_RESULT: "\u21b3",
    EntryKind.ANSWER: "\u2714",
    EntryKind.ERROR: "\u2716",
}
MAX_BLOCKS = 50_000


class TranscriptView(QWidget):
    """Shows the selected session's transcript; the console keeps the raw output.

    Signals:
        show_console_requested(): the user wants the raw console.
    """

    show_console_requested = Signal()

    def __init__(self, transcripts: TranscriptService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._transcripts = transcripts
        self._session_id: str | None = None
        self.text = QPlainTextEdit()
        self.text.setObjectName("transcriptText")
        self.text.setReadOnly(True)
        self.text.setUndoRedoEnabled(False)
        self.text.setMaximumBlockCount(MAX_BLOCKS)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.console_button = QPushButton("Raw Console")
        self.console_button.setToolTip("Everything the agent printed, as it printed it")
        self.console_button.clicked.connect(self.show_console_requested)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.console_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        transcripts.updated.connect(self._on_transcripts_updated)
        self._steps = 0

    def show_session(self, session_id: str) -> bool:
        """Show ``session_id``'s transcript; False when the session has none (no structured output)."""
        self._session_id = session_id
        self.text.clear()
        self._steps = 0
        if not self._transcripts.has_transcript(session_id):
            self.summary.setText("")
            return False
        self._append(self._transcripts.entries(session_id))
        return True

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def _append(self, entries: tuple[TranscriptEntry, ...]) -> None:
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        at_end = self.text.verticalScrollBar().value() >= self.text.verticalScrollBar().maximum() - 4
        body = QTextCharFormat()
        for entry in entries:
            title = QTextCharFormat()
            title.setFontWeight(QFont.Weight.Bold)
            title.setForeground(QColor(TITLE_COLOURS[entry.kind]))
            if not self.text.document().isEmpty():
                cursor.insertText("\n\n", body)
            cursor.insertText(f"{MARKS[entry.kind]} {entry.title}", title)
            if entry.text:
                cursor.insertText("\n" + entry.text, body)
            if entry.files and entry.kind in (EntryKind.ANSWER, EntryKind.ERROR):
                files = QTextCharFormat()
                files.setForeground(QColor("#5f6368"))
                cursor.insertText("\nFiles touched: " + ", ".join(entry.files), files)
            if entry.kind in (EntryKind.TOOL, EntryKind.MESSAGE):
                self._steps += 1
        self.summary.setText(f"{self._steps} step{'s' if self._steps != 1 else ''}")
        if at_end:
            self.text.verticalScrollBar().setValue(self.text.verticalScrollBar().maximum())

    @Slot(object)
    def _on_transcripts_updated(self, update: TranscriptUpdate) -> None:
        if update.session_id == self._session_id:
            self._append(update.entries)
