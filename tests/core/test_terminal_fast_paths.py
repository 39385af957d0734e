"""The parser's fast paths (chunks recognised on their bytes) against the slow, exact ones.

Every kind of line the console benchmark streams (plain, coloured, CR LF, ``ESC[K``,
``grep --color``, progress bars) and their unusual neighbours (a lone CR, ``ESC[2K``, an
escape the fast paths must not take for a colour) are fed whole, cut anywhere, byte by byte
and as text (the E2B SDK's decoded ``str``, which takes the slower paths): the lines must be
the same every time.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import re

from sesame_desktop.core.terminal import Line, TerminalBuffer
from sesame_desktop.core.terminal_lines import CR_ONLY, ERASE_ONLY, OTHER, SIMPLE, _Stream, chunk_kind

LINES = [
    b"00000001 lorem ipsum dolor sit amet\n",
    b"\x1b[2m00000002\x1b[0m \x1b[1;31mFAIL\x1b[0m \x1b[38;5;201mworker-3\x1b[0m adip\n",
    b"00000003 lorem ipsum\r\n",
    b"\x1b[K00000004 lorem ipsum consectetur\x1b[K\r\n",
    b"\x1b[35m\x1b[Ksrc/a.py\x1b[m\x1b[K\x1b[36m\x1b[K:\x1b[m\x1b[K12:    def \x1b[01;31m\x1b[Kf\x1b[m\x1b[K(x)\n",
    b"\rDownloading [#####     ]  5/10\rDownloading [##########] 10/10",
    b"progress 10%\rprogress 20%\r\n",
    b"lone\rCR then LF\n",
    b"left\x1b[2Kerased\n",
    b"abc\x1b[3D\x1b[Kx\n",
    b"\x1b7saved\x1b8restored\n",
    b"tab\there\r\n",
    b"wide \xe4\xb8\xad\xe6\x96\x87\x1b[K text\r\n",
    b"\x1b[31mred stays on\n",
    b"still red\x1b[m\x1b[K\n",
    b"\x1b[1m\x1b[Kbold \x1b[K\x1b[0m",
    b"\n",
    # near misses of grep --color output (ESC[K after every colour code) that are not harmless
    b"\x1b[35m\x1b[Kpath\x1b[m\x1b[K:\x1b[1Kleft erased\n",
    b"\x1b[32m\x1b[K12\x1b[m\x1b[K:\x1b[0Kzero\x1b[2Kwhole\n",
    b"\x1b[36m\x1b[K:\x1b[m\x1b[Kab\x1b[5Ccd\x1b[K\n",
    b"\x1b[01;31m\x1b[Kx\x1b7[K\x1b[m\x1b[Ky\x1b8z\n",
    b"\x1b[35m\x1b[Kq\x1b[\x1b[Km\x1b[3\x1b[K1m\x1b[m\n",
    b"\x1b[35m\x1b[Klone \x1b escape\x1b[m\x1b[K\n",
]


def lines_of(buffer: TerminalBuffer) -> list[Line]:
    return [buffer.line(i) for i in range(len(buffer))]


def texts_of(buffer: TerminalBuffer) -> list[str]:
    return [buffer.text(i) for i in range(len(buffer))]


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def feed_all(pieces: list[bytes] | list[str], max_lines: int = 1000) -> TerminalBuffer:
    buffer = TerminalBuffer(max_lines)
    for piece in pieces:
        buffer.feed(piece)
    return buffer


@settings(max_examples=400, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(LINES) - 1), min_size=1, max_size=30),
    cuts=st.lists(st.integers(min_value=0), max_size=10),
    max_lines=st.integers(1, 12),
)
def test_every_kind_of_line_gives_the_same_lines_however_it_arrives(picks, cuts, max_lines):
    data = b"".join(LINES[i] for i in picks)
    whole = feed_all([data], max_lines)
    expected = lines_of(whole)
    assert lines_of(feed_all(cut(data, cuts), max_lines)) == expected
    assert lines_of(feed_all([data[i : i + 1] for i in range(len(data))], max_lines)) == expected
    text = data.decode()
    assert lines_of(feed_all([text], max_lines)) == expected
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    assert lines_of(feed_all(pieces, max_lines)) == expected  # as the E2B SDK delivers it
    assert texts_of(whole) == [line.text for line in expected]
    whole.finish()
    split = feed_all(cut(data, cuts), max_lines)
    split.finish()
    assert lines_of(split) == lines_of(whole)


def test_erase_codes_kept_in_a_line_erase_nothing_and_show_nothing():
    buffer = feed_all([b"\x1b[Kfirst\x1b[K\r\nsecond\x1b[K\r\nthird"])
    assert [line.text for line in lines_of(buffer)] == ["first", "second", "third"]
    assert buffer.plain_text() == "first\nsecond\nthird"
    buffer.feed(b"\rTHE END\n")  # a carriage return over a live line that held ESC[K
    assert buffer.line(2).text == "THE END"


def test_a_lone_carriage_return_among_crlf_line_ends_still_overprints():
    buffer = feed_all([b"one\r\ntwo\rTWO\r\nthree\r\n"])
    assert [line.text for line in lines_of(buffer)] == ["one", "TWO", "three"]


def test_erase_left_or_whole_line_is_not_taken_for_a_harmless_erase():
    buffer = feed_all([b"abc\x1b[1Kx\r\n", b"abc\x1b[2Kx\n"])
    assert [line.text for line in lines_of(buffer)] == ["   x", "   x"]


def test_line_taps_see_only_lines_with_their_hint_whatever_the_path():
    seen: list[tuple[str, str]] = []
    buffer = TerminalBuffer(100)
    buffer.watch_lines(lambda stream, text: seen.append((stream, text)), "://")
    buffer.feed(b"plain\nno link\r\n")
    buffer.feed(b"see \x1b[4mhttp://localhost:3000\x1b[0m\x1b[K\r\nafter\n")
    buffer.feed(b"err https://example.com\n", "stderr")
    assert seen == [
        ("stdout", "see http://localhost:3000"),
        ("stderr", "err https://example.com"),
    ]


_WHOLE_SGR_OR_EL = re.compile(rb"\x1b\[(?:[0-9;:]*m|K)")
_WHOLE_SGR = re.compile(rb"\x1b\[[0-9;:]*m")
_WHOLE_EL = re.compile(rb"\x1b\[K")
_CUT_OFF = re.compile(rb"\x1b(?:\[[0-9;:]*)?")
_CONTROLS = {*range(0x09), *range(0x0B, 0x1B), *range(0x1C, 0x20), 0x7F}


def escapes_verified(data: bytes, whole: re.Pattern[bytes] = _WHOLE_SGR_OR_EL) -> bool:
    """Each escape a ``whole`` code (SGR or ``ESC[K``), the last maybe cut off (one at a time)."""
    at = data.find(b"\x1b")
    while at >= 0:
        m = whole.match(data, at)
        if m is None:
            return _CUT_OFF.fullmatch(data, at) is not None
        at = data.find(b"\x1b", m.end())
    return True


def expected_kind(data: bytes, erase: bool, crs: int) -> tuple[int, bool]:
    """What :func:`chunk_kind` answers, worked out byte by byte (a fresh stream)."""
    if re.search(rb"\xc2[\x80-\x9f]", data):
        return OTHER, False
    controls = sum(byte in _CONTROLS for byte in data) - crs
    if controls:
        if controls == data.count(b"\r") and b"\x1b" not in data and b"\t" not in data:
            return CR_ONLY, False
        return OTHER, False
    if b"\x1b" not in data:
        return SIMPLE, True
    if erase and escapes_verified(data, _WHOLE_EL):
        return ERASE_ONLY, True
    return SIMPLE, escapes_verified(data, _WHOLE_SGR_OR_EL if erase else _WHOLE_SGR)


def assert_kind_as_expected(data: bytes) -> None:
    crlf = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    crs = crlf.count(b"\r")
    for chunk, crs in ((data, 0), (crlf, crs), (crlf, 0), (crlf, crs - 1)):
        for erase in (False, True):
            assert chunk_kind(chunk, _Stream("stdout"), erase, crs) == expected_kind(chunk, erase, crs), (
                chunk, erase, crs)


GREP_LINE = b"\x1b[35m\x1b[Ksrc/a.py\x1b[m\x1b[K\x1b[36m\x1b[K:\x1b[m\x1b[K\x1b[32m\x1b[K7\x1b[m\x1b[K:def \x1b[01;31m\x1b[Kf\x1b[m\x1b[K()\n"
NEAR_MISSES = [
    b"\x1b[1K", b"\x1b[2K", b"\x1b[0K", b"\x1b[;K", b"\x1b[5C", b"\x1b[5", b"\x1b[", b"\x1b",
    b"\x1b7[K", b"\x1b7[m", b"\x1b[\x1b[Km", b"\x1b[3\x1b[K1m", b"\x1b\x1b[K", b"\x1bK", b"\x1bm",
    b"\x1b[[K", b"\x1b[K", b"\x1b[m", b"\x1b[38;5;1m", b"\x1b[?25l", b"\x1b]0;t\x07", b"\x1b[4:3m",
]


def test_a_grep_chunk_is_taken_as_colours_only_exactly_when_every_escape_is_one():
    """The ``grep --color`` check (one DFA pass over the chunk) against a plain walk over the
    escapes: each near miss, anywhere in the chunk and cut off at its end."""
    for miss in NEAR_MISSES:
        for data in (
            GREP_LINE * 3 + miss + GREP_LINE,
            GREP_LINE + b"x" + miss + b"y" + GREP_LINE * 2,
            GREP_LINE * 2 + miss,
            GREP_LINE * 2 + b"tail" + miss,
            miss + GREP_LINE,
        ):
            kind, verified = chunk_kind(data, _Stream("stdout"), erase=True)
            if b"\x07" in data:
                assert (kind, verified) == (0, False), data
                continue
            assert kind == SIMPLE, data
            assert verified == escapes_verified(data), data
    assert chunk_kind(GREP_LINE * 100, _Stream("stdout"), erase=True) == (SIMPLE, True)
    assert chunk_kind(b"a\x1b[Kb\x1b[K\n", _Stream("stdout"), erase=True) == (ERASE_ONLY, True)


CONTROL_MISSES = [b"\x07", b"\x08", b"\x7f", b"\x00", b"\r", b"\x1a", b"\x1c", b"\xc2\x9b", b"\xc2\x80"]


def test_the_one_pass_check_decides_what_a_walk_over_every_byte_does():
    """Colours, ``ESC[K``, CR LF line ends (carriage returns not counted, or counted), with and
    without ``erase``: each near miss and control anywhere, and cut off at the end."""
    for miss in [*NEAR_MISSES, *CONTROL_MISSES, b"\t", b"\xc3\xa9", b"\xc2\xa0", b"\xe4\xb8"]:
        for line in (GREP_LINE, LINES[1], b"\x1b[Kab\x1b[K\n", b"plain\n"):
            for data in (
                line * 3 + miss + line,
                line + b"x" + miss + b"y" + line * 2,
                line * 2 + miss,
                line * 2 + b"tail" + miss,
                miss + line,
            ):
                assert_kind_as_expected(data)


FRAGMENTS = [
    b"a", b"\xc3\xa9", b"\xc2", b"\x9b", b"\t", b"\n", b"\r", b"\r\n", b"\x1b", b"[", b"K", b"m", b"1",
    b";", b":", b"?", b"\x1b[K", b"\x1b[m", b"\x1b[01;31m", b"\x1b[38:5:1m", b"\x1b[2K", b"\x1b[5C",
    b"\x07", b"\x08", b"\x7f", b"\x00",
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_any_chunk_is_taken_as_a_walk_over_every_byte_takes_it(pieces):
    assert_kind_as_expected(b"".join(pieces))


def test_grep_output_with_near_misses_shows_what_it_does_fed_whole_or_byte_by_byte():
    for miss in NEAR_MISSES:
        data = GREP_LINE * 3 + b"ab" + miss + b"cd\n" + GREP_LINE
        whole = feed_all([data])
        expected = lines_of(feed_all([data[i : i + 1] for i in range(len(data))]))
        assert lines_of(whole) == expected, data
        assert lines_of(feed_all([data.decode()])) == expected, data
        assert whole.line(0).text == "src/a.py:7:def f()", data


def test_a_carriage_return_before_an_escape_cut_off_is_not_taken_for_a_crlf_line_end():
    data = b"one\r\ntwo\r\x1b[Kthree\r\n"
    for at in range(len(data) + 1):
        split = feed_all([data[:at], data[at:]])
        assert [line.text for line in lines_of(split)] == ["one", "three"], at
    assert [line.text for line in lines_of(feed_all([b"\n0\r\x1b", b"[K"]))] == [""]
