"""Small JSON files written safely: atomically, keeping their mode, their key order and indent."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, data: Any, *, indent: int | str | None = 2) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader never sees a half-written file; an existing file's permissions are kept.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    text = json.dumps(data, indent=indent, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def detect_indent(text: str) -> int | str | None:
    """The indent a JSON text uses (``None`` for a one-line file)."""
    match = re.search(r"\n([ \t]+)\S", text)
    if not match:
        return None
    unit = match.group(1)
    return unit if "\t" in unit else len(unit)


def remove_api_key(path: Path) -> bool:
    """Delete ``sandboxProvider.e2b.apiKey`` from a ``config.json``; keep everything else.

    Returns:
        True when a key was removed.

    Raises:
        OSError: the file cannot be read or written.
        ValueError: the file is not the JSON object it was when the key was read.
    """
    text = path.read_text(encoding="utf-8-sig")
    data = json.loads(text)
    try:
        e2b = data["sandboxProvider"]["e2b"]
    except (KeyError, TypeError):
        return False
    if not isinstance(e2b, dict) or "apiKey" not in e2b:
        return False
    del e2b["apiKey"]
    write_json_atomic(path, data, indent=detect_indent(text))
    return True
