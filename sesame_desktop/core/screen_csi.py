"""What each CSI sequence (``ESC [ … final``) does to a :class:`~sesame_desktop.core.screen.Screen`:
cursor moves, erases, insert/delete, scroll regions, tab stops, modes and the replies a program
asks for. Kept apart from the screen's own writing and scrolling; it drives the screen through
the same methods the screen uses itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sesame_desktop.core.screen_row import Row, parse_params
from sesame_desktop.core.sgr import apply_sgr

if TYPE_CHECKING:
    from sesame_desktop.core.screen import Screen

TAB_WIDTH = 8
_SGR_PARAMS = re.compile(r"[0-9;:]*")


def csi(screen: Screen, raw: str, intermediates: str, final: str) -> None:
    """Apply ``ESC [ raw intermediates final`` to ``screen``."""
    if final == "m" and not intermediates:
        if _SGR_PARAMS.fullmatch(raw):
            screen.style = apply_sgr(screen.style, raw)
        return
    if intermediates:
        return  # DECSCUSR (cursor shape), DECSTR...: nothing to keep
    private = raw[:1] if raw[:1] in ("?", ">", "<", "=") else ""
    params = parse_params(raw[1:] if private else raw)
    if private:
        if private == "?" and final in "hl":
            dec_modes(screen, params, final == "h")
        elif private == ">" and final == "c":
            screen._reply("\x1b[>0;10;1c")
        return
    n = params[0] or 1
    if final in "AB":
        y = screen.y - n if final == "A" else screen.y + n
        lo, hi = (screen.top, screen.bottom) if screen.top <= screen.y <= screen.bottom else (0, screen.lines - 1)
        screen.y = max(lo, min(y, hi))
        screen.x = min(screen.x, screen.columns - 1) if screen.wrap else screen.x
    elif final in "Ca":
        screen.x = screen._limit_x(screen.x + n)
    elif final == "D":
        screen.x = max(0, min(screen.x, screen.columns if screen.wrap else screen.x) - n)
    elif final in "EF":
        y = screen.y + n if final == "E" else screen.y - n
        screen.y = max(0, min(y, screen.lines - 1))
        screen.x = 0
    elif final in "G`":
        screen.x = max(0, min(n - 1, screen.columns - 1))
    elif final in "Hf":
        row = params[0] or 1
        col = (params[1] if len(params) > 1 else 0) or 1
        screen._move_to(row - 1, col - 1)
    elif final == "d":
        screen._move_to(n - 1, screen.x)
    elif final == "e":
        screen.y = max(0, min(screen.y + n, screen.lines - 1))
    elif final == "J":
        screen.erase_in_display(params[0])
    elif final == "K":
        screen.erase_in_line(params[0])
    elif final == "X":
        screen._erase_cells(screen.x, screen.x + n)
    elif final == "P":
        line = screen.grid[screen.y]
        x = min(screen.x, screen.columns - 1) if screen.wrap else screen.x
        if x < len(line.chars):
            screen._split_wide(line, x, x + n)
            del line.chars[x : x + n]
            del line.styles[x : x + n]
    elif final == "@":
        screen._insert_cells(screen.grid[screen.y], min(screen.x, screen.columns - 1), n)
    elif final == "L":
        if screen.top <= screen.y <= screen.bottom:
            for _ in range(min(n, screen.bottom - screen.y + 1)):
                del screen.grid[screen.bottom]
                screen.grid.insert(screen.y, Row(screen.stream))
            screen.x = 0
    elif final == "M":
        if screen.top <= screen.y <= screen.bottom:
            for _ in range(min(n, screen.bottom - screen.y + 1)):
                del screen.grid[screen.y]
                screen.grid.insert(screen.bottom, Row(screen.stream))
            screen.x = 0
    elif final == "S":
        screen.scroll_up(n)
    elif final == "T":
        screen.scroll_down(n)
    elif final == "r":
        top = (params[0] or 1) - 1
        bottom = ((params[1] if len(params) > 1 else 0) or screen.lines) - 1
        bottom = min(bottom, screen.lines - 1)
        if top < bottom:
            screen.top, screen.bottom = top, bottom
            screen._move_to(0, 0)
    elif final == "s":
        screen.save_cursor()
    elif final == "u":
        screen.restore_cursor()
    elif final == "I":
        screen._tab(n)
    elif final == "Z":
        for _ in range(n):
            screen.x = max(0, ((min(screen.x, screen.columns) - 1) // TAB_WIDTH) * TAB_WIDTH)
    elif final == "b":
        screen.write(screen._last * min(n, screen.columns * screen.lines))
    elif final == "g":
        if params[0] == 3:
            screen.tabstops = set()
        elif params[0] == 0 and screen.tabstops is not None:
            screen.tabstops.discard(screen.x)
    elif final in "hl" and 4 in params:
        screen.insert = final == "h"
    elif final == "n":
        if params[0] == 5:
            screen._reply("\x1b[0n")
        elif params[0] == 6:
            y = screen.y - screen.top if screen.origin else screen.y
            screen._reply(f"\x1b[{y + 1};{min(screen.x, screen.columns - 1) + 1}R")
    elif final == "c" and params[0] == 0:
        screen._reply("\x1b[?62;22c")


def dec_modes(screen: Screen, params: list[int], on: bool) -> None:
    """Set (``on``) or reset the DEC private modes ``params`` (``CSI ? n h`` / ``l``)."""
    modes = screen.modes
    for p in params:
        if p == 1:
            modes.app_cursor = on
        elif p == 6:
            screen.origin = on
            screen._move_to(0, 0)
        elif p == 7:
            screen.autowrap = on
        elif p == 25:
            modes.cursor_visible = on
        elif p in (1000, 1002, 1003):
            modes.mouse = on
        elif p == 1006:
            modes.mouse_sgr = on
        elif p == 2004:
            modes.bracketed_paste = on
        elif p in (47, 1047, 1049):
            if on and not modes.alternate:
                if p == 1049:
                    screen.save_cursor()
                screen._enter_alternate()
            elif not on and modes.alternate:
                screen._leave_alternate()
                if p == 1049:
                    screen.restore_cursor()
        elif on:
            modes.extra.add(p)
        else:
            modes.extra.discard(p)
