"""Links in the console from untrusted output: what may be copied, and deceptive link text."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from tests.ui.test_console import cell_center, settle


@pytest.mark.parametrize("target", ["javascript:alert(1)", "file:///etc/passwd", "https:///x"])
def test_copy_link_address_refuses_what_is_not_a_web_link(qtbot, view, target):
    QGuiApplication.clipboard().setText("before")
    menu = view._menu
    menu.show_at(view.mapToGlobal(QPoint(10, 10)), target)
    assert not menu.copy_link_action.isEnabled()
    assert "not a web link" in menu.copy_link_action.text()
    menu._on_copy_link_action_triggered()  # even when called directly: nothing is copied
    assert QGuiApplication.clipboard().text() == "before"
    menu.hide()


def test_copy_link_address_copies_a_web_link(qtbot, view):
    menu = view._menu
    menu.show_at(view.mapToGlobal(QPoint(10, 10)), "https://example.com/a")
    assert menu.copy_link_action.isEnabled()
    menu.copy_link_action.trigger()
    assert QGuiApplication.clipboard().text() == "https://example.com/a"
    menu.hide()


def test_link_text_naming_another_host_shows_the_target_and_asks_first(qtbot, view, url_catcher):
    view.feed(b"go \x1b]8;;https://evil.test/steal\x1b\\https://bank.example/\x1b]8;;\x1b\\ now\n")
    settle(qtbot, view)
    pos = cell_center(view, 0, 8)
    qtbot.mouseMove(view.viewport(), pos)
    qtbot.waitUntil(lambda: "evil.test" in view.viewport().toolTip())
    tip = view.viewport().toolTip()
    assert tip.startswith("Opens https://evil.test/steal") and "bank.example" in tip
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: view._link_box is not None and view._link_box.isVisible())
    box = view._link_box
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert "https://evil.test/steal" in box.text() and "bank.example" in box.text()
    assert url_catcher.urls == []  # nothing opened before the user agrees
    with qtbot.waitSignal(view.link_activated):
        box.button(QMessageBox.StandardButton.Open).click()
    assert url_catcher.urls == ["https://evil.test/steal"]


def test_link_whose_text_matches_its_target_opens_at_once(qtbot, view, url_catcher):
    view.feed(b"\x1b]8;;https://docs.example/a\x1b\\docs.example\x1b]8;;\x1b\\\n")
    settle(qtbot, view)
    with qtbot.waitSignal(view.link_activated):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell_center(view, 0, 2))
    assert url_catcher.urls == ["https://docs.example/a"]


def test_copying_a_huge_selection_builds_the_text_off_the_gui_thread(qtbot, view):
    view.feed(b"".join(b"\x1b[32mline\x1b[0m %d\n" % i for i in range(30_000)) + b"tail")
    settle(qtbot, view)
    view.select_all()
    with qtbot.waitSignal(view.copied, timeout=10_000):
        view.copy()
    assert view._copy_job is None  # it reported
    assert QGuiApplication.clipboard().text() == view.plain_text()


def test_saving_writes_the_snapshot_from_a_worker(qtbot, view, tmp_path):
    view.feed(b"\x1b[31mred\x1b[0m\tx\n\xe4\xb8\xad\xe6\x96\x87\tend\n")
    settle(qtbot, view)
    target = tmp_path / "out.txt"
    with qtbot.waitSignal(view.saved):
        view._menu._on_save_dialog_file_selected(str(target))
    assert target.read_text(encoding="utf-8") == view.export_text() == "red     x\n中文    end\n"
