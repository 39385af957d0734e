"""The console's context menu (built once, shown non-modally)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

if TYPE_CHECKING:
    from sesame_desktop.ui.console import ConsoleView


class _SaveSignals(QObject):
    """Signals of a save job (a QRunnable cannot have its own).

    Signals:
        done(_SaveJob): The job finished; ``error`` is empty on success.
    """

    done = Signal(object)


class _SaveJob(QRunnable):
    """Writes text to a file on a worker thread (disk calls never block the GUI thread)."""

    def __init__(self, path: str, text: str) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the menu holds it until it has reported
        self.path = path
        self.text = text
        self.error = ""
        self.signals = _SaveSignals()

    def run(self) -> None:
        try:
            Path(self.path).write_text(self.text, encoding="utf-8")
        except OSError as exc:
            self.error = exc.strerror or str(exc)
        self.text = ""
        self.signals.done.emit(self)


class ConsoleMenu(QMenu):
    """Copy, select all, find, links, clear, save, wrapping and zoom for one console.

    The shortcuts shown are handled by the console's key handling; the menu only lists them.
    """

    def __init__(self, console: ConsoleView) -> None:
        super().__init__(console)
        self._console = console
        self._link: str | None = None
        self._jobs: set[_SaveJob] = set()  # running saves (kept alive until they report)
        self.open_link_action = self._add("Open Link", self._on_open_link_action_triggered)
        self.copy_link_action = self._add("Copy Link Address", self._on_copy_link_action_triggered)
        self._link_separator = self.addSeparator()
        self.copy_action = self._add("Copy", console.copy, QKeySequence.StandardKey.Copy)
        self.select_all_action = self._add(
            "Select All", console.select_all, QKeySequence.StandardKey.SelectAll
        )
        self.find_action = self._add("Find…", console.open_find, QKeySequence.StandardKey.Find)
        self.addSeparator()
        self.live_action = self._add("Jump to Live Output", console.scroll_to_end, "End")
        self.wrap_action = self._add("Wrap Long Lines", self._on_wrap_action_triggered)
        self.wrap_action.setCheckable(True)
        self.zoom_in_action = self._add("Zoom In", lambda: console.zoom(1), "Ctrl++")
        self.zoom_out_action = self._add("Zoom Out", lambda: console.zoom(-1), "Ctrl+-")
        self.zoom_reset_action = self._add("Reset Zoom", lambda: console.zoom(0), "Ctrl+0")
        self.addSeparator()
        self.save_action = self._add("Save Output…", self.ask_where_to_save)
        self.clear_action = self._add("Clear", console.clear)

    def _add(
        self,
        text: str,
        slot: Callable[..., object],
        shortcut: QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def show_at(self, global_pos: QPoint, link: str | None) -> None:
        """Pop up (without blocking) for a click at ``global_pos``, over ``link`` if any."""
        self._link = link
        for action in (self.open_link_action, self.copy_link_action, self._link_separator):
            action.setVisible(link is not None)
        self.copy_action.setEnabled(bool(self._console.selected_text()))
        self.live_action.setEnabled(not self._console.following)
        self.wrap_action.setChecked(self._console.wrapping)
        self.popup(global_pos)

    def ask_where_to_save(self) -> None:
        """Open a save dialog without blocking (``open()``); save when a file is chosen."""
        dialog = QFileDialog(self._console, "Save console output")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(["Text files (*.txt *.log)", "All files (*)"])
        dialog.selectFile("console-output.txt")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self._on_save_dialog_file_selected)
        dialog.open()

    def _on_save_dialog_file_selected(self, path: str) -> None:
        job = _SaveJob(path, self._console.export_text())  # text taken now, on this thread
        job.signals.done.connect(self._on_save_job_done)
        self._jobs.add(job)
        QThreadPool.globalInstance().start(job)

    def _on_save_job_done(self, job: _SaveJob) -> None:
        self._jobs.discard(job)
        if job.error:
            message = f"The output could not be saved to {job.path}: {job.error}."
            self._console.save_failed.emit(message)
        else:
            self._console.saved.emit(job.path)

    def _on_open_link_action_triggered(self) -> None:
        if self._link:
            self._console.open_link(self._link)

    def _on_copy_link_action_triggered(self) -> None:
        if self._link:
            QGuiApplication.clipboard().setText(self._link)

    def _on_wrap_action_triggered(self, checked: bool) -> None:
        self._console.set_wrapping(checked)
