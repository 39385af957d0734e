"""The in-sandbox port scan's text: which command owns each listening port, and hostile text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sesame_desktop.core.port_scan import (
    MAX_DEPTH,
    UNKNOWN_PID,
    PortScan,
    parse_port_scan,
    ports_by_command,
)
from sesame_desktop.core.ports import ENVD_PORT, ListeningSocket, ProcStat


def table(port: int, inode: int, state: str = "0A") -> str:
    return (f"   0: 0100007F:{port:04X} 00000000:0000 {state} 00000000:00000000 00:00000000 00000000  1000"
            f"        0 {inode} 1 0000000000000000 100 0 0 10 0")


def stat(pid: int, ppid: int, pgrp: int | None = None, session: int | None = None) -> str:
    """A process's family ties as the scan's ``awk`` prints them from ``/proc/<pid>/stat``."""
    return f"/proc/{pid}/stat {ppid} {pgrp if pgrp is not None else pid} {session if session is not None else pid}"


def fd(pid: int, inode: int) -> str:
    return f"/proc/{pid}/fd socket:[{inode}]"


# A sandbox: envd (pid 1 here) started two commands (bash 40 and bash 60). 40 serves itself on
# 8000; 60's child 61 serves 5173 and its grandchild 62 shares the socket (a worker). A shell of
# the Terminal tab (80) started a server 81 on 3000; 90 holds envd's own port.
SANDBOX = "\n".join([
    table(8000, 100), table(5173, 200), table(3000, 300), table(ENVD_PORT, 400), table(9999, 500, state="01"),
    fd(40, 100), fd(61, 200), fd(62, 200), fd(81, 300), fd(90, 400), fd(81, 999),
    stat(1, 0), stat(40, 1), stat(60, 1), stat(61, 60, pgrp=60, session=60),
    stat(62, 61), stat(80, 1), stat(81, 80), stat(90, 1),
]) + "\n"


def test_ports_land_under_the_command_whose_tree_holds_them():
    scan = parse_port_scan(SANDBOX)
    assert scan.owned_ports() == {8000, 5173, 3000}  # envd's port never; a closed one not listening
    assert scan.holders[200] == {61, 62}
    assert scan.stats[61] == ProcStat(61, 60, 60, 60)
    assert ports_by_command(scan, [40, 60, 70]) == {40: {8000}, 60: {5173}, 70: set()}
    assert ports_by_command(scan, [80]) == {80: {3000}}
    assert ports_by_command(scan, []) == {}
    assert ports_by_command(scan, [40], excluded=frozenset({8000})) == {40: set()}


def test_an_orphan_belongs_to_the_command_leading_its_group_or_session():
    text = "\n".join([table(8000, 1), table(8001, 2), fd(70, 1), fd(71, 2),
                      stat(70, 1, pgrp=40, session=1), stat(71, 1, pgrp=71, session=60)])
    assert ports_by_command(parse_port_scan(text), [40, 60]) == {40: {8000}, 60: {8001}}
    # pid 1 and group 0 (not visible from the sandbox's namespace) name no command
    text = "\n".join([table(8000, 1), fd(70, 1), stat(70, 1, pgrp=0, session=0)])
    assert ports_by_command(parse_port_scan(text), [0, 1]) == {}


def test_a_process_with_more_than_one_line_of_ties_is_not_believed():
    # (the scan's awk prints one line per process; a second one is made up, so is the first)
    text = "\n".join([table(8000, 100), fd(81, 100), stat(81, 40), stat(81, 80), stat(80, 1), stat(40, 1)])
    scan = parse_port_scan(text)
    assert 81 not in scan.stats
    assert ports_by_command(scan, [40, 80]) == {40: set(), 80: set()}


def test_only_whole_lines_of_three_plain_numbers_are_ties():
    lines = ["/proc/81/stat 80 81", "/proc/82/stat 80 82 82 0", "/proc/83/stat 80  83 83",
             "/proc/84/stat 80 84 -84", "/proc/85/stat 8O 85 85", "/proc/86/stat:86 (x) S 80 86 86",
             "/proc/87/stat 80 87 87 ", "/proc/88/stat\t80 88 88", "/proc/89/stat ٨٠ 89 89",
             "/proc/90/stat 80 90 " + "9" * 11, "/proc/91/stat 80 91 91"]
    scan = parse_port_scan("\n".join(lines))
    assert scan.stats == {91: ProcStat(91, 80, 91, 91)}


def test_parent_loops_and_long_chains_end():
    loop = "\n".join([table(8000, 1), fd(10, 1), stat(10, 11), stat(11, 12), stat(12, 10), stat(13, 13)])
    assert ports_by_command(parse_port_scan(loop), [99]) == {99: set()}
    assert ports_by_command(parse_port_scan(loop + "\n" + fd(13, 1)), [13]) == {13: {8000}}
    depth = MAX_DEPTH + 5  # a chain from the server (pid 1000) up to the command (pid 2)
    chain = [stat(1000 + i, 1000 + i + 1) for i in range(depth)] + [stat(1000 + depth, 2), stat(2, 1)]
    text = "\n".join([table(8000, 1), fd(1000, 1), *chain])
    assert ports_by_command(parse_port_scan(text), [2]) == {2: set()}  # too deep: not followed
    near = "\n".join([table(8000, 1), fd(1000 + depth - 10, 1), *chain])
    assert ports_by_command(parse_port_scan(near), [2]) == {2: {8000}}
    # a holder too deep, then one near the top of the same chain: the second still gets there
    both = "\n".join([table(8000, 1), table(8001, 2), fd(1000, 1), fd(1000 + depth - 10, 2), *chain])
    assert ports_by_command(parse_port_scan(both), [2]) == {2: {8001}}


def test_every_process_is_walked_once_per_scan():
    # many holders of many sockets sharing one long chain: the walk does not repeat it (the
    # scan would otherwise cost holders x depth on the event loop)
    chain = [stat(1000 + i, 1000 + i + 1) for i in range(50)] + [stat(1050, 2)]
    lines = [*chain, stat(2, 1)]
    for i in range(2000):
        lines += [table(10000 + i, 50000 + i), fd(1000 + i % 50, 50000 + i)]
    scan = parse_port_scan("\n".join(lines))
    looked: list[int] = []

    class Counting(dict[int, ProcStat]):
        def get(self, key: int, default: ProcStat | None = None) -> ProcStat | None:  # type: ignore[override]
            looked.append(key)
            return super().get(key, default)

    counted = PortScan(scan.sockets, scan.holders, Counting(scan.stats))
    assert ports_by_command(counted, [2]) == {2: set(range(10000, 12000))}
    assert len(looked) <= 2 * 51


def test_malformed_and_hostile_lines_are_skipped():
    text = "\n".join([
        table(8000, 100),
        table(8001, 101),
        table(8002, 102),
        table(8003, 103),
        "/proc/١٢/fd socket:[100]",  # digits of another script
        "/proc/ 12/fd socket:[100]",
        "/proc/12/fd socket:[1_00]",
        "/proc/12/fd socket:[١٠٠]",
        "/proc/" + "9" * 5000 + "/fd socket:[100]",  # a number int() would refuse (or take ages)
        "/proc/12/fd socket:[" + "1" * 5000 + "]",
        "/proc/12/fd pipe:[101]",
        "/proc/12/fd socket:[101",
        "/proc/12/fdsocket:[101]",
        "/proc/12 fd socket:[101]",
        "/proc//fd socket:[101]",
        "/proc/13/fd socket:[102]\r",  # a carriage return: not the exact shape
        stat(14, 40),
        "/proc/15/stat 40 15 15\0",  # a NUL
        "/proc/16/stat 40 16",
        "/proc/17/stat ",
        "/proc/18/stat:18 (x) S 40 18 18 0 -1 4194560 1192 0 0 0 2 0 0 0 20 0 1 0 5817",  # a raw stat line
        "\x1b[31m/proc/18/fd socket:[103]",
        "socket:[103]",  # a bare line (an older scan): owned, but by no known process
        "",
        "\0\0\0",
    ])
    scan = parse_port_scan(text)
    assert scan.owned_ports() == {8003}
    assert scan.holders == {103: {UNKNOWN_PID}}
    assert scan.stats == {14: ProcStat(14, 40, 14, 14)}
    assert ports_by_command(scan, [40, 12, 13]) == {40: set(), 12: set(), 13: set()}


def test_a_scan_cut_short_keeps_what_came_before():
    # the scan prints its most telling lines first; a cut may leave half a line at the end
    whole = SANDBOX
    cut = whole[:whole.index("/proc/60/stat") + 12]  # "/proc/60/sta"
    scan = parse_port_scan(cut)
    assert scan.owned_ports() == {8000, 5173, 3000}
    assert 60 not in scan.stats
    assert ports_by_command(scan, [40, 60]) == {40: {8000}, 60: set()}  # 61's stat line was cut off
    assert parse_port_scan("") == PortScan()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.text(max_size=60),
    st.builds(lambda p, i: f"/proc/{p}/fd socket:[{i}]", st.integers(-5, 40), st.integers(-5, 40)),
    st.builds(lambda p, q, g: stat(p, q, pgrp=g), st.integers(0, 40), st.integers(-5, 40), st.integers(-5, 40)),
    st.builds(lambda p, junk: f"/proc/{p}/stat {junk}", st.integers(0, 40), st.text(max_size=20)),
    st.builds(lambda port, i: table(port, i), st.integers(1, 65535), st.integers(0, 40)),
), max_size=60), st.sets(st.integers(-5, 40), max_size=6))
def test_any_text_gives_a_bounded_answer(lines, commands):
    scan = parse_port_scan("\n".join(lines))
    owners = ports_by_command(scan, commands)
    assert set(owners) == {c for c in commands if c > 1}
    listening = {s.port for s in scan.sockets}
    for ports in owners.values():
        assert ports <= scan.owned_ports() <= listening
        assert ENVD_PORT not in ports


def test_listening_socket_tuples_are_plain_values():
    scan = parse_port_scan(table(8000, 7) + "\n" + fd(3, 7))
    assert scan.sockets == (ListeningSocket(8000, "0100007F", 7),)
