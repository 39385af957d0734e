"""Folder listings from envd decoded one entry at a time, for the E2B provider's ``list_dir``.

One ``json`` parse of a 100,000-entry answer holds the GIL (so the GUI thread, even when the
parse runs in a worker thread) for 200 ms or more; so would a garbage collection over 100,000
decoded messages alive at once. Entry by entry, the GUI thread gets its turn every few
milliseconds and each decoded message is dropped once converted. Even turning the answer's
25 MB into one string holds the GIL for about 15 ms, so it is decoded and scanned a piece of
``PIECE`` bytes at a time.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from e2b.api import proxy_to_config
from e2b.api.client_sync import get_pyqwest_transport
from e2b.connection_config import ConnectionConfig
from e2b.envd.client_shared import ENVD_JSON_CODEC, ENVD_RPC_COMPRESSION
from e2b.envd.client_sync import PlainHTTPErrorTransport
from e2b.envd.filesystem import filesystem_connect, filesystem_pb
from e2b.envd.interceptors import build_interceptors
from pyqwest import SyncClient

from sesame_desktop.core.pacing import Pacer, paced

__all__ = ["piecewise_filesystem_client"]


def piecewise_filesystem_client(base_url: str, config: ConnectionConfig) -> filesystem_connect.FilesystemClientSync:
    """The SDK's synchronous envd filesystem client (as ``e2b.envd.client_sync.create_rpc_client``
    makes it: same transport pool, interceptors, compression), with the piecewise codec."""
    return filesystem_connect.FilesystemClientSync(
        base_url, codec=_PIECEWISE_JSON_CODEC, interceptors=build_interceptors(config, base_url),
        http_client=SyncClient(PlainHTTPErrorTransport(get_pyqwest_transport(
            proxy_to_config(config.proxy), http_version=config.http_version))),
        **ENVD_RPC_COMPRESSION)


_WHITESPACE = " \t\n\r"
PIECE = 1 << 20  # bytes decoded at once


class _PiecewiseJSONCodec:
    """The SDK's envd JSON codec, except that a folder listing is parsed one entry at a time."""

    def name(self) -> str:
        return ENVD_JSON_CODEC.name()

    def encode(self, message: Any) -> bytes:
        return ENVD_JSON_CODEC.encode(message)

    def decode(self, data: Any, message_class: Any) -> Any:
        if message_class is not filesystem_pb.ListDirResponse:
            return ENVD_JSON_CODEC.decode(data, message_class)
        try:
            items = _array_items(data, "entries")
        except ValueError:  # not the expected shape: the SDK's own codec says what is wrong
            return ENVD_JSON_CODEC.decode(data, message_class)
        return _Listing(paced(filesystem_pb.EntryInfo.from_json(text, ignore_unknown_fields=True) for text in items))


@dataclass(frozen=True)
class _Listing:
    """A ``ListDirResponse`` whose entries are decoded as the SDK reads them: 100,000 decoded
    messages alive at once would make each garbage collection (which holds the GIL) long."""

    entries: Iterator[filesystem_pb.EntryInfo]


_PIECEWISE_JSON_CODEC = _PiecewiseJSONCodec()

def _array_items(data: bytes | bytearray | memoryview, key: str, piece: int = PIECE) -> list[str]:
    """The JSON text of each item of the array under ``key`` in the UTF-8 JSON object ``data``
    (none when the object has no ``key``, as protobuf's JSON leaves out an empty list).

    Raises:
        ValueError: ``data`` is not a JSON object, or ``key`` is no array in it.
    """
    scan = _Scanner(data, piece)
    pacer = Pacer()  # this runs in a worker thread: it lets the GUI thread have the GIL
    items: list[str] = []
    scan.expect("{")
    if scan.peek() == "}":
        scan.take()
    else:
        while True:
            name = scan.value()
            if not isinstance(name, str):
                raise ValueError("expected a name")  # noqa: TRY004 - a malformed answer
            scan.expect(":")
            if name == key:
                scan.expect("[")
                if scan.peek() == "]":
                    scan.take()
                else:
                    items.append(scan.value_text())
                    while scan.after_item("]"):
                        items.append(scan.value_text())
                        pacer.tick()
            else:
                scan.value()
            if not scan.after_item("}"):
                break
    if scan.peek() != "":
        raise ValueError("extra data after the object")
    return items


class _Scanner:
    """JSON text decoded from UTF-8 a piece at a time and read from front to back; only the
    piece being read and what is left of the one before are held as one string."""

    def __init__(self, data: bytes | bytearray | memoryview, piece: int) -> None:
        self._data = memoryview(data)
        self._piece = piece
        self._at = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._json = json.JSONDecoder()
        self._text = ""
        self._i = 0

    def _more(self) -> bool:
        """Decode the next piece after what is left to read; False when all was decoded."""
        if self._at >= len(self._data):
            return False
        end = self._at + self._piece
        decoded = self._decoder.decode(self._data[self._at:end], final=end >= len(self._data))
        self._text, self._i, self._at = self._text[self._i:] + decoded, 0, end
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            text, i = self._text, self._i
            while i < len(text) and text[i] in _WHITESPACE:
                i += 1
            self._i = i
            if i < len(text) or not self._more():
                return text[i:i + 1]

    def take(self) -> str:
        char = self.peek()
        self._i += len(char)
        return char

    def after_item(self, close: str) -> bool:
        """Past a comma (True: another item follows) or ``close`` (False: the last item)."""
        char = self.take()
        if char not in (",", close) or not char:
            raise ValueError(f"expected ',' or {close!r}")
        return char == ","

    def expect(self, char: str) -> None:
        if self.take() != char:
            raise ValueError(f"expected {char!r}")

    def value(self) -> object:
        return self._value()[0]

    def value_text(self) -> str:
        return self._value()[1]

    def _value(self) -> tuple[object, str]:
        self.peek()
        while True:
            try:
                value, end = self._json.raw_decode(self._text, self._i)
            except json.JSONDecodeError:
                if self._more():  # the value goes on in the next piece
                    continue
                raise
            if end == len(self._text) and self._more():  # a number may go on in the next piece
                continue
            text, self._i = self._text[self._i:end], end
            return value, text
