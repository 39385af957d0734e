"""Pure helpers of the console: URL detection, find, and the row/scroll model."""

from __future__ import annotations

import pytest

from sesame_desktop.core.links import find_urls, link_at
from sesame_desktop.core.scroll_model import NOTICE, ScrollModel
from sesame_desktop.core.sgr import Style
from sesame_desktop.core.terminal import TerminalBuffer
from sesame_desktop.core.text_search import SearchIndex, TextSnapshot


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("see https://example.com/a.", ["https://example.com/a"]),
        ("(http://localhost:3000/x)", ["http://localhost:3000/x"]),
        (
            "wiki https://en.wikipedia.org/wiki/Foo_(bar), ok",
            ["https://en.wikipedia.org/wiki/Foo_(bar)"],
        ),
        ("two http://a.b https://c.d/e?f=1&g=2", ["http://a.b", "https://c.d/e?f=1&g=2"]),
        ("no host: https:// and ftp://x.y", []),
        ("'https://q.example/p'", ["https://q.example/p"]),
        ("中文https://cjk.example/x。次", ["https://cjk.example/x"]),
        ("xhttps://not.a.link", []),
    ],
)
def test_find_urls(text, urls):
    found = find_urls(text)
    assert [u for _, _, u in found] == urls
    assert all(text[a:b] == u for a, b, u in found)


def test_link_at_prefers_osc8_target_over_visible_text():
    text = "open https://shown.example now"
    runs = ((5, 25, Style(link="https://real.example/")),)
    assert link_at(text, runs, 6) == "https://real.example/"
    assert link_at(text, (), 6) == "https://shown.example"
    assert link_at(text, (), 0) is None
    assert link_at(text, (), 99) is None


def test_search_index_walks_forward_and_backward_with_wraparound():
    index = SearchIndex(TextSnapshot("a x x\nb\nX c", 10), "x")  # case-insensitive
    assert index.count == 3
    assert [index.match(i) for i in range(3)] == [(10, 2, 3), (10, 4, 5), (12, 0, 1)]
    assert index.find((10, -1)) == 0
    assert index.find((10, 2)) == 1
    assert index.find((10, 4)) == 2
    assert index.find((12, 0)) == 0  # wraps
    assert index.find((10, 2), backwards=True) == 2  # wraps back
    assert index.find((11, 0), backwards=True) == 1
    assert index.find((3, 0)) == 0  # a line that was dropped: from the start
    assert index.index_of((10, 4, 5)) == 1
    assert index.index_of((11, 0, 1)) is None
    assert SearchIndex(TextSnapshot("abc", 0), "zz").find((0, 0)) is None


def test_search_index_when_lowering_changes_the_length():
    text = "İstanbul x\nİ and x"  # "İ".lower() is two characters
    index = SearchIndex(TextSnapshot(text, 0), "x")
    assert [index.match(i) for i in range(index.count)] == [(0, 9, 10), (1, 6, 7)]


def test_search_index_with_a_single_match_returns_it_again():
    index = SearchIndex(TextSnapshot("only one x here", 0), "x")
    assert index.match(index.find((0, 9))) == (0, 9, 10)
    assert index.match(index.find((0, 9), backwards=True)) == (0, 9, 10)


def test_scroll_model_wraps_rows_and_anchors_the_bottom():
    buffer = TerminalBuffer(100)
    buffer.feed(b"short\n" + b"y" * 25 + b"\nlast\n")
    model = ScrollModel(buffer)
    model.columns, model.rows = 10, 3
    assert [model.rows_of(n) for n in range(3)] == [1, 3, 1]
    assert model.bottom() == (1, 1)  # rows 2 and 3 of the long line, then "last"
    model.clamp(follow=True)
    assert model.top == (1, 1)
    assert model.scroll(-2) is False and model.top == (0, 0)
    assert model.scroll(5) is True and model.top == (1, 1)
    model.wrap = False
    assert model.bottom() == (0, 0)


def test_scroll_model_notice_row_counts_dropped_lines():
    buffer = TerminalBuffer(3)
    buffer.feed(b"".join(b"%d\n" % i for i in range(10)))
    model = ScrollModel(buffer)
    assert model.first() == buffer.evicted - 1 == 6
    assert model.line(6).stream == NOTICE
    assert model.notice() == "… 7 earlier lines dropped (scrollback keeps the last 3)"
    assert model.text(6) == "" and model.text(7) == "7"


def test_cell_widths_of_wide_and_combining_characters():
    from sesame_desktop.core.cells import CellMap, char_width, text_width

    assert [char_width(c) for c in "a中\u0301✨é"] == [1, 2, 0, 2, 1]
    assert text_width("ab") == 2 and text_width("中文a") == 5
    cells = CellMap("中文ab")
    assert cells.offsets == [0, 2, 4, 5, 6]
    assert cells.row_starts(3) == [0, 1, 3]  # "中" | "文a" | "b": a wide char never splits
    assert cells.index_at(3.4, 0, 4) == 2  # nearest gap to cell 3.4 is after "文"
    assert cells.index_under(3.4, 0, 4) == 1  # cell 3 is the second half of "文"
    assert CellMap("e\u0301x").row_starts(1) == [0, 2]  # the accent stays with its letter


def test_scroll_model_wraps_wide_characters_by_cells():
    buffer = TerminalBuffer(10)
    buffer.feed("中文中文中文\n".encode())
    model = ScrollModel(buffer)
    model.columns = 4
    assert model.rows_of(0) == 3
    assert model.row_spans("中文中文中文") == [(0, 2, 0), (2, 4, 4), (4, 6, 8)]
