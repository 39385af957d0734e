"""A sandbox's project as a tree of nodes, loaded folder by folder, with no Qt in it.

The Qt item model (``ui/file_tree_model.py``) is a thin adapter over :class:`FileNode`. A
folder's entries arrive sorted (folders first, then by name); a huge folder keeps the entries
not yet shown in ``pending`` and hands them out in batches, so opening a folder of 50,000 files
never stalls the window. A refresh (after a change in the sandbox) is applied as a minimal set
of row operations, computed here by :func:`plan_refresh`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

HEAVY_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "env", "__pycache__", ".tox",
                        ".mypy_cache", ".pytest_cache", ".next", ".cache", "target", "dist", "build"})
BATCH = 1000


class FileEntry(NamedTuple):
    """One entry of a sandbox folder, as a provider lists it."""

    name: str
    path: str
    is_dir: bool
    size: int
    modified: float
    is_link: bool = False  # a symbolic link (``is_dir`` then tells its target's kind)


def sort_key(entry: FileEntry) -> tuple[int, str, str]:
    return (0 if entry.is_dir else 1, entry.name.casefold(), entry.name)


def sort_entries(entries: Iterable[FileEntry]) -> list[FileEntry]:
    return sorted(entries, key=sort_key)


def is_heavy(name: str) -> bool:
    """Hidden and bulky folders: shown, but only ever loaded when the user opens them."""
    return name in HEAVY_DIRS


class FileNode:
    """A folder of the tree.

    Its rows are kept as plain tuples (the fields of :class:`FileEntry`): the garbage collector
    stops tracking tuples of plain values, so a folder of 50,000 files adds nothing to the
    cost of a full collection, which would otherwise stall the window for hundreds of ms.

    Attributes:
        shown: the rows shown, in order; ``None`` while the folder was never loaded.
        folders: a node for each sub-folder among the rows, by name.
        pending: loaded entries not shown yet (a big folder is shown in batches).
        loading: a listing is on its way.
        error: why the last listing failed, in words.
        generation: bumped on every change of the rows (a stale refresh plan can tell).
        changed_while_loading: a change was reported while a listing was on its way, which
            may be older than the change: list again when it arrives.
    """

    __slots__ = ("entry", "shown", "folders", "pending", "loading", "error", "generation",
                 "changed_while_loading")

    def __init__(self, entry: FileEntry) -> None:
        self.entry = entry
        self.shown: list[tuple[Any, ...]] | None = None
        self.folders: dict[str, FileNode] = {}
        self.pending: list[FileEntry] = []
        self.loading = False
        self.error = ""
        self.generation = 0
        self.changed_while_loading = False

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def path(self) -> str:
        return self.entry.path

    @property
    def is_dir(self) -> bool:
        return True

    @property
    def loaded(self) -> bool:
        return self.shown is not None

    def shown_entries(self) -> list[FileEntry]:
        return [FileEntry(*row) for row in self.shown or ()]

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

    def take_batch(self, limit: int = BATCH) -> list[FileEntry]:
        """The next entries to show, moved from ``pending`` to the rows."""
        batch, self.pending = self.pending[:limit], self.pending[limit:]
        if self.shown is None:
            self.shown = []
        self.shown.extend(tuple(entry) for entry in batch)
        for entry in batch:
            if entry.is_dir:
                self.folders[entry.name] = FileNode(entry)
        self.generation += 1
        return batch

    def remove_row(self, row: int) -> None:
        assert self.shown is not None
        name, _path, is_dir, *_ = self.shown.pop(row)
        if is_dir:
            self.folders.pop(name, None)
        self.generation += 1

    def insert_row(self, row: int, entry: FileEntry) -> FileNode | None:
        assert self.shown is not None
        self.shown.insert(row, tuple(entry))
        self.generation += 1
        if entry.is_dir:
            node = FileNode(entry)
            self.folders[entry.name] = node
            return node
        return None

    def update_row(self, row: int, entry: FileEntry) -> None:
        assert self.shown is not None
        self.shown[row] = tuple(entry)
        self.generation += 1


@dataclass(frozen=True)
class Remove:
    row: int


@dataclass(frozen=True)
class Insert:
    row: int
    entry: FileEntry


@dataclass(frozen=True)
class Update:
    row: int
    entry: FileEntry


Operation = Remove | Insert | Update


def plan_refresh(shown: Sequence[FileEntry], has_pending: bool, fresh: Sequence[FileEntry]
                 ) -> tuple[list[Operation], list[FileEntry]]:
    """Row operations turning the ``shown`` rows into ``fresh`` (both sorted).

    When more entries wait in ``pending``, new entries that sort after the last shown row stay
    pending instead of becoming rows. Operations apply in order; each row number is valid at
    the moment its operation applies.

    Returns:
        (operations, the new pending list)
    """
    fresh_by_name = {e.name: e for e in fresh}
    ops: list[Operation] = []
    kept: list[FileEntry] = []
    for row in range(len(shown) - 1, -1, -1):  # removals from the bottom up keep rows valid
        old = shown[row]
        new = fresh_by_name.get(old.name)
        if new is None or new.is_dir != old.is_dir:
            ops.append(Remove(row))
    survivors = [(old, fresh_by_name[old.name]) for old in shown
                 if old.name in fresh_by_name and fresh_by_name[old.name].is_dir == old.is_dir]
    for row, (old, new) in enumerate(survivors):
        kept.append(new)
        if (old.size, old.modified) != (new.size, new.modified):
            ops.append(Update(row, new))
    kept_names = {e.name for e in kept}
    last_key = sort_key(kept[-1]) if kept else None
    keys = [sort_key(e) for e in kept]
    pending: list[FileEntry] = []
    for entry in fresh:
        if entry.name in kept_names:
            continue
        key = sort_key(entry)
        if has_pending and (last_key is None or key > last_key):
            pending.append(entry)
            continue
        row = bisect.bisect_left(keys, key)
        keys.insert(row, key)
        ops.append(Insert(row, entry))
    return ops, pending
