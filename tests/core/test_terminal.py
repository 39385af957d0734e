"""The terminal parser and bounded line buffer (no Qt)."""

from __future__ import annotations

import re
from datetime import datetime

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sesame_desktop.core.sgr import (
    BOLD,
    DEFAULT_STYLE,
    INVERSE,
    ITALIC,
    TRUECOLOR,
    UNDERLINE,
    Style,
)
from sesame_desktop.core.terminal import BufferEvent, Line, TerminalBuffer


def lines_of(buffer: TerminalBuffer) -> list[Line]:
    return [buffer.line(i) for i in range(len(buffer))]


def fed(*chunks: bytes | tuple[bytes, str], max_lines: int = 1000) -> TerminalBuffer:
    buffer = TerminalBuffer(max_lines)
    for chunk in chunks:
        data, stream = chunk if isinstance(chunk, tuple) else (chunk, "stdout")
        buffer.feed(data, stream)
    return buffer


def style_at(line: Line, column: int) -> Style:
    for start, end, style in line.runs:
        if start <= column < end:
            return style
    return DEFAULT_STYLE


# -- colours and attributes -------------------------------------------------------------------


def test_16_256_and_truecolor_foreground_and_background():
    b = fed(
        b"\x1b[31ma\x1b[0m\x1b[93mb\x1b[38;5;208mc\x1b[48;2;1;2;3md\x1b[38:2::10:20:30me\x1b[mf\n"
    )
    line = b.line(0)
    assert line.text == "abcdef"
    assert style_at(line, 0).fg == 1
    assert style_at(line, 1).fg == 11  # bright yellow
    assert style_at(line, 2).fg == 208
    assert style_at(line, 3) == Style(fg=208, bg=TRUECOLOR | 0x010203)
    assert style_at(line, 4).fg == TRUECOLOR | 0x0A141E
    assert style_at(line, 5) == DEFAULT_STYLE


def test_attributes_and_their_resets():
    b = fed(b"\x1b[1;3;4;7mA\x1b[22mB\x1b[23;24mC\x1b[27mD\n")
    line = b.line(0)
    assert style_at(line, 0).attrs == BOLD | ITALIC | UNDERLINE | INVERSE
    assert style_at(line, 1).attrs == ITALIC | UNDERLINE | INVERSE
    assert style_at(line, 2).attrs == INVERSE
    assert style_at(line, 3) == DEFAULT_STYLE


def test_colour_carries_over_to_the_next_line_until_reset():
    b = fed(b"\x1b[32mgreen\nstill green\x1b[0m plain\n")
    assert style_at(b.line(1), 0).fg == 2
    assert style_at(b.line(1), len("still green") + 1) == DEFAULT_STYLE


# -- carriage return, backspace, erase --------------------------------------------------------


def test_carriage_return_progress_bar_stays_one_line():
    updates = b"".join(b"\rDownloading %3d%%" % i for i in range(101))
    b = fed(updates[:500], updates[500:], b"\n")
    assert [line.text for line in lines_of(b)] == ["Downloading 100%"]


def test_carriage_return_overwrites_only_what_is_written():
    assert fed(b"abcdef\rXY\n").line(0).text == "XYcdef"


def test_crlf_split_between_chunks_is_one_line_break():
    b = fed(b"one\r", b"\ntwo\r\n")
    assert [line.text for line in lines_of(b)] == ["one", "two"]


def test_backspace_and_erase_in_line():
    assert fed(b"abc\b\bX\n").line(0).text == "aXc"
    assert fed(b"hello world\r\x1b[Kbye\n").line(0).text == "bye"
    assert fed(b"hello\x1b[3D\x1b[K!\n").line(0).text == "he!"
    assert fed(b"spinner |\b/\b-\n").line(0).text == "spinner -"


def test_npm_style_redraw_with_column_and_erase():
    b = fed(b"\x1b[1G\x1b[0K\xe2\xa0\x8b working", b"\x1b[1G\x1b[0K\xe2\x9c\x94 done\n")
    assert b.line(0).text == "✔ done"


# -- controls that must vanish ----------------------------------------------------------------


def test_other_sequences_are_dropped_without_garbage():
    data = (
        b"\x1b]0;window title\x07"  # OSC title (BEL)
        b"\x1b]2;other title\x1b\\"  # OSC title (ST)
        b"\x1b[?2004h\x1b[200~pasted\x1b[201~\x1b[?2004l"  # bracketed paste
        b"\x1b[2J\x1b[H\x1b[3;4H\x1b[1A\x1b[?25l"  # screen and cursor control
        b"\x1b7\x1b8\x1b(B\x1bPq#0;2;0;0;0\x1b\\"  # save/restore, charset, DCS
        b"text\x07\x00\x0e\x0f\n"
    )
    # the screen controls act as in a terminal: the erased screen's line goes to the scrollback,
    # "text" lands on row 2, column 4 (then one row up); everything else leaves no trace
    assert fed(data).plain_text() == "pasted\n\n   text"


def test_sequences_split_at_every_byte_give_the_same_result():
    data = (
        b"a\x1b[38;5;196mred\x1b]8;;https://x.org/p\x1b\\link\x1b]8;;\x1b\\\x1b[0m \xe2\x82\xac\n"
    )
    whole = lines_of(fed(data))
    pieces = lines_of(fed(*[data[i : i + 1] for i in range(len(data))]))
    assert whole == pieces
    assert whole[0].text == "aredlink €"


def test_osc8_hyperlink_marks_its_text():
    b = fed(b"see \x1b]8;id=1;https://example.com/docs\x1b\\the docs\x1b]8;;\x1b\\ now\n")
    line = b.line(0)
    assert line.text == "see the docs now"
    assert style_at(line, 4).link == "https://example.com/docs"
    assert style_at(line, 11).link == "https://example.com/docs"
    assert style_at(line, 13).link is None


def test_invalid_utf8_becomes_replacement_characters():
    b = fed(b"ok \xff\xfe bad \xe2\x82 cut\n")
    assert b.line(0).text == "ok \ufffd\ufffd bad \ufffd cut"


def test_truncated_utf8_at_the_end_of_a_stream_is_flushed_as_replacement():
    b = fed(b"tail \xe2\x82")
    b.finish()
    assert b.line(0).text == "tail \ufffd"


def test_tabs_expand_to_eight_columns():
    assert fed(b"a\tb\x1b[31m\tc\x1b[0m\n").line(0).text == "a       b       c"


# -- streams, headers, eviction ---------------------------------------------------------------


def test_stdout_and_stderr_lines_are_tagged_and_do_not_mix_partial_lines():
    b = fed(b"out part", (b"err line\n", "stderr"), b" done\n")
    assert [(line.text, line.stream) for line in lines_of(b)] == [
        ("err line", "stderr"),
        ("out part done", "stdout"),
    ]


def test_utf8_split_on_one_stream_is_not_glued_to_the_other():
    b = fed(b"\xe2\x82", (b"E\n", "stderr"), b"\xac\n")
    assert [(line.text, line.stream) for line in lines_of(b)] == [("E", "stderr"), ("€", "stdout")]


def test_live_line_is_visible_before_its_newline():
    b = fed(b"prompt> ")
    assert [line.text for line in lines_of(b)] == ["prompt> "]


def test_command_header_and_footer_lines():
    b = TerminalBuffer()
    b.begin_command("npm test", datetime(2026, 1, 2, 3, 4, 5))
    b.feed(b"partial")
    b.end_command(1, None, 2.5)
    b.end_command(None, "SIGTERM", 75)
    texts = [(line.text, line.stream) for line in lines_of(b)]
    assert texts == [
        ("▶ npm test    [2026-01-02 03:04:05]", "meta"),
        ("partial", "stdout"),
        ("■ exit code 1 (failed) after 2.5 s", "meta"),
        ("■ killed by SIGTERM after 1 min 15 s", "meta"),
    ]


def test_scrollback_drops_oldest_lines_and_counts_them():
    b = TerminalBuffer(max_lines=100)
    b.feed(b"".join(b"line %d\n" % i for i in range(1000)))
    b.feed(b"\x1b[31mred %d\n" % 1000 + b"\rprogress\n")
    assert len(b) == 100
    assert b.evicted == 902
    assert b.line(0).text == "line 902"
    assert b.line(99).text == "progress"


def test_listeners_hear_appends_and_clear():
    b = TerminalBuffer()
    events: list[BufferEvent] = []
    b.add_listener(events.append)
    b.feed(b"x\n")
    b.clear()
    b.remove_listener(events.append)
    b.feed(b"y\n")
    assert events == [BufferEvent.APPENDED, BufferEvent.CLEARED]
    assert b.plain_text() == "y" and b.evicted == 0


# -- properties (hypothesis) ------------------------------------------------------------------

printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12)
INVISIBLE = [
    "\x1b[0m",
    "\x1b[1;31m",
    "\x1b[38;5;120m",
    "\x1b[48;2;9;8;7m",
    "\x1b[m",
    "\x1b[4:3m",
    "\x1b]0;a title\x07",
    "\x1b]8;;https://e.x/\x1b\\",
    "\x1b]8;;\x1b\\",
    "\x1b[?2004h",
    "\x1b[200~",
    "\x1b[2J",
    "\x1b[1A",
    "\x1b[?25l",
    "\x1b(B",
    "\x07",
    "\x00",
]
ADDRESSING = ["\x1b[2J", "\x1b[1A"]
"""Move the cursor off the line: later text may then overwrite earlier text, as in a terminal."""
invisible = st.sampled_from(INVISIBLE)
token = st.one_of(printable, invisible, st.just("\n"))
terminal_noise = st.sampled_from(
    [
        b"\r",
        b"\b",
        b"\x1b[K",
        b"\x1b[2K",
        b"\x1b[5D",
        b"\x1b[3G",
        b"\t",
        b"\x1b[",
        b"\x1b]",
        b"\xe2\x82",
        b"\xff",
        b"\x1b[31",
        b"\x1b",
        b"\r\n",
        b"\x1b[X",
        b"\x1b[2P",
        b"\x9b",
        b"\xc2\x9b",  # C1 CSI, UTF-8 encoded
        b"m",
        b";",
        b"\\",
        b"\x07",
        b"8;;https://x.y/",
        b"38;2;1;2;3",
        b"\x1b[?",
        b"\x1b[4C",
    ]
)
chunk_soup = st.lists(
    st.one_of(token.map(lambda t: t.encode()), terminal_noise, st.binary(max_size=8)),
    max_size=40,
)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]


@settings(max_examples=300, deadline=None)
@given(
    parts=chunk_soup,
    cuts=st.lists(st.integers(min_value=0), max_size=12),
    max_lines=st.integers(1, 8),
)
def test_splitting_anywhere_gives_the_same_result_and_nothing_raises(parts, cuts, max_lines):
    data = b"".join(parts)
    whole = TerminalBuffer(max_lines)
    whole.feed(data)
    split = TerminalBuffer(max_lines)
    for piece in split_at(data, cuts):
        split.feed(piece)
    assert lines_of(split) == lines_of(whole)
    assert split.evicted == whole.evicted
    assert whole.plain_text() == "\n".join(line.text for line in lines_of(whole))
    whole.finish()
    split.finish()
    assert lines_of(split) == lines_of(whole)


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(token, max_size=40), cuts=st.lists(st.integers(min_value=0), max_size=8))
def test_printable_text_is_never_lost_or_reordered(tokens, cuts):
    data = "".join(tokens).encode()
    b = TerminalBuffer(10_000)
    for piece in split_at(data, cuts):
        b.feed(piece, "stderr")
    b.finish()
    expected = "".join(t for t in tokens if t not in INVISIBLE)
    assume(not any(t in ADDRESSING for t in tokens))
    got = "\n".join(line.text for line in lines_of(b))
    # whether an empty last line exists depends on invisible codes after the last newline
    assert got.rstrip("\n") == expected.rstrip("\n")
    assert all(line.stream == "stderr" for line in lines_of(b))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(min_value=0), max_size=10))
def test_arbitrary_bytes_never_raise_and_leave_no_escape_characters(data, cuts):
    b = TerminalBuffer(50)
    for piece in split_at(data, cuts):
        b.feed(piece, "stdout" if len(piece) % 2 else "stderr")
    b.finish()
    for line in lines_of(b):
        assert not re.search(r"[\x00-\x1f\x7f-\x9f]", line.text)
        assert all(0 <= s < e <= len(line.text) for s, e, _ in line.runs)


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(st.tuples(st.sampled_from(["stdout", "stderr"]), chunk_soup), max_size=6),
    cuts=st.lists(st.integers(min_value=0), max_size=6),
)
def test_interleaved_streams_split_further_give_the_same_result(chunks, cuts):
    whole = TerminalBuffer(20)
    split = TerminalBuffer(20)
    for stream, parts in chunks:
        data = b"".join(parts)
        whole.feed(data, stream)
        for piece in split_at(data, cuts):
            split.feed(piece, stream)
    assert lines_of(split) == lines_of(whole)


def test_endless_line_is_broken_into_bounded_lines_without_losing_text():
    from sesame_desktop.core.terminal import MAX_LINE_CHARS

    b = TerminalBuffer(100)
    chunk = b"x" * 65536
    for _ in range(40):  # 2.5 MiB, no newline
        b.feed(chunk)
    lengths = [len(line.text) for line in lines_of(b)]
    assert len(lengths) >= 3
    assert max(lengths) <= MAX_LINE_CHARS + len(chunk)
    assert sum(lengths) == 40 * len(chunk)


def test_str_chunks_from_the_sdk_are_accepted():
    b = fed(b"bytes ")
    b.feed("and text \x1b[31mred\x1b[0m ✓\n")
    assert b.line(0).text == "bytes and text red ✓"


def test_shrinking_the_scrollback_drops_and_counts_the_oldest_lines():
    b = fed(b"".join(b"%d\n" % i for i in range(10)), max_lines=10)
    b.set_max_lines(4)
    assert b.plain_text() == "6\n7\n8\n9" and b.evicted == 6
    b.feed(b"10\n")
    assert b.plain_text() == "7\n8\n9\n10" and b.evicted == 7


def test_c1_controls_are_dropped_even_when_split_between_chunks():
    assert fed(b"a\xc2\x9b31mb \xc2\xa9\n").line(0).text == "a31mb ©"  # C1 CSI is not interpreted
    assert fed(b"a\xc2", b"\x85b\n").line(0).text == "ab"  # NEL split across chunks


def test_a_long_line_is_cut_at_the_same_places_however_it_arrives():
    from sesame_desktop.core.terminal import MAX_LINE_CHARS

    data = (b"\x1b[31mab\x1b[0m" + b"x" * 1000) * 3000 + b"\nafter\n"  # ~3 MB, SGR codes inside
    whole = fed(data)
    for size in (65536, 4093):
        split = fed(*[data[i : i + size] for i in range(0, len(data), size)])
        assert lines_of(split) == lines_of(whole)
    lengths = [len(line.text) for line in lines_of(whole)]
    assert max(lengths) <= MAX_LINE_CHARS
    assert lines_of(whole)[-1].text == "after"


def test_scrollback_is_bounded_by_characters_as_well_as_lines():
    b = TerminalBuffer(1000, max_chars=10_000)
    b.feed(b"".join(b"%0100d\n" % i for i in range(500)))  # 50,000 characters in 500 lines
    assert b.kept_chars <= 10_000
    assert len(b) == 100 and b.evicted == 400
    assert b.line(len(b) - 1).text.endswith("499")


def test_crlf_and_erase_after_text_take_the_fast_path_and_mean_what_terminals_show():
    b = fed(b"one\r\ntwo\x1b[K\r\n\x1b[32mthree\x1b[0m\x1b[K\r", b"\nfour\r\x1b[Kfive\n")
    assert [line.text for line in lines_of(b)] == ["one", "two", "three", "five"]


def test_progress_redraws_split_anywhere_keep_the_cursor_where_the_last_one_left_it():
    data = b"\r100% done" + b"\r50%"  # the shorter redraw leaves the tail of the longer one
    for cut in range(len(data) + 1):
        b = fed(data[:cut], data[cut:], b"!\n")
        assert lines_of(b)[0].text == "50%! done"
