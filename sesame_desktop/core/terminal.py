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

import codecs
import re
from collections import deque
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import NamedTuple

from sesame_desktop.core.cell_line import CellLine
from sesame_desktop.core.sgr import (
    DEFAULT_STYLE,
    SGR_RE,
    TAB_WIDTH,
    Run,
    Style,
    decode_raw,
    end_style,
    reset_style,
    runs_from_styles,
)

STDOUT = "stdout"
STDERR = "stderr"
META = "meta"
"""Stream tag of the header lines written by ``begin_command``/``end_command``."""

DEFAULT_SCROLLBACK = 100_000

_PLAIN = 0  # (kind, clean text, stream, None)
_RAW = 1  # (kind, text with SGR codes, stream, packed start style)
_CELLS = 2  # (kind, clean text, stream, packed runs)
# Stored lines hold styles as plain tuples ("packed"), never as Style (a tuple subclass): then a
# line is made of str/int/None/tuple only, and CPython's garbage collector stops tracking it
# after its first pass. 100,000 tracked lines would add ~20 ms to every full collection.


def _pack(style: Style) -> tuple | None:
    return None if style is DEFAULT_STYLE else tuple(style)


def _unpack(packed: tuple | None) -> Style:
    return DEFAULT_STYLE if packed is None else Style._make(packed)


def _pack_runs(runs: tuple[Run, ...]) -> tuple:
    return tuple((a, b, tuple(style)) for a, b, style in runs)


_NEEDS_CELL = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]|\x1b(?!\[[0-9;:]*m)")
"""Anything but printable text, tab, newline and complete SGR sequences."""

_NON_SGR_ESC = re.compile(r"\x1b(?!\[[0-9;:]*m)")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0B, 0x1B), *range(0x1C, 0x20), 0x7F])
"""C0 controls except tab, newline and ESC (deleting them with ``bytes.translate`` is ~2 GB/s)."""

_C1_BYTES = re.compile(rb"\xc2[\x80-\x9f]")

_INCOMPLETE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_][^\x07\x1b]*\x1b?|[ -/]*)\Z"
)
"""An escape sequence cut off by the end of the text (held back until more arrives)."""

_MAX_PENDING = 1 << 20
MAX_LINE_CHARS = 1 << 20
"""A longer line is broken after the chunk that makes it this long (as a terminal wraps)."""
_DECODED_CACHE = 512
_MAX_TAIL_PARTS = 64


class Line(NamedTuple):
    """One line as a view sees it.

    Attributes:
        text: Plain text, tabs expanded, no escape codes.
        runs: ``(start, end, style)`` spans with a non-default style, in order.
        stream: ``"stdout"``, ``"stderr"`` or ``"meta"``.
    """

    text: str
    runs: tuple[Run, ...]
    stream: str


class BufferEvent(Enum):
    """What changed in a buffer (argument of its listeners)."""

    APPENDED = "appended"
    CLEARED = "cleared"


class _Stream:
    """Parser state of one output stream (decoder, held-back escape, style, live line)."""

    __slots__ = (
        "name",
        "decoder",
        "pending",
        "style",
        "parts",
        "size",
        "start_style",
        "cell",
        "version",
        "shown",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""
        self.style = DEFAULT_STYLE
        self.parts: list[str] = []  # the live line while it is plain/SGR-only text
        self.size = 0  # characters in parts
        self.start_style = DEFAULT_STYLE  # style at the start of the live line
        self.cell: CellLine | None = None  # the live line once a control touched it
        self.version = 0  # changes whenever the live line may have changed
        self.shown: tuple[int, Line] | None = None  # (version, the live line as last decoded)

    @property
    def live(self) -> bool:
        return bool(self.parts) or self.cell is not None


def _format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s"


def format_command_start(command: str, started_at: datetime) -> str:
    """The header line written before a command's output."""
    return f"▶ {command}    [{started_at.strftime('%Y-%m-%d %H:%M:%S')}]"


def format_command_end(exit_code: int | None, signal_name: str | None, duration_s: float) -> str:
    """The footer line written after a command's output."""
    if signal_name:
        outcome = f"killed by {signal_name}"
    elif exit_code is None:
        outcome = "ended (exit code unknown)"
    elif exit_code == 0:
        outcome = "exit code 0 (success)"
    else:
        outcome = f"exit code {exit_code} (failed)"
    return f"■ {outcome} after {_format_duration(duration_s)}"


class TerminalBuffer:
    """The bounded, parsed output of one session, shared by whoever displays it.

    Not thread-safe: feed it from one thread (the GUI/event-loop thread).

    Attributes:
        max_lines: How many finished lines are kept (the scrollback).
        evicted: How many lines have been dropped from the front since the last clear.
        generation: Increases on every change; a cheap "did anything change" check.
    """

    def __init__(self, max_lines: int = DEFAULT_SCROLLBACK) -> None:
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        self.max_lines = max_lines
        self._lines: deque[object] = deque(maxlen=max_lines)
        self._committed = 0
        self._streams: dict[str, _Stream] = {}
        self._live: list[_Stream] = []  # streams with a live line, in the order they started
        self._listeners: list[Callable[[BufferEvent], None]] = []
        self._decoded: dict[int, Line] = {}  # absolute line number -> decoded Line (recent)
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
        for callback in list(self._listeners):
            callback(event)

    # -- reading ---------------------------------------------------------------------------

    @property
    def evicted(self) -> int:
        return self._committed - len(self._lines)

    def __len__(self) -> int:
        """Kept finished lines plus the live lines."""
        return len(self._lines) + len(self._live)

    def line(self, index: int) -> Line:
        """The line at ``index`` (0 = oldest kept line; live lines come last)."""
        n = len(self._lines)
        if index >= n:
            return self._live_line(self._live[index - n])
        item = self._lines[index]
        if type(item) is str and "\x1b" not in item:
            return Line(item.expandtabs() if "\t" in item else item, (), STDOUT)
        key = self._committed - n + index
        line = self._decoded.get(key)
        if line is None:
            line = self._decode(item)
            if len(self._decoded) >= _DECODED_CACHE:
                del self._decoded[next(iter(self._decoded))]
            self._decoded[key] = line
        return line

    @staticmethod
    def _decode(item: str | tuple) -> Line:
        if type(item) is str:  # stdout, SGR codes inside, default style at the start
            clean, runs, _ = decode_raw(item, DEFAULT_STYLE)
            return Line(clean, runs, STDOUT)
        kind, text, stream, extra = item
        if kind == _RAW:
            clean, runs, _ = decode_raw(text, _unpack(extra))
            return Line(clean, runs, stream)
        if kind == _PLAIN:
            return Line(text.expandtabs() if "\t" in text else text, (), stream)
        return Line(text, tuple((a, b, Style._make(style)) for a, b, style in extra), stream)

    def text(self, index: int) -> str:
        """The plain text of the line at ``index`` (cheaper than :meth:`line`)."""
        n = len(self._lines)
        if index >= n:
            return self._live_line(self._live[index - n]).text
        item = self._lines[index]
        if type(item) is str:
            kind, text = _RAW, item
        else:
            kind, text, _, _ = item  # type: ignore[misc]
        if kind == _RAW and "\x1b" in text:
            cached = self._decoded.get(self._committed - n + index)
            text = cached.text if cached is not None else SGR_RE.sub("", text)
        return text.expandtabs() if kind != _CELLS and "\t" in text else text

    def plain_text(self) -> str:
        """Everything kept, as plain text (one ``\\n`` after every line but the last).

        One join, one regular-expression pass and one tab expansion over the whole text: the
        same result as joining :meth:`text` of every line, several times faster.
        """
        parts = [item if type(item) is str else item[1] for item in self._lines]  # type: ignore
        parts.extend(self._live_line(st).text for st in self._live)
        text = "\n".join(parts)
        if "\x1b" in text:  # SGR codes of raw lines (an SGR sequence never spans lines)
            text = SGR_RE.sub("", text)
        return text.expandtabs(TAB_WIDTH) if "\t" in text else text

    def _live_line(self, st: _Stream) -> Line:
        if st.shown is not None and st.shown[0] == st.version:
            return st.shown[1]
        if st.cell is not None:
            line = Line(st.cell.text, st.cell.runs(), st.name)
        else:
            clean, runs, _ = decode_raw("".join(st.parts), st.start_style)
            line = Line(clean, runs, st.name)
        st.shown = (st.version, line)
        return line

    # -- writing ---------------------------------------------------------------------------

    def feed(self, data: bytes | str, stream: str = STDOUT) -> None:
        """Parse a chunk of output from ``stream`` (``"stdout"`` or ``"stderr"``).

        ``data`` is raw bytes, split anywhere; ``str`` chunks (the E2B SDK decodes output
        itself) are accepted too.
        """
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        st = self._stream(stream)
        # A cheap byte-level test first: most chunks have no control but tab/newline/SGR.
        simple = (
            len(data.translate(None, _CONTROL_BYTES)) == len(data)
            # C1 controls U+0080..U+009F are encoded C2 80..C2 9F (maybe split across chunks)
            and (b"\xc2" not in data or not _C1_BYTES.search(data))
            and not (st.decoder.getstate()[0] == b"\xc2" and data[:1] and data[0] < 0xA0)
        )
        text = st.decoder.decode(data)
        if st.pending:
            text = st.pending + text
            st.pending = ""
        if not text:
            return
        tail_start = text.rfind("\n") + 1
        esc = text.find("\x1b", tail_start)
        if esc >= 0:
            m = _INCOMPLETE.search(text, esc)
            if m is not None:
                if len(text) - m.start() <= _MAX_PENDING:
                    st.pending = text[m.start() :]
                text = text[: m.start()]
        if text:
            if simple and "\x1b" in text and _NON_SGR_ESC.search(text):
                simple = False
            self._feed_text(st, text, simple)
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
            st.pending = ""  # an escape sequence cut off for good shows nothing
            if text:
                self._feed_text(st, text, _NEEDS_CELL.search(text) is None)
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
        self._changed()

    def begin_command(self, command: str, started_at: datetime) -> None:
        """Append the header line of a command run."""
        self.add_meta(format_command_start(command, started_at))

    def end_command(
        self, exit_code: int | None, signal_name: str | None, duration_s: float
    ) -> None:
        """Append the closing line of a command run (exit code or signal, duration)."""
        self.add_meta(format_command_end(exit_code, signal_name, duration_s))

    def set_max_lines(self, max_lines: int) -> None:
        """Change the scrollback; when it shrinks, the oldest lines are dropped (and counted)."""
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        if max_lines != self.max_lines:
            self.max_lines = max_lines
            self._lines = deque(self._lines, maxlen=max_lines)
            self._changed()

    def clear(self) -> None:
        """Drop all lines, including what the live lines show so far (parser state stays)."""
        self._lines.clear()
        self._decoded.clear()
        self._committed = 0
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

    def _append(self, item: object) -> None:
        self._lines.append(item)
        self._committed += 1

    def _make_fast(self, st: _Stream, text: str, start: Style) -> object:
        if st.name == STDOUT and start is DEFAULT_STYLE:
            return text  # a bare str (no container: nothing for the garbage collector)
        if "\x1b" in text or start is not DEFAULT_STYLE:
            return (_RAW, text, st.name, _pack(start))
        return (_PLAIN, text, st.name, None)

    def _commit_live(self, st: _Stream, tail: str = "") -> None:
        """Finish the live line of ``st`` (plus ``tail``, plain/SGR text) and start a new one."""
        if st.cell is not None:
            cell = st.cell
            if tail:
                st.style = cell.play(tail, st.style)
            runs = runs_from_styles(cell.styles) if cell.styles is not None else ()
            self._append((_CELLS, cell.text, st.name, _pack_runs(runs)))
            st.cell = None
        else:
            text = "".join(st.parts) + tail if st.parts else tail
            self._append(self._make_fast(st, text, st.start_style))
            st.parts = []
            st.size = 0
            if "\x1b" in tail:
                st.style = end_style(st.style, tail)
        if st in self._live:
            self._live.remove(st)
        st.start_style = st.style

    def _set_live(self, st: _Stream) -> None:
        if st not in self._live:
            self._live.append(st)

    def _to_cell(self, st: _Stream) -> CellLine:
        if st.cell is None:
            if st.parts:
                clean, runs, _ = decode_raw("".join(st.parts), st.start_style)
                st.cell = CellLine.from_runs(clean, runs)
                st.parts = []
                st.size = 0
            else:
                st.cell = CellLine()
            self._set_live(st)
        return st.cell

    def _add_fast_part(self, st: _Stream, part: str) -> None:
        if not part:
            return
        if st.cell is not None:
            st.style = st.cell.play(part, st.style)
            return
        st.parts.append(part)
        st.size += len(part)
        if len(st.parts) > _MAX_TAIL_PARTS:  # keep a line written in tiny pieces cheap
            st.parts = ["".join(st.parts)]
        self._set_live(st)
        if "\x1b" in part:
            st.style = end_style(st.style, part)

    def _feed_text(self, st: _Stream, text: str, simple: bool) -> None:
        """Split ``text`` into lines; ``simple``: it has no control but tab, newline and SGR."""
        st.version += 1
        pieces = text.split("\n")
        last = len(pieces) - 1
        if simple:
            if last:
                self._commit_live(st, pieces[0])
                if last > 1:
                    self._extend_simple(st, pieces, last)
            self._add_fast_part(st, pieces[last])
        else:
            for i, piece in enumerate(pieces):
                if not _NEEDS_CELL.search(piece):
                    if i < last:
                        self._commit_live(st, piece)
                    else:
                        self._add_fast_part(st, piece)
                else:
                    cell = self._to_cell(st)
                    st.style = cell.play(piece, st.style)
                    if i < last:
                        self._commit_live(st)
        if st.size > MAX_LINE_CHARS or (st.cell is not None and len(st.cell.text) > MAX_LINE_CHARS):
            self._commit_live(st)

    def _extend_simple(self, st: _Stream, pieces: list[str], last: int) -> None:
        """Append ``pieces[1:last]``: whole lines of text, tabs and SGR codes (the hot loop)."""
        name = st.name
        style = st.style
        middle = pieces[1:last]
        if style is DEFAULT_STYLE and "\x1b" not in "".join(middle):  # plain text
            if name == STDOUT:
                self._lines.extend(middle)
            else:
                self._lines.extend([(_PLAIN, p, name, None) for p in middle])
        else:
            out: list[object] = []
            stdout = name == STDOUT
            packed = _pack(style)
            for p in middle:
                if "\x1b" in p:
                    out.append(p if stdout and packed is None else (_RAW, p, name, packed))
                    k = p.rfind("\x1b")
                    if p.startswith("\x1b[0m", k) or p.startswith("\x1b[m", k):
                        new = reset_style(style)
                    else:
                        new = end_style(style, p)
                    if new is not style:
                        style, packed = new, _pack(new)
                elif style is DEFAULT_STYLE:
                    out.append(p if stdout else (_PLAIN, p, name, None))
                else:
                    out.append((_RAW, p, name, packed))
            self._lines.extend(out)
            st.style = st.start_style = style
        self._committed += len(middle)
