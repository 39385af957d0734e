"""Whether local sessions can be isolated here, and the words that say when they are not.

Linux has bubblewrap; macOS and Windows have no sandbox the app uses yet, so local sessions
there run with the user's full rights. The user is told so where the provider is chosen and
on each such session, not only in a log.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable

FULL_RIGHTS_WARNING = ("Local sessions run with your full rights on this computer: their commands can read, "
                       "change and delete any of your files.")


def isolation_expected(platform: str | None = None, which: Callable[[str], str | None] = shutil.which) -> bool:
    """Whether local sessions will probably be isolated (Linux with ``bwrap`` installed).

    The local provider still tries bubblewrap before its first session; a kernel that
    forbids the namespaces it needs makes a session run without it, and that session says so.
    """
    platform = sys.platform if platform is None else platform
    return platform.startswith("linux") and which("bwrap") is not None


def full_rights_reason(platform: str | None = None) -> str:
    """Why local sessions are not isolated on ``platform``, and what would change it."""
    platform = sys.platform if platform is None else platform
    if platform.startswith("linux"):
        return ("bubblewrap, which isolates them, is missing or cannot run here "
                "(install the bubblewrap package to isolate them).")
    system = {"darwin": "macOS", "win32": "Windows"}.get(platform, "this system")
    return f"{system} has no sandbox for them yet; use the E2B provider for untrusted work."


def full_rights_note(platform: str | None = None) -> str:
    """The whole note shown where the provider is chosen and on each local session."""
    return f"{FULL_RIGHTS_WARNING} {full_rights_reason(platform)}"
