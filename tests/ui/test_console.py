"""The console widget, driven as a user would (qtbot, offscreen)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from sesame_desktop.core.terminal import TerminalBuffer
from sesame_desktop.ui.console import MARGIN, ConsoleView
from sesame_desktop.ui.url_opener import SafeUrlOpener, check_url


def settle(qtbot, view: ConsoleView) -> None:
    """Wait until the view has caught up with the buffer (its frame timer fired), then paint."""
    qtbot.waitUntil(lambda: not view._frame_timer.isActive(), timeout=2000)
    view.repaint()


def cell_center(view: ConsoleView, row: int, column: int) -> QPoint:
    fonts = view._fonts
    return QPoint(
        int(MARGIN + (column + 0.5) * fonts.char_width), int((row + 0.5) * fonts.line_height)
    )


def colours_in_row(image: QImage, view: ConsoleView, row: int) -> set[int]:
    lh = view._fonts.line_height
    ratio = image.devicePixelRatio()
    return {
        image.pixel(int(x * ratio), int(y * ratio)) & 0xFFFFFF
        for y in range(row * lh, (row + 1) * lh)
        for x in range(0, view.viewport().width(), 1)
    }




def press_drag_release(view: ConsoleView, start: QPoint, end: QPoint) -> None:
    target = view.viewport()
    left, no = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for kind, pos, buttons in (
        (QEvent.Type.MouseButtonPress, start, left),
        (QEvent.Type.MouseMove, end, left),
        (QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton),
    ):
        local = QPointF(pos)
        event = QMouseEvent(kind, local, QPointF(target.mapToGlobal(pos)), left, buttons, no)
        QApplication.sendEvent(target, event)


# -- rendering ------------------------------------------------------------------------------


def test_sgr_colours_are_painted_and_escape_codes_are_not(qtbot, view):
    view.feed(b"\x1b[38;2;10;200;30m\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\x1b[0m plain\n")
    view.feed(b"\x1b[48;5;196m    \x1b[0m\n")
    view.feed(b"\x1b[31mred \x1b[7minverse\x1b[0m\n")
    settle(qtbot, view)
    image = view.grab().toImage()
    assert 0x0AC81E in colours_in_row(image, view, 0)  # truecolor foreground
    assert QColor("#ff0000").rgb() & 0xFFFFFF in colours_in_row(image, view, 1)  # 256-colour bg
    assert QColor("#cd3131").rgb() & 0xFFFFFF in colours_in_row(image, view, 2)  # inverse: red bg
    assert view.plain_text() == "███ plain\n    \nred inverse"


def test_stderr_lines_are_marked(qtbot, view):
    view.feed(b"out\n")
    view.feed(b"err\n", "stderr")
    settle(qtbot, view)
    image = view.grab().toImage()
    marker = view._theme.stderr_marker.rgb() & 0xFFFFFF
    assert marker in colours_in_row(image, view, 1)
    assert marker not in colours_in_row(image, view, 0)


def test_progress_bar_updates_stay_one_line(qtbot, view):
    data = b"".join(b"\rDownloading [%-20s] %3d%%" % (b"#" * (i // 5), i) for i in range(101))
    for i in range(0, len(data), 97):  # split anywhere, even inside an update
        view.feed(data[i : i + 97], "stderr")
    settle(qtbot, view)
    assert view.plain_text() == "Downloading [####################] 100%"
    view.feed(b"\n", "stderr")
    view.feed(b"next\n")
    assert view.plain_text().splitlines() == ["Downloading [####################] 100%", "next"]


def test_command_history_header_and_footer(qtbot, view):
    view.begin_command("pytest -q", datetime(2026, 11, 27, 15, 0, 0))
    view.feed(b"3 passed\n")
    view.end_command(0, None, 4.25)
    assert view.plain_text().splitlines() == [
        "▶ pytest -q    [2026-11-27 15:00:00]",
        "3 passed",
        "■ exit code 0 (success) after 4.2 s",
    ]


# -- follow mode and scrollback -----------------------------------------------------------------


def test_follow_mode_pauses_when_scrolled_up_and_resumes_from_the_button(qtbot, view):
    view.feed(b"".join(b"line %d\n" % i for i in range(300)))
    settle(qtbot, view)
    bar = view.verticalScrollBar()
    assert view.following and bar.value() == bar.maximum() > 0
    with qtbot.waitSignal(view.follow_changed) as paused:
        qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert paused.args == [False] and not view.following
    top = view.top_line
    assert top < 300 - 20
    view.feed(b"".join(b"more %d\n" % i for i in range(300)))
    settle(qtbot, view)
    assert view.top_line == top  # did not jump back to the end
    assert bar.value() < bar.maximum()
    assert view.live_button.isVisible()
    qtbot.mouseClick(view.live_button, Qt.MouseButton.LeftButton)
    settle(qtbot, view)
    assert view.following and not view.live_button.isVisible()
    assert bar.value() == bar.maximum()
    assert view.top_line > top


def test_scrolling_back_to_the_bottom_resumes_following(qtbot, view):
    view.feed(b"".join(b"line %d\n" % i for i in range(100)))
    settle(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert not view.following
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.following


def test_scrollback_evicts_oldest_lines_and_says_so(qtbot, tmp_path: Path):
    view = ConsoleView(scrollback_lines=50)
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    view.feed(b"".join(b"line %d\n" % i for i in range(200)))
    settle(qtbot, view)
    assert view.plain_text().splitlines()[0] == "line 150"
    assert len(view.buffer) == 50
    assert "150 earlier lines dropped" in view.dropped_lines_notice()
    qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    assert view.top_line == view.buffer.evicted - 1  # the notice row is the first row
    view.save_to(tmp_path / "saved.txt")
    saved = (tmp_path / "saved.txt").read_text(encoding="utf-8").splitlines()
    assert saved[0].startswith("[… 150 earlier lines dropped") and saved[1] == "line 150"
    assert len(saved) == 51


def test_view_keeps_its_place_while_old_lines_are_evicted(qtbot):
    view = ConsoleView(scrollback_lines=1000)
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    view.feed(b"".join(b"line %d\n" % i for i in range(1000)))
    settle(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    top = view.top_line
    view.feed(b"".join(b"more %d\n" % i for i in range(100)))
    settle(qtbot, view)
    assert view.top_line == top
    assert view.buffer.text(top - view.buffer.evicted) == f"line {top}"


# -- selection, copy, find, save ----------------------------------------------------------------


def test_drag_selection_and_copy_give_plain_text(qtbot, view):
    view.feed(b"\x1b[1;31mhello\x1b[0m world\n\x1b[32msecond\x1b[0m line\n")
    settle(qtbot, view)
    press_drag_release(view, cell_center(view, 0, 6), cell_center(view, 1, 6))
    assert view.selected_text() == "world\nsecond"
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "world\nsecond"
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "hello world\nsecond line"


def test_find_highlights_all_matches_and_steps_through_them(qtbot, view):
    lines = [b"needle one", b"hay", b"hay NEEDLE two", b"hay", b"last needle"]
    view.feed(b"\n".join(lines) + b"\n")
    settle(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.find_bar.isVisible()
    qtbot.keyClicks(view.find_bar.field, "needle")
    qtbot.waitUntil(lambda: view.find_bar.count_label.text() == "1 of 3")
    qtbot.keyClick(view.find_bar.field, Qt.Key.Key_Return)
    assert view.find_bar.count_label.text() == "2 of 3"
    qtbot.keyClick(view.find_bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert view.find_bar.count_label.text() == "1 of 3"
    view.find_next(backwards=True)  # wraps around to the last one
    assert view.find_bar.count_label.text() == "3 of 3"
    settle(qtbot, view)
    image = view.grab().toImage()
    background = view._theme.background.rgb() & 0xFFFFFF
    fonts = view._fonts
    for row, col in ((0, 0), (2, 4), (4, 5)):  # every match is highlighted
        pixel = image.pixel(int(MARGIN + col * fonts.char_width) + 1, row * fonts.line_height + 1)
        assert pixel & 0xFFFFFF != background, (row, col)
    pixel = image.pixel(int(MARGIN + 1 * fonts.char_width), 1 * fonts.line_height + 1)
    assert pixel & 0xFFFFFF == background  # "hay" is not
    qtbot.keyClick(view.find_bar.field, Qt.Key.Key_Escape)
    assert not view.find_bar.isVisible()


def test_find_reports_no_results(qtbot, view):
    view.feed(b"abc\n")
    view.open_find()
    qtbot.keyClicks(view.find_bar.field, "zzz")
    qtbot.waitUntil(lambda: view.find_bar.count_label.text() == "No results")
    assert not view.find_next()


def test_save_writes_plain_text(qtbot, view, tmp_path: Path):
    view.feed(b"\x1b[33mwarn\x1b[0m\r\nok\n")
    view.feed(b"oops\n", "stderr")
    target = tmp_path / "out.txt"
    view.save_to(target)
    assert target.read_text(encoding="utf-8") == "warn\nok\noops\n"


def test_save_from_the_menu_dialog_and_its_failure(qtbot, view, tmp_path: Path):
    view.feed(b"data\n")
    view.request_save()
    dialog = view.findChild(QFileDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowModality() == Qt.WindowModality.WindowModal  # open(), not exec()
    with qtbot.waitSignal(view.saved) as saved:
        dialog.fileSelected.emit(str(tmp_path / "saved.txt"))
    assert saved.args == [str(tmp_path / "saved.txt")]
    assert (tmp_path / "saved.txt").read_text() == "data\n"
    with qtbot.waitSignal(view.save_failed) as failed:
        dialog.fileSelected.emit(str(tmp_path))  # a folder: cannot be written as a file
    assert "could not be saved" in failed.args[0]
    dialog.reject()


def test_clear_empties_the_view(qtbot, view):
    view.feed(b"a\nb\n")
    view.clear()
    settle(qtbot, view)
    assert view.plain_text() == ""
    assert view.verticalScrollBar().maximum() == 0


# -- zoom, wrapping ------------------------------------------------------------------------------


def test_zoom_with_keyboard(qtbot, view):
    size = view.point_size
    height = view._fonts.line_height
    qtbot.keyClick(view, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert view.point_size == size + 2 and view._fonts.line_height > height
    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert view.point_size == size + 1
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.point_size == size


def test_long_lines_wrap_by_default_and_scroll_sideways_when_not(qtbot, view):
    view.feed(b"x" * 5000 + b"\n")
    settle(qtbot, view)
    assert view.wrapping
    assert view.verticalScrollBar().maximum() >= 1  # one line, more rows than fit
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view._model.top == (0, view._model.bottom()[1] - 1)  # scrolls by row inside the line
    assert not view.horizontalScrollBar().isVisible()
    view.set_wrapping(False)
    settle(qtbot, view)
    assert view.horizontalScrollBar().maximum() > 4000


# -- links ---------------------------------------------------------------------------------------


def test_clicking_a_url_opens_it_through_the_safe_opener(qtbot, view, url_catcher):
    view.feed(b"server ready at https://example.com/app?x=1.\n")
    settle(qtbot, view)
    with qtbot.waitSignal(view.link_activated) as activated:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell_center(view, 0, 20))
    assert activated.args == ["https://example.com/app?x=1"]
    assert url_catcher.urls == ["https://example.com/app?x=1"]


def test_osc8_links_open_and_unsafe_ones_are_refused(qtbot, view, url_catcher):
    view._opener = opener = SafeUrlOpener()
    view.feed(b"\x1b]8;;https://docs.example.org/\x1b\\docs\x1b]8;;\x1b\\ | ")
    view.feed(b"\x1b]8;;file:///etc/passwd\x1b\\bad\x1b]8;;\x1b\\\n")
    settle(qtbot, view)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell_center(view, 0, 1))
    assert url_catcher.urls == ["https://docs.example.org/"]
    with qtbot.waitSignal(opener.refused) as refused:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell_center(view, 0, 8))
    assert refused.args[0].url == "file:///etc/passwd"
    assert url_catcher.urls == ["https://docs.example.org/"]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/a", True),
        ("http://localhost:3000", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://", False),
        ("vscode://open?x", False),
        ("https://exa mple.com", False),
    ],
)
def test_only_web_urls_with_a_host_pass_the_check(url, ok):
    assert (check_url(url)[0] is not None) is ok


# -- sharing a session's buffer -------------------------------------------------------------------


def test_view_shows_a_buffer_it_is_pointed_at(qtbot, view):
    own = view.buffer
    session = TerminalBuffer(1000)
    session.feed(b"earlier output\n")
    view.set_buffer(session)
    assert view.plain_text() == "earlier output"
    session.feed(b"\x1b[32mnew\x1b[0m\n")
    assert view._frame_timer.isActive()  # the view was told and will repaint
    settle(qtbot, view)
    assert view.plain_text() == "earlier output\nnew"
    own.feed(b"not shown\n")
    assert "not shown" not in view.plain_text()


def test_context_menu_offers_the_console_actions(qtbot, view, url_catcher):
    from PySide6.QtGui import QContextMenuEvent

    view.feed(b"visit https://example.org/menu now\n")
    settle(qtbot, view)
    at = cell_center(view, 0, 10)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, view.viewport().mapToGlobal(at))
    QApplication.sendEvent(view.viewport(), event)
    menu = view._menu
    qtbot.waitUntil(menu.isVisible)
    assert menu.open_link_action.isVisible()
    assert not menu.copy_action.isEnabled()  # nothing selected
    assert menu.wrap_action.isChecked()
    menu.wrap_action.trigger()
    assert not view.wrapping
    menu.open_link_action.trigger()
    assert url_catcher.urls == ["https://example.org/menu"]
    menu.clear_action.trigger()
    assert view.plain_text() == ""
    menu.hide()


def wheel(view: ConsoleView, dy: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    from PySide6.QtGui import QWheelEvent

    pos = QPointF(cell_center(view, 2, 2))
    event = QWheelEvent(
        pos,
        QPointF(view.viewport().mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, dy),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)


def test_mouse_wheel_scrolls_and_ctrl_wheel_zooms(qtbot, view):
    view.feed(b"".join(b"line %d\n" % i for i in range(200)))
    settle(qtbot, view)
    bottom = view.top_line
    wheel(view, 120)
    assert not view.following and view.top_line == bottom - 3
    wheel(view, -120)
    assert view.following and view.top_line == bottom
    size = view.point_size
    wheel(view, 120, Qt.KeyboardModifier.ControlModifier)
    assert view.point_size == size + 1


def test_wide_characters_take_two_cells(qtbot, view, url_catcher):
    view.feed("中文\x1b[38;2;10;200;30m█\x1b[0m\n中文中文https://e.x/p tail\n".encode())
    settle(qtbot, view)
    image = view.grab().toImage()
    fonts = view._fonts
    green = image.pixel(int(MARGIN + 4.5 * fonts.char_width), fonts.line_height // 2)
    assert green & 0xFFFFFF == 0x0AC81E  # after two 2-cell characters, at cell 4
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell_center(view, 1, 5))
    assert url_catcher.urls == []  # cell 5 is the third CJK character, not the URL
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell_center(view, 1, 9))
    assert url_catcher.urls == ["https://e.x/p"]
    press_drag_release(view, cell_center(view, 1, 0) - QPoint(4, 0), cell_center(view, 1, 3))
    assert view.selected_text() == "中文"
