"""Whether a command's last output looks like it is waiting for the user to type something."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
_ASKS = re.compile(r"(\(y/n\)|\[y/n\]|\(yes/no\)|press enter|password|passphrase|continue\?)", re.IGNORECASE)
_ENDINGS = ("?", ":", ">", "]", ")")


def looks_like_prompt(tail: str) -> bool:
    """True when the last line of ``tail`` (what a command printed last) asks for input."""
    text = _ANSI.sub("", tail).replace("\r", "\n")
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines or text.endswith("\n\n"):
        return False
    last = lines[-1].rstrip()
    if len(last) > 300:
        return False
    return bool(_ASKS.search(last)) or last.endswith(_ENDINGS)
