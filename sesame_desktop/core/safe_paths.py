"""Local paths built from names that came out of a sandbox, which must never escape."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                              *(f"LPT{i}" for i in range(1, 10))})


class UnsafeName(ValueError):
    """A name that cannot be written inside the chosen folder as it is."""


def check_part(name: str) -> str:
    """``name`` when it is one plain path component on every OS, else UnsafeName."""
    if not name or name in (".", ".."):
        raise UnsafeName(f"the name {name!r} is not a file name")
    if "/" in name or "\\" in name or "\0" in name:
        raise UnsafeName(f"the name {name!r} contains a path separator")
    if os.name == "nt":  # pragma: no cover - checked on Windows runners
        if name.split(".")[0].upper() in WINDOWS_RESERVED or name.endswith((" ", ".")) or ":" in name:
            raise UnsafeName(f"the name {name!r} cannot be used on Windows")
    return name


def safe_local_path(base: Path, parts: Sequence[str]) -> Path:
    """``base / parts…``, guaranteed to stay inside ``base``.

    Raises:
        UnsafeName: a part is not a plain name, or the result (with links followed) leaves
            ``base``.
    """
    root = base.resolve()
    target = root.joinpath(*(check_part(p) for p in parts))
    resolved = target.parent.resolve() / target.name
    if resolved != root and root not in resolved.parents:
        raise UnsafeName(f"{'/'.join(parts)!r} would be written outside {base}")
    if resolved.is_symlink():
        raise UnsafeName(f"{'/'.join(parts)!r} is a link in the destination")
    return resolved
