"""The streaming console: a scroll area that paints only the visible lines of a terminal buffer.

Output is parsed into a bounded :class:`~sesame_desktop.core.terminal.TerminalBuffer` (no Qt)
as it arrives; the view repaints at most once per frame, whatever the rate of output, and only
the rows on screen. Lines are wrapped by column count (the font is monospace), so a line's row
count is ``ceil(len / columns)`` and scrolling never has to lay out text it does not show.

Scroll positions are absolute line numbers (``buffer.evicted + index``): when old lines fall off
the front of the buffer, what the user is looking at does not move.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from os import PathLike
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QMessageBox, QToolButton, QWidget

from sesame_desktop.core.cells import text_width
from sesame_desktop.core.scroll_model import Pos, ScrollModel
from sesame_desktop.core.terminal import DEFAULT_SCROLLBACK, BufferEvent, TerminalBuffer
from sesame_desktop.core.text_search import BufferSearch
from sesame_desktop.ui.console_find import FindBar
from sesame_desktop.ui.console_input import (
    double_clicked,
    key_pressed,
    link_under,
    mouse_moved,
    shown_host_under,
)
from sesame_desktop.ui.console_jobs import TextJob
from sesame_desktop.ui.console_links import ask_before_opening
from sesame_desktop.ui.console_listener import BufferListener
from sesame_desktop.ui.console_menu import ConsoleMenu
from sesame_desktop.ui.console_render import (
    ConsoleTheme,
    FontSet,
    ScreenRow,
    ViewState,
    hit_test,
    paint_rows,
)
from sesame_desktop.ui.url_opener import SafeUrlOpener, default_opener

FRAME_MS = 25
COPY_IN_WORKER_LINES = 20_000
MAX_FRAME_MS = 60
FIND_DELAY_MS = 150
MARGIN = 8.0
DEFAULT_POINT_SIZE = 10.0
MIN_POINT_SIZE, MAX_POINT_SIZE = 6.0, 36.0


class ConsoleView(QAbstractScrollArea):
    """Shows a terminal buffer live: colours, follow mode, selection, find, links, zoom.

    The session code keeps one :class:`TerminalBuffer` per session and shows the selected one
    with :meth:`set_buffer` (or feeds the view's own buffer through :meth:`feed`)::

        buffer.begin_command("npm test", datetime.now())
        buffer.feed(chunk, "stdout")  # or "stderr"; from SDK callbacks, bytes or str
        buffer.end_command(exit_code, signal_name, duration_s)  # flushes partial lines too
        console.set_buffer(buffer)

    Feeding only parses into the buffer; the view repaints on a frame timer, never per chunk.

    Signals:
        follow_changed(bool): Follow mode (sticking to the live end) turned on or off.
        link_activated(str): The user clicked a link; it goes to the safe opener next.
        copied(int): Text of this many characters was put on the clipboard.
        saved(str): The output was saved from the menu, to this path.
        save_failed(str): Saving from the menu failed; the message is meant for the user.
    """

    follow_changed = Signal(bool)
    link_activated = Signal(str)
    copied = Signal(int)
    saved = Signal(str)
    save_failed = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        scrollback_lines: int = DEFAULT_SCROLLBACK,
        url_opener: SafeUrlOpener | None = None,
    ) -> None:
        super().__init__(parent)
        self._buffer = TerminalBuffer(scrollback_lines)
        self._listener = BufferListener(self, self._buffer)
        self._buffer.add_listener(self._listener)
        self._model = ScrollModel(self._buffer)
        self._opener = url_opener or default_opener()
        self._theme = ConsoleTheme()
        self._fonts = FontSet(DEFAULT_POINT_SIZE)
        self._wrap = True
        self._follow = True
        self._anchor: Pos | None = None
        self._cursor: Pos | None = None
        self._press_at: QPoint | None = None
        self._find_re: re.Pattern[str] | None = None
        self._find_current: tuple[int, int, int] | None = None  # (absolute line, start, end)
        self._search = BufferSearch()
        self._rows_on_screen: list[ScreenRow] = []
        self._link_box: QMessageBox | None = None
        self._copy_job: TextJob | None = None
        self._syncing = False

        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setMouseTracking(True)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.viewport().setAutoFillBackground(False)
        self._frame_timer = QTimer(self)
        self._frame_timer.setSingleShot(True)
        self._frame_timer.setInterval(FRAME_MS)
        self._frame_timer.timeout.connect(self._on_frame_timer_timeout)
        self._find_timer = QTimer(self)
        self._find_timer.setSingleShot(True)
        self._find_timer.setInterval(FIND_DELAY_MS)
        self._find_timer.timeout.connect(self._on_find_timer_timeout)
        self.verticalScrollBar().valueChanged.connect(self._on_vertical_scroll_bar_value_changed)
        self.horizontalScrollBar().valueChanged.connect(
            self._on_horizontal_scroll_bar_value_changed
        )
        self._live_button = QToolButton(self)
        self._live_button.setText("⬇ Jump to live output")
        self._live_button.setToolTip("Follow new output again (End)")
        self._live_button.hide()
        self._live_button.clicked.connect(self._on_live_button_clicked)
        self._find_bar = FindBar(self)
        self._find_bar.hide()
        self._find_bar.search_changed.connect(self._on_find_bar_search_changed)
        self._find_bar.next_requested.connect(self._on_find_bar_next_requested)
        self._find_bar.previous_requested.connect(self._on_find_bar_previous_requested)
        self._find_bar.closed.connect(self._on_find_bar_closed)
        self._menu = ConsoleMenu(self)
        self._schedule()

    # -- public API ------------------------------------------------------------------------

    @property
    def buffer(self) -> TerminalBuffer:
        """The buffer on screen."""
        return self._buffer

    @property
    def following(self) -> bool:
        """Whether the view sticks to the live end."""
        return self._follow

    @property
    def top_line(self) -> int:
        """Absolute number (``buffer.evicted`` + index) of the line in the top row."""
        return self._model.top[0]

    @property
    def find_bar(self) -> FindBar:
        return self._find_bar

    @property
    def live_button(self) -> QToolButton:
        """The "jump to live output" button, shown while follow mode is off."""
        return self._live_button

    def dropped_lines_notice(self) -> str | None:
        """The text of the row shown above the oldest kept line, if lines were dropped."""
        return self._model.notice()

    @property
    def wrapping(self) -> bool:
        return self._wrap

    @property
    def point_size(self) -> float:
        return self._fonts.point_size

    def feed(self, data: bytes | str, stream: str = "stdout") -> None:
        """Parse ``data`` (any chunk of ``"stdout"``/``"stderr"`` output) and schedule a repaint."""
        self._buffer.feed(data, stream)

    def begin_command(self, command: str, started_at: datetime) -> None:
        """Write the header line of a command run."""
        self._buffer.begin_command(command, started_at)

    def end_command(
        self, exit_code: int | None, signal_name: str | None, duration_s: float
    ) -> None:
        """Write the closing line of a command run (exit code or signal, duration)."""
        self._buffer.end_command(exit_code, signal_name, duration_s)

    def set_buffer(self, buffer: TerminalBuffer) -> None:
        """Show ``buffer`` (e.g. another session's) instead of the current one, following it."""
        if buffer is self._buffer:
            return
        self._buffer.remove_listener(self._listener)
        self._buffer = self._listener.buffer = self._model.buffer = buffer
        buffer.add_listener(self._listener)
        self._reset_view()

    def clear(self) -> None:
        """Remove all output from the buffer on screen."""
        self._buffer.clear()

    def plain_text(self) -> str:
        """All kept output as plain text (no escape codes)."""
        return self._buffer.plain_text()

    def save_to(self, path: str | PathLike[str]) -> None:
        """Write all kept output to ``path`` as UTF-8 plain text, now (raises ``OSError``).

        When the scrollback dropped lines, the file starts with a line saying so. The menu's
        "Save Output…" writes in a worker thread instead (see :meth:`request_save`).
        """
        Path(path).write_text(self.export_text(), encoding="utf-8")

    def export_text(self) -> str:
        """What :meth:`save_to` writes: the notice of dropped lines (if any) and all output."""
        return self._model.export_text()

    def export_snapshot(self) -> tuple[list[object], str]:
        """What :meth:`export_text` is made of, cheaply: a snapshot of the kept lines (turn it
        into text with :func:`~sesame_desktop.core.terminal.snapshot_text` on any thread) and
        the line to put first."""
        notice = self._model.notice()
        return self._buffer.snapshot(), f"[{notice}]\n" if notice else ""

    def selected_text(self) -> str:
        """The selected text, lines joined with ``\\n``."""
        bounds = self._selection()
        return self._model.text_between(*bounds) if bounds is not None else ""

    def copy(self) -> None:
        """Put the selection on the clipboard as plain text.

        A selection of many lines is turned into text on a worker thread; the clipboard gets
        it when it is ready (``copied`` is emitted then).
        """
        bounds = self._selection()
        if bounds is None:
            return
        (a_line, a_col), (b_line, b_col) = bounds
        first = max(a_line, self._buffer.evicted)
        if b_line - first < COPY_IN_WORKER_LINES:
            text = self.selected_text()
            if text:
                QGuiApplication.clipboard().setText(text)
                self.copied.emit(len(text))
            return
        parts = self._buffer.snapshot()[first - self._buffer.evicted : b_line - self._buffer.evicted + 1]
        head = self._text(first)[a_col if first == a_line else 0 :]
        tail = self._text(b_line)[:b_col]
        job = TextJob(parts[1:-1], head + "\n", ("\n" if len(parts) > 2 else "") + tail)
        job.signals.done.connect(self._on_copy_job_done)
        self._copy_job = job
        QThreadPool.globalInstance().start(job)

    def _on_copy_job_done(self, job: TextJob) -> None:
        if job is self._copy_job:
            self._copy_job = None
            if job.text:
                QGuiApplication.clipboard().setText(job.text)
                self.copied.emit(len(job.text))

    def select_all(self) -> None:
        """Select every kept line."""
        end = self._doc_end()
        if end > self._buffer.evicted:
            self._anchor = (self._buffer.evicted, 0)
            self._cursor = (end - 1, len(self._text(end - 1)))
            self.viewport().update()

    def set_wrapping(self, on: bool) -> None:
        """Wrap long lines at the window edge (on by default) or scroll sideways."""
        self._wrap = on
        self.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if on else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        self._model.top = (self._model.top[0], 0)
        self._sync()

    def zoom(self, steps: int) -> None:
        """Make the font ``steps`` points bigger (negative: smaller); 0 resets it."""
        size = DEFAULT_POINT_SIZE if steps == 0 else self._fonts.point_size + steps
        size = max(MIN_POINT_SIZE, min(MAX_POINT_SIZE, size))
        if size != self._fonts.point_size:
            self._fonts = FontSet(size)
            self._sync()

    def scroll_to_end(self) -> None:
        """Go to the live end and follow new output."""
        self._set_follow(True)
        self._sync()

    def open_find(self) -> None:
        """Show the find bar (prefilled with a one-line selection)."""
        selected = self.selected_text()
        self._find_bar.open_bar(selected if selected and "\n" not in selected else "")
        self._place_overlays()

    def find_next(self, backwards: bool = False) -> bool:
        """Go to the next (or previous) match of the find text; returns whether there is one."""
        self._find_timer.stop()
        if self._find_re is None:
            return False
        current = self._find_current
        origin = current[:2] if current is not None else (self._model.top[0], -1)
        index = self._search.index(self._buffer, self._find_bar.field.text())
        i = index.find(origin, backwards)
        found = self._find_current = index.match(i) if i is not None else None
        if found is not None:
            self._reveal(found[0], found[1])
        self._update_find_count()
        self.viewport().update()
        return found is not None

    #: maps a printed link to where it really is (a local URL to the session's preview URL)
    link_rewriter: Callable[[str], str] | None = None

    def open_link(self, url: str) -> bool:
        """Announce (``link_activated``) and open ``url`` through the safe opener."""
        if self.link_rewriter is not None:
            url = self.link_rewriter(url)
        self.link_activated.emit(url)
        return self._opener.open(url)

    def request_save(self) -> None:
        """Ask where to save (a non-modal dialog), then write the file in a worker thread.

        The result arrives as ``saved`` or ``save_failed``.
        """
        self._menu.ask_where_to_save()

    # -- geometry ----------------------------------------------------------------------------

    def _text(self, number: int) -> str:
        return self._model.text(number)

    def _doc_end(self) -> int:
        return self._model.end()

    def _columns(self) -> int:
        usable = self.viewport().width() - 2 * MARGIN
        return max(8, int(usable // self._fonts.char_width))

    def _update_geometry(self) -> None:
        self._model.columns = self._columns()
        self._model.rows = max(1, self.viewport().height() // self._fonts.line_height)
        self._model.wrap = self._wrap

    # -- scrolling ---------------------------------------------------------------------------

    def _set_follow(self, on: bool) -> None:
        if on != self._follow:
            self._follow = on
            self.follow_changed.emit(on)
        self._live_button.setVisible(not on)
        self._place_overlays()

    def _scroll_rows(self, n: int) -> None:
        self._update_geometry()
        self._set_follow(self._model.scroll(n))
        self._sync()

    def _reveal(self, absolute: int, index: int) -> None:
        """Scroll (leaving follow mode) so that character ``index`` of line ``absolute`` shows."""
        self._update_geometry()
        shown = [r for r in self._rows_on_screen[:-1] if r[0] == absolute]  # last may be cut
        if not any(a <= index < max(b, a + 1) for _, a, b, _, _ in shown):
            spans = self._model.row_spans(self._text(absolute))
            row = next((r for r, (a, b, _) in enumerate(spans) if a <= index < b), 0)
            self._model.top = (absolute, row)
            self._set_follow(False)
            self._scroll_rows(-min(self._model.rows // 3, 10))
        if not self._wrap:
            column = text_width(self._text(absolute)[:index])
            bar = self.horizontalScrollBar()
            if not bar.value() <= column < bar.value() + self._columns() - 1:
                bar.setValue(max(0, column - self._columns() // 2))

    def _sync(self) -> None:
        """Bring scroll bars, follow mode and the picture up to date with the buffer."""
        self._syncing = True
        try:
            model = self._model
            self._update_geometry()
            model.clamp(self._follow)
            first, bottom = model.first(), model.bottom()
            bar = self.verticalScrollBar()
            bar.setRange(0, bottom[0] - first + (1 if bottom[1] else 0))
            bar.setPageStep(model.rows)
            bar.setValue(model.top[0] - first + (1 if model.top >= bottom and bottom[1] else 0))
            if not self._wrap:
                longest = max(
                    (text_width(self._text(line)) for line, *_ in self._rows_on_screen), default=0
                )
                hbar = self.horizontalScrollBar()
                hbar.setRange(0, max(0, longest - self._columns() + 1))
                hbar.setPageStep(self._columns())
        finally:
            self._syncing = False
        self.viewport().update()

    def _schedule(self) -> None:
        if not self._frame_timer.isActive():
            self._frame_timer.start()

    def _reset_view(self) -> None:
        self._anchor = self._cursor = None
        self._find_current = None
        self._model.top = (0, 0)
        self._set_follow(True)
        self._update_find_count()
        self._sync()

    def _place_overlays(self) -> None:
        area = self.viewport().geometry()
        if self._live_button.isVisible():
            hint = self._live_button.sizeHint()
            self._live_button.setGeometry(
                area.right() - hint.width() - 12,
                area.bottom() - hint.height() - 10,
                hint.width(),
                hint.height(),
            )
            self._live_button.raise_()
        if self._find_bar.isVisible():
            hint = self._find_bar.sizeHint()
            width = min(hint.width(), area.width())
            self._find_bar.setGeometry(
                area.right() - width - 4, area.top() + 4, width, hint.height()
            )

    # -- selection and hit-testing -----------------------------------------------------------

    def _selection(self) -> tuple[Pos, Pos] | None:
        if self._anchor is None or self._cursor is None or self._anchor == self._cursor:
            return None
        return (min(self._anchor, self._cursor), max(self._anchor, self._cursor))

    def _hit(self, point: QPoint | QPointF, nearest: bool = True) -> Pos | None:
        """The ``(line, character index)`` at ``point`` (see :func:`hit_test`)."""
        cells_x = (point.x() - MARGIN) / self._fonts.char_width
        rows, line_height = self._rows_on_screen, self._fonts.line_height
        return hit_test(rows, self._text, cells_x, point.y(), line_height, nearest)

    def activate_link(self, target: str, shown_host: str | None = None) -> None:
        """Open ``target``; when its text showed another host, ask first (non-modally)."""
        if shown_host is None:
            self.open_link(target)
            return
        self._link_box = ask_before_opening(self, target, shown_host, self.open_link)

    # -- find --------------------------------------------------------------------------------

    def _update_find_count(self) -> None:
        if self._find_re is None:
            self._find_bar.set_count(0, 0)
            return
        index = self._search.index(self._buffer, self._find_bar.field.text())
        position = index.index_of(self._find_current)
        self._find_bar.set_count(0 if position is None else position + 1, index.count)

    # -- slots -------------------------------------------------------------------------------

    def _on_buffer_changed(self, event: BufferEvent) -> None:
        if event is BufferEvent.CLEARED:
            self._anchor = self._cursor = None
            self._find_current = None
            self._model.top = (0, 0)
            self._set_follow(True)
        self._schedule()

    def _on_frame_timer_timeout(self) -> None:
        self._sync()

    def _on_vertical_scroll_bar_value_changed(self, value: int) -> None:
        if self._syncing:
            return
        bottom = self._model.bottom()
        self._model.top = min((self._model.first() + value, 0), bottom)
        self._set_follow(value >= self.verticalScrollBar().maximum())
        self._sync()

    def _on_horizontal_scroll_bar_value_changed(self, value: int) -> None:
        self.viewport().update()

    def _on_live_button_clicked(self) -> None:
        self.scroll_to_end()

    def _on_find_bar_search_changed(self, text: str) -> None:
        self._find_re = re.compile(re.escape(text), re.IGNORECASE) if text else None
        self._find_current = None
        self.viewport().update()  # visible matches are highlighted at once
        if self._find_re is not None:
            self._find_timer.start()  # the whole-buffer search waits for a pause in typing
        else:
            self._find_timer.stop()
            self._update_find_count()

    def _on_find_timer_timeout(self) -> None:
        self.find_next()

    def _on_find_bar_next_requested(self) -> None:
        self.find_next()

    def _on_find_bar_previous_requested(self) -> None:
        self.find_next(backwards=True)

    def _on_find_bar_closed(self) -> None:
        self._find_re = None
        self._find_current = None
        self._search.reset()
        self.setFocus()
        self.viewport().update()

    # -- Qt overrides ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self.viewport())
        painter.fillRect(event.rect(), self._theme.background)
        view = ViewState(
            left=MARGIN,
            width=self.viewport().width() - MARGIN,
            height=self.viewport().height(),
            shift=0 if self._wrap else self.horizontalScrollBar().value(),
            find_re=self._find_re,
            find_current=self._find_current,
            selection=self._selection(),
        )
        started = time.perf_counter()
        self._rows_on_screen = paint_rows(painter, self._model, self._fonts, self._theme, view)
        painter.end()
        # a slow paint (many colours, a small font on a big window) spaces the frames out, so
        # painting never takes more than about a third of the time while output streams in
        spent_ms = (time.perf_counter() - started) * 1000
        self._frame_timer.setInterval(int(min(MAX_FRAME_MS, max(FRAME_MS, 3 * spent_ms))))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_overlays()
        self._sync()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        sideways = event.angleDelta().x() / 120
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if steps:
                self.zoom(1 if steps > 0 else -1)
        elif steps:
            self._scroll_rows(int(-steps * 3) or (-1 if steps > 0 else 1))
        elif sideways and not self._wrap:
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - int(sideways * 6))
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_at = event.position().toPoint()
            hit = self._hit(event.position())
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and self._anchor is not None:
                self._cursor = hit
            else:
                self._anchor = self._cursor = hit
            self.viewport().update()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        mouse_moved(self, event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        press, self._press_at = self._press_at, None
        if event.button() == Qt.MouseButton.LeftButton and press is not None:
            moved = (event.position().toPoint() - press).manhattanLength()
            if moved < QGuiApplication.styleHints().startDragDistance():
                self._anchor = self._cursor = None
                link = link_under(self, event.position())
                if link:
                    self.activate_link(link, shown_host_under(self, event.position(), link))
                self.viewport().update()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        double_clicked(self, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if not key_pressed(self, event):
            super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        link = link_under(self, event.pos())
        shown = shown_host_under(self, event.pos(), link) if link else None
        self._menu.show_at(event.globalPos(), link, shown)
