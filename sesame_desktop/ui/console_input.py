"""Keys and mouse moves of the console: what each does to a :class:`ConsoleView`.

The view's Qt event handlers hand these events over; this module is part of the view (it uses
its selection, scrolling and find state directly).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QMouseEvent

from sesame_desktop.core.link_text import link_text, shown_host_mismatch
from sesame_desktop.core.links import link_at

if TYPE_CHECKING:
    from sesame_desktop.ui.console import ConsoleView

_WORD = re.compile(r"[\w./:@%+~-]+")


def key_pressed(view: ConsoleView, event: QKeyEvent) -> bool:
    """Act on a key press; ``False``: not a key of the console (the widget's default then)."""
    key = event.key()
    ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
    if event.matches(QKeySequence.StandardKey.Copy):
        view.copy()
    elif event.matches(QKeySequence.StandardKey.SelectAll):
        view.select_all()
    elif event.matches(QKeySequence.StandardKey.Find):
        view.open_find()
    elif ctrl and key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
        view.zoom(1)
    elif ctrl and key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
        view.zoom(-1)
    elif ctrl and key == Qt.Key.Key_0:
        view.zoom(0)
    elif key == Qt.Key.Key_F3:
        view.find_next(backwards=bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
    elif key == Qt.Key.Key_Escape and view._find_bar.isVisible():
        view._find_bar.close_bar()
    elif key == Qt.Key.Key_Escape:
        view._anchor = view._cursor = None
        view.viewport().update()
    elif key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
        page = max(1, view._model.rows - 1)
        view._scroll_rows(-page if key == Qt.Key.Key_PageUp else page)
    elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
        view._scroll_rows(-1 if key == Qt.Key.Key_Up else 1)
    elif key == Qt.Key.Key_Home and ctrl:
        view._model.top = (view._model.first(), 0)
        view._set_follow(False)
        view._sync()
    elif key == Qt.Key.Key_End:
        view.scroll_to_end()
    else:
        return False
    return True


def mouse_moved(view: ConsoleView, event: QMouseEvent) -> None:
    """Extend a selection being dragged (scrolling at the edges), or show where a link goes."""
    pos = event.position()
    if event.buttons() & Qt.MouseButton.LeftButton and view._anchor is not None:
        if pos.y() < 0:
            view._scroll_rows(-1)
        elif pos.y() > view.viewport().height():
            view._scroll_rows(1)
        view._cursor = view._hit(pos)
        view.viewport().update()
    else:
        link = link_under(view, pos)
        shape = Qt.CursorShape.PointingHandCursor if link else Qt.CursorShape.IBeamCursor
        view.viewport().setCursor(shape)
        tip = ""
        if link:  # (starts with words, so Qt never takes it for rich text)
            shown = shown_host_under(view, pos, link)
            tip = f"Opens {link}" + (f"\n(the text shows {shown})" if shown else "")
        view.viewport().setToolTip(tip)


def double_clicked(view: ConsoleView, event: QMouseEvent) -> None:
    """Select the word (or path, URL...) under the pointer."""
    hit = view._hit(event.position(), nearest=False)
    if hit is not None:
        text = view._text(hit[0])
        for m in _WORD.finditer(text):
            if m.start() <= hit[1] < m.end():
                view._anchor, view._cursor = (hit[0], m.start()), (hit[0], m.end())
                view.viewport().update()
                break


def link_under(view: ConsoleView, point: QPoint | QPointF) -> str | None:
    """The target of the link (printed URL or OSC 8 hyperlink) at ``point``, if any."""
    hit = view._hit(point, nearest=False)
    if hit is None:
        return None
    line = view._model.line(hit[0])
    return link_at(line.text, line.runs, hit[1])


def shown_host_under(view: ConsoleView, point: QPoint | QPointF, target: str) -> str | None:
    """The host the text of the OSC 8 link at ``point`` shows, when not ``target``'s."""
    hit = view._hit(point, nearest=False)
    if hit is None:
        return None
    line = view._model.line(hit[0])
    visible = link_text(line.text, line.runs, hit[1])
    return shown_host_mismatch(visible, target) if visible is not None else None
