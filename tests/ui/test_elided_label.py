"""ElidedLabel: cut to its width, whole in its tooltip, never asking for a wider window."""

from __future__ import annotations

from sesame_desktop.ui.elided_label import ElidedLabel


def test_long_text_is_cut_with_the_full_text_in_the_tooltip(qtbot):
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.resize(200, 20)
    label.setText("run " + "z" * 500)
    assert label.sizeHint().width() < 500
    assert label.minimumSizeHint().width() == 0
    assert label.is_elided() and label.toolTip() == "run " + "z" * 500
    label.setText("short")
    assert not label.is_elided() and label.toolTip() == ""


def test_several_lines_become_one(qtbot):
    label = ElidedLabel("one\ntwo")
    qtbot.addWidget(label)
    assert label.full_text() == "one two"
