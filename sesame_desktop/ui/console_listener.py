"""How a console hears about changes in a buffer it does not own."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import shiboken6

from sesame_desktop.core.terminal import BufferEvent, TerminalBuffer

if TYPE_CHECKING:
    from sesame_desktop.ui.console import ConsoleView


class BufferListener:
    """Forwards buffer events to a view without keeping it alive.

    A session's buffer outlives the views that show it; once the view is gone (garbage
    collected, or its C++ object deleted), the listener removes itself on the next event.
    """

    def __init__(self, view: ConsoleView, buffer: TerminalBuffer) -> None:
        self._view = weakref.ref(view)
        self.buffer = buffer

    def __call__(self, event: BufferEvent) -> None:
        view = self._view()
        if view is None or not shiboken6.isValid(view):
            self.buffer.remove_listener(self)
            return
        view._on_buffer_changed(event)  # noqa: SLF001
