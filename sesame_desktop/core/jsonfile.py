"""Small JSON files read and written safely.

Reading: only a regular file (a FIFO, a device such as ``/dev/zero`` or a socket is refused
without blocking), and only up to a size limit. Writing: atomically, keeping the file's mode,
its key order and indent; through a symbolic link (the link stays, its target is rewritten)
and, for a file with several hard links, in place, so every name sees the change.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

MAX_CONFIG_BYTES = 1024 * 1024


class NotARegularFile(OSError):
    """The path names a FIFO, a device, a socket or a folder: it is not read.

    Attributes:
        kind: what it is, in words ("a named pipe (FIFO)").
    """

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"{path} is {kind}, not a regular file")
        self.kind = kind


class FileTooLarge(OSError):
    """The file is larger than the limit it is read with."""


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_regular_file(path: Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of ``path`` when it is a regular file (links followed) of at most ``limit`` bytes.

    Never blocks on a FIFO and never reads more than ``limit + 1`` bytes.

    Raises:
        FileNotFoundError, PermissionError, OSError: as ``open`` does.
        NotARegularFile: ``path`` is a FIFO, a device, a socket or a folder.
        FileTooLarge: the file holds more than ``limit`` bytes.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(path, _kind_of(mode))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileTooLarge(f"{path} is larger than {limit:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: Any, *, indent: int | str | None = 2) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader never sees a half-written file; an existing file's permissions are kept.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    text = json.dumps(data, indent=indent, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def detect_indent(text: str) -> int | str | None:
    """The indent a JSON text uses (``None`` for a one-line file)."""
    match = re.search(r"\n([ \t]+)\S", text)
    if not match:
        return None
    unit = match.group(1)
    return unit if "\t" in unit else len(unit)


def _has_api_key(data: Any) -> bool:
    try:
        e2b = data["sandboxProvider"]["e2b"]
    except (KeyError, TypeError, IndexError):
        return False
    return isinstance(e2b, dict) and "apiKey" in e2b


def _write_in_place(path: Path, text: str) -> None:
    """Rewrite the file's own contents (its inode), for a file other names share."""
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    try:
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_api_key(path: Path) -> bool:
    """Delete ``sandboxProvider.e2b.apiKey`` from a ``config.json``; keep everything else.

    A symbolic link stays a link: the file it points to is rewritten. A file with other hard
    links is rewritten in place, so no name keeps the key. The file is read back afterwards:
    True means the key is really gone.

    Returns:
        True when a key was removed (and is confirmed gone), False when there was none.

    Raises:
        OSError: the file cannot be read or written, or still holds the key afterwards.
        ValueError: the file is not the JSON object it was when the key was read.
    """
    target = Path(os.path.realpath(path))
    text = read_regular_file(target).decode("utf-8-sig")
    data = json.loads(text)
    if not _has_api_key(data):
        return False
    del data["sandboxProvider"]["e2b"]["apiKey"]
    if os.stat(target).st_nlink > 1:
        indent = detect_indent(text)
        _write_in_place(target, json.dumps(data, indent=indent, ensure_ascii=False) + "\n")
    else:
        write_json_atomic(target, data, indent=detect_indent(text))
    if _has_api_key(json.loads(read_regular_file(path).decode("utf-8-sig"))):
        raise OSError(f"{path} still holds the key after it was rewritten")
    return True
