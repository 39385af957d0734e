"""Collects a command's output for the provider tests."""


class Output:
    def __init__(self) -> None:
        self.out = bytearray()
        self.err = bytearray()
        self.kinds: set[type] = set()  # what the provider delivered (bytes or str)

    def on_out(self, chunk: bytes | str) -> None:
        self.kinds.add(type(chunk))
        self.out += chunk.encode() if isinstance(chunk, str) else chunk

    def on_err(self, chunk: bytes | str) -> None:
        self.kinds.add(type(chunk))
        self.err += chunk.encode() if isinstance(chunk, str) else chunk
