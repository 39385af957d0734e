"""Transcripts of agent sessions, read from their output as it arrives.

A session whose agent prints structured output (see :class:`OutputFormat`) gets a
:class:`TranscriptParser`; every chunk of its standard output goes through it. The console
keeps the raw output either way.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from sesame_desktop.core.agents import OutputFormat, preset
from sesame_desktop.core.sessions import SessionSnapshot
from sesame_desktop.core.transcript import TranscriptEntry, TranscriptParser
from sesame_desktop.services.sessions import SessionManager

MAX_ENTRIES = 5000


@dataclass(frozen=True)
class TranscriptUpdate:
    """New entries of one session's transcript."""

    session_id: str
    entries: tuple[TranscriptEntry, ...]


class TranscriptService(QObject):
    """Keeps each agent session's transcript.

    Signals:
        updated(TranscriptUpdate): entries were added to a session's transcript.
    """

    updated = Signal(object)

    def __init__(self, manager: SessionManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._parsers: dict[str, TranscriptParser] = {}
        self._entries: dict[str, list[TranscriptEntry]] = {}
        self._running: dict[str, str] = {}
        self._decoders: dict[str, codecs.IncrementalDecoder] = {}  # local output comes as bytes
        manager.session_added.connect(self._on_manager_session_added)
        manager.session_changed.connect(self._on_manager_session_changed)
        manager.add_output_tap(self._on_output)

    def has_transcript(self, session_id: str) -> bool:
        return session_id in self._parsers

    def entries(self, session_id: str) -> tuple[TranscriptEntry, ...]:
        return tuple(self._entries.get(session_id, ()))

    def files_touched(self, session_id: str) -> tuple[str, ...]:
        parser = self._parsers.get(session_id)
        return tuple(parser.files_touched) if parser else ()

    def _add(self, session_id: str, entries: list[TranscriptEntry]) -> None:
        if not entries:
            return
        kept = self._entries.setdefault(session_id, [])
        kept.extend(entries)
        del kept[:-MAX_ENTRIES]
        self.updated.emit(TranscriptUpdate(session_id, tuple(entries)))

    def _on_output(self, session_id: str, stream: str, chunk: bytes | str) -> None:
        parser = self._parsers.get(session_id)
        if parser is not None and stream == "stdout":
            if isinstance(chunk, bytes):
                decoder = self._decoders.get(session_id)
                if decoder is None:
                    decoder = self._decoders[session_id] = codecs.getincrementaldecoder("utf-8")("replace")
                chunk = decoder.decode(chunk)
            self._add(session_id, parser.feed(chunk))

    def _on_manager_session_added(self, snapshot: SessionSnapshot) -> None:
        agent = preset(self._manager.request(snapshot.id).agent)
        if agent is not None and agent.output is not OutputFormat.PLAIN:
            self._parsers[snapshot.id] = TranscriptParser(agent.output)
            self._entries[snapshot.id] = []

    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        parser = self._parsers.get(snapshot.id)
        if parser is None:
            return
        before = self._running.get(snapshot.id, "")
        self._running[snapshot.id] = snapshot.running
        if before and not snapshot.running:
            self._add(snapshot.id, parser.finish())
