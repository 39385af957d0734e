"""A small asyncio inotify watcher (ctypes over libc), recursive on request."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import errno
import os
import struct
from collections.abc import Callable
from pathlib import Path

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_IGNORED = 0x00008000
IN_ISDIR = 0x40000000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

MASK = IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF
_HEADER = struct.Struct("iIII")

# (relative name, kind) with kind one of "create", "write", "remove", "rename", "chmod"
Callback = Callable[[str, str], None]


class Watcher:
    """Watch ``root`` (and, if ``recursive``, every folder below it, including new ones)."""

    def __init__(self, root: Path, recursive: bool, callback: Callback) -> None:
        self.root = root
        self.recursive = recursive
        self.callback = callback
        fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        self.fd = fd
        self.wds: dict[int, Path] = {}
        self._add(root)
        if recursive:
            for dirpath, dirnames, _ in os.walk(root):
                for d in dirnames:
                    self._add(Path(dirpath) / d)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(fd, self._read)

    def _add(self, path: Path) -> None:
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), MASK)
        if wd < 0:
            e = ctypes.get_errno()
            if path == self.root:
                raise OSError(e, os.strerror(e), str(path))
            return
        self.wds[wd] = path

    def _read(self) -> None:
        try:
            buf = os.read(self.fd, 65536)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EINTR):
                return
            raise
        off = 0
        while off + _HEADER.size <= len(buf):
            wd, mask, _cookie, length = _HEADER.unpack_from(buf, off)
            off += _HEADER.size
            name = buf[off : off + length].rstrip(b"\0").decode(errors="replace")
            off += length
            self._dispatch(wd, mask, name)

    def _dispatch(self, wd: int, mask: int, name: str) -> None:
        base = self.wds.get(wd)
        if base is None:
            return
        if mask & IN_IGNORED:
            self.wds.pop(wd, None)
            return
        if not name:  # event on the watched folder itself
            return
        full = base / name
        rel = str(full.relative_to(self.root))
        if mask & IN_CREATE or mask & IN_MOVED_TO:
            self.callback(rel, "create")
            if self.recursive and mask & IN_ISDIR:
                # Watch the new folder; what was created in it before the watch existed is
                # reported as created, so nothing is lost to the race.
                self._add(full)
                for dirpath, dirnames, filenames in os.walk(full):
                    for d in dirnames:
                        self._add(Path(dirpath) / d)
                    for n in dirnames + filenames:
                        self.callback(str((Path(dirpath) / n).relative_to(self.root)), "create")
        if mask & IN_MODIFY:
            self.callback(rel, "write")
        if mask & IN_ATTRIB:
            self.callback(rel, "chmod")
        if mask & IN_DELETE:
            self.callback(rel, "remove")
        if mask & IN_MOVED_FROM:
            self.callback(rel, "rename")

    def drain(self) -> None:
        """Read the events queued right now (without waiting for the event loop)."""
        if self.fd >= 0:
            self._read()

    def close(self) -> None:
        if self.fd >= 0:
            self._loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1
