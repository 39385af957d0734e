"""Which provider runs a session, built with the current configuration and key."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sesame_desktop.core.config import Provider
from sesame_desktop.sandbox.e2b_advice import no_key_error

if TYPE_CHECKING:
    from sesame_desktop.sandbox.base import SandboxProvider
    from sesame_desktop.sandbox.local import LocalProvider
    from sesame_desktop.services.settings_service import SettingsService


class Providers:
    """Makes the provider a new session asks for.

    The local provider is made once, when first asked for; the E2B provider is made per session with the key the
    settings give at that moment (a key saved a minute ago counts).
    """

    def __init__(self, settings: SettingsService, workspaces: Path, *,
                 private_folders: Sequence[Path] = ()) -> None:
        """``private_folders``: the app's own folders, hidden from isolated local sessions."""
        self._settings = settings
        self._workspaces = workspaces
        self._private_folders = tuple(private_folders)
        self._local: LocalProvider | None = None

    async def __call__(self, kind: Provider) -> SandboxProvider:
        if kind is Provider.LOCAL:
            if self._local is None:  # its process code (and psutil) loads with the first local session
                from sesame_desktop.sandbox.local import LocalProvider

                self._local = LocalProvider(self._workspaces, private_folders=self._private_folders)
            return self._local
        # The e2b SDK takes a third of a second to import: only a session or check that
        # needs E2B pays for it, never the start-up.
        key = await self._settings.api_key()  # UserFacingError when the keyring fails
        if key is None:
            raise no_key_error()
        from sesame_desktop.sandbox.e2b_provider import E2BProvider

        return E2BProvider(key)
