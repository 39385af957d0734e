"""What a session changed, as plain values: parsed from git's machine-readable output.

The sandbox side (:mod:`sesame_desktop.sandbox.changes`) runs git against the session's start
point; this module reads what git printed (``--name-status -z``, ``--numstat -z`` and unified
diffs) and classifies diff lines for colouring. No Qt, no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

MAX_DIFF_BYTES = 256 * 1024
"""A file whose diff is longer than this is named, not shown."""
MAX_DIFF_LINES = 4000


class ChangeKind(enum.Enum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    TYPE_CHANGED = "type changed"

    @property
    def letter(self) -> str:
        return {"added": "A", "modified": "M", "deleted": "D", "type changed": "T"}[self.value]


_KINDS = {"A": ChangeKind.ADDED, "M": ChangeKind.MODIFIED, "D": ChangeKind.DELETED, "T": ChangeKind.TYPE_CHANGED}


@dataclass(frozen=True)
class ChangedFile:
    """One changed path.

    Attributes:
        path: relative to the project folder (untrusted text from the sandbox).
        added: lines added; None for a binary file.
        deleted: lines deleted; None for a binary file.
    """

    path: str
    kind: ChangeKind
    added: int | None = None
    deleted: int | None = None

    @property
    def binary(self) -> bool:
        return self.added is None

    def summary(self) -> str:
        if self.binary:
            return "binary"
        return f"+{self.added} \u2212{self.deleted}"


@dataclass(frozen=True)
class ChangeList:
    files: tuple[ChangedFile, ...] = ()

    @property
    def added(self) -> int:
        return sum(f.added or 0 for f in self.files)

    @property
    def deleted(self) -> int:
        return sum(f.deleted or 0 for f in self.files)

    def describe(self) -> str:
        if not self.files:
            return "No changes yet."
        n = len(self.files)
        return f"{n} file{'s' if n != 1 else ''} changed, +{self.added} \u2212{self.deleted}"


SECTION_MARK = "\x00--sesame-numstat--\x00"


def parse_changes(output: str) -> ChangeList:
    """Read ``git diff --name-status -z``, :data:`SECTION_MARK`, ``git diff --numstat -z``."""
    status_part, _, numstat_part = output.partition(SECTION_MARK)
    fields = [f for f in status_part.split("\x00")]
    kinds: dict[str, ChangeKind] = {}
    order: list[str] = []
    i = 0
    while i + 1 < len(fields):
        letter, path = fields[i].strip(), fields[i + 1]
        i += 2
        if not letter or not path:
            continue
        kind = _KINDS.get(letter[0])
        if kind is None:
            continue
        kinds[path] = kind
        order.append(path)
    counts: dict[str, tuple[int | None, int | None]] = {}
    for record in numstat_part.split("\x00"):
        parts = record.split("\t", 2)
        if len(parts) != 3:
            continue
        added, deleted, path = parts
        if added == "-" or deleted == "-":
            counts[path] = (None, None)
        elif added.isdigit() and deleted.isdigit():
            counts[path] = (int(added), int(deleted))
    files = []
    for path in sorted(order):
        added_n, deleted_n = counts.get(path, (0, 0))
        files.append(ChangedFile(path, kinds[path], added_n, deleted_n))
    return ChangeList(tuple(files))


class DiffLineKind(enum.Enum):
    HEADER = "header"
    HUNK = "hunk"
    ADDED = "added"
    DELETED = "deleted"
    CONTEXT = "context"
    NOTE = "note"


@dataclass(frozen=True)
class DiffLine:
    kind: DiffLineKind
    text: str


def classify_diff(diff: str) -> list[DiffLine]:
    """A unified diff, line by line, with the kind of each line (for colours)."""
    lines: list[DiffLine] = []
    in_header = True
    for raw in diff.splitlines():
        if raw.startswith("diff --git"):
            in_header = True
            lines.append(DiffLine(DiffLineKind.HEADER, raw))
        elif raw.startswith("@@"):
            in_header = False
            lines.append(DiffLine(DiffLineKind.HUNK, raw))
        elif in_header:
            lines.append(DiffLine(DiffLineKind.HEADER, raw))
        elif raw.startswith("+"):
            lines.append(DiffLine(DiffLineKind.ADDED, raw))
        elif raw.startswith("-"):
            lines.append(DiffLine(DiffLineKind.DELETED, raw))
        elif raw.startswith("\\"):
            lines.append(DiffLine(DiffLineKind.NOTE, raw))
        else:
            lines.append(DiffLine(DiffLineKind.CONTEXT, raw))
    return lines


@dataclass(frozen=True)
class FileDiff:
    """What the Changes tab shows for one file.

    Attributes:
        text: the unified diff, or empty when it is not shown.
        note: why it is not shown ("binary file", "too large to show: 2.1 MB of changes").
    """

    path: str
    text: str = ""
    note: str = ""


def file_diff(change: ChangedFile, diff: str, *, truncated: bool) -> FileDiff:
    """The diff to show for ``change``: binary and large files are named, not dumped."""
    if change.binary:
        return FileDiff(change.path, note=f"{change.path}: binary file {change.kind.value}; not shown.")
    if truncated or len(diff) > MAX_DIFF_BYTES or diff.count("\n") > MAX_DIFF_LINES:
        total = (change.added or 0) + (change.deleted or 0)
        return FileDiff(change.path, note=f"{change.path}: {change.kind.value}, {total:,} lines changed; "
                                          "too large to show here.")
    return FileDiff(change.path, text=diff)
