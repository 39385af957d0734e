"""envd's ``filesystem.Filesystem`` Connect service over a sandbox's host folders.

Paths are sandbox paths: absolute, or relative to the user's home (``/home/user``); answers
carry absolute sandbox paths. ``/home`` and ``/tmp`` map to the sandbox's private folders,
anything else to the host's read-only root (as a sandbox sees it through bubblewrap).
Files owned by the server's uid are reported as owned by ``user``.
"""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import secrets
import shutil
import stat as st
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from e2b.envd.filesystem import filesystem_pb as pb
from e2b.envd.filesystem.filesystem_connect import FilesystemASGIApplication
from protobuf import Oneof
from protobuf.wkt import Timestamp

from .envd_process import _keepalive, request_user
from .inotify import Watcher
from .sandboxes import SANDBOX_UID, Sandbox
from .streams import StreamControl, current_sandbox, drop_connection

_EVENT_TYPES = {
    "create": pb.EventType.CREATE,
    "write": pb.EventType.WRITE,
    "remove": pb.EventType.REMOVE,
    "rename": pb.EventType.RENAME,
    "chmod": pb.EventType.CHMOD,
}
_SERVER_UID = os.geteuid()
_SERVER_GID = os.getegid()


def owner_names(s: os.stat_result) -> tuple[str, str]:
    """Owner and group as the sandbox names them (uid/gid 1000 is ``user`` there)."""
    if _SERVER_UID != 0 and s.st_uid == _SERVER_UID:
        return "user", "user"  # user-namespace mode: the server's uid is ``user`` inside
    return _name(s.st_uid, pwd.getpwuid), _name(s.st_gid, grp.getgrgid)


def _name(ident: int, lookup: Any) -> str:
    if ident == SANDBOX_UID:
        return "user"
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def entry_info(sbx: Sandbox, host: Path, name: str | None = None) -> pb.EntryInfo:
    """EntryInfo of ``host`` (lstat; a symlink also reports its target's type)."""
    ls = os.lstat(host)
    is_link = st.S_ISLNK(ls.st_mode)
    s = ls
    target = None
    if is_link:
        target = os.readlink(host)
        try:
            s = os.stat(host)
        except OSError:
            s = ls
    if st.S_ISDIR(s.st_mode):
        ftype = pb.FileType.DIRECTORY
    elif st.S_ISREG(s.st_mode):
        ftype = pb.FileType.FILE
    else:
        ftype = pb.FileType.SYMLINK if is_link else pb.FileType.FILE
    owner, group = owner_names(ls)
    info = pb.EntryInfo(
        name=name if name is not None else host.name,
        type=ftype,
        path=sbx.sandbox_path(host),
        size=s.st_size,
        mode=s.st_mode & 0o777,
        permissions=st.filemode(ls.st_mode),
        owner=owner,
        group=group,
        modified_time=Timestamp.from_nanos(ls.st_mtime_ns),
        is_symlink=is_link,
        metadata=read_metadata(host),
    )
    if target is not None:
        info.symlink_target = sbx.sandbox_path(Path(os.path.join(os.path.dirname(host), target)))
    return info


XATTR_PREFIX = "user.e2b."


def read_metadata(host: Path) -> dict[str, str]:
    """A file's user metadata: its ``user.e2b.*`` extended attributes (as envd stores it)."""
    try:
        names = os.listxattr(host, follow_symlinks=False)
        return {
            n[len(XATTR_PREFIX) :]: os.getxattr(host, n, follow_symlinks=False).decode(errors="replace")
            for n in names
            if n.startswith(XATTR_PREFIX)
        }
    except OSError:
        return {}


def write_metadata(host: Path, metadata: dict[str, str]) -> None:
    """Replace a file's user metadata with ``metadata`` (empty: remove what it had)."""
    for name in os.listxattr(host):
        if name.startswith(XATTR_PREFIX) and name[len(XATTR_PREFIX) :] not in metadata:
            os.removexattr(host, name)
    for key, value in metadata.items():
        os.setxattr(host, XATTR_PREFIX + key, value.encode())


def _not_found(path: str) -> ConnectError:
    return ConnectError(Code.NOT_FOUND, f"path '{path}' does not exist")


def _os_error(e: OSError, path: str) -> ConnectError:
    if isinstance(e, FileNotFoundError):
        return _not_found(path)
    if isinstance(e, PermissionError) or e.errno == 30:  # EROFS
        return ConnectError(Code.PERMISSION_DENIED, f"cannot change '{path}': {e.strerror}")
    return ConnectError(Code.INTERNAL, f"{path}: {e}")


class FilesystemService:
    """Implements ``filesystem.Filesystem`` for whichever sandbox the request is routed to."""

    def __init__(self, streams: StreamControl) -> None:
        self.streams = streams
        #: polling watchers: sandbox id -> watcher id -> (inotify watcher, events not yet fetched)
        self._watchers: dict[str, dict[str, tuple[Watcher, list[pb.FilesystemEvent]]]] = {}

    @staticmethod
    def _resolve(ctx: RequestContext, path: str, write: bool = False) -> tuple[Sandbox, Path]:
        sbx = current_sandbox()
        if not write:
            return sbx, sbx.host_path(path, request_user(ctx))
        try:
            return sbx, sbx.writable_path(path, request_user(ctx))
        except PermissionError as e:
            raise _os_error(e, path) from e

    async def stat(self, request: pb.StatRequest, ctx: RequestContext) -> pb.StatResponse:
        sbx, host = self._resolve(ctx, request.path)
        try:
            return pb.StatResponse(entry=entry_info(sbx, host))
        except OSError as e:
            raise _os_error(e, request.path) from e

    async def make_dir(self, request: pb.MakeDirRequest, ctx: RequestContext) -> pb.MakeDirResponse:
        sbx, host = self._resolve(ctx, request.path)
        if host.exists():
            if host.is_dir():
                raise ConnectError(Code.ALREADY_EXISTS, f"directory '{request.path}' already exists")
            raise ConnectError(
                Code.INVALID_ARGUMENT, f"path '{request.path}' already exists and is not a directory"
            )
        self._resolve(ctx, request.path, write=True)
        user = request_user(ctx)
        missing = [p for p in [host, *host.parents] if not p.exists()]
        try:
            host.mkdir(parents=True)
        except OSError as e:
            raise _os_error(e, request.path) from e
        for p in missing:
            sbx.give_to(p, user)
        return pb.MakeDirResponse(entry=entry_info(sbx, host))

    async def move(self, request: pb.MoveRequest, ctx: RequestContext) -> pb.MoveResponse:
        sbx, src = self._resolve(ctx, request.source)
        if not os.path.lexists(src):
            raise _not_found(request.source)
        sbx, src = self._resolve(ctx, request.source, write=True)
        _, dst = self._resolve(ctx, request.destination, write=True)
        try:
            for p in reversed([p for p in dst.parents if not p.exists()]):
                p.mkdir()
                sbx.give_to(p, request_user(ctx))
            os.rename(src, dst)
        except OSError as e:
            raise _os_error(e, request.destination) from e
        return pb.MoveResponse(entry=entry_info(sbx, dst))

    async def list_dir(self, request: pb.ListDirRequest, ctx: RequestContext) -> pb.ListDirResponse:
        sbx, host = self._resolve(ctx, request.path)
        depth = request.depth or 1
        if not host.exists():
            raise _not_found(request.path)
        if not host.is_dir():
            raise ConnectError(Code.INVALID_ARGUMENT, f"path '{request.path}' is not a directory")
        entries: list[pb.EntryInfo] = []

        def walk(folder: Path, level: int) -> None:
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                return
            for name in names:
                child = folder / name
                try:
                    entries.append(entry_info(sbx, child))
                except OSError:
                    continue
                if level < depth and child.is_dir() and not child.is_symlink():
                    walk(child, level + 1)

        await asyncio.to_thread(walk, host, 1)
        return pb.ListDirResponse(entries=entries)

    async def remove(self, request: pb.RemoveRequest, ctx: RequestContext) -> pb.RemoveResponse:
        _, host = self._resolve(ctx, request.path)
        if not os.path.lexists(host):
            return pb.RemoveResponse()
        _, host = self._resolve(ctx, request.path, write=True)
        try:
            if host.is_dir() and not host.is_symlink():
                await asyncio.to_thread(shutil.rmtree, host)
            elif os.path.lexists(host):
                host.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            raise _os_error(e, request.path) from e
        return pb.RemoveResponse()

    def watch_dir(
        self, request: pb.WatchDirRequest, ctx: RequestContext
    ) -> AsyncIterator[pb.WatchDirResponse]:
        return self._watch(request, ctx)

    async def _watch(
        self, request: pb.WatchDirRequest, ctx: RequestContext
    ) -> AsyncIterator[pb.WatchDirResponse]:
        sbx, host = self._resolve(ctx, request.path)
        if not host.exists():
            raise _not_found(request.path)
        if not host.is_dir():
            raise ConnectError(Code.INVALID_ARGUMENT, f"path '{request.path}' is not a directory")
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        watcher = Watcher(host, request.recursive, lambda name, kind: queue.put_nowait((name, kind)))
        handle = self.streams.register(sbx.sandbox_id)
        loop = asyncio.get_running_loop()
        remaining = ctx.timeout_ms
        deadline = None if remaining is None else loop.time() + remaining / 1000.0
        keepalive = _keepalive(ctx)
        try:
            yield pb.WatchDirResponse(event=Oneof("start", pb.WatchDirResponse.StartEvent()))
            handle.sent_event()
            while True:
                if not sbx.alive:
                    drop_connection("sandbox was killed")
                wait = keepalive if deadline is None else min(keepalive, deadline - loop.time())
                getter = asyncio.ensure_future(queue.get())
                dropper = asyncio.ensure_future(handle.dropped.wait())
                done, _ = await asyncio.wait(
                    {getter, dropper}, timeout=max(0.0, wait), return_when=asyncio.FIRST_COMPLETED
                )
                for f in (getter, dropper):
                    if not f.done():
                        f.cancel()
                if dropper in done:
                    drop_connection("stream dropped")
                if getter not in done:
                    if deadline is not None and loop.time() >= deadline:
                        raise ConnectError(Code.DEADLINE_EXCEEDED, "context deadline exceeded")
                    yield pb.WatchDirResponse(event=Oneof("keepalive", pb.WatchDirResponse.KeepAlive()))
                    handle.sent_event()
                    continue
                name, kind = getter.result()
                event = pb.FilesystemEvent(name=name, type=_EVENT_TYPES[kind])
                if request.include_entry and kind != "remove" and kind != "rename":
                    try:
                        event.entry = entry_info(sbx, host / name)
                    except OSError:
                        pass
                yield pb.WatchDirResponse(event=Oneof("filesystem", event))
                handle.sent_event()
        finally:
            watcher.close()
            self.streams.unregister(handle)

    # -- polling watchers (the sync SDK's watch_dir) ------------------------------------
    async def create_watcher(
        self, request: pb.CreateWatcherRequest, ctx: RequestContext
    ) -> pb.CreateWatcherResponse:
        """Start watching like ``WatchDir``, but keep the events until they are fetched."""
        sbx, host = self._resolve(ctx, request.path)
        if not host.exists():
            raise _not_found(request.path)
        if not host.is_dir():
            raise ConnectError(Code.INVALID_ARGUMENT, f"path '{request.path}' is not a directory")
        watcher_id = secrets.token_hex(8)
        pending: list[pb.FilesystemEvent] = []

        def on_event(name: str, kind: str) -> None:
            event = pb.FilesystemEvent(name=name, type=_EVENT_TYPES[kind])
            if request.include_entry and kind not in ("remove", "rename"):
                try:
                    event.entry = entry_info(sbx, host / name)
                except OSError:
                    pass
            pending.append(event)

        watcher = Watcher(host, request.recursive, on_event)
        watchers = self._watchers.setdefault(sbx.sandbox_id, {})
        if not watchers:
            sbx.on_kill.append(lambda: self._close_watchers(sbx.sandbox_id))
        watchers[watcher_id] = (watcher, pending)
        return pb.CreateWatcherResponse(watcher_id=watcher_id)

    def _watcher(self, watcher_id: str) -> tuple[Watcher, list[pb.FilesystemEvent]]:
        found = self._watchers.get(current_sandbox().sandbox_id, {}).get(watcher_id)
        if found is None:
            raise ConnectError(Code.NOT_FOUND, f"watcher with id {watcher_id} not found")
        return found

    async def get_watcher_events(
        self, request: pb.GetWatcherEventsRequest, ctx: RequestContext
    ) -> pb.GetWatcherEventsResponse:
        watcher, pending = self._watcher(request.watcher_id)
        watcher.drain()  # events the kernel has queued but the loop has not read yet
        events = list(pending)
        pending.clear()
        return pb.GetWatcherEventsResponse(events=events)

    async def remove_watcher(
        self, request: pb.RemoveWatcherRequest, ctx: RequestContext
    ) -> pb.RemoveWatcherResponse:
        watcher, _ = self._watcher(request.watcher_id)
        watcher.close()
        del self._watchers[current_sandbox().sandbox_id][request.watcher_id]
        return pb.RemoveWatcherResponse()

    def _close_watchers(self, sandbox_id: str) -> None:
        for watcher, _ in self._watchers.pop(sandbox_id, {}).values():
            watcher.close()


def make_filesystem_app(streams: StreamControl) -> FilesystemASGIApplication:
    return FilesystemASGIApplication(FilesystemService(streams))
