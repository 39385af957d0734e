"""Terminal output parsing into a bounded line buffer, without Qt.

:class:`TerminalBuffer` takes raw output chunks (bytes, split anywhere) per stream and keeps
the most recent ``max_lines`` finished lines plus one unfinished ("live") line per stream.

How a chunk is handled:

1. Each stream has its own incremental UTF-8 decoder (invalid bytes become U+FFFD) and holds
   back an escape sequence that is cut off at the end of a chunk, so results never depend on
   where the chunks were split.
2. What a chunk holds is found on its bytes, at C speed (counting, deleting bytes, one regular
   expression that stops at escapes only): no control but tab and newline, CR LF line ends,
   only whole SGR codes (and ``ESC[K`` right after what was written: it erases nothing)...
3. Text is split at ``\\n`` (or CR LF). Lines made of printable text, tabs and SGR colour codes
   only (the vast majority) are stored as they came, with the style in effect at their start;
   turning them into clean text and style runs waits until a line is painted, copied or
   searched (:mod:`~sesame_desktop.core.terminal_parse`).
4. A line with any other control (``\\r``, backspace, erase-in-line, cursor moves, OSC titles and
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

from collections import deque
from collections.abc import Callable
from datetime import datetime

from sesame_desktop.core.screen import Screen
from sesame_desktop.core.sgr import (
    DEFAULT_STYLE,
    SGR_RE,
    Style,
    expand_tabs_cells,
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
from sesame_desktop.core.terminal_parse import LineParser
from sesame_desktop.core.terminal_store import MAX_LINE_CHARS  # noqa: F401 (re-exported)

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

_DECODED_CACHE = 512




class TerminalBuffer(LineParser):
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
        if isinstance(data, str) and data.isascii():
            data = data.encode("ascii")  # a copy: then its checks run on bytes, at C speed
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
            if (
                len(pieces) - 1 != lfs
                or text.endswith("\r")  # its LF not come yet (an escape cut off was held back)
                or (not text.isascii() and ("\u2028" in text or "\u2029" in text))
            ):
                pieces, text = None, text.replace("\r\n", "\n")  # a lone CR: overprinting
                simple, cr_only = False, "\x1b" not in text and "\t" not in text
        if text:
            self._feed_text(st, text, simple, cr_only, pieces, crs, colours)
            self._changed()

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

