"""Terminal output parsing into a bounded line buffer, without Qt.

:class:`TerminalBuffer` takes raw output chunks (bytes, split anywhere) per stream and keeps
the most recent ``max_lines`` finished lines plus one unfinished ("live") line per stream.

How a chunk is handled:

1. Each stream has its own incremental UTF-8 decoder (invalid bytes become U+FFFD) and holds
   back an escape sequence that is cut off at the end of a chunk, so results never depend on
   where the chunks were split.
2. Text is split at ``\\n``. Lines made of printable text, tabs and SGR colour codes only (the
   vast majority) are stored as they came, with the style in effect at their start; turning
   them into clean text and style runs waits until a line is painted, copied or searched.
3. A line with any other control (``\\r``, backspace, erase-in-line, cursor moves, OSC titles and
   hyperlinks...) is replayed on a one-line "cell" model with a cursor, as a terminal would:
   carriage return overwrites, ``ESC[K`` erases. Controls that make no sense in a log
   (cursor up, screen erase, modes, bracketed paste...) are dropped whole.

Stored lines are ``str`` (stdout starting in the default style, possibly with SGR codes
inside: the common case, ~130 bytes for 80 characters, and no container object for the garbage
collector to scan) or a 4-tuple ``(kind, text, stream, extra)``; :meth:`TerminalBuffer.line`
turns either into a :class:`Line`. Old lines fall off the front when ``max_lines`` is
reached; :attr:`evicted` counts them, so line numbers (``evicted + position``) stay stable for
a view.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from datetime import datetime

from sesame_desktop.core.cells import char_width
from sesame_desktop.core.screen import Row, Screen
from sesame_desktop.core.sgr import (
    DEFAULT_STYLE,
    SGR_RE,
    Style,
    end_style,
    expand_tabs_cells,
    reset_style,
)
from sesame_desktop.core.terminal_lines import (  # noqa: F401 (re-exported)
    _CELLS,
    _NEEDS_CELL,
    _PLAIN,
    _RAW,
    CR_ONLY,
    ERASE_ONLY,
    META,
    RAW_CODE_RE,
    SIMPLE,
    STDERR,
    STDOUT,
    BufferEvent,
    Line,
    LiveRow,
    Stored,
    _Stream,
    chunk_kind,
    decode_raw_line,
    format_command_end,
    format_command_start,
    pack,
    pack_runs,
    snapshot_text,
    stored_size,
    unpack,
)
from sesame_desktop.core.terminal_store import MAX_LINE_CHARS, LineStore

__all__ = [
    "META",
    "STDERR",
    "STDOUT",
    "BufferEvent",
    "Line",
    "TerminalBuffer",
    "format_command_end",
    "format_command_start",
    "snapshot_text",
]

DEFAULT_SCROLLBACK = 100_000
DEFAULT_SCROLLBACK_CHARS = 64 << 20
"""Characters kept in the scrollback at most (~64 MB of text), whatever the line count."""
SCREEN_COLUMNS = 80
SCREEN_LINES = 50
"""The console's screen: what cursor addressing in output can reach (the last 50 lines)."""




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
_DECODED_CACHE = 512
_MAX_TAIL_PARTS = 64


_OSC_ACROSS_LINES = re.compile(r"\x1b\][^\x07\x1b]*[\r\n][^\x07\x1b]*(?:\x07|\x1b\\)")


def _without_newlines(m: re.Match[str]) -> str:
    return m.group().replace("\n", "").replace("\r", "")


def _style_after(style: Style, text: str) -> Style:
    """The style after ``text`` (text, tabs, newlines and SGR codes), from its last reset on."""
    k = text.rfind("\x1b[0m")
    k = max(k, text.rfind("\x1b[m", max(k, 0)))
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


class TerminalBuffer(LineStore):
    """The bounded, parsed output of one session, shared by whoever displays it.

    The bottom of the buffer is a terminal screen (:class:`~sesame_desktop.core.screen.Screen`):
    output that moves the cursor up, sets a scroll region or saves and restores the cursor
    redraws the last ``SCREEN_LINES`` lines in place, as a terminal would; lines scrolling off
    that screen become scrollback. Plain, coloured, CRLF and carriage-return lines never need
    it and take the fast paths.

    Not thread-safe: feed it from one thread (the GUI/event-loop thread).

    Attributes:
        max_lines: How many finished lines are kept (the scrollback).
        max_chars: How many characters the kept lines may hold in all (oldest go first).
        evicted: How many lines have been dropped from the front since the last clear.
        generation: Increases on every change; a cheap "did anything change" check.
    """

    def __init__(
        self,
        max_lines: int = DEFAULT_SCROLLBACK,
        max_chars: int = DEFAULT_SCROLLBACK_CHARS,
        screen_size: tuple[int, int] = (SCREEN_COLUMNS, SCREEN_LINES),
    ) -> None:
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        self.max_lines = max_lines
        self.max_chars = max(1, max_chars)
        self._lines: deque[object] = deque()
        self._chars = 0
        self._committed = 0
        self._meta_end = 0  # absolute number of the line after the last header line
        self._streams: dict[str, _Stream] = {}
        self._live: list[_Stream] = []  # streams with a live line, in the order they started
        self._listeners: list[Callable[[BufferEvent], None]] = []
        self._decoded: dict[int, Line] = {}  # absolute line number -> decoded Line (recent)
        self._screen_size = screen_size
        self._lazy: list[tuple[int, int, Style]] = []  # (first, end, start style) of runs
        self._lazy_firsts: list[int] = []  # their first lines (for bisect)
        self._lazy_memo: dict[int, Style] = {}  # line number -> the style it starts in
        self._screen: Screen | None = None  # the screen while output addresses it
        self._screen_owner: _Stream | None = None  # the stream playing on it
        self._screen_kept: Screen | None = None  # its modes, saved cursor... between uses
        self._screen_rows: dict[int, Line] = {}
        self._screen_version = -1
        self._line_taps: list[tuple[str, Callable[[str, str], None]]] = []
        self._tapped = 0
        self.generation = 0

    # -- observers -------------------------------------------------------------------------

    def add_listener(self, callback: Callable[[BufferEvent], None]) -> None:
        """Call ``callback(event)`` after every change (keep it cheap: mark dirty, return)."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[BufferEvent], None]) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored."""
        try:
            self._listeners.remove(callback)
        except ValueError:
            pass

    def _changed(self, event: BufferEvent = BufferEvent.APPENDED) -> None:
        self.generation += 1
        if self._line_taps and self._tapped != self._committed:
            self._tap_lines()
        for callback in list(self._listeners):
            callback(event)

    # -- reading ---------------------------------------------------------------------------

    @property
    def kept_chars(self) -> int:
        """Characters held by the kept finished lines (what :attr:`max_chars` bounds)."""
        return self._chars

    @property
    def screen(self) -> Screen | None:
        """The screen while output is addressing it (``None`` while output is line by line)."""
        return self._screen

    def __len__(self) -> int:
        """Kept finished lines plus the live lines (or the used rows of the screen)."""
        if self._screen is not None:
            return len(self._lines) + self._screen.used() + len(self._live) - 1
        return len(self._lines) + len(self._live)

    def line(self, index: int) -> Line:
        """The line at ``index`` (0 = oldest kept line; live lines come last)."""
        n = len(self._lines)
        if index >= n:
            return self._tail_line(index - n)
        item = self._lines[index]
        key = self._committed - n + index
        lazy = self._lazy and key >= self._lazy[0][0] and type(item) is str
        if type(item) is str and "\x1b" not in item and not lazy:
            return Line(expand_tabs_cells(item) if "\t" in item else item, (), STDOUT)
        line = self._decoded.get(key)
        if line is None:
            if lazy:
                clean, runs, _ = decode_raw_line(item, self._start_style(key))  # type: ignore[arg-type]
                line = Line(clean, runs, STDOUT)
            else:
                line = self._decode(item)  # type: ignore[arg-type]
            if len(self._decoded) >= _DECODED_CACHE:
                del self._decoded[next(iter(self._decoded))]
            self._decoded[key] = line
        return line

    @staticmethod
    def _decode(item: Stored) -> Line:
        if isinstance(item, str):  # stdout, SGR codes inside, default style at the start
            clean, runs, _ = decode_raw_line(item, DEFAULT_STYLE)
            return Line(clean, runs, STDOUT)
        kind, text, stream, extra = item
        if kind == _RAW:
            clean, runs, _ = decode_raw_line(text, unpack(extra))
            return Line(clean, runs, stream)
        if kind == _PLAIN:
            return Line(expand_tabs_cells(text) if "\t" in text else text, (), stream)
        return Line(text, tuple((a, b, Style._make(st)) for a, b, st in extra), stream)  # type: ignore[attr-defined]

    def text(self, index: int) -> str:
        """The plain text of the line at ``index`` (cheaper than :meth:`line`)."""
        n = len(self._lines)
        if index >= n:
            return self._tail_line(index - n).text
        item = self._lines[index]
        if type(item) is str:
            kind, text = _RAW, item
        else:
            kind, text, _, _ = item  # type: ignore[misc]
        if kind == _RAW and "\x1b" in text:
            cached = self._decoded.get(self._committed - n + index)
            text = cached.text if cached is not None else RAW_CODE_RE.sub("", text)
        return expand_tabs_cells(text) if kind != _CELLS and "\t" in text else text

    def snapshot(self) -> list[object]:
        """The kept lines as stored, plus the live lines decoded (cheap: a list copy).

        Pass it to :func:`snapshot_text` on another thread to get the plain text of everything
        without blocking the thread that feeds the buffer.
        """
        parts: list[object] = list(self._lines)
        n = len(self._lines)
        parts.extend(self._tail_line(i).text for i in range(len(self) - n))
        return parts

    def plain_text(self) -> str:
        """Everything kept, as plain text (one ``\\n`` after every line but the last)."""
        return snapshot_text(self.snapshot())

    def _tail_line(self, i: int) -> Line:
        screen = self._screen
        if screen is None:
            return self._live_line(self._live[i])
        used = screen.used()
        for st in self._live:
            if st is self._screen_owner:
                if i < used:
                    break
                i -= used
            elif i == 0:
                return self._live_line(st)
            else:
                i -= 1
        if self._screen_version != screen.version:
            self._screen_rows.clear()
            self._screen_version = screen.version
        line = self._screen_rows.get(i)
        if line is None:
            row = screen.grid[i]
            line = self._screen_rows[i] = Line(row.text, row.runs(), row.stream)
        return line

    def _live_line(self, st: _Stream) -> Line:
        if st.shown is not None and st.shown[0] == st.version:
            return st.shown[1]
        if st.cell is not None:
            line = Line(st.cell.text, st.cell.runs(), st.name)
        else:
            clean, runs, _ = decode_raw_line("".join(st.parts), st.start_style)
            line = Line(clean, runs, st.name)
        st.shown = (st.version, line)
        return line

    # -- writing ---------------------------------------------------------------------------

    def feed(self, data: bytes | str, stream: str = STDOUT) -> None:
        """Parse a chunk of output from ``stream`` (``"stdout"`` or ``"stderr"``).

        ``data`` is raw bytes, split anywhere, or ``str`` (the E2B SDK decodes output itself:
        it is used as it is, not encoded and decoded again).
        """
        if not data:
            return
        st = self._stream(stream)
        hold_cr = crlf = False
        colours = True  # (False: the text surely has no SGR code)
        crs = lfs = 0
        if isinstance(data, str):
            text = data
            if text.endswith("\r"):
                text, hold_cr = text[:-1], True
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            simple = _NEEDS_CELL.search(text) is None
            cr_only = verified = erase = False
        else:
            if data.endswith(b"\r"):
                data, hold_cr = data[:-1], True
            # erasing right of the cursor while it is at the end of what was written: nothing
            erase = st.cell is None and self._screen is None
            crs = data.count(b"\r") if b"\r" in data else 0
            lfs = data.count(b"\n") if crs else 0
            if crs and not st.pending and crs == lfs:
                # maybe CR LF line ends only (what a PTY sends): split as such, if nothing else
                kind, verified = chunk_kind(data, st, erase, crs)
                crlf = kind in (SIMPLE, ERASE_ONLY) and verified
            if lfs and not crlf:
                data = data.replace(b"\r\n", b"\n")
            if not crlf:
                kind, verified = chunk_kind(data, st, erase)  # (then ESC[K stays: RAW_CODE_RE)
            simple, cr_only = kind in (SIMPLE, ERASE_ONLY), kind == CR_ONLY
            colours = kind != ERASE_ONLY
            text = st.decoder.decode(data)
            if hold_cr and st.decoder.getstate()[0]:  # the CR follows bytes held back: no CRLF
                text += st.decoder.decode(b"\r")
                hold_cr = simple = False
                if crlf:
                    text, crlf = text.replace("\r\n", "\n"), False
        if st.pending:
            pending, st.pending = st.pending, ""
            if pending.endswith("\r"):
                if text.startswith("\n"):
                    pending = pending[:-1]
                else:
                    simple = False
            text = pending + text
            if "\x1b" in pending:
                cr_only, colours = False, True
                # the code cut off by the last chunk, now whole?
                m = (RAW_CODE_RE if erase else SGR_RE).match(text)
                verified = verified and m is not None and pending.count("\x1b") == 1
                verified = verified and m is not None and m.end() > len(pending)
        if not text and not hold_cr:
            return
        if "\x1b" in text:
            if simple and verified:  # only SGR codes, maybe one cut off at the end
                esc = text.rfind("\x1b")
                if RAW_CODE_RE.match(text, esc) is None:
                    st.pending = text[esc:]
                    text = text[:esc]
            else:
                text, simple = self._escapes(st, text, simple)
        if hold_cr:
            st.pending += "\r"
        pieces = None
        if crlf:  # every CR is followed by LF, if there is no lone CR among them: then split
            pieces = text.splitlines()  # at CR LF and LF in one pass (no other line breaks)
            if text.endswith("\n"):
                pieces.append("")
            if len(pieces) - 1 != lfs or (
                not text.isascii() and ("\u2028" in text or "\u2029" in text)
            ):
                pieces, text = None, text.replace("\r\n", "\n")  # a lone CR: overprinting
                simple, cr_only = False, "\x1b" not in text and "\t" not in text
        if text:
            self._feed_text(st, text, simple, cr_only, pieces, crs, colours)
            self._changed()

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
            if simple:
                if "\x1b" not in stripped or not _NON_SGR_ESC.search(stripped):
                    return stripped, True
            elif _NEEDS_CELL.search(stripped) is None:
                return stripped, True
        if simple and "\x1b" in text and _NON_SGR_ESC.search(text):
            simple = False
        return text, simple

    def finish(self, stream: str | None = None) -> None:
        """End ``stream`` (or all streams): flush its decoder and commit its live line."""
        names = [stream] if stream is not None else list(self._streams)
        changed = False
        for name in names:
            st = self._streams.get(name)
            if st is None:
                continue
            text = st.decoder.decode(b"", final=True)
            if st.pending.endswith("\r"):
                text = "\r" + text
            st.pending = ""  # an escape sequence cut off for good shows nothing
            if text:
                self._feed_text(st, text, _NEEDS_CELL.search(text) is None)
            if self._screen is not None and self._screen_owner is st:
                self._leave_screen(st, keep_live=False)
            if st.live:
                self._commit_live(st)
            st.style = DEFAULT_STYLE
            changed = True
        if changed:
            self._changed()

    def add_meta(self, text: str) -> None:
        """Append a header line (stream ``"meta"``) after finishing all streams."""
        self.finish()
        self._append((_PLAIN, text.replace("\n", " "), META, None))
        self._meta_end = self._committed
        self._screen_kept = None
        self._changed()

    def begin_command(self, command: str, started_at: datetime) -> None:
        """Append the header line of a command run."""
        self.add_meta(format_command_start(command, started_at))

    def end_command(
        self, exit_code: int | None, signal_name: str | None, duration_s: float
    ) -> None:
        """Append the closing line of a command run (exit code or signal, duration)."""
        self.add_meta(format_command_end(exit_code, signal_name, duration_s))

    def set_max_lines(self, max_lines: int, max_chars: int | None = None) -> None:
        """Change the scrollback; when it shrinks, the oldest lines are dropped (and counted)."""
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        if max_lines != self.max_lines or (max_chars is not None and max_chars != self.max_chars):
            self.max_lines = max_lines
            if max_chars is not None:
                self.max_chars = max(1, max_chars)
            self._trim()
            self._changed()

    def clear(self) -> None:
        """Drop all lines, including what the live lines show so far (parser state stays)."""
        self._lines.clear()
        self._lazy.clear()
        self._lazy_firsts.clear()
        self._lazy_memo.clear()
        self._chars = 0
        self._decoded.clear()
        self._committed = self._tapped = 0
        self._meta_end = 0
        self._screen = self._screen_owner = self._screen_kept = None
        for st in self._live:
            st.parts = []
            st.size = 0
            st.cell = None
            st.start_style = st.style
            st.version += 1
        self._live.clear()
        self._changed(BufferEvent.CLEARED)

    # -- internals -------------------------------------------------------------------------

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
                st.style = end_style(st.style, tail)
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
            st.style = end_style(st.style, part)
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
