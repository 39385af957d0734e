"""The console's context menu (built once, shown non-modally)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt, QThreadPool
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from sesame_desktop.ui.console_jobs import TextJob
from sesame_desktop.ui.url_opener import check_url

if TYPE_CHECKING:
    from sesame_desktop.ui.console import ConsoleView


class ConsoleMenu(QMenu):
    """Copy, select all, find, links, clear, save, wrapping and zoom for one console.

    The shortcuts shown are handled by the console's key handling; the menu only lists them.
    """

    def __init__(self, console: ConsoleView) -> None:
        super().__init__(console)
        self._console = console
        self._link: str | None = None
        self._shown_host: str | None = None
        self._jobs: set[TextJob] = set()  # running saves (kept alive until they report)
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

    def show_at(self, global_pos: QPoint, link: str | None, shown_host: str | None = None) -> None:
        """Pop up (without blocking) for a click at ``global_pos``, over ``link`` if any.

        Args:
            shown_host: The host the link's text shows, when it is not the target's.
        """
        self._link = link
        self._shown_host = shown_host
        for action in (self.open_link_action, self.copy_link_action, self._link_separator):
            action.setVisible(link is not None)
        web = link is not None and check_url(link)[0] is not None
        self.copy_link_action.setEnabled(web)  # only web addresses reach the clipboard
        self.copy_link_action.setText(
            "Copy Link Address" if web or link is None else "Copy Link Address (not a web link)"
        )
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
        parts, prefix = self._console.export_snapshot()  # a list copy now, text on a worker
        job = TextJob(parts, prefix, "\n" if parts else "", path)
        job.signals.done.connect(self._on_save_job_done)
        self._jobs.add(job)
        QThreadPool.globalInstance().start(job)

    def _on_save_job_done(self, job: TextJob) -> None:
        self._jobs.discard(job)
        if job.error:
            message = f"The output could not be saved to {job.path}: {job.error}."
            self._console.save_failed.emit(message)
        else:
            self._console.saved.emit(job.path)

    def _on_open_link_action_triggered(self) -> None:
        if self._link:
            self._console.activate_link(self._link, self._shown_host)

    def _on_copy_link_action_triggered(self) -> None:
        if self._link and check_url(self._link)[0] is not None:  # never javascript:, file:...
            QGuiApplication.clipboard().setText(self._link)

    def _on_wrap_action_triggered(self, checked: bool) -> None:
        self._console.set_wrapping(checked)
