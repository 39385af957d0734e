"""Session records in SQLite and session output on disk, written on one I/O thread.

Every disk call runs on a single worker thread owned by :class:`SessionStore`, in the order
it was asked for (so a later record never loses to an earlier one), never on the GUI thread.
Records are written on every change; output is appended in small batches (every
``FLUSH_S`` seconds), so a crash (``kill -9``) loses at most that much output and no record.

Output is kept per session in two files of at most ``max_output_bytes / 2`` each: when the
current file is full it becomes the older one (the oldest output is dropped), so a session's
history on disk is bounded in bytes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import shutil
import sqlite3
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sesame_desktop.core.session_record import SessionRecord, from_json, to_json

log = logging.getLogger(__name__)
T = TypeVar("T")

FLUSH_S = 0.2
DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024
_HEADER = struct.Struct(">cI")

# record kinds in an output file
STDOUT, STDERR, META, FINISH = b"o", b"e", b"m", b"f"


def iter_output(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``(kind, payload)`` records of an output file; a torn last record is skipped."""
    pos, size = 0, len(data)
    while pos + _HEADER.size <= size:
        kind, length = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        if start + length > size:
            return
        yield kind, data[start:start + length]
        pos = start + length


def pack(kind: bytes, payload: bytes) -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


class SessionStore:
    """The app's session records (``sessions.db``) and output files (``sessions/<id>/``).

    Args:
        data_dir: the app's data folder.
        max_output_bytes: the most output kept on disk per session.
    """

    def __init__(self, data_dir: Path, *, max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES) -> None:
        self.data_dir = data_dir
        self.db_path = data_dir / "sessions.db"
        self.sessions_dir = data_dir / "sessions"
        self.max_output_bytes = max_output_bytes
        self._io = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sesame-store")
        self._db: sqlite3.Connection | None = None  # used only on the I/O thread
        self._closed = False
        self.write_errors = 0

    # -- the I/O thread ---------------------------------------------------------------------

    def _submit(self, func: Callable[[], Any]) -> None:
        if self._closed:
            log.warning("session store closed: a write was dropped")
            return
        future = self._io.submit(func)
        future.add_done_callback(self._on_io_done)

    def _on_io_done(self, future: concurrent.futures.Future[Any]) -> None:
        exc = future.exception()
        if exc is not None:
            self.write_errors += 1
            log.error("session store: a write failed: %s", exc)

    async def _run(self, func: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._io.submit(func))

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.db_path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, created REAL, data TEXT NOT NULL)")
            self._db = db
        return self._db

    # -- records ----------------------------------------------------------------------------

    def save(self, record: SessionRecord) -> None:
        """Write ``record`` (replacing the session's older one), in order, off the GUI thread."""
        text = json.dumps(to_json(record))
        session_id, created = record.snapshot.id, record.snapshot.created_at

        def write() -> None:
            self._conn().execute("INSERT OR REPLACE INTO sessions (id, created, data) VALUES (?, ?, ?)",
                                 (session_id, created, text))

        self._submit(write)

    def delete(self, session_id: str) -> None:
        """Forget the session: its record and its output files."""
        folder = self.sessions_dir / session_id

        def remove() -> None:
            self._conn().execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            shutil.rmtree(folder, ignore_errors=True)

        self._submit(remove)

    async def load(self) -> list[SessionRecord]:
        """Every record, oldest session first; damaged ones are logged and skipped."""

        def read() -> list[str]:
            return [row[0] for row in self._conn().execute("SELECT data FROM sessions ORDER BY created, id")]

        records = []
        for text in await self._run(read):
            try:
                records.append(from_json(json.loads(text)))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("a damaged session record was skipped: %s", exc)
        return records

    # -- output -----------------------------------------------------------------------------

    def output_files(self, session_id: str) -> tuple[Path, Path]:
        folder = self.sessions_dir / session_id
        return folder / "output.1.bin", folder / "output.bin"

    def append_output(self, session_id: str, data: bytes) -> None:
        older, current = self.output_files(session_id)
        half = max(1, self.max_output_bytes // 2)

        def append() -> None:
            current.parent.mkdir(parents=True, exist_ok=True)
            size = current.stat().st_size if current.exists() else 0
            if size and size + len(data) > half:
                current.replace(older)
            with open(current, "ab") as file:
                file.write(data)

        self._submit(append)

    async def read_output(self, session_id: str) -> bytes:
        """The session's output on disk, oldest first (records as :func:`iter_output` reads them)."""
        older, current = self.output_files(session_id)

        def read() -> bytes:
            parts = []
            for path in (older, current):
                try:
                    parts.append(path.read_bytes())
                except FileNotFoundError:
                    pass
            return b"".join(parts)

        return await self._run(read)

    def write_file(self, path: Path, data: bytes) -> None:
        """Write a file of the session's folder (saved work), in order with everything else."""

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        self._submit(write)

    async def run(self, func: Callable[[], T]) -> T:
        """Run ``func`` on the I/O thread, after every write asked for before."""
        return await self._run(func)

    async def aclose(self) -> None:
        """Finish every write, close the database and stop the I/O thread."""
        if self._closed:
            return

        def close_db() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await self._run(close_db)
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._io.shutdown)
