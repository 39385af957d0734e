"""envd details through the real SDK: relative cwd, metadata replaced on write, expired signed
links, PTY kill reaping, and the sync SDK's polling watchers."""

from __future__ import annotations

import time

import httpx
import pytest
from e2b import AsyncSandbox, FilesystemEventType, PtySize, Sandbox
from e2b.exceptions import NotFoundException, SandboxException

from .conftest import await_until, wait_until


def test_relative_cwd_is_resolved_against_the_users_home_sync(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    sbx.files.make_dir("proj/sub")
    result = sbx.commands.run("pwd", cwd="proj/sub")
    assert result.stdout == "/home/user/proj/sub\n"
    handle = sbx.commands.run("sleep 30", cwd="proj", background=True)
    assert [p.cwd for p in sbx.commands.list()] == ["/home/user/proj"]
    handle.kill()
    assert sbx.commands.run("pwd", cwd="..").stdout == "/home\n"
    assert sbx.commands.run("pwd", cwd=".", user="root").stdout == "/root\n"


def test_relative_cwd_is_resolved_against_the_users_home_async(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        await sbx.files.make_dir("work")
        return (await sbx.commands.run("pwd", cwd="work")).stdout

    assert run_async(go()) == "/home/user/work\n"


def test_write_without_metadata_clears_it_and_with_metadata_replaces_it_sync(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    sbx.files.write("m.txt", "1", metadata={"a": "1", "b": "2"})
    assert sbx.files.get_info("m.txt").metadata == {"a": "1", "b": "2"}
    sbx.files.write("m.txt", "2", metadata={"b": "3"})
    assert sbx.files.get_info("m.txt").metadata == {"b": "3"}
    sbx.files.write("m.txt", "3")
    assert sbx.files.get_info("m.txt").metadata is None
    assert sbx.files.read("m.txt") == "3"


def test_write_without_metadata_clears_it_async(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        await sbx.files.write("n.txt", "1", metadata={"k": "v"})
        before = (await sbx.files.get_info("n.txt")).metadata
        await sbx.files.write_files([{"path": "n.txt", "data": "2"}])
        return before, (await sbx.files.get_info("n.txt")).metadata

    before, after = run_async(go())
    assert before == {"k": "v"}
    assert after is None


def test_expired_signed_url_fails_with_envds_status_and_wording(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    sbx.files.write("s.txt", "signed")
    with httpx.Client() as client:
        expired = client.get(sbx.download_url("s.txt", use_signature_expiration=-10))
        expired_up = client.post(sbx.upload_url("u.txt", use_signature_expiration=-10), files={"file": ("u.txt", b"x")})
        forged = client.get(sbx.download_url("s.txt", use_signature_expiration=-10).replace("v1_", "v1_x"))
        valid = client.get(sbx.download_url("s.txt", use_signature_expiration=30))
    assert (expired.status_code, expired.json()) == (401, {"code": 401, "message": "signature is already expired"})
    assert expired_up.status_code == 401 and expired_up.json()["message"] == "signature is already expired"
    assert (forged.status_code, forged.json()["message"]) == (401, "invalid signature")
    assert (valid.status_code, valid.text) == (200, "signed")


def test_pty_kill_reaps_the_shell_at_once_sync(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    handle = sbx.pty.create(PtySize(rows=24, cols=80))
    sbx.pty.send_stdin(handle.pid, b"sleep 100 &\n")
    wait_until(lambda: "sleep 100" in sbx.commands.run("ps -eo args").stdout)
    assert sbx.pty.kill(handle.pid) is True
    out = sbx.commands.run(
        f"kill -0 {handle.pid} 2>/dev/null && echo alive || echo gone; ps -eo stat,args | grep -c '^Z' || true"
    ).stdout.split()
    assert out == ["gone", "0"]
    assert sbx.commands.list() == []


def test_pty_kill_reaps_the_shell_at_once_async(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        handle = await sbx.pty.create(PtySize(rows=24, cols=80), on_data=lambda _: None)
        killed = await sbx.pty.kill(handle.pid)
        probe = await sbx.commands.run(f"kill -0 {handle.pid} 2>/dev/null && echo alive || echo gone")
        return killed, probe.stdout

    assert run_async(go()) == (True, "gone\n")


def test_sync_watch_dir_polls_the_same_events_as_watch_dir(e2b_server, run_async) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    sbx.files.make_dir("w/deep")
    handle = sbx.files.watch_dir("w", recursive=True)
    assert handle.get_new_events() == []
    sbx.files.write("w/a.txt", "1")
    sbx.files.write("w/deep/b.txt", "2")
    sbx.files.remove("w/a.txt")
    events: list = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(e.type == FilesystemEventType.REMOVE for e in events):
        events += handle.get_new_events()
        time.sleep(0.02)
    assert ("a.txt", FilesystemEventType.CREATE) in [(e.name, e.type) for e in events]
    assert ("deep/b.txt", FilesystemEventType.CREATE) in [(e.name, e.type) for e in events]
    assert ("a.txt", FilesystemEventType.REMOVE) in [(e.name, e.type) for e in events]
    assert handle.get_new_events() == []  # fetched events are not repeated
    handle.stop()
    with pytest.raises(SandboxException):
        handle.get_new_events()  # the SDK refuses after stop

    # the async SDK's streaming WatchDir reports the same events for the same changes
    async def streamed():
        asbx = await AsyncSandbox.connect(sbx.sandbox_id, **e2b_server.sdk_opts)
        seen: list = []
        watch = await asbx.files.watch_dir("w", seen.append, recursive=True)
        await asbx.files.write("w/a.txt", "1")
        await asbx.files.write("w/deep/b.txt", "2")
        await asbx.files.remove("w/a.txt")
        await await_until(lambda: any(e.type == FilesystemEventType.REMOVE for e in seen))
        await watch.stop()
        return seen

    seen = run_async(streamed())
    polled = {(e.name, e.type) for e in events}
    assert {(e.name, e.type) for e in seen if e.name == "a.txt"} == {(n, t) for n, t in polled if n == "a.txt"}


def test_polling_watcher_errors_sync(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    with pytest.raises(NotFoundException):
        sbx.files.watch_dir("missing-folder")
    handle = sbx.files.watch_dir("/tmp", include_entry=True)
    sbx.files.write("/tmp/e.txt", "entry")
    wait_until(lambda: any(e.entry is not None and e.entry.path == "/tmp/e.txt" for e in handle.get_new_events()))
    handle.stop()
