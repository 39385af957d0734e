"""One session's output: the console buffer (only while needed) and its copy on disk.

Everything the session prints, and every line the app adds about it (commands started and
ended, reconnections), goes through :class:`SessionOutput`: into the in-memory
:class:`TerminalBuffer` when one is loaded, and into the session's output file through the
:class:`SessionStore`. An ended session gives its buffer up (:meth:`SessionOutput.release`);
asking for it again loads it back from disk, without blocking the GUI thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sesame_desktop.core.terminal import DEFAULT_SCROLLBACK_CHARS, TerminalBuffer, format_command_end, format_command_start
from sesame_desktop.services.session_store import FINISH, FLUSH_S, META, STDERR, STDOUT, SessionStore, iter_output, pack

log = logging.getLogger(__name__)

FLUSH_BYTES = 64 * 1024


class SessionOutput:
    """Writes a session's output to its buffer and its file.

    Args:
        store: where the output is kept on disk (None: in memory only).
        scrollback: lines of the buffer.
        scrollback_chars: characters the buffer keeps at most.
    """

    def __init__(self, session_id: str, store: SessionStore | None, scrollback: int,
                 *, buffer: TerminalBuffer | None = None,
                 scrollback_chars: int = DEFAULT_SCROLLBACK_CHARS) -> None:
        self.session_id = session_id
        self._store = store
        self._scrollback = scrollback
        self._scrollback_chars = scrollback_chars
        self._buffer: TerminalBuffer | None = buffer if buffer is not None else (
            TerminalBuffer(scrollback, scrollback_chars) if store is None else None)
        self._pending = bytearray()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._loading: asyncio.Future[None] | None = None
        self._during_load: list[tuple[bytes, bytes]] | None = None
        self._line_taps: list[tuple[Callable[[str, str], None], str]] = []

    # -- the buffer -------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._buffer is not None

    def watch_lines(self, callback: Callable[[str, str], None], hint: str) -> None:
        """:meth:`TerminalBuffer.watch_lines` on the buffer now and on any loaded later."""
        self._line_taps.append((callback, hint))
        if self._buffer is not None:
            self._buffer.watch_lines(callback, hint)

    def buffer(self) -> TerminalBuffer:
        """The console buffer; loaded from disk (in the background) when it was released."""
        if self._buffer is None:
            self._buffer = TerminalBuffer(self._scrollback, self._scrollback_chars)
            for callback, hint in self._line_taps:
                self._buffer.watch_lines(callback, hint)
            if self._store is not None:
                self._loading = asyncio.ensure_future(self._load(self._buffer))
        return self._buffer

    async def _load(self, buffer: TerminalBuffer) -> None:
        assert self._store is not None
        self.flush()
        self._during_load = []  # what arrives while the file is read goes in after it
        try:
            data = await self._store.read_output(self.session_id)
            if self._buffer is buffer:
                replay(buffer, data)
                replay(buffer, b"".join(pack(k, p) for k, p in self._during_load))
        finally:
            self._during_load = None

    @property
    def loading(self) -> bool:
        """The buffer is being filled from disk."""
        return self._loading is not None and not self._loading.done()

    async def loaded_from_disk(self) -> None:
        """Wait until a buffer being loaded holds what the disk had."""
        if self._loading is not None:
            await self._loading

    def release(self) -> None:
        """Give the buffer up (an ended session): its output stays on disk."""
        if self._store is None:
            return
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        self._loading = None
        self._buffer = None

    # -- writing ----------------------------------------------------------------------------

    def feed(self, chunk: bytes | str, stream: str) -> None:
        """Output as the provider delivers it: the buffer takes ``str`` as it is (no second
        decoding); only the copy on disk needs bytes."""
        kind = STDERR if stream == "stderr" else STDOUT
        if self._during_load is not None:
            data = chunk.encode("utf-8", "replace") if isinstance(chunk, str) else chunk
            self._during_load.append((kind, data))
            self._record(kind, data)
            return
        if self._buffer is not None:
            self._buffer.feed(chunk, stream)
        if self._store is not None:
            self._record(kind, chunk.encode("utf-8", "replace") if isinstance(chunk, str) else chunk)

    def finish(self) -> None:
        if self._during_load is not None:
            self._during_load.append((FINISH, b""))
        elif self._buffer is not None:
            self._buffer.finish()
        self._record(FINISH, b"")

    def meta(self, text: str) -> None:
        payload = text.encode("utf-8", "replace")
        if self._during_load is not None:
            self._during_load.append((META, payload))
        elif self._buffer is not None:
            self._buffer.add_meta(text)
        self._record(META, payload)

    def begin_command(self, command: str, started_at: datetime) -> None:
        self.meta(format_command_start(command, started_at))

    def end_command(self, exit_code: int | None, signal_name: str | None, duration_s: float) -> None:
        self.meta(format_command_end(exit_code, signal_name, duration_s))

    def _record(self, kind: bytes, payload: bytes) -> None:
        if self._store is None:
            return
        self._pending += pack(kind, payload)
        if len(self._pending) >= FLUSH_BYTES:
            self.flush()
        elif self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        """Hand what is pending to the store's I/O thread now."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._pending and self._store is not None:
            self._store.append_output(self.session_id, bytes(self._pending))
            self._pending.clear()

    def close(self) -> None:
        """Flush and stop: nothing more is written (the session is removed or the app quits)."""
        self.flush()
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        self._store = None


def replay(buffer: TerminalBuffer, data: bytes) -> None:
    """Feed the records of an output file into ``buffer``."""
    for kind, payload in iter_output(data):
        if kind == STDOUT:
            buffer.feed(payload, "stdout")
        elif kind == STDERR:
            buffer.feed(payload, "stderr")
        elif kind == META:
            buffer.add_meta(payload.decode("utf-8", "replace"))
        elif kind == FINISH:
            buffer.finish()
