"""A wrapper that keeps a secret out of reprs, logs and tracebacks by accident."""

from __future__ import annotations

from typing import NoReturn


class Secret:
    """A secret string. ``str()``, ``repr()`` and f-strings show a mask, never the value.

    Call :meth:`reveal` at the one place that must hand the value on (the keyring, the SDK).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:  # pickling would write the secret somewhere
        raise TypeError("a Secret cannot be pickled")
