"""Terminal cell widths: where each character of a line sits on the monospace grid.

Most characters take one cell; East Asian wide and fullwidth characters (CJK, most emoji) take
two, combining marks and format characters none. ASCII lines (nearly all output) skip all of
this: their column is their index.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate


@lru_cache(maxsize=8192)
def char_width(ch: str) -> int:
    """Cells taken by ``ch``: 0, 1 or 2."""
    if ch < "\u0300":
        return 1
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    """Cells taken by ``text``."""
    return len(text) if text.isascii() else sum(map(char_width, text))


class CellMap:
    """Cell columns of the characters of one line.

    Attributes:
        widths: Cells of each character.
        offsets: ``offsets[i]`` is the column where character ``i`` starts;
            ``offsets[len(text)]`` is the width of the line.
    """

    __slots__ = ("widths", "offsets")

    def __init__(self, text: str) -> None:
        self.widths = [char_width(ch) for ch in text]
        self.offsets = list(accumulate(self.widths, initial=0))

    @property
    def width(self) -> int:
        return self.offsets[-1]

    def row_starts(self, columns: int) -> list[int]:
        """Indices where wrapped rows of at most ``columns`` cells begin (at least one row)."""
        starts = [0]
        end = len(self.widths)
        i = 0
        while True:
            # the last character that still ends within this row
            j = bisect_right(self.offsets, self.offsets[i] + columns) - 1
            j = max(j, i + 1)  # a character wider than the row still takes a row of its own
            while j < end and self.widths[j] == 0:  # keep combining marks with their base
                j += 1
            if j >= end:
                return starts
            starts.append(j)
            i = j

    def index_at(self, column: float, start: int, end: int) -> int:
        """The character boundary nearest to (absolute) ``column`` within ``[start, end]``."""
        i = bisect_right(self.offsets, column, start, end + 1) - 1
        i = max(start, min(i, end))
        if i < end and column - self.offsets[i] > (self.offsets[i + 1] - self.offsets[i]) / 2:
            i += 1
        while start < i < end and self.widths[i] == 0:
            i += 1
        return i

    def index_under(self, column: float, start: int, end: int) -> int | None:
        """The character covering (absolute) ``column`` within ``[start, end)``, if any."""
        i = bisect_right(self.offsets, column, start, end + 1) - 1
        return i if start <= i < end and column >= self.offsets[start] else None
