"""A sandbox's project as a tree of nodes, loaded folder by folder, with no Qt in it.

The Qt item model (``ui/file_tree_model.py``) is a thin adapter over :class:`FileNode`. A
folder's entries arrive sorted (folders first, then by name); a huge folder keeps the entries
not yet shown in ``pending`` and hands them out in batches, so opening a folder of 50,000 files
never stalls the window. A refresh (after a change in the sandbox) is applied as a minimal set
of row operations, computed here by :func:`plan_refresh`.

Many entries at once travel as :data:`Row` (a :class:`FileEntry`'s fields as a plain tuple),
never as ``FileEntry`` objects: CPython stops tracking a plain tuple of strings and numbers at
the first garbage collection it survives, but tracks a named tuple (a tuple subclass) for as
long as it lives, and every full collection walks every tracked object while holding the GIL.
100,000 ``FileEntry`` objects alive made full collections take 40-130 ms, in any thread, and so
stalled the window; 100,000 rows add nothing to them. A ``FileEntry`` is made only for the one
entry a caller looks at.
"""

from __future__ import annotations

import bisect
import heapq
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Final, Literal, NamedTuple, overload

from sesame_desktop.core.pacing import Pacer, paced

HEAVY_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "env", "__pycache__", ".tox",
                        ".mypy_cache", ".pytest_cache", ".next", ".cache", "target", "dist", "build"})
BATCH = 1000
SORT_RUN = 4096


class FileEntry(NamedTuple):
    """One entry of a sandbox folder, as a provider lists it."""

    name: str
    path: str
    is_dir: bool
    size: int
    modified: float
    is_link: bool = False  # a symbolic link (``is_dir`` then tells its target's kind)


Row = tuple[str, str, bool, int, float, bool]
"""A :class:`FileEntry`'s fields as a plain tuple (a ``FileEntry`` is also one)."""
NAME: Final = 0  # the index of each field in a row
PATH: Final = 1
IS_DIR: Final = 2
SIZE: Final = 3
MODIFIED: Final = 4
IS_LINK: Final = 5


def row_of(entry: FileEntry | Row) -> Row:
    """The entry's fields as a plain tuple, which the garbage collector stops tracking."""
    return (entry[0], entry[1], entry[2], entry[3], entry[4], entry[5])


def entry_of(row: Row) -> FileEntry:
    return FileEntry._make(row)


class FileEntries(Sequence[FileEntry]):
    """A folder listing: :class:`FileEntry` values, kept as :data:`Row` tuples.

    Reads as a sequence of ``FileEntry`` (each made when it is looked at, and dropped after);
    bulk code works on :attr:`rows`. Equal to any sequence of the same entries.
    """

    __slots__ = ("rows",)

    def __init__(self, rows: list[Row] | None = None) -> None:
        self.rows: list[Row] = [] if rows is None else rows

    @classmethod
    def of(cls, entries: Iterable[FileEntry | Row]) -> FileEntries:
        return cls([row_of(entry) for entry in entries])

    def append(self, entry: FileEntry | Row) -> None:
        self.rows.append(row_of(entry))

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> FileEntry: ...

    @overload
    def __getitem__(self, index: slice) -> FileEntries: ...

    def __getitem__(self, index: int | slice) -> FileEntry | FileEntries:
        if isinstance(index, slice):
            return FileEntries(self.rows[index])
        return FileEntry._make(self.rows[index])

    def __iter__(self) -> Iterator[FileEntry]:
        return map(FileEntry._make, self.rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FileEntries):
            return self.rows == other.rows
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == len(self.rows) and all(a == b for a, b in zip(self.rows, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"FileEntries({len(self.rows)} entries)"


def rows_of(entries: Sequence[FileEntry] | Sequence[Row]) -> list[Row]:
    """The rows of a listing (no copy of a :class:`FileEntries`' own)."""
    if isinstance(entries, FileEntries):
        return entries.rows
    return [row_of(entry) for entry in entries]


def sort_key(entry: FileEntry | Row) -> tuple[int, str, str]:
    return (0 if entry[IS_DIR] else 1, entry[NAME].casefold(), entry[NAME])


def sort_entries(entries: Iterable[FileEntry]) -> list[FileEntry]:
    return sorted(entries, key=sort_key)


def sort_rows(rows: list[Row]) -> list[Row]:
    """Rows in the tree's order (folders first, then by name), for a worker thread.

    ``list.sort`` holds the GIL for all its comparisons (about 85 ms for 100,000 entries),
    which stalls the GUI thread as surely as sorting there; runs of a few thousand hold it a
    few milliseconds each, and the work pauses every few milliseconds (:mod:`.pacing`).
    """
    if len(rows) <= SORT_RUN:
        return sorted(rows, key=sort_key)
    runs = [sorted(rows[i:i + SORT_RUN], key=sort_key) for i in paced(range(0, len(rows), SORT_RUN))]
    return list(paced(heapq.merge(*runs, key=sort_key)))


def is_heavy(name: str) -> bool:
    """Hidden and bulky folders: shown, but only ever loaded when the user opens them."""
    return name in HEAVY_DIRS


class FileNode:
    """A folder of the tree.

    Its rows are kept as :data:`Row` tuples, never as ``FileEntry`` objects (see the module's
    docstring): a folder of 100,000 files adds nothing to the cost of a full collection.

    Attributes:
        shown: the rows shown, in order; ``None`` while the folder was never loaded.
        folders: a node for each sub-folder among the rows, by name.
        pending: loaded rows not shown yet (a big folder is shown in batches).
        loading: a listing is on its way.
        error: why the last listing failed, in words.
        generation: bumped on every change of the rows (a stale refresh plan can tell).
        changed_while_loading: a change was reported while a listing was on its way, which
            may be older than the change: list again when it arrives.
    """

    __slots__ = ("_row", "shown", "folders", "_pending", "loading", "error", "generation",
                 "changed_while_loading")

    def __init__(self, entry: FileEntry | Row) -> None:
        # One object tracked by the garbage collector per folder: the entry is kept as a plain
        # row, and the empty dict and tuple are not tracked until something is put in them.
        self._row = row_of(entry)
        self.shown: list[Row] | None = None
        self.folders: dict[str, FileNode] = {}
        self._pending: deque[Row] | tuple[()] = ()
        self.loading = False
        self.error = ""
        self.generation = 0
        self.changed_while_loading = False

    @property
    def entry(self) -> FileEntry:
        return entry_of(self._row)

    @property
    def name(self) -> str:
        return self._row[NAME]

    @property
    def path(self) -> str:
        return self._row[PATH]

    @property
    def is_dir(self) -> bool:
        return True

    @property
    def loaded(self) -> bool:
        return self.shown is not None

    @property
    def pending(self) -> Sequence[Row]:
        return self._pending

    @pending.setter
    def pending(self, rows: Iterable[Row]) -> None:
        # A queue: taking a batch off the front of a 100,000-row list would copy the rest,
        # touching every row, batch after batch.
        queue = deque(rows)
        self._pending = queue if queue else ()

    def shown_entries(self) -> FileEntries:
        return FileEntries(list(self.shown or ()))

    def find(self, path: str) -> FileNode | None:
        """The folder node at ``path`` (absolute), or None."""
        if path.rstrip("/") == self.path.rstrip("/"):
            return self
        prefix = self.path.rstrip("/") + "/"
        if not path.startswith(prefix):
            return None
        node: FileNode | None = self
        for part in path[len(prefix):].strip("/").split("/"):
            node = node.folders.get(part) if node is not None else None
            if node is None:
                return None
        return node

    def take_batch(self, limit: int = BATCH) -> list[Row]:
        """The next rows to show, moved from ``pending`` to the shown rows."""
        pending = self._pending
        batch = [row_of(pending.popleft()) for _ in range(min(limit, len(pending)))] if pending else []
        if not pending:
            self._pending = ()  # no object for the collector to track
        if self.shown is None:
            self.shown = []
        self.shown.extend(batch)
        for row in batch:
            if row[IS_DIR]:
                self.folders[row[NAME]] = FileNode(row)
        self.generation += 1
        return batch

    def remove_row(self, row: int) -> None:
        assert self.shown is not None
        removed = self.shown.pop(row)
        if removed[IS_DIR]:
            self.folders.pop(removed[NAME], None)
        self.generation += 1

    def insert_row(self, row: int, entry: FileEntry | Row) -> FileNode | None:
        assert self.shown is not None
        self.shown.insert(row, row_of(entry))
        self.generation += 1
        if entry[IS_DIR]:
            node = FileNode(entry)
            self.folders[entry[NAME]] = node
            return node
        return None

    def update_row(self, row: int, entry: FileEntry | Row) -> None:
        assert self.shown is not None
        self.shown[row] = row_of(entry)
        self.generation += 1


REMOVE: Literal["remove"] = "remove"
INSERT: Literal["insert"] = "insert"
UPDATE: Literal["update"] = "update"
Operation = tuple[Literal["remove", "insert", "update"], int, Row | None]
"""A row operation as a plain tuple (a refresh of 100,000 rows plans 100,000 of them, which
as objects would each be tracked by the garbage collector): ``(REMOVE, row, None)``,
``(INSERT, row, new row)`` or ``(UPDATE, row, new row)``."""


def plan_refresh(shown: Sequence[Row], has_pending: bool, fresh: Sequence[Row], *, worker: bool = False
                 ) -> tuple[list[Operation], list[Row]]:
    """Row operations turning the ``shown`` rows into ``fresh`` (both sorted; rows or entries).

    When more entries wait in ``pending``, new entries that sort after the last shown row stay
    pending instead of becoming rows. Operations apply in order; each row number is valid at
    the moment its operation applies. Made only of plain tuples, lists and dicts. On a
    ``worker`` thread, the work pauses every few milliseconds (:mod:`.pacing`).

    Returns:
        (operations, the new pending rows)
    """
    pace = Pacer().tick if worker else _no_pause
    fresh_by_name = {e[NAME]: e for e in fresh}
    ops: list[Operation] = []
    for row in range(len(shown) - 1, -1, -1):  # removals from the bottom up keep rows valid
        pace()
        old = shown[row]
        new = fresh_by_name.get(old[NAME])
        if new is None or new[IS_DIR] != old[IS_DIR]:
            ops.append((REMOVE, row, None))
    kept_names: set[str] = set()
    keys: list[tuple[int, str, str]] = []
    for old in shown:
        pace()
        new = fresh_by_name.get(old[NAME])
        if new is None or new[IS_DIR] != old[IS_DIR]:
            continue
        if (old[SIZE], old[MODIFIED]) != (new[SIZE], new[MODIFIED]):
            ops.append((UPDATE, len(keys), row_of(new)))
        kept_names.add(new[NAME])
        keys.append(sort_key(new))
    last_key = keys[-1] if keys else None
    pending: list[Row] = []
    for entry in fresh:
        pace()
        if entry[NAME] in kept_names:
            continue
        key = sort_key(entry)
        if has_pending and (last_key is None or key > last_key):
            pending.append(row_of(entry))
            continue
        row = bisect.bisect_left(keys, key)
        keys.insert(row, key)
        ops.append((INSERT, row, row_of(entry)))
    return ops, pending


def _no_pause() -> None:
    pass
