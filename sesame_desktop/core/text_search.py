"""Finding text in a long console (the find bar), without Qt.

A :class:`TextSnapshot` holds the plain text as one string (so the regular-expression engine
scans it in C instead of Python looping over 100,000 lines) and is reused while the buffer does
not change; a :class:`SearchIndex` of one term in it answers "next", "previous" and "which of
how many" with binary searches.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate

from sesame_desktop.core.terminal import TerminalBuffer

Match = tuple[int, int, int]
"""``(line number, start column, end column)``."""


class TextSnapshot:
    """The plain text of a buffer at one moment, ready to be searched many times.

    Attributes:
        text: Lines joined by ``\\n``; the first one is numbered ``first_line``.
        folded: ``text`` in lower case (case-insensitive search without ``re.IGNORECASE``,
            which is several times slower), or ``None`` if lowering changed its length.
    """

    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.first_line = first_line
        lengths = map(len, text.split("\n"))
        self.line_starts = list(accumulate((n + 1 for n in lengths), initial=0))
        folded = text.lower()
        self.folded = folded if len(folded) == len(text) else None


class SearchIndex:
    """All matches of a literal ``term`` in a :class:`TextSnapshot` (case-insensitive).

    Attributes:
        count: How many matches there are.
    """

    def __init__(self, snapshot: TextSnapshot, term: str) -> None:
        self._first = snapshot.first_line
        self._line_starts = snapshot.line_starts
        if snapshot.folded is not None:
            pattern = re.compile(re.escape(term.lower()))
            haystack = snapshot.folded
        else:
            pattern = re.compile(re.escape(term), re.IGNORECASE)
            haystack = snapshot.text
        spans = [m.span() for m in pattern.finditer(haystack) if m.end() > m.start()]
        self._starts = [start for start, _ in spans]
        self._spans = spans
        self.count = len(spans)

    def _offset(self, line: int, column: int) -> int:
        index = line - self._first
        if index < 0:
            return -1
        if index >= len(self._line_starts) - 1:
            return self._line_starts[-1]
        return self._line_starts[index] + column

    def match(self, i: int) -> Match:
        """The ``i``-th match as ``(line, start, end)``."""
        start, end = self._spans[i]
        index = bisect_right(self._line_starts, start) - 1
        base = self._line_starts[index]
        return (self._first + index, start - base, end - base)

    def index_of(self, match: Match | None) -> int | None:
        """Position of ``match`` among all matches, or ``None`` if it is not one."""
        if match is None:
            return None
        offset = self._offset(match[0], match[1])
        i = bisect_left(self._starts, offset)
        return i if i < self.count and self._starts[i] == offset else None

    def find(self, origin: tuple[int, int], backwards: bool = False) -> int | None:
        """Index of the first match starting after ``origin`` (``(line, column)``), or the last
        one starting before it when ``backwards``; wraps around. ``None`` if there is none."""
        if not self.count:
            return None
        offset = self._offset(*origin)
        if backwards:
            i = bisect_left(self._starts, offset) - 1
            return i if i >= 0 else self.count - 1
        i = bisect_right(self._starts, offset)
        return i if i < self.count else 0


class BufferSearch:
    """Searches a terminal buffer, reusing one text snapshot while the buffer does not change."""

    def __init__(self) -> None:
        self._snapshot: tuple[tuple[int, int], TextSnapshot] | None = None
        self._index: tuple[tuple[int, int, str], SearchIndex] | None = None

    def index(self, buffer: TerminalBuffer, term: str) -> SearchIndex:
        """The matches of ``term`` in ``buffer`` as it is now."""
        key = (id(buffer), buffer.generation)
        if self._snapshot is None or self._snapshot[0] != key:
            self._snapshot = (key, TextSnapshot(buffer.plain_text(), buffer.evicted))
        if self._index is None or self._index[0] != (*key, term):
            self._index = ((*key, term), SearchIndex(self._snapshot[1], term))
        return self._index[1]

    def reset(self) -> None:
        """Let go of the snapshot (the find bar was closed)."""
        self._snapshot = self._index = None
