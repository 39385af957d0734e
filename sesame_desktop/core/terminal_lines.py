"""The pieces of :mod:`sesame_desktop.core.terminal`: lines as views see them, stored lines, the
parser state of one stream, and the header/footer lines of a command run."""

from __future__ import annotations

import codecs
import re
from datetime import datetime
from enum import Enum
from typing import NamedTuple, Protocol, TypeAlias

import re2

from sesame_desktop.core.screen import Row, Screen
from sesame_desktop.core.sgr import DEFAULT_STYLE, Run, Style, decode_raw, expand_tabs_cells

STDOUT = "stdout"
STDERR = "stderr"
META = "meta"
"""Stream tag of the header lines written by ``begin_command``/``end_command``."""

_PLAIN = 0  # (kind, clean text, stream, None)
_RAW = 1  # (kind, text with SGR codes, stream, packed start style)
_CELLS = 2  # (kind, clean text, stream, packed runs)
# Stored lines hold styles as plain tuples ("packed"), never as Style (a tuple subclass): then a
# line is made of str/int/None/tuple only, and CPython's garbage collector stops tracking it
# after its first pass. 100,000 tracked lines would add ~20 ms to every full collection.

Packed: TypeAlias = "tuple[object, ...] | None"
Stored: TypeAlias = "str | tuple[int, str, str, object]"
"""A kept line: a bare ``str`` (stdout, default style at its start) or ``(kind, text, stream, extra)``."""


def pack(style: Style) -> tuple[object, ...] | None:
    return None if style is DEFAULT_STYLE else tuple(style)


def unpack(packed: object) -> Style:
    return DEFAULT_STYLE if packed is None else Style._make(packed)  # type: ignore[arg-type]


def pack_runs(runs: tuple[Run, ...]) -> tuple[object, ...]:
    return tuple((a, b, tuple(style)) for a, b, style in runs)


_CONTROL_BYTES = bytes([*range(0x09), *range(0x0B, 0x1B), *range(0x1C, 0x20), 0x7F])
"""C0 controls except tab, newline and ESC (deleting them with ``bytes.translate`` is ~2 GB/s)."""

_C1_BYTES = re.compile(rb"\xc2[\x80-\x9f]")



RAW_CODE_RE = re.compile(r"\x1b\[(?:[0-9;:]*m|K)")
"""A code that raw (kept as it came) text may hold: SGR, or ``ESC[K`` where it erases nothing
(the cursor is at the end of what was written, as it always is in raw text)."""


def decode_raw_line(raw: str, start: Style) -> tuple[str, tuple[Run, ...], Style]:
    """:func:`~sesame_desktop.core.sgr.decode_raw` of raw text that may hold ``ESC[K``."""
    return decode_raw(raw.replace("\x1b[K", "") if "\x1b[K" in raw else raw, start)


_NEEDS_CELL = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]|\x1b(?!\[[0-9;:]*m)")
"""Anything but printable text, tab, newline and complete SGR sequences."""


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
        "cell",
        "decoder",
        "name",
        "parts",
        "pending",
        "shown",
        "size",
        "start_style",
        "style",
        "version",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""
        self.style = DEFAULT_STYLE
        self.parts: list[str] = []  # the live line while it is plain/SGR-only text
        self.size = 0  # characters in parts
        self.start_style = DEFAULT_STYLE  # style at the start of the live line
        self.cell: LiveRow | None = None  # the live line once a control touched it
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


#: how a command that a signal ended is described, by the signal's name as providers give it
#: (the local provider: "interrupted", "terminated", "killed"; E2B's envd: "interrupt", …)
_SIGNAL_WORDS = {
    "interrupted": "stopped (interrupted, as Ctrl+C does)",
    "interrupt": "stopped (interrupted, as Ctrl+C does)",
    "sigint": "stopped (interrupted, as Ctrl+C does)",
    "terminated": "stopped (asked to end)",
    "sigterm": "stopped (asked to end)",
    "killed": "stopped by force (it did not end when asked)",
    "sigkill": "stopped by force (it did not end when asked)",
    "hung up": "ended: its terminal hung up",
}


def signal_words(signal_name: str) -> str:
    """What a signal did to a command, in words ("stopped by force …"), never "killed by killed"."""
    return _SIGNAL_WORDS.get(signal_name.lower(), f"ended by the signal {signal_name}")


def format_command_end(exit_code: int | None, signal_name: str | None, duration_s: float) -> str:
    """The footer line written after a command's output."""
    if signal_name:
        outcome = signal_words(signal_name)
    elif exit_code is None:
        outcome = "ended (exit code unknown)"
    elif exit_code == 0:
        outcome = "exit code 0 (success)"
    else:
        outcome = f"exit code {exit_code} (failed)"
    return f"■ {outcome} after {_format_duration(duration_s)}"


def stored_size(item: object) -> int:
    return len(item) if type(item) is str else len(item[1])  # type: ignore[index]



def snapshot_text(parts: list[object]) -> str:
    """The plain text of a :meth:`TerminalBuffer.snapshot` (safe to run on another thread)."""
    strings = [item if type(item) is str else item[1] for item in parts]  # type: ignore[index]
    text = "\n".join(strings)
    if "\x1b" in text:  # codes of raw lines (an SGR sequence never spans lines)
        text = RAW_CODE_RE.sub("", text)
    return expand_tabs_cells(text) if "\t" in text else text


SIMPLE = 1
"""Kind of a chunk: printable text, tabs, newlines and escapes (maybe SGR codes) only."""
CR_ONLY = 2
"""Kind of a chunk: printable text, newlines and carriage returns only (a progress bar)."""
OTHER = 0
"""Kind of a chunk: anything else (other controls; C1 controls)."""
ERASE_ONLY = 3
"""Kind of a chunk: :data:`SIMPLE`, and its only escapes are ``ESC[K`` (no colours)."""


_NON_SGR_ESC_BYTES = re.compile(rb"\x1b(?!\[[0-9;:]*+m)")
_NON_SGR_OR_EL_BYTES = re.compile(rb"\x1b(?!\[[0-9;:]*+m)(?!\[K)")
_NON_EL_BYTES = re.compile(rb"\x1b(?!\[K)")
_SGR_START_BYTES = re.compile(rb"\x1b(?:\[[0-9;:]*)?")


class _FullMatcher(Protocol):
    def fullmatch(self, text: bytes) -> object | None: ...


def _codes_only(erase: bool) -> _FullMatcher:
    """A DFA (RE2) that takes a whole chunk in one linear pass exactly when it has no control
    byte but tab, newline and carriage return and each escape is a whole SGR code (or ``ESC[K``
    with ``erase``), the last maybe cut off by the end of the chunk.

    Python's backtracking ``re`` stops at every escape (~20 ns each, with ``grep --color``
    one every 9 bytes); RE2's DFA runs through codes and text alike at ~650 MB/s."""
    controls = rb"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # (and ESC, 0x1b)
    code = rb"\x1b\[(?:[0-9;:]*m|K)" if erase else rb"\x1b\[[0-9;:]*m"
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # bytes as bytes (chunks cut UTF-8 anywhere)
    options.never_capture = True
    pattern = rb"(?:[^" + controls + rb"]|" + code + rb")*(?:\x1b(?:\[[0-9;:]*)?)?"
    matcher: _FullMatcher = re2.compile(pattern, options)
    return matcher


_CODES_ONLY = (_codes_only(False), _codes_only(True))


def chunk_kind(data: bytes, st: _Stream, erase: bool = False, crs: int = 0) -> tuple[int, bool]:
    """:data:`SIMPLE`, :data:`ERASE_ONLY`, :data:`CR_ONLY` or :data:`OTHER`, and whether every escape in ``data``
    is a whole SGR code (the last one may be cut off by the end of the chunk); with ``erase``,
    ``ESC[K`` counts as one too; ``crs``: carriage returns not to count as controls.

    Counting and deleting bytes runs at gigabytes a second, a regular expression that stops at
    escapes only at hundreds of megabytes; a look at every character in Python would not do.
    A chunk with colours is taken in one pass of a DFA (:func:`_codes_only`) when it is
    :data:`SIMPLE` with only such escapes; anything else is decided step by step.
    """
    if (b"\xc2" in data and _C1_BYTES.search(data)) or (
        # C1 controls U+0080..U+009F are encoded C2 80..C2 9F (maybe split across chunks)
        st.decoder.getstate()[0] == b"\xc2" and data[:1] and data[0] < 0xA0
    ):
        return OTHER, False
    colour = -1  # where the first escape that is not ESC[K (with erase) starts, if not cut off
    if b"\x1b" in data and (crs or b"\r" not in data):  # (a carriage return counted: a control)
        if erase:
            m = _NON_EL_BYTES.search(data)  # (ESC[K only: decided below without the DFA, faster)
            if m is not None and _SGR_START_BYTES.fullmatch(data, m.start()) is None:
                colour = m.start()
        else:
            colour = data.find(b"\x1b")
        if (
            colour >= 0
            and _CODES_ONLY[erase].fullmatch(data) is not None
            and (not crs or data.count(b"\r") == crs)  # (every carriage return not counted)
        ):
            return SIMPLE, True
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES)) - crs
    if not controls:
        if b"\x1b" not in data:
            return SIMPLE, True
        if erase:
            if colour < 0:  # no escape but ESC[K, and maybe one cut off at the end
                return ERASE_ONLY, True
            m = _NON_SGR_OR_EL_BYTES.search(data, colour)
        else:
            m = _NON_SGR_ESC_BYTES.search(data)
        return SIMPLE, m is None or _SGR_START_BYTES.fullmatch(data, m.start()) is not None
    if controls == data.count(b"\r") and b"\x1b" not in data and b"\t" not in data:
        return CR_ONLY, False
    return OTHER, False


def is_simple(data: bytes, st: _Stream) -> bool:
    """No control byte but tab, newline and ESC; no C1 control (also split from the last chunk)."""
    return chunk_kind(data, st)[0] in (SIMPLE, ERASE_ONLY)


class LiveRow:
    """The unfinished line of a console stream once a control touched it: one screen row.

    Carriage returns, backspaces, erases and column moves are played on it exactly as on the
    screen (cells, not characters), so a line keeps its meaning when cursor addressing later
    turns the bottom of the console into a :class:`Screen`.
    """

    __slots__ = ("screen",)

    def __init__(self, row: Row, x: int, columns: int) -> None:
        self.screen = Screen(columns, 1, wrap=False)
        self.screen.grid[0] = row
        self.screen.stream = row.stream
        self.screen.x = x

    @classmethod
    def from_text(cls, text: str, runs: tuple[Run, ...], stream: str, columns: int) -> LiveRow:
        """A row showing ``text`` with ``runs``, the cursor at its end."""
        row = Row.from_text(text, runs, stream)
        return cls(row, len(row.chars), columns)

    @property
    def row(self) -> Row:
        return self.screen.grid[0]

    @property
    def text(self) -> str:
        return self.screen.grid[0].text

    @property
    def cursor(self) -> int:
        """The cursor's column (in cells)."""
        return self.screen.x

    def plain(self) -> bool:
        """Whether the row is all one-cell characters in the default style (text == cells)."""
        row = self.screen.grid[0]
        return all(s is DEFAULT_STYLE for s in row.styles) and all(
            len(c) == 1 for c in row.chars
        )

    def runs(self) -> tuple[Run, ...]:
        return self.screen.grid[0].runs()

    def play(self, piece: str, style: Style) -> Style:
        """Apply ``piece`` (no newline) at the cursor; returns the style after it."""
        screen = self.screen
        screen.style = style
        screen.play(piece)
        return screen.style
