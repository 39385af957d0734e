"""A 100,000-file folder in the Files tab: the GUI thread only ever does a bounded step at a time.

A probe counts the rows the model adds or removes between two turns of the event loop (a
0 ms timer marks each turn); no turn may carry more than ``MAX_ROWS_PER_TURN`` of them, so no
single step can stall the window however big the folder. It also counts the objects the
garbage collector tracks: none may be kept per entry, or every full collection (which holds
the GIL) walks 100,000 of them. (How long a step takes is measured by bench/file_tree.py, not
here.)
"""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QTreeView

from sesame_desktop.core.file_tree import FileEntries, FileEntry
from sesame_desktop.services.files import Listing
from sesame_desktop.ui.file_tree_model import FileTreeModel

FILES = 100_000
MAX_ROWS_PER_TURN = 5_000
MAX_TRACKED_GROWTH = 20_000  # objects tracked by the garbage collector: one per entry would be 100,000
ROOT = "/home/user/project"


class ListingSource(QObject):
    """Stands in for FileService: answers each listing request with the folder it holds."""

    listed = Signal(object)
    folders_changed = Signal(str, tuple)

    def __init__(self) -> None:
        super().__init__()
        self.folders: dict[str, FileEntries] = {}

    def request_listing(self, session_id: str, path: str) -> None:
        listing = Listing(session_id, path, self.folders.get(path, FileEntries()))
        QTimer.singleShot(0, self, lambda: self.listed.emit(listing))


class TurnProbe:
    """The largest number of rows inserted or removed within one turn of the event loop."""

    def __init__(self, model: FileTreeModel) -> None:
        self.rows = self.worst = self.turns = 0
        gc.collect()
        self.tracked_before = self.most_tracked = len(gc.get_objects())
        self.timer = QTimer()
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._turn)
        model.rowsInserted.connect(lambda _p, first, last: self._count(last - first + 1))
        model.rowsRemoved.connect(lambda _p, first, last: self._count(last - first + 1))
        self.timer.start()

    def _count(self, n: int) -> None:
        self.rows += n
        self.worst = max(self.worst, self.rows)

    def _turn(self) -> None:
        self.rows = 0
        self.turns += 1
        if self.turns % 25 == 0:
            self.most_tracked = max(self.most_tracked, len(gc.get_objects()))


def files(n: int, prefix: str = "file") -> FileEntries:
    return FileEntries.of(FileEntry(f"{prefix}-{i:06}.txt", f"{ROOT}/{prefix}-{i:06}.txt", False, i, 1.7e9)
                          for i in range(n))


@pytest.mark.slow
def test_a_100000_file_folder_arriving_in_an_open_folder_is_shown_in_bounded_steps(qtbot):
    source = ListingSource()
    source.folders[ROOT] = files(1, "first")
    model = FileTreeModel(source, "s", ROOT)
    view = QTreeView()
    view.setUniformRowHeights(True)
    view.setModel(model)
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(model.folder_shown):
        model.load_root()
    probe = TurnProbe(model)
    source.folders[ROOT] = FileEntries(files(1, "first").rows + files(FILES).rows)  # a build wrote 100,000 files
    source.folders_changed.emit("s", (ROOT,))
    qtbot.waitUntil(lambda: model.rowCount() == FILES + 1, timeout=300_000)
    probe.timer.stop()
    assert probe.worst <= MAX_ROWS_PER_TURN, f"{probe.worst:,} rows changed in one turn of the event loop"
    assert probe.turns > 25
    grown = probe.most_tracked - probe.tracked_before
    assert grown <= MAX_TRACKED_GROWTH, f"{grown:,} more objects tracked by the garbage collector meanwhile"
    assert model.index(FILES - 1, 0).data() == f"file-{FILES - 1:06}.txt"

    probe = TurnProbe(model)
    source.folders[ROOT] = files(1, "first")  # …and removed them again
    source.folders_changed.emit("s", (ROOT,))
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=300_000)
    probe.timer.stop()
    assert probe.worst <= MAX_ROWS_PER_TURN, f"{probe.worst:,} rows changed in one turn of the event loop"
    assert probe.turns > 25
    grown = probe.most_tracked - probe.tracked_before
    assert grown <= MAX_TRACKED_GROWTH, f"{grown:,} more objects tracked by the garbage collector meanwhile"
    qtbot.waitUntil(lambda: not model._tasks.tasks)
