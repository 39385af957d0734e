"""Local paths built from names that came out of a sandbox, which must never escape.

A sandbox is Linux: its file names may be ones this computer cannot store. On Windows
(:func:`windows_name_problem`) those are the device names (``CON``, ``NUL``, ``COM1``…, with
or without an extension), names with ``< > : " | ? *`` or control characters, and names that
end in a dot or a space. Such a file is not downloaded and the summary says why in words.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                              *(f"COM{i}" for i in (*range(1, 10), "\u00b9", "\u00b2", "\u00b3")),
                              *(f"LPT{i}" for i in (*range(1, 10), "\u00b9", "\u00b2", "\u00b3"))})
"""Device names: Windows opens the device, whatever the extension (``nul.txt`` is NUL)."""

WINDOWS_FORBIDDEN_CHARACTERS = frozenset('<>:"|?*') | frozenset(chr(c) for c in range(32))
MAX_NAME_LENGTH = 255


class UnsafeName(ValueError):
    """A name that cannot be written inside the chosen folder as it is."""


def windows_name_problem(name: str) -> str | None:
    """Why Windows refuses ``name`` as a file or folder name, in plain words; None when it takes it."""
    device = name.split(".")[0].rstrip(" ").upper()
    if device in WINDOWS_RESERVED:
        return f"Windows reserves the name \u201c{device}\u201d for a device"
    bad = sorted({c for c in name if c in WINDOWS_FORBIDDEN_CHARACTERS})
    if bad:
        shown = ", ".join(repr(c) if ord(c) >= 32 else f"control character {ord(c)}" for c in bad)
        return f"Windows does not allow {shown} in a file name"
    if name.endswith((".", " ")):
        return "Windows does not allow a file name that ends with a dot or a space"
    if len(name) > MAX_NAME_LENGTH:
        return f"the name is longer than the {MAX_NAME_LENGTH} characters Windows allows"
    return None


def check_part(name: str, *, windows: bool | None = None) -> str:
    """``name`` when it is one plain path component here, else UnsafeName.

    Args:
        windows: apply Windows's rules too (default: when running on Windows).
    """
    if not name or name in (".", ".."):
        raise UnsafeName(f"the name {name!r} is not a file name")
    if "/" in name or "\\" in name or "\0" in name:
        raise UnsafeName(f"the name {name!r} contains a path separator")
    if os.name == "nt" if windows is None else windows:
        problem = windows_name_problem(name)
        if problem is not None:
            raise UnsafeName(f"{problem}; rename it in the session to download it")
    return name


def safe_local_path(base: Path, parts: Sequence[str], *, windows: bool | None = None) -> Path:
    """``base / parts…``, guaranteed to stay inside ``base``.

    Args:
        windows: apply Windows's name rules (default: when running on Windows).

    Raises:
        UnsafeName: a part is not a plain name (or not one Windows takes), or the result
            (with links followed) leaves ``base``.
    """
    root = base.resolve()
    target = root.joinpath(*(check_part(p, windows=windows) for p in parts))
    resolved = target.parent.resolve() / target.name
    if resolved != root and root not in resolved.parents:
        raise UnsafeName(f"{'/'.join(parts)!r} would be written outside {base}")
    if resolved.is_symlink():
        raise UnsafeName(f"{'/'.join(parts)!r} is a link in the destination")
    return resolved
