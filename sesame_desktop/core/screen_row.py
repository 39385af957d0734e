"""Rows of a terminal screen and the modes programs switch (the data of :mod:`screen`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sesame_desktop.core.cells import char_width
from sesame_desktop.core.sgr import DEFAULT_STYLE, Run, Style, runs_from_styles

WIDE_FILLER = ""
"""The cell right of a wide character (joins to nothing, so ``"".join(row.chars)`` is its text)."""
_MAX_COUNT = 1 << 16


# DEC special graphics (``ESC ( 0``): the line-drawing set of dialog boxes and tmux borders
_DEC_GRAPHICS = dict(
    zip(
        "`abcdefghijklmnopqrstuvwxyz{|}~",
        "◆▒␉␌␍␊°±␤␋┘┐┌└┼⎺⎻─⎼⎽├┤┴┬│≤≥π≠£·",
        strict=True,
    )
)


def parse_params(text: str) -> list[int]:
    out = []
    for part in text.split(";"):
        part = part.split(":", 1)[0]
        out.append(min(int(part), _MAX_COUNT) if part.isdigit() else 0)
    return out


class Row:
    """One row of cells.

    Attributes:
        chars: One string per cell (a character, with any combining marks; ``WIDE_FILLER`` right
            of a wide character). Shorter than the screen's width: the rest is blank.
        styles: One style per cell, same length as ``chars``.
        stream: Which output stream last wrote to the row (``"stdout"``, ``"stderr"``...).
        wrapped: The row continues on the next (written past the last column).
    """

    __slots__ = ("chars", "styles", "stream", "wrapped")

    def __init__(self, stream: str = "stdout") -> None:
        self.chars: list[str] = []
        self.styles: list[Style] = []
        self.stream = stream
        self.wrapped = False

    @classmethod
    def from_text(cls, text: str, runs: tuple[Run, ...], stream: str) -> Row:
        """A row showing ``text`` (tabs already expanded) with ``runs``."""
        row = cls(stream)
        styles = [DEFAULT_STYLE] * len(text)
        for a, b, style in runs:
            styles[a:b] = [style] * (b - a)
        if text.isascii():
            row.chars = list(text)
            row.styles = styles
            return row
        for ch, style in zip(text, styles, strict=True):
            w = char_width(ch)
            if w == 0 and row.chars:
                row.chars[-1] += ch
                continue
            row.chars.append(ch)
            row.styles.append(style)
            if w == 2:
                row.chars.append(WIDE_FILLER)
                row.styles.append(style)
        return row

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def runs(self) -> tuple[Run, ...]:
        """Non-default style runs, as indices into :attr:`text`."""
        styles = self.styles
        if not styles:
            return ()
        if WIDE_FILLER in self.chars or any(len(c) > 1 for c in self.chars):
            styles = []
            for ch, style in zip(self.chars, self.styles, strict=True):
                styles.extend([style] * len(ch))
        return runs_from_styles(styles)

    def blank(self) -> bool:
        return not self.chars

    def clear(self) -> None:
        self.chars = []
        self.styles = []
        self.wrapped = False


@dataclass
class Saved:
    x: int = 0
    y: int = 0
    style: Style = DEFAULT_STYLE
    origin: bool = False
    graphics: bool = False


@dataclass
class Modes:
    """The terminal modes an application switches (what the keyboard and mouse must follow).

    Attributes:
        app_cursor: DECCKM: arrow keys send ``ESC O A`` instead of ``ESC [ A``.
        bracketed_paste: Pasted text is wrapped in ``ESC[200~`` / ``ESC[201~``.
        mouse: Mouse reporting is on (1000/1002/1003); wheel events go to the application.
        mouse_sgr: Mouse reports use the SGR form (1006).
        cursor_visible: DECTCEM.
        alternate: The alternate screen is shown.
    """

    app_cursor: bool = False
    bracketed_paste: bool = False
    mouse: bool = False
    mouse_sgr: bool = False
    cursor_visible: bool = True
    alternate: bool = False
    extra: set[int] = field(default_factory=set)
