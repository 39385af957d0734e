"""Which rows of a terminal buffer a console shows, without Qt.

Lines are numbered absolutely (``buffer.evicted + index``), so a position survives old lines
falling off the front. When lines were dropped, a notice row (line number ``evicted - 1``)
sits above the oldest kept line. With wrapping on, an ASCII line of ``n`` characters takes
``ceil(n / columns)`` rows (monospace; other lines are measured in terminal cells, wide
characters taking two), so nothing has to be laid out to scroll.
"""

from __future__ import annotations

from sesame_desktop.core.cells import CellMap
from sesame_desktop.core.terminal import Line, TerminalBuffer

LONG_LINE = 4096
"""Lines at least this long keep their cell maps between paints."""
_CACHE = 16

NOTICE = "notice"
"""Stream tag of the row telling how many lines were dropped."""

Pos = tuple[int, int]
"""``(absolute line, wrapped row within it)`` or, for text positions, ``(line, column)``."""

Span = tuple[int, int, int]
"""A row of a line: ``(start index, end index, cell column at its left edge)``."""


class ScrollModel:
    """The geometry of a console in rows and columns, and its top position.

    Attributes:
        buffer: The buffer shown.
        columns: Characters per row (wrapping width).
        rows: Whole rows that fit in the viewport.
        wrap: Whether long lines wrap (else each line is one row).
        top: The first visible row, as ``(absolute line, row within it)``.
    """

    def __init__(self, buffer: TerminalBuffer) -> None:
        self.buffer = buffer
        self.columns = 80
        self.rows = 24
        self.wrap = True
        self.top: Pos = (0, 0)
        # long non-ASCII lines: their cell map and row starts, worked out once (LRU, small)
        self._cells: dict[tuple[int, int], CellMap] = {}
        self._starts: dict[tuple[int, int, int], list[int]] = {}
        self._spans: dict[tuple[int, int, int], list[Span]] = {}

    def first(self) -> int:
        """Number of the first row's line (the notice row when lines were dropped)."""
        evicted = self.buffer.evicted
        return evicted - 1 if evicted else 0

    def end(self) -> int:
        """One past the number of the last line."""
        return self.buffer.evicted + len(self.buffer)

    def notice(self) -> str | None:
        """What the notice row says, or ``None`` when nothing was dropped."""
        n = self.buffer.evicted
        if not n:
            return None
        return (
            f"… {n:,} earlier line{'s' if n != 1 else ''} dropped "
            f"(scrollback keeps the last {self.buffer.max_lines:,})"
        )

    def line(self, number: int) -> Line:
        evicted = self.buffer.evicted
        if number < evicted:
            return Line(self.notice() or "", (), NOTICE)
        return self.buffer.line(number - evicted)

    def text(self, number: int) -> str:
        """Plain text of a line (the notice row has none: it is not part of the output)."""
        evicted = self.buffer.evicted
        return "" if number < evicted else self.buffer.text(number - evicted)

    def export_text(self) -> str:
        """All output as plain text, preceded by the notice when lines were dropped."""
        text = self.buffer.plain_text()
        notice = self.notice()
        if notice:
            text = f"[{notice}]\n{text}"
        return text + "\n" if text else ""

    def text_between(self, start: Pos, end: Pos) -> str:
        """Plain text from ``(line, column)`` ``start`` to ``end``, lines joined by ``\\n``.

        Only output is copied: the notice row and lines dropped since are left out.
        """
        (a_line, a_col), (b_line, b_col) = start, end
        first = max(a_line, self.buffer.evicted)
        if first > a_line:
            a_col = 0
        parts = []
        for number in range(first, min(b_line, self.end() - 1) + 1):
            text = self.text(number)
            begin = a_col if number == a_line else 0
            parts.append(text[begin:b_col] if number == b_line else text[begin:])
        return "\n".join(parts)

    def cells(self, number: int, text: str) -> CellMap | None:
        """Cell columns of line ``number`` (``text``); ``None`` for ASCII (index = column)."""
        if text.isascii():
            return None
        if len(text) < LONG_LINE:
            return CellMap(text)
        key = (number, len(text))
        cells = self._cells.get(key)
        if cells is None:
            if len(self._cells) >= _CACHE:
                del self._cells[next(iter(self._cells))]
            cells = self._cells[key] = CellMap(text)
        return cells

    def _row_starts(self, number: int | None, text: str) -> list[int]:
        if number is None or len(text) < LONG_LINE:
            return CellMap(text).row_starts(self.columns)
        key = (number, len(text), self.columns)
        starts = self._starts.get(key)
        if starts is None:
            cells = self.cells(number, text)
            assert cells is not None
            if len(self._starts) >= _CACHE:
                del self._starts[next(iter(self._starts))]
            starts = self._starts[key] = cells.row_starts(self.columns)
        return starts

    def rows_of(self, number: int) -> int:
        if not self.wrap:
            return 1
        text = self.line(number).text if number < self.buffer.evicted else self.text(number)
        if text.isascii():
            return max(1, -(-len(text) // self.columns))
        return len(self._row_starts(number, text))

    def row_spans(self, text: str, shift: int = 0, number: int | None = None) -> list[Span]:
        """The rows ``text`` is shown in: ``(start, end, column of the row's left edge)``.

        Args:
            shift: First column shown when not wrapping (horizontal scrolling).
            number: The line's number, when known (long lines' cell maps are then reused).
        """
        n = len(text)
        cols = self.columns
        if text.isascii():
            if not self.wrap:
                return [(min(shift, n), min(n, shift + cols + 1), shift)]
            return [(i, min(n, i + cols), i) for i in range(0, max(n, 1), cols)]
        cells = self.cells(number, text) if number is not None else CellMap(text)
        assert cells is not None
        if not self.wrap:
            start = cells.index_at(shift, 0, n)
            return [(start, cells.index_at(shift + cols + 1, start, n), shift)]
        if number is not None and len(text) >= LONG_LINE:
            key = (number, len(text), cols)
            spans = self._spans.get(key)
            if spans is None:
                starts = self._row_starts(number, text)
                spans = [(a, b, cells.offsets[a]) for a, b in zip(starts, [*starts[1:], n])]
                if len(self._spans) >= _CACHE:
                    del self._spans[next(iter(self._spans))]
                self._spans[key] = spans
            return spans
        starts = self._row_starts(number, text)
        return [(a, b, cells.offsets[a]) for a, b in zip(starts, [*starts[1:], n])]

    def bottom(self) -> Pos:
        """The top position that shows the last row at the bottom of the viewport."""
        room = self.rows
        first = self.first()
        number = self.end() - 1
        while number >= first:
            rows = self.rows_of(number)
            if rows >= room:
                return (number, rows - room)
            room -= rows
            number -= 1
        return (first, 0)

    def clamp(self, follow: bool) -> None:
        """Keep ``top`` inside the document (at the bottom when ``follow``)."""
        bottom = self.bottom()
        if follow or self.top > bottom:
            self.top = bottom
        elif self.top[0] < self.first():
            self.top = (self.first(), 0)

    def scroll(self, n: int) -> bool:
        """Move ``top`` by ``n`` rows (negative: up); returns whether it is at the bottom."""
        line, row = self.top
        first = self.first()
        bottom = self.bottom()
        for _ in range(abs(n)):
            if n < 0:
                if row > 0:
                    row -= 1
                elif line > first:
                    line -= 1
                    row = self.rows_of(line) - 1
            elif (line, row) < bottom:
                if row + 1 < self.rows_of(line):
                    row += 1
                else:
                    line, row = line + 1, 0
        self.top = (line, row)
        return self.top >= bottom
