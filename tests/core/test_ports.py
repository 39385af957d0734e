"""Port parsing: /proc/net/tcp text, sock_diag answers, process trees and printed URLs."""

from __future__ import annotations

import os
import socket
import struct

from hypothesis import given
from hypothesis import strategies as st

from sesame_desktop.core.ports import (
    ENVD_PORT,
    URL_HINT,
    ListeningSocket,
    ProcStat,
    inet_diag_request,
    local_url_ports,
    owned_listening_ports,
    parse_inet_diag,
    parse_proc_net_tcp,
    parse_proc_stat,
    session_processes,
    socket_inode,
)
from sesame_desktop.core.terminal import TerminalBuffer

# Recorded from this machine (one LISTEN line each of tcp and tcp6, plus other states).
PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:AED1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 412432 1 000000005f99bb6f 100 0 0 10 0
   1: 00000000:C2D3 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 51234 1 0000000072d570cc 100 0 0 10 0
   2: 0100007F:AED1 0100007F:D2F4 01 00000000:00000000 00:00000000 00000000     0        0 412999 1 000000002f99bb6f 20 4 30 10 -1
   3: 0100007F:9C40 0100007F:AED1 06 00000000:00000000 03:00000F9F 00000000     0        0 0 3 0000000000000000
"""
PROC_NET_TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F40 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 77001 1 00000000c5e0c9ab 100 0 0 10 0
   1: 00000000000000000000000000000000:C33F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1 00000000c5e0c9ab 100 0 0 10 0
"""


def test_listening_sockets_from_proc_net_tcp_and_tcp6():
    sockets = parse_proc_net_tcp(PROC_NET_TCP + PROC_NET_TCP6)
    assert [(s.port, s.inode) for s in sockets] == [(0xAED1, 412432), (0xC2D3, 51234), (8000, 77001),
                                                    (ENVD_PORT, 7)]
    assert sockets[0].address == "0100007F"


def test_malformed_lines_are_skipped():
    assert parse_proc_net_tcp("garbage\n 0: zz:QQ 0:0 0A a b c d e f\n\n") == []


def test_only_owned_ports_count_and_envd_never():
    sockets = parse_proc_net_tcp(PROC_NET_TCP + PROC_NET_TCP6)
    assert owned_listening_ports(sockets, {51234, 77001, 7, 999}) == {0xC2D3, 8000}
    assert owned_listening_ports(sockets, set()) == set()


def test_socket_inode_of_fd_links():
    assert socket_inode("socket:[51234]") == 51234
    assert socket_inode("pipe:[51234]") is None
    assert socket_inode("socket:[]") is None
    assert socket_inode("/dev/null") is None


def _diag_message(family: int, port: int, inode: int, state: int = 10) -> bytes:
    body = struct.pack("=BBBB", family, state, 0, 0) + struct.pack(">HH", port, 0) + b"\x7f\0\0\1" + bytes(12)
    body += bytes(16) + struct.pack("=IQ", 0, 0) + struct.pack("=IIIII", 0, 0, 0, 1000, inode)
    return struct.pack("=IHHII", 16 + len(body), 20, 2, 1, 0) + body


def test_sock_diag_answers_are_parsed():
    done = struct.pack("=IHHII", 20, 3, 2, 1, 0) + bytes(4)
    data = _diag_message(socket.AF_INET, 5173, 42) + _diag_message(socket.AF_INET, 80, 43, state=1) + done
    sockets, finished = parse_inet_diag(data)
    assert finished and [(s.port, s.inode) for s in sockets] == [(5173, 42)]
    assert parse_inet_diag(_diag_message(socket.AF_INET6, 8080, 44)) == (
        [ListeningSocket(8080, "7f000001" + "00" * 12, 44)], False)


def test_sock_diag_error_answer_raises():
    error = struct.pack("=IHHII", 36, 2, 0, 1, 0) + struct.pack("=i", -13) + bytes(16)
    try:
        parse_inet_diag(error)
    except OSError as exc:
        assert exc.errno == 13
    else:
        raise AssertionError("no error raised")


def test_sock_diag_request_against_the_kernel():
    """The real kernel answers the request with this process's own listening socket."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        inode = os.fstat(server.fileno()).st_ino
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 4) as nl:
            nl.sendall(inet_diag_request(socket.AF_INET))
            found: list[ListeningSocket] = []
            done = False
            while not done:
                sockets, done = parse_inet_diag(nl.recv(65536))
                found += sockets
    assert (port, inode) in {(s.port, s.inode) for s in found}


def test_proc_stat_with_spaces_and_parentheses_in_the_name():
    stat = parse_proc_stat("4242 (my (odd) name) S 100 4200 4100 0 -1 4194560 1 0 0 0")
    assert stat == ProcStat(pid=4242, ppid=100, pgrp=4200, session=4100)
    assert parse_proc_stat("") is None
    assert parse_proc_stat("12 (x) S") is None


def test_session_processes_follow_groups_sessions_and_descendants():
    stats = [
        ProcStat(1, 0, 1, 1),
        ProcStat(100, 1, 100, 100),  # a command: leads its group and session
        ProcStat(101, 100, 100, 100),  # its child
        ProcStat(102, 101, 102, 102),  # a grandchild that called setsid
        ProcStat(103, 102, 102, 102),  # ... and its child
        ProcStat(200, 1, 200, 200),  # another program on this computer
        ProcStat(300, 1, 100, 300),  # joined group 100 from elsewhere (counts: same group)
    ]
    assert session_processes(stats, {100}) == {100, 101, 102, 103, 300}
    assert session_processes(stats, set()) == set()


class PrintedUrlFinder:
    """What the port service does: a console buffer's finished lines into local_url_ports."""

    def __init__(self) -> None:
        self.buffer = TerminalBuffer()
        self.lines: list[str] = []
        self.buffer.watch_lines(lambda _stream, line: self.lines.append(line), URL_HINT)

    def feed(self, chunk: bytes | str) -> list[int]:
        start = len(self.lines)
        self.buffer.feed(chunk)
        return [port for line in self.lines[start:] for port in local_url_ports(line)]


def test_printed_urls_of_common_dev_servers():
    finder = PrintedUrlFinder()
    vite = (b"\n  \x1b[32m\x1b[1mVITE\x1b[22m v5.4.2\x1b[39m  \x1b[2mready in \x1b[0m\x1b[1m312\x1b[22m\x1b[2m\x1b[0m ms\n\n"
            b"  \x1b[32m\xe2\x9e\x9c\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:\x1b[1m5173\x1b[22m/\x1b[39m\n")
    assert finder.feed(vite) == [5173]
    assert finder.feed(b"Serving HTTP on :: port 8000 (http://[::]:8000/) ...\n") == [8000]
    assert finder.feed(b"Listening on http://0.0.0.0:3000 and https://127.0.0.1:3001/x\n") == [3000, 3001]
    assert finder.feed(b"  - Local:        http://[::1]:4000\n") == [4000]
    assert finder.feed("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ at http://localhost:7000\r\n") == [7000]  # str, as E2B gives


def test_the_url_finder_gets_plain_text_lines_from_the_buffer():
    finder = PrintedUrlFinder()
    finder.feed(b"\x1b[1mhttp://localhost:\x1b[36m51")
    finder.feed(b"73\x1b[0m/\r\n50% \rdone http://127.0.0.1:80\x1b[K\nno url here\n")
    finder.buffer.add_meta("$ curl http://localhost:1")  # the app's own header lines are not output
    assert finder.lines == ["http://localhost:5173/", "done http://127.0.0.1:80"]  # escapes already interpreted


def test_urls_that_are_not_local_ports_are_ignored():
    text = ("see https://example.com:8443/ and http://localhost/ and http://localhost:0/ "
            "and http://localhost:99999/ and ftp://localhost:21/ and localhost:5000")
    assert local_url_ports(text) == []
    assert local_url_ports("http://localhost:8080") == [8080]  # a finished line: the port is whole


def test_a_url_cut_between_chunks_is_found_once_its_line_ends():
    finder = PrintedUrlFinder()
    assert finder.feed(b"ready: http://loc") == []
    assert finder.feed(b"alhost:51") == []
    assert finder.feed(b"73") == []  # more digits may follow
    assert finder.feed(b"/\n") == [5173]
    assert finder.feed(b"more output\n") == []  # reported once


def test_escape_sequences_cut_between_chunks():
    finder = PrintedUrlFinder()
    assert finder.feed(b"http://localhost:\x1b[") == []
    assert finder.feed(b"1m8080\x1b") == []
    assert finder.feed(b"[22m/\n") == [8080]


def test_multibyte_characters_cut_between_chunks():
    finder = PrintedUrlFinder()
    arrow = "➜".encode()
    assert finder.feed(b"  " + arrow[:1]) == []
    assert finder.feed(arrow[1:] + b" http://127.0.0.1:9000/\n") == [9000]


@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=12), st.integers(1, 65535))
def test_any_split_of_the_output_finds_the_same_ports(cuts, port):
    text = f"x\x1b[36m  ➜  Local: http://localhost:\x1b[1m{port}\x1b[22m/\x1b[39m\nok http://[::]:{port}/\n".encode()
    finder = PrintedUrlFinder()
    found: list[int] = []
    start = 0
    for cut in cuts:
        found += finder.feed(text[start:start + cut])
        start += cut
    found += finder.feed(text[start:])
    assert found == [port, port]
