"""Each sandbox has its own /home/user, /tmp and process view; a ``user`` account; and a
fallback without namespaces that says so in the log."""

from __future__ import annotations

import os

import pytest
from e2b import Sandbox
from e2b.exceptions import FileNotFoundException

from tests.e2b_server.pytest_plugin import E2BServer


def test_sandboxes_do_not_see_each_other(e2b_server) -> None:
    if e2b_server.isolation != "bwrap":
        pytest.fail(f"bubblewrap isolation expected on this machine, got {e2b_server.isolation}")
    a = Sandbox.create(**e2b_server.sdk_opts)
    b = Sandbox.create(**e2b_server.sdk_opts)
    a.commands.run("echo a > /home/user/only-a.txt && echo a > /tmp/only-a.txt")
    a.commands.run("sleep 77", background=True)
    b_view = b.commands.run(
        "ls -A /home/user /tmp; ps -eo pid,args; cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname"
    ).stdout
    a_view = a.commands.run("ps -eo args").stdout
    assert "only-a" not in b_view
    assert "sleep 77" not in b_view and "sleep 77" in a_view
    assert "pytest" not in b_view and "tests.e2b_server" not in b_view  # host processes hidden
    assert "bwrap" in b_view  # pid 1 of the sandbox
    assert b_view.rstrip().endswith("e2b")
    assert (e2b_server.host_root(a.sandbox_id) / "only-a.txt").read_text() == "a\n"
    assert not (e2b_server.host_root(b.sandbox_id) / "only-a.txt").exists()
    with pytest.raises(FileNotFoundException):
        b.files.read("/tmp/only-a.txt")


def test_user_account_and_root(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    out = sbx.commands.run(
        "whoami; id -u; echo $HOME; pwd; getent passwd user | cut -d: -f6; touch mine"
    ).stdout
    assert out.split("\n")[:5] == ["user", "1000", "/home/user", "/home/user", "/home/user"]
    assert sbx.files.get_info("mine").owner == "user"
    root = sbx.commands.run("whoami; pwd; touch /home/user/roots", user="root").stdout
    assert root.split() == ["root", "/root"]
    assert sbx.files.get_info("roots").owner == ("root" if os.geteuid() == 0 else "user")
    assert sbx.commands.run("touch /etc/x 2>&1 || echo denied", user="root").stdout.strip().endswith("denied")
    assert (
        sbx.commands.run("python3 -c 'print(40+2)'; git --version | cut -c1-11").stdout == "42\ngit version\n"
    )


def test_fallback_without_namespaces_is_reported_and_still_works() -> None:
    server = E2BServer.start("--isolation", "none")
    try:
        assert server.isolation == "none"
        assert "isolation FALLBACK" in server.log_tail()
        sbx = Sandbox.create(**server.sdk_opts)
        sbx.files.write("/home/user/f.txt", "via api")
        out = sbx.commands.run("cat f.txt; echo; echo $HOME").stdout.splitlines()
        assert out[0] == "via api"
        assert out[1] == str(server.host_root(sbx.sandbox_id))
        sbx.commands.run("echo made > made.txt")
        assert sbx.files.read("/home/user/made.txt") == "made\n"
    finally:
        server.stop()


def test_automatic_fallback_when_bubblewrap_is_unusable() -> None:
    """Without a usable bwrap (here: not on PATH), the server falls back by itself and logs it."""
    server = E2BServer.start(env={"PATH": "/nonexistent"})
    try:
        assert server.isolation == "none"
        assert "bwrap or nsenter not installed" in server.info["isolation_reason"]
        assert "isolation FALLBACK" in server.log_tail()
        sbx = Sandbox.create(**server.sdk_opts)
        assert sbx.commands.run("echo still runs").stdout == "still runs\n"
    finally:
        server.stop()
