"""The parsing side of :class:`~sesame_desktop.core.terminal.TerminalBuffer`: decoded text cut
into lines and stored the cheapest way that keeps its meaning.

Lines of text, tabs and SGR codes (and ``ESC[K`` where it erases nothing) are kept as they
came; carriage returns that redraw a line are worked out on the text when that is exact; a line
with any other control is played on a one-row :class:`~sesame_desktop.core.terminal_lines.LiveRow`;
output that addresses the screen beyond its line turns the last lines into a
:class:`~sesame_desktop.core.screen.Screen` (see :mod:`~sesame_desktop.core.terminal_store`).
"""

from __future__ import annotations

import re

from sesame_desktop.core.cells import char_width
from sesame_desktop.core.screen import Row
from sesame_desktop.core.sgr import DEFAULT_STYLE, SGR_RE, Style, end_style, reset_style
from sesame_desktop.core.terminal_lines import (
    _CELLS,
    _NEEDS_CELL,
    _PLAIN,
    _RAW,
    RAW_CODE_RE,
    STDERR,
    STDOUT,
    LiveRow,
    _Stream,
    decode_raw_line,
    pack,
    pack_runs,
)
from sesame_desktop.core.terminal_store import MAX_LINE_CHARS, LineStore

_NON_SGR_ESC = re.compile(r"\x1b(?!\[[0-9;:]*m)")
_INCOMPLETE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_][^\x07\x1b]*\x1b?|[ -/]*)\Z"
)
"""An escape sequence cut off by the end of the text (held back until more arrives)."""

_NEEDS_SCREEN = re.compile(
    r"\x1b\[[0-9;]*[ABEFHIJLMSTZ`abdefrsu@]|\x1b\[\?(?:1049|1047|47)[hl]|\x1b[78MDEc]|[\x0b\x0c]"
)
"""Controls that address the screen beyond the current line (cursor up, scroll regions...)."""
_CR_ONLY = re.compile(r"[^\x00-\x0c\x0e-\x1f\x7f-\x9f]*")
"""Printable text and carriage returns only (a progress bar redrawn in place)."""

_MAX_PENDING = 1 << 20
_MAX_TAIL_PARTS = 64
_RESET_WINDOW = 1024


_OSC_ACROSS_LINES = re.compile(r"\x1b\][^\x07\x1b]*[\r\n][^\x07\x1b]*(?:\x07|\x1b\\)")


def _without_newlines(m: re.Match[str]) -> str:
    return m.group().replace("\n", "").replace("\r", "")


def _style_after(style: Style, text: str) -> Style:
    """The style after ``text`` (text, tabs, newlines and SGR codes), from its last reset on."""
    # the last reset is nearly always in the last line: look there first (a whole chunk with
    # no ``ESC[0m``, as ``grep --color`` writes, would be scanned to its start for nothing)
    near = max(len(text) - _RESET_WINDOW, 0)
    k = max(text.rfind("\x1b[0m", near), text.rfind("\x1b[m", near))
    if k < 0 and near:
        k = text.rfind("\x1b[0m", 0, near + 3)
        k = max(k, text.rfind("\x1b[m", max(k, 0), near + 2))
    if k >= 0:
        style = reset_style(style)
        text = text[k:]
    return end_style(style, text)


def _narrow(text: str) -> bool:
    """Whether every character of ``text`` takes exactly one cell."""
    return text.isascii() or all(char_width(ch) == 1 for ch in set(text))


def _overprinted(base: str, cursor: int, piece: str) -> tuple[str, int]:
    """``base`` with the cursor at ``cursor``, overwritten by ``piece`` (text and ``\r`` only).

    Returns the text and the cursor column after it.
    """
    segments = piece.split("\r")
    first = segments[0]
    if first and cursor > len(base):
        base += " " * (cursor - len(base))
    text = base[:cursor] + first + base[cursor + len(first) :]
    if len(segments) == 1:
        return text, cursor + len(first)
    last = segments[-1]
    longest = max(map(len, segments))
    if len(last) >= longest and len(last) >= len(text):  # the usual redraw: same width or wider
        return last, len(last)
    # walk back from the last segment: each earlier, longer one shows past what came after it
    result = last
    full = max(longest, len(text))
    for seg in reversed([text, *segments[1:-1]]):
        if len(seg) > len(result):
            result += seg[len(result) :]
            if len(result) >= full:  # nothing earlier reaches further
                break
    return result, len(last)


class LineParser(LineStore):
    """Cuts decoded output into kept lines (see the module docstring); the public side is
    :class:`~sesame_desktop.core.terminal.TerminalBuffer`."""

    _streams: dict[str, _Stream]

    def _escapes(self, st: _Stream, text: str, simple: bool) -> tuple[str, bool]:
        """Hold back an escape sequence cut off at the end of ``text`` (and an unfinished OSC
        string), drop ``ESC[K`` where it erases nothing; returns the text and whether it is
        simple (no escape but SGR codes)."""
        first = _NON_SGR_ESC.search(text) if simple else None
        if simple and first is None:
            return text, True  # the usual coloured text: every escape is a whole SGR code
        tail_start = text.rfind("\n") + 1
        osc = text.rfind("\x1b]")
        if osc >= 0:  # an OSC string runs to its terminator, newlines and all
            if osc < tail_start and "\x07" not in text[osc:] and "\x1b" not in text[osc + 2 :]:
                if len(text) - osc <= _MAX_PENDING:
                    st.pending = text[osc:]
                text = text[:osc]
                tail_start = text.rfind("\n") + 1
            if "\n" in text:
                text = _OSC_ACROSS_LINES.sub(_without_newlines, text)
                tail_start = text.rfind("\n") + 1
        esc = text.find("\x1b", tail_start)
        if esc >= 0:
            m = _INCOMPLETE.search(text, esc)
            if m is not None:
                if len(text) - m.start() <= _MAX_PENDING:
                    st.pending = text[m.start() :]
                text = text[: m.start()]
        if "\x1b[K" in text and st.cell is None and self._screen is None:
            # erasing right of the cursor while it is at the end of what was written: nothing
            stripped = text.replace("\x1b[K", "")
            # checked with each ESC[K overwritten, not deleted: deleting it could join what was
            # around it into a colour code (``ESC[`` + ``ESC[K`` + ``m``: an aborted code, ESC[K, "m")
            blanked = text.replace("\x1b[K", "KKK") if "\x1b" in stripped else stripped
            if simple:
                if "\x1b" not in stripped or not _NON_SGR_ESC.search(blanked):
                    return stripped, True
            elif _NEEDS_CELL.search(blanked) is None:
                return stripped, True
        if simple and "\x1b" in text and _NON_SGR_ESC.search(text):
            simple = False
        return text, simple

    def _stream(self, name: str) -> _Stream:
        name = STDERR if name == STDERR else STDOUT  # anything else is shown as stdout
        st = self._streams.get(name)
        if st is None:
            st = self._streams[name] = _Stream(name)
        return st

    def _commit_live(self, st: _Stream, tail: str = "") -> None:
        """Finish the live line of ``st`` (plus ``tail``, plain/SGR text) and start a new one."""
        if st.cell is not None:
            cell = st.cell
            if tail:
                st.style = cell.play(tail, st.style)
            self._append((_CELLS, cell.text, st.name, pack_runs(cell.runs())))
            st.cell = None
        else:
            text = "".join(st.parts) + tail if st.parts else tail
            if len(text) > MAX_LINE_CHARS:
                st.parts, st.size = [text], len(text)
                self._break_long_line(st)
                text = st.parts[0] if st.parts else ""
            self._append(self._make_fast(st, text, st.start_style))
            st.parts = []
            st.size = 0
            if "\x1b" in tail:
                st.style = _style_after(st.style, tail)
        if st in self._live:
            self._live.remove(st)
        st.start_style = st.style

    def _to_cell(self, st: _Stream) -> LiveRow:
        if st.cell is None:
            if st.parts:
                clean, runs, _ = decode_raw_line("".join(st.parts), st.start_style)
                st.cell = LiveRow.from_text(clean, runs, st.name, self._screen_size[0])
                st.parts = []
                st.size = 0
            else:
                st.cell = LiveRow(Row(st.name), 0, self._screen_size[0])
            self._set_live(st)
        return st.cell

    def _add_fast_part(self, st: _Stream, part: str) -> None:
        if not part:
            return
        if st.cell is not None:
            st.style = st.cell.play(part, st.style)
            return
        if not st.parts and part[0] == "\x1b" and not RAW_CODE_RE.sub("", part):
            st.style = st.start_style = end_style(st.style, part)  # colours only: no line yet
            return
        st.parts.append(part)
        st.size += len(part)
        if len(st.parts) > _MAX_TAIL_PARTS:  # keep a line written in tiny pieces cheap
            st.parts = ["".join(st.parts)]
        self._set_live(st)
        if "\x1b" in part:
            st.style = _style_after(st.style, part)
        if st.size > MAX_LINE_CHARS:
            self._break_long_line(st)

    def _overprint(self, st: _Stream, piece: str, ends_line: bool) -> bool:
        """Apply a piece of text and carriage returns without a cell model, if that is exact."""
        if st.style is not DEFAULT_STYLE:
            return False
        if st.cell is not None:
            cell = st.cell
            if not cell.plain():
                return False
            base, cursor = cell.text, cell.cursor
        elif st.parts:
            if st.start_style is not DEFAULT_STYLE:
                return False
            base = "".join(st.parts)
            if "\x1b" in base or "\t" in base:
                return False
            cursor = len(base)
        else:
            base, cursor = "", 0
        if not _narrow(piece) or not _narrow(base):
            return False  # wide characters: the cells of a live row count them
        text, cursor = _overprinted(base, cursor, piece)
        st.parts = []
        st.size = 0
        st.cell = None
        if ends_line:
            self._commit_live(st, text)
        elif cursor == len(text):
            self._add_fast_part(st, text)
            if not text and st in self._live:
                self._live.remove(st)
        else:
            st.cell = LiveRow(Row.from_text(text, (), st.name), cursor, self._screen_size[0])
            self._set_live(st)
        return True

    def _feed_text(
        self,
        st: _Stream,
        text: str,
        simple: bool,
        cr_only: bool = False,
        lines: list[str] | None = None,
        crs: int = 0,
        colours: bool = True,
    ) -> None:
        """Split ``text`` into lines; ``simple``: it has no control but tab, newline and SGR;
        ``cr_only``: no control but newline and carriage return; ``lines``: ``text`` split
        already, at line ends that are CR LF or LF (then ``simple``; ``crs`` of them CR LF);
        ``colours`` false: ``text`` surely holds no SGR code."""
        st.version += 1
        if self._screen is not None and self._screen_owner is st:
            self._play_screen(st, text)
            return
        pieces = text.split("\n") if lines is None else lines
        last = len(pieces) - 1
        if simple:
            if last:
                self._commit_live(st, pieces[0])
                if last > 1:
                    a = len(pieces[0]) + 1
                    b = len(text) - len(pieces[last]) - 1
                    if lines is not None:  # every CR ends a line: those in the middle
                        a += text.startswith("\r", a - 1)
                        b -= text.startswith("\r", b - 1)
                        crs -= text.startswith("\r", a - 2) + text.startswith("\r", b)
                    middle = text[a:b]
                    self._extend_simple(st, pieces, last, middle, crs if lines else 0, colours)
            self._add_fast_part(st, pieces[last])
            return
        for i, piece in enumerate(pieces):
            if cr_only:
                overprint = needs_cell = "\r" in piece
            else:
                needs_cell = _NEEDS_CELL.search(piece) is not None
                overprint = needs_cell and _CR_ONLY.fullmatch(piece) is not None
            if not needs_cell:
                if i < last:
                    self._commit_live(st, piece)
                else:
                    self._add_fast_part(st, piece)
            elif overprint and self._overprint(st, piece, i < last):
                pass
            elif not cr_only and _NEEDS_SCREEN.search(piece):
                self._enter_screen(st)
                self._play_screen(st, "\n".join(pieces[i:]))
                return
            else:
                cell = self._to_cell(st)
                st.style = cell.play(piece, st.style)
                if i < last or len(cell.text) > MAX_LINE_CHARS:
                    self._commit_live(st)
                elif not cell.text and not cell.cursor:  # nothing shown, nothing to keep
                    st.cell = None
                    st.start_style = st.style
                    self._live.remove(st)

    def _extend_simple(
        self,
        st: _Stream,
        pieces: list[str],
        last: int,
        text: str,
        crs: int = 0,
        colours: bool = True,
    ) -> None:
        """Append ``pieces[1:last]`` (``text``: them joined by newlines, ``crs`` of them CR LF):
        whole lines of text, tabs and SGR codes (the hot loop)."""
        name = st.name
        style = st.style
        middle = pieces[1:last]
        if (
            name == STDOUT
            and style is DEFAULT_STYLE
            and "\x1b" in text
            and not (colours and SGR_RE.search(text))
        ):
            self._lines.extend(middle)  # erase-in-line codes only (kept: see RAW_CODE_RE)
        elif name == STDOUT and "\x1b" in text:
            # coloured stdout: kept as it came; the style each line starts in is worked out
            # when it is looked at (from the style at the start of the run, see _start_style)
            first = self._committed
            self._lines.extend(middle)
            self._lazy.append((first, first + len(middle), style))
            self._lazy_firsts.append(first)
            st.style = st.start_style = _style_after(style, text)
        elif style is DEFAULT_STYLE and "\x1b" not in text:  # plain text
            if name == STDOUT:
                self._lines.extend(middle)
            else:
                self._lines.extend([(_PLAIN, p, name, None) for p in middle])
        else:
            out: list[object] = []
            stdout = name == STDOUT
            packed = pack(style)
            for p in middle:
                if "\x1b" in p:
                    out.append(p if stdout and packed is None else (_RAW, p, name, packed))
                    k = p.rfind("\x1b")
                    if p.startswith("\x1b[0m", k) or p.startswith("\x1b[m", k):
                        new = reset_style(style)
                    else:
                        new = end_style(style, p)
                    if new is not style:
                        style, packed = new, pack(new)
                elif style is DEFAULT_STYLE:
                    out.append(p if stdout else (_PLAIN, p, name, None))
                else:
                    out.append((_RAW, p, name, packed))
            self._lines.extend(out)
            st.style = st.start_style = style
        self._committed += len(middle)
        self._chars += len(text) - len(middle) + 1 - crs
        if len(self._lines) > self.max_lines or self._chars > self.max_chars:
            self._trim()
        if len(text) > MAX_LINE_CHARS and any(len(p) > MAX_LINE_CHARS for p in middle):
            self._split_committed(len(middle))
