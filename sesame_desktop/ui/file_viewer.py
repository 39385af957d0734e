"""A read-only viewer for a text file of the sandbox, with line numbers."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from sesame_desktop.ui.messages import plain_label

BINARY_SNIFF_BYTES = 8192


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or text that is not UTF-8, in the first few KB."""
    head = data[:BINARY_SNIFF_BYTES]
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4  # a character cut at the sniff limit is fine
    return False


class _LineNumbers(QWidget):
    def __init__(self, editor: CodeView) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self._editor.number_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        self._editor.paint_numbers(self, event)


class CodeView(QPlainTextEdit):
    """Monospace, read-only, no wrapping, with a line-number gutter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._gutter = _LineNumbers(self)
        self.blockCountChanged.connect(self._on_block_count_changed)
        self.updateRequest.connect(self._on_update_request)
        self._on_block_count_changed()

    def number_width(self) -> int:
        return 12 + self.fontMetrics().horizontalAdvance("9") * len(str(max(1, self.blockCount())))

    def paint_numbers(self, gutter: QWidget, event: QPaintEvent) -> None:
        painter = QPainter(gutter)
        painter.fillRect(event.rect(), QColor("#f1f3f4"))
        painter.setPen(QColor("#80868b"))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible():
                painter.drawText(0, top, gutter.width() - 6, height, Qt.AlignmentFlag.AlignRight,
                                 str(block.blockNumber() + 1))
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()

    def _on_block_count_changed(self, _count: int = 0) -> None:
        self.setViewportMargins(self.number_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        rect = self.contentsRect()
        self._gutter.setGeometry(QRect(rect.left(), rect.top(), self.number_width(), rect.height()))


class FileViewer(QDialog):
    """Shows one file; binary content is refused politely with an offer to download.

    Signals:
        download_requested(): the user wants the file on this computer instead.
    """

    download_requested = Signal()

    def __init__(self, path: str, data: bytes | None, refusal: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(path.rsplit("/", 1)[-1])
        self.resize(900, 640)
        layout = QVBoxLayout(self)
        self.path_label = plain_label(path)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.path_label)
        self.code = CodeView()
        self.notice = plain_label()
        self.notice.setWordWrap(True)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if data is not None and not refusal and looks_binary(data):
            refusal = "This file is not text (it looks binary), so it is not shown here."
        if refusal:
            self.notice.setText(f"{refusal}\n\nDownload it to open it with another program.")
            layout.addWidget(self.notice, 1)
            self.code.hide()
        else:
            self.code.setPlainText((data or b"").decode("utf-8", "replace"))
            layout.addWidget(self.code, 1)
            self.notice.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.download_button = buttons.addButton("Download…", QDialogButtonBox.ButtonRole.ActionRole)
        self.download_button.clicked.connect(self.download_requested)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @property
    def refused(self) -> bool:
        return self.code.isHidden()
