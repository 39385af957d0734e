"""The buffer of an interactive terminal: a fixed-size screen fed by a PTY, and its scrollback.

:class:`ScreenBuffer` is read like a :class:`~sesame_desktop.core.terminal.TerminalBuffer`
(the same views paint both): kept lines first, then every row of the screen. Rows scrolling
off the top of the main screen become scrollback lines; the alternate screen (``vim``,
``less``, ``htop``) keeps nothing when it is left, as terminals do.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from sesame_desktop.core.screen import Modes, Row, Screen
from sesame_desktop.core.terminal import (
    DEFAULT_SCROLLBACK,
    DEFAULT_SCROLLBACK_CHARS,
    Line,
    TerminalBuffer,
)
from sesame_desktop.core.terminal_lines import _CELLS, pack_runs

_INCOMPLETE_TAIL = 64 * 1024


class ScreenBuffer(TerminalBuffer):
    """A terminal's screen (``columns`` × ``lines``, wrapping) over a bounded scrollback.

    Attributes:
        vt: The screen (cursor, modes, title).
    """

    def __init__(
        self,
        columns: int = 80,
        lines: int = 24,
        max_lines: int = DEFAULT_SCROLLBACK,
        max_chars: int = DEFAULT_SCROLLBACK_CHARS,
        on_reply: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__(max_lines, max_chars, (columns, lines))
        self._reply = on_reply
        self.vt = Screen(
            columns, lines, wrap=True, on_scroll=self._on_row_scrolled, on_reply=self._on_screen_reply
        )
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""

    @property
    def modes(self) -> Modes:
        return self.vt.modes

    @property
    def cursor(self) -> tuple[int, int]:
        """``(line number, cell column)`` of the cursor, line numbers as :meth:`line` counts."""
        return len(self._lines) + self.vt.y, min(self.vt.x, self.vt.columns - 1)

    def __len__(self) -> int:
        return len(self._lines) + self.vt.lines

    def _tail_line(self, i: int) -> Line:
        if i >= len(self.vt.grid):  # a row a view painted before the screen got smaller
            return Line("", (), "stdout")
        row = self.vt.grid[i]
        return Line(row.text, row.runs(), row.stream)

    def feed(self, data: bytes | str, stream: str = "stdout") -> None:
        """Play what the PTY sent (bytes split anywhere)."""
        text = self._decoder.decode(data) if isinstance(data, bytes) else data
        text = self._held + text
        self._held = ""
        esc = text.rfind("\x1b")
        if esc >= 0 and len(text) - esc < _INCOMPLETE_TAIL:
            tail = text[esc:]
            if _incomplete(tail):
                self._held, text = tail, text[:esc]
        if text:
            self.vt.play(text)
            self._changed()

    def resize(self, columns: int, lines: int) -> None:
        """Change the screen's size (rows that no longer fit go to the scrollback)."""
        if (columns, lines) != (self.vt.columns, self.vt.lines):
            self.vt.resize(columns, lines)
            self._changed()

    def finish(self, stream: str | None = None) -> None:
        self._held = ""

    def clear(self) -> None:
        """Forget the scrollback (the screen stays: the program still draws on it)."""
        self._lines.clear()
        self._chars = 0
        self._decoded.clear()
        self._committed = 0
        self._changed()

    def _on_row_scrolled(self, row: Row) -> None:
        self._append((_CELLS, row.text, row.stream, pack_runs(row.runs())))

    def _on_screen_reply(self, text: str) -> None:
        if self._reply is not None:
            self._reply(text.encode())


def _incomplete(tail: str) -> bool:
    """Whether ``tail`` (starting with ESC) is an escape sequence cut off by the chunk's end."""
    if len(tail) == 1:
        return True
    kind = tail[1]
    if kind == "[":
        return not any("@" <= ch <= "~" for ch in tail[2:])
    if kind in "]PX^_":
        return "\x07" not in tail and "\x1b\\" not in tail
    if " " <= kind <= "/":
        return not any("0" <= ch <= "~" for ch in tail[2:])
    return False
