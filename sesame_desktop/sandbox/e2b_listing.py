"""Folder listings from envd decoded one entry at a time, for the E2B provider's ``list_dir``.

One ``json`` parse of a 100,000-entry answer holds the GIL (so the GUI thread, even when the
parse runs in a worker thread) for 200 ms or more; so would a garbage collection over 100,000
decoded messages alive at once. Entry by entry, the GUI thread gets its turn every few
milliseconds and each decoded message is dropped once converted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
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
            items = _array_items(bytes(data).decode("utf-8"), "entries")
        except ValueError:  # not the expected shape: the SDK's own codec says what is wrong
            return ENVD_JSON_CODEC.decode(data, message_class)
        return _Listing(filesystem_pb.EntryInfo.from_json(text, ignore_unknown_fields=True) for text in items)


@dataclass(frozen=True)
class _Listing:
    """A ``ListDirResponse`` whose entries are decoded as the SDK reads them: 100,000 decoded
    messages alive at once would make each garbage collection (which holds the GIL) long."""

    entries: Iterator[filesystem_pb.EntryInfo]


_PIECEWISE_JSON_CODEC = _PiecewiseJSONCodec()


def _array_items(text: str, key: str) -> list[str]:
    """The JSON text of each item of the array under ``key`` in the JSON object ``text``.

    Raises:
        ValueError: ``text`` is not a JSON object, or ``key`` is no array in it.
    """
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        while i < len(text) and text[i] in _WHITESPACE:
            i += 1
        return i

    def expect(i: int, char: str) -> int:
        i = skip(i)
        if text[i:i + 1] != char:
            raise ValueError(f"expected {char!r} at {i}")
        return skip(i + 1)

    def value_end(i: int) -> int:
        return skip(decoder.raw_decode(text, i)[1])

    def members(i: int, close: str, member: Callable[[int], int]) -> int:
        """Past the closing ``close`` of the members starting at ``i``, each read by ``member``."""
        if text[i:i + 1] == close:
            return skip(i + 1)
        while True:
            i = member(i)
            if text[i:i + 1] == close:
                return skip(i + 1)
            i = expect(i, ",")

    items: list[str] = []

    def item(i: int) -> int:
        end = decoder.raw_decode(text, i)[1]
        items.append(text[i:end])
        return skip(end)

    def pair(i: int) -> int:
        name, i = decoder.raw_decode(text, i)
        if not isinstance(name, str):
            raise ValueError(f"expected a name at {i}")  # noqa: TRY004 - a malformed answer
        i = expect(i, ":")
        return members(expect(i, "["), "]", item) if name == key else value_end(i)

    if members(expect(0, "{"), "}", pair) != len(text):
        raise ValueError("extra data after the object")
    return items
