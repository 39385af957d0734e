"""E2B messages that need no SDK: importing ``e2b`` costs a third of a second at start-up."""

from __future__ import annotations

from sesame_desktop.core.config import ENV_API_KEY
from sesame_desktop.core.errors import UserFacingError, UserMessage

DASHBOARD_KEYS = "https://e2b.dev/dashboard?tab=keys"


def no_key_error() -> UserFacingError:
    """No API key is set: the Settings field first, the environment variable second."""
    return UserFacingError(UserMessage(
        title="No E2B API key",
        explanation="E2B sessions need an API key, and none is set.",
        next_step=f"Enter your key in Settings → E2B API key (or set the {ENV_API_KEY} environment "
                  "variable), or start a Local session instead.",
        link=DASHBOARD_KEYS, fix_in_settings=True))
