"""The interactive terminal's buffer: a wrapping screen over a scrollback."""

from sesame_desktop.core.terminal_screen import ScreenBuffer


def texts(buffer: ScreenBuffer) -> list[str]:
    return [buffer.line(i).text for i in range(len(buffer))]


def test_rows_scrolled_off_become_scrollback_and_long_lines_wrap():
    b = ScreenBuffer(10, 3)
    b.feed(b"".join(b"line%d\r\n" % i for i in range(5)) + b"0123456789abc")
    assert texts(b) == ["line0", "line1", "line2", "line3", "line4", "0123456789", "abc"]
    assert b.evicted == 0 and b.cursor == (6, 3)


def test_alternate_screen_leaves_no_trace_and_the_main_screen_comes_back():
    b = ScreenBuffer(20, 4)
    b.feed(b"$ vim\r\n")
    b.feed(b"\x1b[?1049h\x1b[H\x1b[2Jediting\x1b[4;1H-- INSERT --")
    assert b.modes.alternate and texts(b) == ["editing", "", "", "-- INSERT --"]
    b.feed(b"\x1b[?1049l")
    assert not b.modes.alternate
    assert texts(b) == ["$ vim", "", "", ""]


def test_escape_sequences_split_anywhere_and_replies_to_queries():
    replies: list[bytes] = []
    data = b"\x1b[31mred\x1b[0m \x1b[6n\xe4\xb8\xad\x1b]0;title\x07!"
    whole = ScreenBuffer(20, 2, on_reply=replies.append)
    whole.feed(data)
    for cut in range(len(data)):
        split = ScreenBuffer(20, 2)
        split.feed(data[:cut])
        split.feed(data[cut:])
        assert texts(split) == texts(whole)
    assert texts(whole)[0] == "red 中!" and whole.vt.title == "title"
    assert replies == [b"\x1b[1;5R"]


def test_resize_keeps_the_cursor_row_on_screen():
    b = ScreenBuffer(10, 5)
    b.feed(b"a\r\nb\r\nc\r\nd\r\ne")
    b.resize(8, 2)
    assert texts(b)[-2:] == ["d", "e"] and b.cursor == (4, 1)
