"""Asking before a console link opens somewhere other than its text says."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def ask_before_opening(parent: QWidget, target: str, shown_host: str,
                       open_link: Callable[[str], object]) -> QMessageBox:
    """Show (non-modally, plain text) where the link really goes; open it if the user agrees."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Open this link?")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(
        f"The link's text shows {shown_host}, but it opens another address:\n\n{target}\n\n"
        "Open it only if you trust where it goes."
    )
    box.setStandardButtons(QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(
        lambda result: open_link(target) if result == QMessageBox.StandardButton.Open else None
    )
    box.open()
    return box
