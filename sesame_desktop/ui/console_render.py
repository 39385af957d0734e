"""Painting console rows: colours, fonts and one visual row of a :class:`Line`.

Only the rows on screen are ever painted, so nothing here needs to be clever about volume;
it needs to be exact about columns: every character sits at ``column × character width``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF, QPainter

from sesame_desktop.core.cells import CellMap
from sesame_desktop.core.links import find_urls
from sesame_desktop.core.scroll_model import NOTICE as BANNER
from sesame_desktop.core.scroll_model import ScrollModel, Span
from sesame_desktop.core.sgr import (
    BOLD,
    DEFAULT_STYLE,
    DIM,
    HIDDEN,
    INVERSE,
    ITALIC,
    STRIKE,
    UNDERLINE,
    Style,
    is_truecolor,
    rgb_of,
)
from sesame_desktop.core.terminal import META, STDERR, Line

# VS Code's dark terminal palette: readable on a dark background, familiar to developers.
ANSI_16 = (
    "#000000",
    "#cd3131",
    "#0dbc79",
    "#e5e510",
    "#2472c8",
    "#bc3fbc",
    "#11a8cd",
    "#e5e5e5",
    "#666666",
    "#f14c4c",
    "#23d18b",
    "#f5f543",
    "#3b8eea",
    "#d670d6",
    "#29b8db",
    "#ffffff",
)


def _xterm_256(index: int) -> QColor:
    if index < 16:
        return QColor(ANSI_16[index])
    if index < 232:
        index -= 16
        levels = (0, 95, 135, 175, 215, 255)
        return QColor(levels[index // 36], levels[(index // 6) % 6], levels[index % 6])
    grey = 8 + (index - 232) * 10
    return QColor(grey, grey, grey)


@dataclass
class ConsoleTheme:
    """Colours of the console (dark)."""

    background: QColor = field(default_factory=lambda: QColor("#1e1e1e"))
    foreground: QColor = field(default_factory=lambda: QColor("#d4d4d4"))
    stderr_foreground: QColor = field(default_factory=lambda: QColor("#f0a39a"))
    stderr_marker: QColor = field(default_factory=lambda: QColor("#e0443e"))
    meta_background: QColor = field(default_factory=lambda: QColor("#2b3a4a"))
    meta_foreground: QColor = field(default_factory=lambda: QColor("#9cdcfe"))
    banner_foreground: QColor = field(default_factory=lambda: QColor("#a0a0a0"))
    link: QColor = field(default_factory=lambda: QColor("#4fc1ff"))
    selection: QColor = field(default_factory=lambda: QColor(38, 110, 200, 150))
    find_match: QColor = field(default_factory=lambda: QColor(230, 190, 40, 90))
    find_current: QColor = field(default_factory=lambda: QColor(255, 140, 0, 190))
    _cache: dict[int, QColor] = field(default_factory=dict, repr=False)
    _resolved: dict[tuple[Style, str], tuple[QColor, QColor | None]] = field(
        default_factory=dict, repr=False
    )

    def colour(self, value: int) -> QColor:
        """The QColor of a palette index or ``TRUECOLOR | rgb`` value."""
        colour = self._cache.get(value)
        if colour is None:
            colour = QColor(rgb_of(value)) if is_truecolor(value) else _xterm_256(value)
            self._cache[value] = colour
        return colour

    def default_foreground(self, stream: str) -> QColor:
        if stream == STDERR:
            return self.stderr_foreground
        if stream == META:
            return self.meta_foreground
        if stream == BANNER:
            return self.banner_foreground
        return self.foreground

    def resolve(self, style: Style, stream: str) -> tuple[QColor, QColor | None]:
        """Foreground and background (``None``: the console background) of ``style``."""
        key = (style, stream)
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) > 4096:
                self._resolved.clear()
            found = self._resolved[key] = self._resolve(style, stream)
        return found

    def _resolve(self, style: Style, stream: str) -> tuple[QColor, QColor | None]:
        fg = self.colour(style.fg) if style.fg is not None else self.default_foreground(stream)
        bg = self.colour(style.bg) if style.bg is not None else None
        if style.attrs & INVERSE:
            fg, bg = (bg or self.background), fg
        if style.attrs & DIM:
            fg = QColor(fg)
            fg.setAlpha(150)
        return fg, bg


class FontSet:
    """A monospace font at one size, its variants and its metrics."""

    def __init__(self, point_size: float, family: str = "DejaVu Sans Mono") -> None:
        base = QFont(family)
        if not QFontDatabase.isFixedPitch(family):
            base = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        base.setStyleHint(QFont.StyleHint.Monospace)
        base.setPointSizeF(point_size)
        self.point_size = point_size
        self.base = base
        metrics = QFontMetricsF(base)
        self.char_width = max(1.0, metrics.horizontalAdvance("M"))
        self.line_height = max(1, int(round(metrics.lineSpacing())))
        self.ascent = metrics.ascent()
        self._variants: dict[int, QFont] = {}

    def font(self, attrs: int) -> QFont:
        """The font for the bold/italic/underline/strike bits of ``attrs``."""
        key = attrs & (BOLD | ITALIC | UNDERLINE | STRIKE)
        font = self._variants.get(key)
        if font is None:
            font = QFont(self.base)
            font.setBold(bool(key & BOLD))
            font.setItalic(bool(key & ITALIC))
            font.setUnderline(bool(key & UNDERLINE))
            font.setStrikeOut(bool(key & STRIKE))
            self._variants[key] = font
        return font


def _segments(line: Line, start: int, end: int) -> list[tuple[int, int, Style]]:
    """``[start, end)`` cut into pieces of one style (default pieces included)."""
    pieces: list[tuple[int, int, Style]] = []
    pos = start
    for run_start, run_end, style in line.runs:
        if run_end <= pos:
            continue
        if run_start >= end:
            break
        if run_start > pos:
            pieces.append((pos, run_start, DEFAULT_STYLE))
        s = max(run_start, pos)
        e = min(run_end, end)
        pieces.append((s, e, style))
        pos = e
    if pos < end:
        pieces.append((pos, end, DEFAULT_STYLE))
    return pieces


@dataclass
class RowHighlights:
    """Column ranges of one row to paint under the text (selection, matches) or underline."""

    selection: tuple[int, int] | None = None
    selection_to_edge: bool = False
    matches: list[tuple[int, int]] = field(default_factory=list)
    current: tuple[int, int] | None = None
    links: list[tuple[int, int]] = field(default_factory=list)


WINDOW_MARGIN = 4096
"""Characters looked at around the painted part of a long line (for matches and links)."""


def line_marks(
    line: Line,
    line_no: int,
    find_re: re.Pattern[str] | None,
    find_current: tuple[int, int, int] | None,
    selection: tuple[tuple[int, int], tuple[int, int]] | None,
    window: tuple[int, int] | None = None,
) -> RowHighlights:
    """The highlights of line number ``line_no``: find matches, selection, links.

    Args:
        window: Only look for matches and printed links in ``text[a:b]`` (a long line: only
            its painted part, with a margin, so painting costs what is shown, not the line).
    """
    marks = RowHighlights()
    text = line.text
    lo = 0
    if window is not None and len(text) > 2 * WINDOW_MARGIN:
        lo = max(0, window[0] - WINDOW_MARGIN)
        text = text[lo : window[1] + WINDOW_MARGIN]
    if find_re is not None and line.stream != BANNER:
        marks.matches = [(m.start() + lo, m.end() + lo) for m in find_re.finditer(text)]
        if find_current is not None and find_current[0] == line_no:
            marks.current = find_current[1:]
    marks.links = [(a, b) for a, b, style in line.runs if style.link]
    marks.links += [(a + lo, b + lo) for a, b, _ in find_urls(text)]
    if selection is not None and selection[0][0] <= line_no <= selection[1][0]:
        a = selection[0][1] if line_no == selection[0][0] else 0
        b = selection[1][1] if line_no == selection[1][0] else len(line.text)
        marks.selection = (a, b)
        marks.selection_to_edge = line_no != selection[1][0]
    return marks


def paint_row(
    painter: QPainter,
    fonts: FontSet,
    theme: ConsoleTheme,
    origin: QPointF,
    width: float,
    line: Line,
    span: Span,
    marks: RowHighlights,
    cells: CellMap | None = None,
) -> None:
    """Paint the characters ``span`` of ``line`` as one row whose top-left corner is ``origin``.

    Args:
        width: Width of the row area (for row-wide backgrounds and selection to the edge).
        span: ``(start, end, cell column of the left edge)``.
        marks: Highlights, in character indices of the line.
        cells: Cell columns of the line's characters; ``None`` when index = column (ASCII).
    """
    start, end, base = span
    cw = fonts.char_width
    lh = fonts.line_height
    x0, y = origin.x(), origin.y()
    offsets = cells.offsets if cells is not None else None

    def x(i: int) -> float:
        return x0 + ((offsets[i] if offsets is not None else i) - base) * cw

    def rect(a: int, b: int) -> QRectF:
        return QRectF(x(a), y, x(b) - x(a), lh)

    stream = line.stream
    if stream == META:
        painter.fillRect(QRectF(0, y, x0 + width, lh), theme.meta_background)
    elif stream == STDERR:
        painter.fillRect(QRectF(0, y, 3, lh), theme.stderr_marker)
    segments = _segments(line, start, end) if line.runs else [(start, end, DEFAULT_STYLE)]
    resolved = [theme.resolve(style, stream) for _, _, style in segments]
    for (a, b, _), (_, bg) in zip(segments, resolved):
        if bg is not None:
            painter.fillRect(rect(a, b), bg)
    for a, b in marks.matches:
        if a < end and b > start:
            painter.fillRect(rect(max(a, start), min(b, end)), theme.find_match)
    if marks.current is not None:
        a, b = marks.current
        if a < end and b > start:
            painter.fillRect(rect(max(a, start), min(b, end)), theme.find_current)
    if marks.selection is not None:
        a, b = marks.selection
        sel = rect(max(a, start), min(b, end))
        if marks.selection_to_edge:
            sel.setRight(x0 + width)
        if sel.width() > 0:
            painter.fillRect(sel, theme.selection)
    text = line.text
    base_attrs = BOLD if stream in (META, BANNER) else 0
    baseline = y + fonts.ascent
    font_key = pen = None
    for (a, b, style), (fg, _) in zip(segments, resolved):
        attrs = style.attrs | base_attrs
        piece = text[a:b]
        if attrs & HIDDEN or (not attrs & (UNDERLINE | STRIKE) and piece.isspace()):
            continue  # nothing to draw (backgrounds are already painted)
        if attrs != font_key:
            painter.setFont(fonts.font(attrs))
            font_key = attrs
        if fg is not pen:
            painter.setPen(fg)
            pen = fg
        if cells is None or piece.isascii():
            painter.drawText(QPointF(x(a), baseline), piece)
        else:  # each wide character on its own, so that the grid holds
            for i, j in _grid_pieces(cells.widths, a, b):
                painter.drawText(QPointF(x(i), baseline), text[i:j])
    if marks.links:
        painter.setPen(theme.link)
        under = y + fonts.ascent + 2
        for a, b in marks.links:
            if a < end and b > start:
                painter.drawLine(QPointF(x(max(a, start)), under), QPointF(x(min(b, end)), under))


def _grid_pieces(widths: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut before and after every wide character (with its combining marks)."""
    pieces: list[tuple[int, int]] = []
    i = start
    while i < end:
        j = i + 1
        if widths[i] == 2:
            while j < end and widths[j] == 0:
                j += 1
        else:
            while j < end and widths[j] != 2:
                j += 1
        pieces.append((i, j))
        i = j
    return pieces


ScreenRow = tuple[int, int, int, int, float]
"""A painted row: ``(line number, start index, end index, left cell column, y)``."""


@dataclass
class ViewState:
    """What a paint needs to know beyond the model: area, scrolling, highlights."""

    left: float
    width: float
    height: float
    shift: int  # first column shown when not wrapping
    find_re: re.Pattern[str] | None
    find_current: tuple[int, int, int] | None
    selection: tuple[tuple[int, int], tuple[int, int]] | None


def paint_rows(
    painter: QPainter, model: ScrollModel, fonts: FontSet, theme: ConsoleTheme, view: ViewState
) -> list[ScreenRow]:
    """Paint the rows from ``model.top`` down to the bottom of the area.

    Returns:
        One ``(line, start, end, left column, y)`` per painted row, for hit-testing.
    """
    rows: list[ScreenRow] = []
    line_no, row = model.top
    end = model.end()
    y = 0.0
    while y < view.height and line_no < end:
        line = model.line(line_no)
        cells = model.cells(line_no, line.text)
        spans = model.row_spans(line.text, view.shift, line_no)
        last = min(len(spans), row + int(view.height // fonts.line_height) + 1) - 1
        window = (spans[row][0], spans[last][1]) if row <= last else None
        marks = line_marks(
            line, line_no, view.find_re, view.find_current, view.selection, window
        )
        to_edge = marks.selection_to_edge
        while row < len(spans) and y < view.height:
            marks.selection_to_edge = to_edge and row == len(spans) - 1
            origin = QPointF(view.left, y)
            paint_row(painter, fonts, theme, origin, view.width, line, spans[row], marks, cells)
            rows.append((line_no, *spans[row], y))
            y += fonts.line_height
            row += 1
        line_no, row = line_no + 1, 0
    return rows


def hit_test(
    rows: list[ScreenRow],
    text_of: Callable[[int], str],
    cells_x: float,
    y: float,
    line_height: int,
    nearest: bool = True,
) -> tuple[int, int] | None:
    """The ``(line, character index)`` at a point of the painted ``rows``.

    Args:
        text_of: Plain text of a line number.
        cells_x: Horizontal position in cells from the left edge of the text.
        nearest: Round to the nearest gap between characters (for selections); otherwise
            return the character under the point, or ``None`` when there is none.
    """
    if not rows:
        return None
    if y < rows[0][4]:
        return (rows[0][0], rows[0][1]) if nearest else None
    if y >= rows[-1][4] + line_height:
        return (rows[-1][0], rows[-1][2]) if nearest else None
    line, start, end, base, _ = next(r for r in rows if r[4] <= y < r[4] + line_height)
    column = base + cells_x
    text = text_of(line)
    if text.isascii():
        if nearest:
            return (line, max(start, min(int(column + 0.5), end)))
        index = int(column) if cells_x >= 0 else -1
        return (line, index) if start <= index < end else None
    cells = CellMap(text)
    if nearest:
        return (line, cells.index_at(column, start, end))
    index = cells.index_under(column, start, end) if cells_x >= 0 else None
    return (line, index) if index is not None else None
