"""Listening ports of a sandbox's own processes: local provider (both modes) and E2B (real SDK)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import psutil
import pytest

from sesame_desktop.core.ports import ENVD_PORT
from sesame_desktop.core.secret import Secret
from sesame_desktop.sandbox.base import SandboxSpec
from sesame_desktop.sandbox.e2b_provider import E2BProvider
from sesame_desktop.sandbox.local import LocalProvider, bubblewrap_works
from sesame_desktop.sandbox.local_process import ProcessTree
from sesame_desktop.sandbox.ports import (
    MAX_SCAN_BYTES,
    PORTS_SCAN_COMMAND,
    SCAN_COMMAND,
    listening_ports,
    parse_scan_output,
    port_owners,
    process_listening_ports,
    service_ports,
    tree_listening_ports,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def outside_listener():
    """A server of this computer, outside every sandbox: it must never be reported."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def wait_for_ports(run_async, qtbot, box, wanted: set[int], present: bool = True, timeout: int = 10_000) -> set[int]:
    seen: set[int] = set()

    def check() -> bool:
        nonlocal seen
        seen = run_async(listening_ports(box))
        return wanted <= seen if present else not (wanted & seen)

    qtbot.waitUntil(check, timeout=timeout)
    return seen


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def noop(_chunk: bytes) -> None:
    pass


@pytest.fixture(params=[True, False], ids=["bwrap", "plain"])
def local_box(request, tmp_path, run_async):
    if request.param and not sys.platform.startswith("linux"):
        pytest.skip("bubblewrap isolates local sessions on Linux only")
    if request.param and not run_async(bubblewrap_works()):
        pytest.fail("bubblewrap is needed for the isolated local provider (scripts/system-packages.txt)")
    box = run_async(LocalProvider(tmp_path / "ws", isolate=request.param).create(SandboxSpec("s1", "t")))
    run_async(box.get_project(None, lambda _m: None))
    yield box
    run_async(box.kill())


def test_local_servers_appear_and_leave(local_box, run_async, qtbot, outside_listener):
    assert run_async(listening_ports(local_box)) == set()  # no commands, nothing to scan
    first, second = free_port(), free_port()
    # The second server is a grandchild that made its own session: still the command's. (Its
    # output goes elsewhere: without isolation, killing the command's group does not reach it.)
    out = bytearray()
    command = (f"python3 -m http.server {first} --bind 127.0.0.1 & "
               f"setsid python3 -m http.server {second} --bind ::1 </dev/null >/dev/null 2>&1 & "
               "echo detached=$!; wait")
    handle = run_async(local_box.start(command, on_stdout=out.extend, on_stderr=noop))
    try:
        seen = wait_for_ports(run_async, qtbot, local_box, {first, second})
        assert outside_listener not in seen and ENVD_PORT not in seen
        assert seen == {first, second}
    finally:
        if not local_box.isolated:
            subprocess.run(["kill", out.decode().split("detached=")[1].split()[0]], check=False)
        run_async(handle.kill())
    wait_for_ports(run_async, qtbot, local_box, {first}, present=False)


def start_tree(script: str) -> tuple[subprocess.Popen, int]:
    """A command leading its own group, as the local provider starts them; and the pid it echoes."""
    cmd = subprocess.Popen(["bash", "-c", script], start_new_session=True, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    assert cmd.stdout is not None
    return cmd, int(cmd.stdout.readline())


@pytest.mark.parametrize("kernel_table", [None, False], ids=["netlink", "psutil"])
def test_tree_scan_follows_the_command_tree(qtbot, outside_listener, kernel_table):
    port = free_port()
    # A grandchild in a session of its own: still a descendant of the command.
    cmd, server = start_tree(f"setsid python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 & "
                             "echo $!; wait")
    try:
        tree = ProcessTree(cmd.pid)
        qtbot.waitUntil(lambda: tree_listening_ports([tree], kernel_table=kernel_table) == {port})
    finally:
        os.kill(server, 9)
        cmd.kill()
        cmd.wait()
        cmd.stdout.close()


def test_an_orphan_is_found_once_its_tree_has_been_seen(qtbot, tmp_path):
    """A server whose parent died is nobody's descendant: found when a scan saw it before."""
    port = free_port()
    gate = tmp_path / "gate"
    cmd, server = start_tree(f"(python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 & echo $!; "
                             f"while [ ! -e {gate} ]; do sleep 0.02; done); sleep 30")
    seen, unseen = ProcessTree(cmd.pid), ProcessTree(cmd.pid)
    try:
        qtbot.waitUntil(lambda: tree_listening_ports([seen]) == {port})
        gate.touch()  # the server's parent ends; the server is re-parented away from the command
        qtbot.waitUntil(lambda: server not in {p.pid for p in psutil.Process(cmd.pid).children(recursive=True)})
        assert tree_listening_ports([seen]) == {port}
        assert tree_listening_ports([unseen]) == set()  # never seen: the limit of following trees
    finally:
        os.kill(server, 9)
        cmd.kill()
        cmd.wait()
        cmd.stdout.close()


def test_tree_scan_of_no_trees_and_of_a_tree_without_sockets(outside_listener):
    assert tree_listening_ports([]) == set()
    with subprocess.Popen(["sleep", "30"], start_new_session=True) as proc:
        try:
            assert tree_listening_ports([ProcessTree(proc.pid)]) == set()
        finally:
            proc.kill()
    assert tree_listening_ports([ProcessTree(proc.pid)]) == set()  # gone


def test_the_in_sandbox_command_and_psutil_agree_on_a_socket(outside_listener):
    """Run here as root, the shell scan sees every process; psutil sees this process's socket."""
    out = subprocess.run(["bash", "-c", SCAN_COMMAND], capture_output=True, text=True, check=True).stdout
    assert outside_listener in parse_scan_output(out)
    for kernel_table in (None, False):  # Linux's netlink table, and psutil's per-process lookup
        assert outside_listener in process_listening_ports([psutil.Process()], kernel_table=kernel_table)
        with socket.socket(socket.AF_INET6) as v6:
            v6.bind(("::1", 0))
            v6.listen()
            assert v6.getsockname()[1] in process_listening_ports([psutil.Process()], kernel_table=kernel_table)


def test_scan_output_without_owners_or_with_envd():
    tables = (" 0: 00000000:C33F 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 11 1\n"
              " 1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12 1\n")
    assert parse_scan_output(tables) == set()
    assert parse_scan_output(tables + "socket:[11]\nsocket:[12]\nsocket:[13]\n") == {8080}


def test_e2b_sandbox_ports_through_the_sdk(e2b_env, run_async, qtbot, outside_listener):
    box = run_async(E2BProvider(Secret(e2b_env.api_key)).create(SandboxSpec("s1", "t")))
    handle = None
    try:
        run_async(box.get_project(None, lambda _m: None))
        # The server's own ports (control plane, envd, preview proxy) share this network: never ours.
        server_ports = {e2b_env.proxy_port, int(e2b_env.api_url.rsplit(":", 1)[1])}
        assert run_async(listening_ports(box)) == set()
        port = free_port()
        # A server on envd's port inside the sandbox is still never listed as a dev server.
        both = f"python3 -m http.server {ENVD_PORT} --bind 127.0.0.1 & python3 -m http.server {port}"
        handle = run_async(box.start(both, on_stdout=noop, on_stderr=noop))
        wait_for_ports(run_async, qtbot, box, {port})
        # (inside the sandbox: it may have a network namespace of its own)
        probe = f"grep -qi ':{ENVD_PORT:04X} ' /proc/net/tcp"
        qtbot.waitUntil(lambda: run_async(box.run(probe, on_stdout=noop, on_stderr=noop)).ok)
        seen = run_async(listening_ports(box))
        assert seen == {port}
        assert not seen & (server_ports | {outside_listener, ENVD_PORT})
        assert run_async(box.preview_url(port)) == f"http://{port}-{box.id}.{e2b_env.domain}"
        assert service_ports(box) == server_ports  # left out even where the server's processes show
    finally:
        if handle is not None:
            run_async(handle.kill())
            run_async(handle.wait())  # the SDK's stream task ends with the command
        run_async(box.kill())


# A server that renames itself to look like the end of a ``stat`` line and the start of another
# (a process's name may hold ")" and line breaks; the kernel keeps 15 bytes of it).
HOSTILE_SERVER = """\
import http.server, sys
with open("/proc/self/comm", "w") as f:
    f.write("z) S 1 1 1\\n9 (q")
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


def test_e2b_ports_are_found_under_the_command_that_opened_them(e2b_env, run_async, qtbot):
    box = run_async(E2BProvider(Secret(e2b_env.api_key)).create(SandboxSpec("s1", "t")))
    handles = []
    try:
        run_async(box.get_project(None, lambda _m: None))
        run_async(box.write_file(f"{box.project_dir}/hostile.py", HOSTILE_SERVER.encode()))
        first, second, other, root = free_port(), free_port(), free_port(), free_port()

        def start(command: str):
            handles.append(run_async(box.start(command, on_stdout=noop, on_stderr=noop)))
            return handles[-1]

        plain = start(f"python3 -m http.server {first} --bind 127.0.0.1")
        # a grandchild of the command's shell, under a hostile name
        nested = start(f"python3 hostile.py {second} & wait")
        idle = start("sleep 300")
        stranger = start(f"python3 -m http.server {other} --bind 127.0.0.1")  # not one of "the commands"
        # root's server: the scan sees it (it runs as root); under its command on E2B, where sudo is
        # the command's child, but not here, where the server's sudo asks the server to start it
        sudoed = start(f"sudo python3 -m http.server {root} --bind 127.0.0.1")
        assert len({plain.pid, nested.pid, idle.pid, stranger.pid, sudoed.pid}) == 5
        wait_for_ports(run_async, qtbot, box, {first, second, other, root})

        def renamed() -> bool:  # the server's new name took (the kernel keeps 15 bytes)
            names = bytearray()
            run_async(box.run("cat /proc/[0-9]*/comm", on_stdout=names.extend, on_stderr=noop))
            return b"z) S 1 1 1\n9 (q\n" in names

        qtbot.waitUntil(renamed)
        owners = run_async(port_owners(box, [plain.pid, nested.pid, idle.pid, sudoed.pid]))
        assert owners.pop(sudoed.pid) <= {root}
        assert owners == {plain.pid: {first}, nested.pid: {second}, idle.pid: set()}
        assert run_async(port_owners(box, [stranger.pid])) == {stranger.pid: {other}}
        assert run_async(port_owners(box, [])) == {}
    finally:
        for handle in handles:
            run_async(handle.kill())
            run_async(handle.wait())
        run_async(box.kill())


def test_the_scan_commands_bound_their_output():
    for command in (SCAN_COMMAND, PORTS_SCAN_COMMAND):
        assert command.endswith(f" | head -c {MAX_SCAN_BYTES}; true")
    assert "/stat" not in PORTS_SCAN_COMMAND  # the scan every poll makes stays small
