"""Text styles and SGR ("Select Graphic Rendition") escape codes, without Qt.

A :class:`Style` is an immutable value: foreground, background, attribute bits and the target
of an OSC 8 hyperlink. Colours are ``None`` (the terminal default), a palette index ``0..255``
(0–7 normal, 8–15 bright, then the 6×6×6 cube and the grey ramp), or a 24-bit colour encoded
as ``TRUECOLOR | 0xRRGGBB`` (see :func:`rgb_of`).

Lines that only change colours keep their SGR codes in place (``raw`` text) and are turned into
clean text plus style runs only when somebody looks at them (:func:`decode_raw`). That is what
keeps ingesting coloured output close to the speed of plain text.
"""

from __future__ import annotations

import re
from itertools import groupby
from typing import NamedTuple

from sesame_desktop.core.cells import char_width

BOLD = 1
DIM = 2
ITALIC = 4
UNDERLINE = 8
BLINK = 16
INVERSE = 32
HIDDEN = 64
STRIKE = 128

TRUECOLOR = 1 << 24
"""Flag bit of a 24-bit colour value; ``value & 0xFFFFFF`` is the RGB."""


class Style(NamedTuple):
    """How a run of characters looks.

    Attributes:
        fg: Foreground colour (``None``, palette index or ``TRUECOLOR | rgb``).
        bg: Background colour, encoded the same way.
        attrs: Bit set of ``BOLD``, ``DIM``, ``ITALIC``, ``UNDERLINE``, ``BLINK``, ``INVERSE``,
            ``HIDDEN``, ``STRIKE``.
        link: Target of an OSC 8 hyperlink, or ``None``.
    """

    fg: int | None = None
    bg: int | None = None
    attrs: int = 0
    link: str | None = None


DEFAULT_STYLE = Style()

Run = tuple[int, int, Style]
"""``(start, end, style)``: characters ``text[start:end]`` have ``style`` (never the default)."""

SGR_RE = re.compile(r"\x1b\[([0-9;:]*)m")
"""A complete SGR sequence; group 1 holds its parameters."""

TAB_WIDTH = 8

_INTERNED: dict[Style, Style] = {}
_APPLY_CACHE: dict[tuple[Style, str], Style] = {}
_CACHE_LIMIT = 4096


def is_truecolor(colour: int) -> bool:
    """Whether ``colour`` is a 24-bit colour rather than a palette index."""
    return colour >= TRUECOLOR


def rgb_of(colour: int) -> int:
    """The ``0xRRGGBB`` value of a 24-bit colour."""
    return colour & 0xFFFFFF


def _intern(style: Style) -> Style:
    if len(_INTERNED) > _CACHE_LIMIT:
        _INTERNED.clear()
    return _INTERNED.setdefault(style, style)


def reset_style(style: Style) -> Style:
    """The style after ``SGR 0``: everything default, but an open hyperlink stays open."""
    return DEFAULT_STYLE if style.link is None else _intern(Style(link=style.link))


def _int(text: str) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        return 0


def _extended_colour(args: list[str]) -> tuple[int | None, int]:
    """Parse the arguments after 38/48/58: ``5;n`` or ``2;r;g;b`` (also with a colour space id).

    Returns:
        The colour (or ``None`` if malformed) and how many arguments were used.
    """
    if not args:
        return None, 0
    kind = _int(args[0])
    if kind == 5:
        if len(args) < 2:
            return None, len(args)
        return max(0, min(255, _int(args[1]))), 2
    if kind == 2:
        if len(args) < 4:
            return None, len(args)
        r, g, b = (max(0, min(255, _int(a))) for a in args[1:4])
        return TRUECOLOR | (r << 16) | (g << 8) | b, 4
    return None, 1


def _apply(style: Style, params: str) -> Style:
    fg, bg, attrs, link = style
    codes = params.split(";") if params else [""]
    i = 0
    while i < len(codes):
        code = codes[i]
        i += 1
        if ":" in code:  # ITU form: 38:2::r:g:b, 38:5:n, 4:3 (curly underline) ...
            head, *sub = code.split(":")
            n = _int(head)
            if n in (38, 48, 58):
                if len(sub) >= 5 and _int(sub[0]) == 2:  # with a colour-space id
                    sub = [sub[0], *sub[2:5]]
                colour, _ = _extended_colour(sub)
                if n == 38 and colour is not None:
                    fg = colour
                elif n == 48 and colour is not None:
                    bg = colour
            elif n == 4:
                attrs = attrs & ~UNDERLINE if sub and _int(sub[0]) == 0 else attrs | UNDERLINE
            continue
        n = _int(code)
        if n == 0:
            fg, bg, attrs = None, None, 0
        elif 30 <= n <= 37:
            fg = n - 30
        elif 40 <= n <= 47:
            bg = n - 40
        elif 90 <= n <= 97:
            fg = n - 90 + 8
        elif 100 <= n <= 107:
            bg = n - 100 + 8
        elif n in (38, 48, 58):
            colour, used = _extended_colour(codes[i:])
            i += used
            if n == 38 and colour is not None:
                fg = colour
            elif n == 48 and colour is not None:
                bg = colour
        elif n == 39:
            fg = None
        elif n == 49:
            bg = None
        elif n == 1:
            attrs |= BOLD
        elif n == 2:
            attrs |= DIM
        elif n == 3:
            attrs |= ITALIC
        elif n in (4, 21):
            attrs |= UNDERLINE
        elif n in (5, 6):
            attrs |= BLINK
        elif n == 7:
            attrs |= INVERSE
        elif n == 8:
            attrs |= HIDDEN
        elif n == 9:
            attrs |= STRIKE
        elif n == 22:
            attrs &= ~(BOLD | DIM)
        elif n == 23:
            attrs &= ~ITALIC
        elif n == 24:
            attrs &= ~UNDERLINE
        elif n == 25:
            attrs &= ~BLINK
        elif n == 27:
            attrs &= ~INVERSE
        elif n == 28:
            attrs &= ~HIDDEN
        elif n == 29:
            attrs &= ~STRIKE
        # anything else (fonts, frames, overline...) is ignored
    if fg is None and bg is None and attrs == 0 and link is None:
        return DEFAULT_STYLE
    return _intern(Style(fg, bg, attrs, link))


def apply_sgr(style: Style, params: str) -> Style:
    """The style after the SGR sequence ``ESC [ params m`` (memoised: outputs repeat codes)."""
    key = (style, params)
    result = _APPLY_CACHE.get(key)
    if result is None:
        if len(_APPLY_CACHE) > _CACHE_LIMIT:
            _APPLY_CACHE.clear()
        result = _APPLY_CACHE[key] = _apply(style, params)
    return result


def with_link(style: Style, link: str | None) -> Style:
    """``style`` with its hyperlink target replaced."""
    if style.link == link:
        return style
    new = style._replace(link=link)
    return DEFAULT_STYLE if new == DEFAULT_STYLE else _intern(new)


def end_style(style: Style, raw: str) -> Style:
    """The style in effect after ``raw`` (text whose only escapes are SGR sequences)."""
    last = raw.rfind("\x1b")
    if last < 0:
        return style
    if raw.startswith("\x1b[0m", last) or raw.startswith("\x1b[m", last):
        return reset_style(style)
    for params in SGR_RE.findall(raw):
        style = apply_sgr(style, params)
    return style


def runs_from_styles(styles: list[Style]) -> tuple[Run, ...]:
    """Collapse one style per character into non-default runs."""
    runs: list[Run] = []
    pos = 0
    for style, group in groupby(styles):
        n = sum(1 for _ in group)
        if style != DEFAULT_STYLE:
            runs.append((pos, pos + n, style))
        pos += n
    return tuple(runs)


def styles_from_runs(runs: tuple[Run, ...] | list[Run], length: int) -> list[Style]:
    """Expand runs into one style per character (the inverse of :func:`runs_from_styles`)."""
    styles = [DEFAULT_STYLE] * length
    for start, end, style in runs:
        styles[start:end] = [style] * (end - start)
    return styles


def _merge(runs: list[Run]) -> tuple[Run, ...]:
    merged: list[Run] = []
    for run in runs:
        if merged and merged[-1][1] == run[0] and merged[-1][2] == run[2]:
            merged[-1] = (merged[-1][0], run[1], run[2])
        else:
            merged.append(run)
    return tuple(merged)


def expand_tabs_cells(text: str) -> str:
    """``text.expandtabs(TAB_WIDTH)``, counting wide characters as two columns."""
    if text.isascii():
        return text.expandtabs(TAB_WIDTH)
    out: list[str] = []
    col = 0
    for ch in text:
        if ch == "\t":
            n = TAB_WIDTH - col % TAB_WIDTH
            out.append(" " * n)
            col += n
        else:
            out.append(ch)
            col = 0 if ch == "\n" else col + char_width(ch)
    return "".join(out)


def expand_tabs(text: str, runs: tuple[Run, ...]) -> tuple[str, tuple[Run, ...]]:
    """Expand tabs to spaces (stops every ``TAB_WIDTH`` columns), moving the runs with them."""
    if "\t" not in text:
        return text, runs
    if not runs:
        return expand_tabs_cells(text), runs
    styles = styles_from_runs(runs, len(text))
    out: list[str] = []
    out_styles: list[Style] = []
    col = 0
    for ch, style in zip(text, styles):
        if ch == "\t":
            n = TAB_WIDTH - col % TAB_WIDTH
            out.append(" " * n)
            out_styles.extend([style] * n)
            col += n
        else:
            out.append(ch)
            out_styles.append(style)
            col += char_width(ch)
    return "".join(out), runs_from_styles(out_styles)


def decode_raw(raw: str, start: Style) -> tuple[str, tuple[Run, ...], Style]:
    """Turn text with embedded SGR sequences into clean text and runs.

    Args:
        raw: Printable text, tabs and complete SGR sequences only.
        start: The style in effect at the start of ``raw``.

    Returns:
        The clean text (tabs expanded), its non-default runs and the style at the end.
    """
    parts = SGR_RE.split(raw)
    style = start
    pos = 0
    texts: list[str] = []
    runs: list[Run] = []
    for i in range(0, len(parts), 2):
        text = parts[i]
        if text:
            if style != DEFAULT_STYLE:
                runs.append((pos, pos + len(text), style))
            texts.append(text)
            pos += len(text)
        if i + 1 < len(parts):
            style = apply_sgr(style, parts[i + 1])
    clean, merged = expand_tabs("".join(texts), _merge(runs))
    return clean, merged, style
