"""The main window's size, position and splitter sizes, kept across restarts.

Stored with ``QSettings`` in an INI file in the app's config folder (``window.ini``): no
secret and nothing from a sandbox goes there, only geometry. A saved geometry that no longer
fits a screen (a monitor unplugged) is left to Qt, which moves the window back onto one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

log = logging.getLogger(__name__)

FILE_NAME = "window.ini"
#: below this the three panes cannot show a file name or a line of output
MINIMUM_WINDOW = (760, 480)
#: the panes' own minimum widths: sessions, console, side tabs
MINIMUM_PANES = (160, 320, 200)


class WindowState:
    """Saves and restores ``window``'s geometry and ``splitter``'s sizes under ``config_dir``."""

    def __init__(self, window: QMainWindow, splitter: QSplitter, config_dir: Path) -> None:
        self._window = window
        self._splitter = splitter
        self._path = config_dir / FILE_NAME
        self.keep_minimums()

    def keep_minimums(self) -> None:
        """Give each pane, and the window, at least the width its contents need. Called again
        once the session workspace is in the panes: the first window has only hints in them."""
        for index, width in enumerate(MINIMUM_PANES):
            widget = self._splitter.widget(index)
            if widget is not None:  # never below what its own layout needs (that would overlap)
                if (layout := widget.layout()) is not None:
                    layout.invalidate()  # its cached hint may predate the views just put in it
                widget.setMinimumWidth(max(width, widget.minimumSizeHint().width()))
        self._splitter.updateGeometry()
        # the layouts between the panes and the window learn of the new minimums through posted
        # layout requests: run them now, so that the window's own hint counts the panes' minimums
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        needed = self._window.minimumSizeHint()  # the panes side by side, the toolbar, the status bar
        self._window.setMinimumSize(max(MINIMUM_WINDOW[0], needed.width()), max(MINIMUM_WINDOW[1], needed.height()))

    def _settings(self) -> QSettings:
        return QSettings(str(self._path), QSettings.Format.IniFormat)

    def restore(self) -> bool:
        """Put back what :meth:`save` kept; False when nothing (usable) was kept."""
        if not self._path.is_file():
            return False
        settings = self._settings()
        geometry = settings.value("window/geometry")
        sizes = settings.value("window/splitter")
        restored = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored = self._window.restoreGeometry(geometry)
        if isinstance(sizes, QByteArray) and not sizes.isEmpty():
            restored = self._splitter.restoreState(sizes) or restored
        return restored

    def save(self) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("window layout not saved: %s", exc)
            return
        settings = self._settings()
        settings.setValue("window/geometry", self._window.saveGeometry())
        settings.setValue("window/splitter", self._splitter.saveState())
        settings.sync()
        if settings.status() is not QSettings.Status.NoError:
            log.warning("window layout not saved to %s", self._path)
