"""The file API: read/write (multipart, octet-stream, gzip), list, stat, mkdir, move, remove,
watch, owners and permissions — and that commands see the same files."""

from __future__ import annotations

import os

import httpx
import pytest
from e2b import AsyncSandbox, FilesystemEventType, FileType, Sandbox
from e2b.exceptions import (
    FileNotFoundException,
    InvalidArgumentException,
    SandboxException,
)

from .conftest import await_until


def test_write_and_read_every_way(e2b_env, run_async) -> None:
    payload = bytes(range(256)) * 300  # binary, 75 KiB

    async def go():
        sbx = await AsyncSandbox.create()
        infos = [
            await sbx.files.write("/home/user/multipart.txt", "multipart ✓"),
            await sbx.files.write("octet.bin", payload, use_octet_stream=True),
            await sbx.files.write("deep/er/gzip.bin", payload, gzip=True),
        ]
        many = await sbx.files.write_files(
            [{"path": "/home/user/m/one.txt", "data": "1"}, {"path": "/tmp/two.txt", "data": b"2"}]
        )
        read = (
            await sbx.files.read("multipart.txt"),
            bytes(await sbx.files.read("/home/user/octet.bin", format="bytes")),
            bytes(await sbx.files.read("deep/er/gzip.bin", format="bytes", gzip=True)),
            await sbx.files.read("/home/user/m/one.txt"),
            await sbx.files.read("/tmp/two.txt"),
        )
        stream = await sbx.files.read("octet.bin", format="stream")
        streamed = b"".join([chunk async for chunk in stream])
        with pytest.raises(FileNotFoundException):
            await sbx.files.read("/home/user/missing.txt")
        await sbx.files.write("multipart.txt", "overwritten")
        over = await sbx.files.read("multipart.txt")
        tagged = await sbx.files.write("tagged.txt", "t", metadata={"origin": "upload", "Kind": "note"})
        tagged_info = await sbx.files.get_info("tagged.txt")
        sums = await sbx.commands.run(
            "cat multipart.txt; echo; md5sum octet.bin deep/er/gzip.bin | cut -c1-32"
        )
        return infos, many, read, streamed, over, sums.stdout, tagged, tagged_info

    infos, many, read, streamed, over, sums, tagged, tagged_info = run_async(go())
    assert tagged.metadata == tagged_info.metadata == {"origin": "upload", "kind": "note"}
    assert infos[0].metadata is None
    assert [(i.name, i.path, i.type) for i in infos] == [
        ("multipart.txt", "/home/user/multipart.txt", FileType.FILE),
        ("octet.bin", "/home/user/octet.bin", FileType.FILE),
        ("gzip.bin", "/home/user/deep/er/gzip.bin", FileType.FILE),
    ]
    assert [i.path for i in many] == ["/home/user/m/one.txt", "/tmp/two.txt"]
    assert read == ("multipart ✓", payload, payload, "1", "2")
    assert streamed == payload
    assert over == "overwritten"
    first, second = sums.splitlines()[1:]
    assert first == second  # the command sees the same bytes the file API wrote


def test_list_stat_mkdir_move_remove(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        await sbx.commands.run(
            "mkdir -p p/src/lib && echo x > p/a.txt && echo yy > p/src/b.txt && ln -s a.txt p/link"
        )
        one = await sbx.files.list("p")
        two = await sbx.files.list("/home/user/p", depth=2)
        with pytest.raises(InvalidArgumentException):
            await sbx.files.list("p", depth=0)
        with pytest.raises(FileNotFoundException):
            await sbx.files.list("nope")
        info = await sbx.files.get_info("p/src/b.txt")
        exists = (await sbx.files.exists("p/a.txt"), await sbx.files.exists("p/zzz"))
        made = (await sbx.files.make_dir("new/nested"), await sbx.files.make_dir("new/nested"))
        moved = await sbx.files.rename("p/a.txt", "/home/user/new/a-moved.txt")
        await sbx.files.remove("p/src")
        await sbx.files.remove("p/does-not-exist")
        left = await sbx.commands.run("ls -A p new new/nested; cat new/a-moved.txt")
        return one, two, info, exists, made, moved, left.stdout

    one, two, info, exists, made, moved, left = run_async(go())
    assert sorted((e.name, e.type) for e in one) == [
        ("a.txt", FileType.FILE), ("link", FileType.SYMLINK), ("src", FileType.DIR)
    ]  # fmt: skip
    link = next(e for e in one if e.name == "link")
    assert link.symlink_target == "/home/user/p/a.txt"
    assert sorted(e.path for e in two) == [
        "/home/user/p/a.txt", "/home/user/p/link", "/home/user/p/src",
        "/home/user/p/src/b.txt", "/home/user/p/src/lib",
    ]  # fmt: skip
    assert (info.name, info.path, info.size, info.type) == (
        "b.txt",
        "/home/user/p/src/b.txt",
        3,
        FileType.FILE,
    )
    assert info.modified_time.year >= 2024
    assert exists == (True, False)
    assert made == (True, False)
    assert (moved.name, moved.path) == ("a-moved.txt", "/home/user/new/a-moved.txt")
    assert left.split() == ["new:", "a-moved.txt", "nested", "new/nested:", "p:", "link", "x"]


def test_owners_and_permissions(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        await sbx.files.write("secret.txt", "s")
        await sbx.commands.run("chmod 600 secret.txt && mkdir -m 750 private")
        secret = await sbx.files.get_info("secret.txt")
        private = await sbx.files.get_info("private")
        seen = await sbx.commands.run("stat -c '%U %G %a' secret.txt")
        host_file = await sbx.files.get_info("/etc/passwd")
        as_root = await sbx.commands.run("whoami; echo $HOME", user="root")
        denied = []
        for attempt in (
            sbx.files.write("/etc/not-allowed", "x"),
            sbx.files.remove("/etc/hostname"),
            sbx.files.make_dir("/usr/not-allowed"),
            sbx.files.rename("/etc/hostname", "/home/user/stolen"),
        ):
            with pytest.raises(SandboxException) as err:
                await attempt
            denied.append(str(err.value))
        return secret, private, seen.stdout, host_file, as_root.stdout, denied

    secret, private, seen, host_file, as_root, denied = run_async(go())
    assert (secret.permissions, secret.mode, secret.owner, secret.group) == (
        "-rw-------",
        0o600,
        "user",
        "user",
    )
    assert (private.permissions, private.mode, private.type) == ("drwxr-x---", 0o750, FileType.DIR)
    assert seen == "user user 600\n"
    assert host_file.owner == "root"
    assert as_root == "root\n/root\n"
    assert all("read-only" in d or "ermission" in d for d in denied), denied
    assert not os.path.exists("/etc/not-allowed") and not os.path.exists("/usr/not-allowed")
    assert os.path.exists("/etc/hostname")


def test_watch_directory_recursive_with_inotify(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        await sbx.files.make_dir("w/sub")
        events = []
        flat_events = []
        handle = await sbx.files.watch_dir("w", events.append, recursive=True)
        flat = await sbx.files.watch_dir("/home/user/w", flat_events.append)
        await sbx.files.write("w/a.txt", "1")
        await sbx.commands.run("echo 2 > w/sub/b.txt && mkdir w/sub/new && echo 3 > w/sub/new/c.txt")
        await sbx.commands.run("chmod 700 w/a.txt && mv w/a.txt w/renamed.txt && rm w/sub/b.txt")
        want = {
            ("a.txt", FilesystemEventType.CREATE), ("sub/b.txt", FilesystemEventType.WRITE),
            ("sub/new/c.txt", FilesystemEventType.CREATE), ("a.txt", FilesystemEventType.CHMOD),
            ("a.txt", FilesystemEventType.RENAME), ("renamed.txt", FilesystemEventType.CREATE),
            ("sub/b.txt", FilesystemEventType.REMOVE),
        }  # fmt: skip
        await await_until(lambda: want <= {(e.name, e.type) for e in events}, timeout=5)
        await await_until(lambda: any(e.name == "renamed.txt" for e in flat_events), timeout=5)
        await handle.stop()
        await flat.stop()
        return events, flat_events

    events, flat_events = run_async(go())
    assert all(not e.name.startswith("/") for e in events)  # names relative to the watched dir
    assert {e.name for e in flat_events} <= {"a.txt", "renamed.txt", "sub"}
    assert not any(e.name.startswith("sub/") for e in flat_events)


def test_commands_and_file_api_see_the_same_paths(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    sbx.commands.run("echo from-command > /tmp/cmd.txt && echo home > ~/h.txt")
    assert sbx.files.read("/tmp/cmd.txt") == "from-command\n"
    assert sbx.files.read("h.txt") == "home\n"
    sbx.files.write("/tmp/api.txt", "from-api")
    assert sbx.commands.run("cat /tmp/api.txt; echo; pwd").stdout == "from-api\n/home/user\n"
    assert (e2b_server.host_root(sbx.sandbox_id) / "h.txt").read_text() == "home\n"
    entries = sbx.files.list("/home/user")
    assert {e.name for e in entries} >= {"h.txt"}
    assert sbx.files.get_info("h.txt").owner == "user"


def test_signed_download_and_upload_urls(e2b_server) -> None:
    """``download_url``/``upload_url`` work without the SDK's headers, as a browser uses them."""
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    sbx.files.write("report.txt", "signed content")
    with httpx.Client() as client:
        got = client.get(sbx.download_url("/home/user/report.txt"))
        timed = client.get(sbx.download_url("/home/user/report.txt", use_signature_expiration=60))
        forged = client.get(sbx.download_url("/home/user/report.txt").replace("v1_", "v1_x"))
        other = client.get(sbx.download_url("/home/user/other.txt").replace("other.txt", "report.txt"))
        up = client.post(sbx.upload_url("/home/user/up.txt"), files={"file": ("up.txt", b"uploaded")})
    assert (got.status_code, got.text) == (200, "signed content")
    assert (timed.status_code, timed.text) == (200, "signed content")
    assert forged.status_code == 401 and other.status_code == 401
    assert up.status_code == 200 and up.json()[0]["path"] == "/home/user/up.txt"
    assert sbx.files.read("up.txt") == "uploaded"
