"""The storage side of :class:`~sesame_desktop.core.terminal.TerminalBuffer`: styles of kept
coloured lines worked out on demand, long lines cut at fixed places, and the screen that the
last lines turn into while output addresses the cursor."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from itertools import islice

from sesame_desktop.core.screen import Row, Screen
from sesame_desktop.core.sgr import DEFAULT_STYLE, SGR_RE, Style, end_style, reset_style
from sesame_desktop.core.terminal_lines import (
    _CELLS,
    _NEEDS_CELL,
    _PLAIN,
    _RAW,
    META,
    STDOUT,
    Line,
    LiveRow,
    Stored,
    _Stream,
    pack,
    pack_runs,
    stored_size,
    unpack,
)

MAX_LINE_CHARS = 1 << 20
"""A longer line is cut into lines of this length (as a terminal wraps), wherever it came from."""


def _size_of_first(lines: deque[object], k: int) -> int:
    """Characters held by the first ``k`` stored lines (see :func:`stored_size`)."""
    if not k:
        return 0
    if set(map(type, islice(lines, k))) == {str}:  # the usual case, at C speed
        return sum(map(len, islice(lines, k)))  # type: ignore[arg-type]
    return sum(map(stored_size, islice(lines, k)))


class LineStore:
    """Kept lines and the screen; :class:`TerminalBuffer` parses output into it."""

    max_lines: int
    max_chars: int
    _lines: deque[object]
    _chars: int
    _committed: int
    _meta_end: int
    _live: list[_Stream]
    _decoded: dict[int, Line]
    _screen_size: tuple[int, int]
    _screen: Screen | None
    _screen_owner: _Stream | None
    _screen_kept: Screen | None
    _lazy: list[tuple[int, int, Style]]
    _lazy_firsts: list[int]
    _lazy_memo: dict[int, Style]
    _line_taps: list[tuple[str, Callable[[str, str], None]]]
    _tapped: int  # absolute number of the first line the taps have not seen

    @property
    def evicted(self) -> int:
        return self._committed - len(self._lines)

    def line(self, index: int) -> Line:
        raise NotImplementedError

    def text(self, index: int) -> str:
        raise NotImplementedError

    # -- finished lines to other readers -----------------------------------------------------

    def watch_lines(self, callback: Callable[[str, str], None], hint: str) -> None:
        """Call ``callback(stream, text)`` with the plain text (escapes already interpreted) of
        every output line finished from now on whose stored text holds ``hint`` (a cheap filter:
        only those lines are turned into plain text). Header lines are not passed on; a line is
        passed once it is finished, so what a reader sees never depends on how chunks split."""
        self._line_taps.append((hint, callback))
        self._tapped = self._committed

    def _tap_lines(self) -> None:
        """Pass the lines finished since the last call to the taps (after every change)."""
        n = len(self._lines)
        first = self._committed - n
        start = max(self._tapped, first)
        self._tapped = self._committed
        taps = self._line_taps
        lines = self._lines
        new: list[str] = list(islice(lines, start - first, None))  # type: ignore[arg-type]
        if set(map(type, new)) == {str} and not any(hint in "\n".join(new) for hint, _ in taps):
            return  # stdout lines, none of them of interest (looked at in C, not line by line)
        for key in range(start, self._committed):
            item = lines[key - first]
            if type(item) is str:
                raw, stream = item, STDOUT
            else:
                _, raw, stream, _ = item  # type: ignore[misc]
                if stream == META:
                    continue
            for hint, callback in taps:
                if hint in raw:
                    callback(stream, self.text(key - first))

    def _live_line(self, st: _Stream) -> Line:
        raise NotImplementedError

    def _feed_text(self, st: _Stream, text: str, simple: bool) -> None:
        raise NotImplementedError

    def _append(self, item: object) -> None:
        self._lines.append(item)
        self._committed += 1
        self._chars += stored_size(item)
        if len(self._lines) > self.max_lines or self._chars > self.max_chars:
            self._trim()

    def _trim(self) -> None:
        lines = self._lines
        k = max(0, len(lines) - self.max_lines)  # lines to drop from the front
        chars = self._chars - _size_of_first(lines, k)
        while chars > self.max_chars and len(lines) - k > 1:
            chars -= stored_size(lines[k])
            k += 1
        if not k:
            return
        new_first = self.evicted + k
        if self._lazy and self._lazy[0][0] < new_first < self._lazy[0][1]:
            # a coloured run loses its first lines: keep the style its new first line starts in
            style = self._start_style(new_first)
            self._lazy[0] = (new_first, self._lazy[0][1], style)
            self._lazy_firsts[0] = new_first
        popleft = lines.popleft
        for _ in range(k):
            popleft()
        self._chars = chars
        while self._lazy and self._lazy[0][1] <= new_first:
            del self._lazy[0]
            del self._lazy_firsts[0]

    def _set_live(self, st: _Stream) -> None:
        if st not in self._live:
            self._live.append(st)

    def _make_fast(self, st: _Stream, text: str, start: Style) -> object:
        if st.name == STDOUT and start is DEFAULT_STYLE:
            return text  # a bare str (no container: nothing for the garbage collector)
        if "\x1b" in text or start is not DEFAULT_STYLE:
            return (_RAW, text, st.name, pack(start))
        return (_PLAIN, text, st.name, None)

    def _start_style(self, number: int) -> Style:
        """The style line ``number`` (a coloured stdout line kept as it came) starts in.

        Found from the nearest line before it that resets the style (usually the one just
        before), a remembered style, or the start of its run, whichever comes first going back.
        """
        i = bisect_right(self._lazy_firsts, number) - 1
        if i < 0 or number >= self._lazy[i][1]:
            return DEFAULT_STYLE
        first, _, style = self._lazy[i]
        memo = self._lazy_memo
        lines = self._lines
        base = self._committed - len(lines)
        at = number
        while at > first:
            known = memo.get(at)
            if known is not None:
                style = known
                break
            item: str = lines[at - 1 - base]  # type: ignore[assignment]
            k = max(item.rfind("\x1b[0m"), item.rfind("\x1b[m"))
            if k >= 0:  # SGR codes never touch the link: it is the run's all along
                style = end_style(reset_style(style), item[k:])
                break
            at -= 1
        while at < number:
            item = lines[at - base]  # type: ignore[assignment]
            if "\x1b" in item:
                style = end_style(style, item)
            at += 1
            if len(memo) > 4096:
                memo.clear()
            memo[at] = style
        return style

    def _truncate_lazy(self) -> None:
        """Forget what the lazy runs say about lines no longer kept at the end."""
        end = self._committed
        while self._lazy and self._lazy[-1][0] >= end:
            self._lazy.pop()
            self._lazy_firsts.pop()
        if self._lazy and self._lazy[-1][1] > end:
            first, _, style = self._lazy[-1]
            self._lazy[-1] = (first, end, style)
        for key in [key for key in self._lazy_memo if key >= end]:
            del self._lazy_memo[key]

    def _break_long_line(self, st: _Stream) -> None:
        """Cut a live line longer than ``MAX_LINE_CHARS`` into lines of exactly that length.

        The cuts depend on the text only (never on how it arrived), and never split an SGR code.
        """
        text = "".join(st.parts)
        start = st.start_style
        while len(text) > MAX_LINE_CHARS:
            cut = MAX_LINE_CHARS
            esc = text.rfind("\x1b", cut - 64, cut)
            if esc >= 0:
                m = SGR_RE.match(text, esc)
                if m is None or m.end() > cut:
                    cut = esc
            head, text = text[:cut], text[cut:]
            self._append(self._make_fast(st, head, start))
            if "\x1b" in head:
                start = end_style(start, head)
        st.start_style = start
        st.parts = [text] if text else []
        st.size = len(text)
        if not text and st in self._live:
            self._live.remove(st)

    def _split_committed(self, count: int) -> None:
        """Re-append the last ``count`` lines with lines over ``MAX_LINE_CHARS`` cut (rare)."""
        count = min(count, len(self._lines))
        first = self._committed - count
        starts = [self._start_style(first + i) for i in range(count)]
        items = [self._lines.pop() for _ in range(count)][::-1]
        self._committed -= count
        self._chars -= sum(map(stored_size, items))
        self._truncate_lazy()
        for item, start in zip(items, starts, strict=True):
            stored: Stored = item  # type: ignore[assignment]
            probe = _Stream(STDOUT if isinstance(stored, str) else stored[2])
            if isinstance(stored, str):
                text = stored
                probe.start_style = start
            else:
                text = stored[1]
                probe.start_style = unpack(stored[3]) if stored[0] == _RAW else DEFAULT_STYLE
                if stored[0] == _CELLS or len(text) <= MAX_LINE_CHARS:
                    self._append(item)
                    continue
            if len(text) > MAX_LINE_CHARS:
                probe.parts = [text]
                probe.size = len(text)
                self._break_long_line(probe)
                text = probe.parts[0] if probe.parts else ""
            self._append(self._make_fast(probe, text, probe.start_style))

    # -- the screen --------------------------------------------------------------------------

    def _enter_screen(self, st: _Stream) -> None:
        """Turn the last lines since the last header (and the live line of ``st``) into a screen."""
        if self._screen_owner is not None:  # another stream had it: its rows become lines
            self._leave_screen(self._screen_owner, keep_live=False)
        columns, height = self._screen_size
        lo = max(self._meta_end, self.evicted)
        k = min(height - 1, self._committed - lo)
        if any(other is not st for other in self._live):
            k = 0  # another stream's unfinished line sits below the kept lines: keep them put
        n = len(self._lines)
        rows = []
        for i in range(n - k, n):
            line = self.line(i)
            rows.append(Row.from_text(line.text, line.runs, line.stream))
        for _ in range(k):
            self._chars -= stored_size(self._lines.pop())
        self._committed -= k
        self._truncate_lazy()
        for key in [key for key in self._decoded if key >= self._committed]:
            del self._decoded[key]
        live = Row(st.name)
        x = 0
        if st.live:
            line = self._live_line(st)
            live = Row.from_text(line.text, line.runs, st.name)
            if st.cell is not None:
                live, x = st.cell.row, st.cell.cursor
            else:
                x = len(live.chars)
            st.parts, st.size, st.cell = [], 0, None
        self._set_live(st)  # the screen's rows take the place of the live line
        st.start_style = st.style
        screen = self._screen_kept
        if screen is None:
            screen = Screen(columns, height, wrap=False, on_scroll=self._on_screen_scroll)
        screen.grid = [*rows, live, *(Row(st.name) for _ in range(height - k - 1))]
        screen.y, screen.x = k, x
        self._screen = screen
        self._screen_owner = st

    def _on_screen_scroll(self, row: Row) -> None:
        self._append((_CELLS, row.text, row.stream, pack_runs(row.runs())))

    def _play_screen(self, st: _Stream, text: str) -> None:
        """Play ``text`` on the screen, line by line; leave it as soon as a plain list would do."""
        screen = self._screen
        assert screen is not None
        screen.stream = st.name
        pos = 0
        size = len(text)
        while pos < size:
            nl = text.find("\n", pos)
            end = size if nl < 0 else nl + 1
            screen.style = st.style
            screen.play(text[pos:end])
            st.style = screen.style
            pos = end
            if nl >= 0 and screen.simple():
                self._leave_screen(st, keep_live=True)
                if pos < size:
                    rest = text[pos:]
                    self._feed_text(st, rest, _NEEDS_CELL.search(rest) is None)
                return

    def _leave_screen(self, st: _Stream, keep_live: bool) -> None:
        """Commit the screen's rows as lines; with ``keep_live`` the cursor row stays live."""
        screen = self._screen
        assert screen is not None
        self._screen = self._screen_owner = None
        self._screen_kept = screen
        used = screen.used()
        last = screen.y if keep_live else used
        for row in screen.grid[:last]:
            self._on_screen_scroll(row)
        if keep_live:
            row = screen.grid[screen.y]
            if row.chars or screen.x:
                st.cell = LiveRow(row, screen.x, screen.columns)
                st.version += 1  # what was decoded of the live line while entering is stale
                self._set_live(st)
                st.start_style = st.style
                return
        if st in self._live:
            self._live.remove(st)
        st.start_style = st.style

