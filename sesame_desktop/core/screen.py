"""A terminal screen: a grid of cells with a cursor, as a VT100/xterm-style terminal keeps it.

:class:`Screen` is the part of a terminal that programs address: cursor moves (absolute and
relative), scroll regions, save/restore of the cursor, erase modes, insert/delete of characters
and lines, tab stops, wide characters (two cells, by :func:`~sesame_desktop.core.cells.char_width`),
the alternate screen and the modes an interactive program switches (application cursor keys,
bracketed paste, mouse reporting). Rows that scroll off the top go to ``on_scroll`` (the
scrollback); nothing else leaves the screen.

It is used two ways:

* by :class:`~sesame_desktop.core.terminal.TerminalBuffer` for the console (``wrap=False``):
  rows are logical lines of any length, ``\\n`` also returns the carriage (what a PTY's
  ``onlcr`` does), cursor motion stops at ``columns - 1`` (the right-align idiom ``ESC[999C``);
* for an interactive terminal (``wrap=True``): a fixed grid with automatic wrap, fed what a PTY
  sends.

The text given to :meth:`Screen.play` must hold whole escape sequences (the buffer's decoder
holds back a sequence cut by the end of a chunk), so results never depend on chunk splits.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sesame_desktop.core.cells import char_width
from sesame_desktop.core.screen_csi import TAB_WIDTH, csi
from sesame_desktop.core.screen_row import (
    _DEC_GRAPHICS,
    WIDE_FILLER,
    Modes,
    Row,
    Saved,
)
from sesame_desktop.core.sgr import DEFAULT_STYLE, Style, with_link

__all__ = ["WIDE_FILLER", "Modes", "Row", "Screen"]


_TOKEN = re.compile(
    r"([^\x00-\x1f\x7f-\x9f]+)"  # 1: printable text
    r"|\x1b\[([0-?]*)([ -/]*)([@-~])"  # 2-4: CSI parameters, intermediates, final byte
    r"|\x1b\]([^\x07\x1b]*)(?:\x07|\x1b\\)"  # 5: OSC payload
    r"|\x1b[PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"  # DCS / SOS / PM / APC: dropped
    r"|\x1b([ -/]*)([0-OQ-WYZ\\`-~])"  # 6-7: other escape sequences
    r"|\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[PX^_][^\x07\x1b]*|[ -/]*)"  # cut short: dropped
    r"|([\x00-\x1f\x7f-\x9f])"  # 8: a control character
)

class Screen:
    """A grid of ``lines`` rows and a cursor (see the module docstring).

    Attributes:
        columns: Width in cells.
        lines: Height in rows.
        grid: The rows, top first.
        x: Cursor column (``columns`` after writing the last column: the next character wraps).
        y: Cursor row.
        style: The style the next characters get.
        stream: Stream tag given to the rows written next.
        modes: The application-switched modes.
        title: The last window title set with OSC 0/2.
        version: Increases on every change.
    """

    def __init__(
        self,
        columns: int = 80,
        lines: int = 24,
        *,
        wrap: bool = True,
        on_scroll: Callable[[Row], None] | None = None,
        on_reply: Callable[[str], None] | None = None,
    ) -> None:
        if columns < 2 or lines < 1:
            raise ValueError("a screen needs at least 2 columns and 1 row")
        self.columns = columns
        self.lines = lines
        self.wrap = wrap
        self.on_scroll = on_scroll
        self.on_reply = on_reply
        self.grid = [Row() for _ in range(lines)]
        self.x = 0
        self.y = 0
        self.style = DEFAULT_STYLE
        self.stream = "stdout"
        self.modes = Modes()
        self.title = ""
        self.version = 0
        self.top = 0
        self.bottom = lines - 1
        self.origin = False
        self.autowrap = True
        self.insert = False
        self.graphics = False  # G0 is DEC special graphics
        self.tabstops: set[int] | None = None  # None: every TAB_WIDTH columns
        self._saved = Saved()
        self._main: tuple[list[Row], Saved] | None = None  # the main screen while alternate
        self._last = " "

    # -- reading ---------------------------------------------------------------------------

    def display(self) -> list[str]:
        """The text of every row (no padding)."""
        return [row.text for row in self.grid]

    def used(self) -> int:
        """Rows down to the cursor or the last non-blank row, whichever is lower."""
        last = self.y
        for i in range(len(self.grid) - 1, last, -1):
            if not self.grid[i].blank():
                return i + 1
        return last + 1

    def simple(self) -> bool:
        """Whether the screen holds nothing a plain list of lines could not (see the buffer)."""
        return (
            self.top == 0
            and self.bottom == self.lines - 1
            and not self.origin
            and not self.modes.alternate
            and self.used() == self.y + 1
        )

    # -- writing ---------------------------------------------------------------------------

    def play(self, text: str) -> None:
        """Apply ``text`` (printable text, controls and whole escape sequences)."""
        self.version += 1
        for m in _TOKEN.finditer(text):
            group = m.lastindex
            if group == 1:
                self.write(m.group(1))
            elif group == 8:
                self._control(m.group(8))
            elif group == 4:
                csi(self, m.group(2), m.group(3), m.group(4))
            elif group == 5:
                self._osc(m.group(5))
            elif group == 7:
                self._esc(m.group(6), m.group(7))

    def write(self, text: str) -> None:
        """Write printable ``text`` at the cursor."""
        if self.graphics:
            text = "".join(_DEC_GRAPHICS.get(ch, ch) for ch in text)
        if text.isascii() and not self.insert:
            self._write_ascii(text)
        else:
            for ch in text:
                self._write_char(ch)
        self._last = text[-1]

    def _wrap_if_pending(self) -> None:
        if self.x >= self.columns and self.wrap:
            if self.autowrap:
                self.grid[self.y].wrapped = True
                self.x = 0
                self.index()
            else:
                self.x = self.columns - 1

    def _write_ascii(self, text: str) -> None:
        style = self.style
        while text:
            self._wrap_if_pending()
            if self.wrap:
                room = self.columns - self.x
                piece, text = text[:room], text[room:]
            else:
                piece, text = text, ""
            row = self.grid[self.y]
            row.stream = self.stream
            x = self.x
            n = len(piece)
            chars = row.chars
            size = len(chars)
            if x > size:
                chars.extend(" " * (x - size))
                row.styles.extend([DEFAULT_STYLE] * (x - size))
                size = x
            if x < size:
                self._split_wide(row, x, x + n)
            chars[x : x + n] = piece
            row.styles[x : x + n] = [style] * n
            self.x = x + n
            if self.wrap and not self.autowrap and self.x >= self.columns:
                self.x = self.columns - 1

    def _write_char(self, ch: str) -> None:
        w = char_width(ch)
        if w == 0:
            row = self.grid[self.y]
            x = min(self.x, len(row.chars)) - 1
            if x >= 0 and row.chars[x] == WIDE_FILLER:
                x -= 1
            if x >= 0:
                row.chars[x] += ch
                return
            w = 1  # nothing to combine with: it takes a cell of its own
        self._wrap_if_pending()
        if w == 2 and self.wrap and self.x == self.columns - 1:
            if self.autowrap:  # a wide character does not fit on the last column: wrap first
                self.x = self.columns
                self._wrap_if_pending()
            else:
                return
        row = self.grid[self.y]
        row.stream = self.stream
        x = self.x
        if self.insert:
            self._insert_cells(row, x, w)
        size = len(row.chars)
        if x > size:
            row.chars.extend(" " * (x - size))
            row.styles.extend([DEFAULT_STYLE] * (x - size))
        self._split_wide(row, x, x + w)
        cells = [ch, WIDE_FILLER] if w == 2 else [ch]
        row.chars[x : x + w] = cells
        row.styles[x : x + w] = [self.style] * w
        self.x = x + w
        if self.wrap and not self.autowrap and self.x >= self.columns:
            self.x = self.columns - 1

    @staticmethod
    def _split_wide(row: Row, a: int, b: int) -> None:
        """Blank the halves of wide characters that cells ``a:b`` are about to cut in two."""
        chars = row.chars
        if 0 < a < len(chars) and chars[a] == WIDE_FILLER:
            chars[a - 1] = " "
        if b < len(chars) and chars[b] == WIDE_FILLER:
            chars[b] = " "

    def _insert_cells(self, row: Row, x: int, n: int) -> None:
        if x >= len(row.chars):
            return
        row.chars[x:x] = [" "] * n
        row.styles[x:x] = [DEFAULT_STYLE] * n
        if self.wrap and len(row.chars) > self.columns:
            del row.chars[self.columns :]
            del row.styles[self.columns :]

    # -- movement --------------------------------------------------------------------------

    def index(self) -> None:
        """Move down a row, scrolling the region up at its bottom."""
        if self.y == self.bottom:
            self.scroll_up(1)
        elif self.y < self.lines - 1:
            self.y += 1

    def reverse_index(self) -> None:
        if self.y == self.top:
            self.scroll_down(1)
        elif self.y > 0:
            self.y -= 1

    def scroll_up(self, n: int) -> None:
        """Scroll the region up ``n`` rows; rows leaving the top of the screen go to scrollback."""
        top, bottom = self.top, self.bottom
        n = min(n, bottom - top + 1)
        for _ in range(n):
            row = self.grid.pop(top)
            if top == 0 and not self.modes.alternate and self.on_scroll is not None:
                self.on_scroll(row)
            self.grid.insert(bottom, Row(self.stream))

    def scroll_down(self, n: int) -> None:
        top, bottom = self.top, self.bottom
        n = min(n, bottom - top + 1)
        for _ in range(n):
            del self.grid[bottom]
            self.grid.insert(top, Row(self.stream))

    def _limit_x(self, x: int) -> int:
        if not self.wrap and x >= self.x:  # a long console line: moving right never goes back
            return max(self.x, min(x, self.columns - 1))
        return max(0, min(x, self.columns - 1))

    def _move_to(self, y: int, x: int) -> None:
        if self.origin:
            y = min(max(y + self.top, self.top), self.bottom)
        self.y = max(0, min(y, self.lines - 1))
        self.x = max(0, min(x, self.columns - 1))

    def _control(self, ch: str) -> None:
        if ch in "\n\x0b\x0c":
            if ch == "\n" and not self.wrap:
                self.x = 0  # the console: a log's newline ends the line
            elif self.x >= self.columns:
                self.x = self.columns - 1
            self.index()
        elif ch == "\r":
            self.x = 0
        elif ch == "\b":
            self.x = max(0, min(self.x, self.columns) - 1) if self.wrap else max(0, self.x - 1)
        elif ch == "\t":
            self._tab(1)
        # BEL, NUL, DEL, C1 controls (not interpreted in UTF-8, as xterm): nothing to show

    def _tab(self, n: int) -> None:
        x = min(self.x, self.columns - 1) if self.wrap else self.x
        for _ in range(n):
            if self.tabstops is None:
                x = (x // TAB_WIDTH + 1) * TAB_WIDTH
            else:
                x = min((t for t in self.tabstops if t > x), default=self.columns - 1)
        if self.wrap:
            self.x = min(x, self.columns - 1)
            return
        size = len(self.grid[self.y].chars)
        if x > size and self.x >= size:  # a log's tab at the end of a line writes blanks
            self.x = max(self.x, size)
            self.write(" " * (x - self.x))
        self.x = x

    def _esc(self, intermediates: str, final: str) -> None:
        if intermediates == "(":
            self.graphics = final == "0"
        elif intermediates:
            return
        elif final == "7":
            self.save_cursor()
        elif final == "8":
            self.restore_cursor()
        elif final == "M":
            self.reverse_index()
        elif final == "D":
            self.index()
        elif final == "E":
            self.x = 0
            self.index()
        elif final == "H":
            if self.tabstops is None:
                self.tabstops = set(range(TAB_WIDTH, self.columns, TAB_WIDTH))
            self.tabstops.add(self.x)
        elif final == "c":
            self.reset()

    def save_cursor(self) -> None:
        self._saved = Saved(self.x, self.y, self.style, self.origin, self.graphics)

    def restore_cursor(self) -> None:
        s = self._saved
        self.x, self.y, self.style, self.origin, self.graphics = s.x, s.y, s.style, s.origin, s.graphics
        self.y = min(self.y, self.lines - 1)

    def reset(self) -> None:
        """Full reset (RIS): clear the screen, modes and margins; scrollback stays."""
        if self.modes.alternate:
            self._leave_alternate()
        self.erase_in_display(2)
        self.x = self.y = 0
        self.style = DEFAULT_STYLE
        self.top, self.bottom = 0, self.lines - 1
        self.origin = self.insert = self.graphics = False
        self.autowrap = True
        self.tabstops = None
        self.modes = Modes()
        self._saved = Saved()

    def _osc(self, payload: str) -> None:
        if payload.startswith("8;"):  # OSC 8 ; params ; URI  (an empty URI ends the link)
            uri = payload.split(";", 2)[2] if payload.count(";") >= 2 else ""
            self.style = with_link(self.style, uri or None)
        elif payload[:2] in ("0;", "2;"):
            self.title = payload[2:][:256]

    # -- replies ---------------------------------------------------------------------------

    def _reply(self, text: str) -> None:
        if self.on_reply is not None:
            self.on_reply(text)

    def _enter_alternate(self) -> None:
        self._main = (self.grid, self._saved)
        self.grid = [Row(self.stream) for _ in range(self.lines)]
        self.modes.alternate = True

    def _leave_alternate(self) -> None:
        if self._main is not None:
            grid, _ = self._main
            self.grid = self._fit(grid)
            self._main = None
        self.modes.alternate = False

    def _fit(self, grid: list[Row]) -> list[Row]:
        grid = grid[: self.lines]
        grid.extend(Row(self.stream) for _ in range(self.lines - len(grid)))
        return grid

    # -- erasing ---------------------------------------------------------------------------

    def _erase_cells(self, a: int, b: int, row: Row | None = None, to_end: bool = False) -> None:
        """Blank cells ``a:b``; ``to_end``: the rest of the row (it just gets shorter)."""
        row = row if row is not None else self.grid[self.y]
        size = len(row.chars)
        a = max(0, a)
        bce = self.wrap and self.style.bg is not None  # the console does not paint erased cells
        if not bce:
            if to_end:
                if a < size:
                    if a > 0 and row.chars[a] == WIDE_FILLER:
                        row.chars[a - 1] = " "
                    del row.chars[a:]
                    del row.styles[a:]
                row.wrapped = False
                return
            b = min(b, size)
            if a >= b:
                return
        if self.wrap:
            b = min(b, self.columns)
        if b > size:
            row.chars.extend(" " * (b - size))
            row.styles.extend([DEFAULT_STYLE] * (b - size))
        self._split_wide(row, a, b)
        blank = Style(bg=self.style.bg) if bce else DEFAULT_STYLE
        row.chars[a:b] = " " * (b - a)
        row.styles[a:b] = [blank] * (b - a)

    def erase_in_line(self, mode: int) -> None:
        x = min(self.x, self.columns - 1) if self.wrap else self.x
        big = max(self.columns, len(self.grid[self.y].chars))
        if mode == 0:
            self._erase_cells(x, big, to_end=True)
        elif mode == 1:
            self._erase_cells(0, x + 1)
        elif mode == 2:
            self._erase_cells(0, big, to_end=True)

    def erase_in_display(self, mode: int) -> None:
        """ED: 0 below, 1 above, 2 all (its rows are scrolled into the scrollback first, as
        VTE does, so ``clear`` never loses output), 3 the scrollback (ignored: output is kept)."""
        if mode == 0:
            self.erase_in_line(0)
            for row in self.grid[self.y + 1 :]:
                self._erase_cells(0, max(self.columns, len(row.chars)), row, to_end=True)
        elif mode == 1:
            self.erase_in_line(1)
            for row in self.grid[: self.y]:
                self._erase_cells(0, max(self.columns, len(row.chars)), row)
        elif mode == 2:
            if not self.modes.alternate and self.on_scroll is not None:
                used = max((i + 1 for i, r in enumerate(self.grid) if not r.blank()), default=0)
                for row in self.grid[:used]:
                    self.on_scroll(row)
                self.grid = [Row(self.stream) for _ in range(self.lines)]
            else:
                for row in self.grid:
                    row.clear()
            if self.wrap and self.style.bg is not None:
                for row in self.grid:
                    self._erase_cells(0, self.columns, row, to_end=True)

    # -- geometry --------------------------------------------------------------------------

    def resize(self, columns: int, lines: int) -> None:
        """Change the size; rows that no longer fit above the cursor go to the scrollback."""
        columns, lines = max(2, columns), max(1, lines)
        self.version += 1
        while self.y >= lines:
            self.top, self.bottom = 0, self.lines - 1
            self.scroll_up(1)
            self.y -= 1
        if lines < self.lines:
            del self.grid[lines:]
        else:
            self.grid.extend(Row(self.stream) for _ in range(lines - self.lines))
        if self._main is not None:
            self._main = (self._fit(self._main[0]), self._main[1])
        if self.wrap and columns < self.columns:
            for row in [*self.grid, *(self._main[0] if self._main else [])]:
                if len(row.chars) > columns:
                    del row.chars[columns:]
                    del row.styles[columns:]
        self.columns, self.lines = columns, lines
        self.top, self.bottom = 0, lines - 1
        self.x = min(self.x, columns - 1)
        self.y = min(self.y, lines - 1)
        if self.tabstops is not None:
            self.tabstops = {t for t in self.tabstops if t < columns}
