"""One terminal line with a cursor: where carriage returns, backspaces and erases are replayed.

Used by :mod:`sesame_desktop.core.terminal` only for lines that contain such controls (progress
bars, spinners, prompts); plain and coloured lines never get here.
"""

from __future__ import annotations

import re

from sesame_desktop.core.sgr import (
    DEFAULT_STYLE,
    TAB_WIDTH,
    Run,
    Style,
    apply_sgr,
    runs_from_styles,
    styles_from_runs,
    with_link,
)

_TOKEN = re.compile(
    r"([^\x00-\x1f\x7f-\x9f]+)"  # 1: printable text
    r"|\x1b\[([0-?]*)([ -/]*)([@-~])"  # 2-4: CSI parameters, intermediates, final byte
    r"|\x1b\]([^\x07\x1b]*)(?:\x07|\x1b\\)"  # 5: OSC payload (titles, hyperlinks...)
    r"|\x1b[PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"  # DCS / SOS / PM / APC strings: dropped
    r"|\x1b[ -/]*[0-OQ-WYZ\\`-~]"  # other escape sequences: dropped
    r"|\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[PX^_][^\x07\x1b]*|[ -/]*)"  # cut short: dropped
    r"|([\x00-\x1f\x7f-\x9f])"  # 6: a control character
)
_SGR_PARAMS = re.compile(r"[0-9;:]*")
_MAX_COLUMN = 1 << 16


def _count(params: str, default: int = 1) -> int:
    """The first numeric CSI parameter (``default`` when missing or zero)."""
    first = params.split(";", 1)[0]
    if not first.isdigit():
        return default
    return min(int(first), _MAX_COLUMN) or default


class CellLine:
    """Text, one style per character (``None`` while all default) and a cursor column.

    Attributes:
        text: The characters of the line (tabs already turned into spaces).
        styles: ``len(text)`` styles, or ``None`` when every character has the default style.
        cursor: Column of the next write; may be past the end (the gap fills with spaces).
    """

    __slots__ = ("text", "styles", "cursor", "columns")

    def __init__(
        self,
        text: str = "",
        styles: list[Style] | None = None,
        cursor: int = 0,
        columns: int = 80,
    ) -> None:
        self.text = text
        self.styles = styles
        self.cursor = cursor
        self.columns = columns  # where cursor moves stop (the right-align idiom ``ESC[999C``)

    @classmethod
    def from_runs(cls, text: str, runs: tuple[Run, ...], columns: int = 80) -> CellLine:
        """A line showing ``text`` with ``runs``, cursor at its end."""
        styles = styles_from_runs(runs, len(text)) if runs else None
        return cls(text, styles, len(text), columns)

    def runs(self) -> tuple[Run, ...]:
        """The non-default style runs of the line."""
        return runs_from_styles(self.styles) if self.styles is not None else ()

    def play(self, piece: str, style: Style) -> Style:
        """Apply ``piece`` (text without ``\\n``) at the cursor; returns the style after it."""
        for m in _TOKEN.finditer(piece):
            group = m.lastindex
            if group == 1:
                self.write(m.group(1), style)
            elif group == 6:
                self._control(m.group(6), style)
            elif group == 4:
                style = self._csi(m.group(2), m.group(3), m.group(4), style)
            elif group == 5:
                payload = m.group(5)
                if payload.startswith("8;"):  # OSC 8 ; params ; URI  (empty URI ends the link)
                    uri = payload.split(";", 2)[2] if payload.count(";") >= 2 else ""
                    style = with_link(style, uri or None)
            # other escape sequences are dropped whole
        return style

    def write(self, text: str, style: Style) -> None:
        """Write printable ``text`` at the cursor, overwriting, and move the cursor after it."""
        c = self.cursor
        old = self.text
        n = len(text)
        size = len(old)
        if c > size:
            old += " " * (c - size)
            if self.styles is not None:
                self.styles.extend([DEFAULT_STYLE] * (c - size))
            size = c
        if c == size:
            self.text = old + text
        elif c == 0:
            self.text = text + old[n:]
        else:
            self.text = old[:c] + text + old[c + n :]
        if self.styles is not None or style != DEFAULT_STYLE:
            if self.styles is None:
                self.styles = [DEFAULT_STYLE] * size
            self.styles[c : c + n] = [style] * n
        self.cursor = c + n

    def _control(self, ch: str, style: Style) -> None:
        if ch == "\r":
            self.cursor = 0
        elif ch == "\b":
            if self.cursor > 0:
                self.cursor -= 1
        elif ch == "\t":
            stop = (self.cursor // TAB_WIDTH + 1) * TAB_WIDTH
            if self.cursor >= len(self.text):
                self.write(" " * (stop - self.cursor), style)
            else:
                self.cursor = stop
        # BEL, NUL, SO/SI, VT, FF, DEL, C1 controls...: nothing to show

    def _csi(self, params: str, intermediates: str, final: str, style: Style) -> Style:
        if intermediates:
            return style
        if final == "m":
            return apply_sgr(style, params) if _SGR_PARAMS.fullmatch(params) else style
        if params[:1] in ("?", ">", "<", "="):  # private modes (bracketed paste, cursor...)
            return style
        if final == "K":
            self._erase_in_line(_count(params, 0) if params else 0)
        elif final == "C":
            limit = max(self.cursor, self.columns - 1)
            self.cursor = min(self.cursor + _count(params), limit)
        elif final == "D":
            self.cursor = max(0, self.cursor - _count(params))
        elif final == "G":
            self.cursor = min(_count(params), self.columns) - 1
        elif final == "X":
            self._erase_chars(_count(params))
        elif final == "P":
            self._delete_chars(_count(params))
        # cursor up/down/position, erase in display, scrolling...: a log has no screen
        return style

    def _erase_in_line(self, mode: int) -> None:
        c = self.cursor
        if mode == 0:
            self.text = self.text[:c]
            if self.styles is not None:
                del self.styles[c:]
        elif mode == 1:
            end = min(c + 1, len(self.text))
            self.text = " " * end + self.text[end:]
            if self.styles is not None:
                self.styles[:end] = [DEFAULT_STYLE] * end
        elif mode == 2:
            self.text = ""
            self.styles = None

    def _erase_chars(self, n: int) -> None:
        c = self.cursor
        end = min(c + n, len(self.text))
        if end > c:
            self.text = self.text[:c] + " " * (end - c) + self.text[end:]
            if self.styles is not None:
                self.styles[c:end] = [DEFAULT_STYLE] * (end - c)

    def _delete_chars(self, n: int) -> None:
        c = self.cursor
        if c < len(self.text):
            self.text = self.text[:c] + self.text[c + n :]
            if self.styles is not None:
                del self.styles[c : c + n]
