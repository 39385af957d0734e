"""Notes beside a provider choice: which shell runs commands, and when local sessions run with
the user's full rights (no bubblewrap here, and always on macOS and Windows)."""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from sesame_desktop.core.config import Provider
from sesame_desktop.core.isolation import full_rights_note, isolation_expected
from sesame_desktop.core.shells import system_shell


@functools.cache
def _local_isolated() -> bool:
    return isolation_expected()


def shell_text(provider: Provider) -> str:
    """Which shell runs the session's commands, in words."""
    if provider is Provider.E2B:
        return "Commands run in bash inside the E2B sandbox."
    if _local_isolated():
        return "Commands run in bash, isolated with bubblewrap on this computer."
    return f"Commands run in {system_shell().name} on this computer."


def plain_note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class ProviderNotes(QWidget):
    """Follows a provider combo box: the shell for its choice, and the full-rights warning."""

    def __init__(self, combo: QComboBox, *, show_shell: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._combo = combo
        self.shell_label = plain_note()
        self.shell_label.setObjectName("shellNote")
        self.shell_label.setStyleSheet("color: palette(mid);")
        self.shell_label.setVisible(show_shell)
        self._show_shell = show_shell
        self.rights_label = plain_note(full_rights_note())
        self.rights_label.setObjectName("fullRightsNote")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.shell_label)
        layout.addWidget(self.rights_label)
        combo.currentIndexChanged.connect(self._on_combo_current_index_changed)
        self._on_combo_current_index_changed()

    @Slot()
    def _on_combo_current_index_changed(self) -> None:
        provider = self._combo.currentData()
        if not isinstance(provider, Provider):
            return
        self.shell_label.setText(shell_text(provider))
        self.rights_label.setVisible(provider is Provider.LOCAL and not _local_isolated())


def full_rights_label() -> QLabel:
    """The warning shown on each local session that runs without a sandbox (hidden at first)."""
    label = plain_note(f"\u26a0 {full_rights_note()}")
    label.setObjectName("fullRightsNote")
    label.hide()
    return label
