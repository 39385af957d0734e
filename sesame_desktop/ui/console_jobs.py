"""Work on a whole scrollback off the GUI thread: building its text for a save or a copy.

The GUI thread only takes a snapshot (a list copy of the kept lines, a few milliseconds for a
million lines); joining, stripping colour codes and writing run on a worker thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal

from sesame_desktop.core.terminal import snapshot_text


class _JobSignals(QObject):
    """Signals of a job (a QRunnable cannot have its own).

    Signals:
        done(TextJob): The job finished; ``error`` is empty on success.
    """

    done = Signal(object)


class TextJob(QRunnable):
    """Builds plain text from a buffer snapshot and, with a ``path``, writes it there.

    Attributes:
        text: The text built (kept only when there is no ``path``: a copy to the clipboard).
        error: Why writing failed (empty on success).
    """

    def __init__(
        self, parts: list[object], prefix: str = "", suffix: str = "", path: str | None = None
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)  # its owner holds it until it has reported
        self.parts = parts
        self.prefix = prefix
        self.suffix = suffix
        self.path = path
        self.text = ""
        self.error = ""
        self.signals = _JobSignals()

    def run(self) -> None:
        text = self.prefix + snapshot_text(self.parts) + self.suffix
        self.parts = []
        if self.path is None:
            self.text = text
        else:
            try:
                Path(self.path).write_text(text, encoding="utf-8")
            except OSError as exc:
                self.error = exc.strerror or str(exc)
        self.signals.done.emit(self)
