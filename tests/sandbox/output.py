"""Collects a command's output for the provider tests."""


class Output:
    def __init__(self) -> None:
        self.out = bytearray()
        self.err = bytearray()

    def on_out(self, chunk: bytes) -> None:
        self.out += chunk

    def on_err(self, chunk: bytes) -> None:
        self.err += chunk
