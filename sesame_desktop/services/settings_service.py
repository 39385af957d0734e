"""The app's configuration as a service: sources merged, the key in the keyring, changes saved.

All file and keyring work runs on an executor; the GUI thread only awaits it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from sesame_desktop.core.config import (
    ConfigError,
    ConfigProblem,
    EffectiveConfig,
    Origin,
    OriginKind,
    PartialConfig,
    Provider,
    from_environment,
    load_config_file,
    resolve,
)
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.jsonfile import remove_api_key
from sesame_desktop.core.logs import SECRETS
from sesame_desktop.core.paths import AppPaths
from sesame_desktop.core.secret import Secret
from sesame_desktop.core.settings import AppSettings, load_settings, save_settings
from sesame_desktop.services.secret_store import SecretStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyStatus:
    """Whether an API key is available, from where, and what went wrong reading it.

    Attributes:
        has_key: a key is set in the environment or stored in the keyring.
        origin: the environment (``E2B_API_KEY``) or the keyring.
        problem: why the keyring could not be read, if it could not.
    """

    has_key: bool
    origin: Origin
    problem: UserMessage | None = None


class SettingsService(QObject):
    """Loads, merges and saves the configuration; moves a key out of ``config.json``.

    Signals:
        config_changed(EffectiveConfig): the merged configuration after a load or a save.
        key_status_changed(KeyStatus): after a load, a save, or a keyring read.
        problems_found(tuple): ``ConfigProblem``s of the last load, for the user to see.
        notice(UserMessage): something the user should know that is not an error.
    """

    config_changed = Signal(object)
    key_status_changed = Signal(object)
    problems_found = Signal(tuple)
    notice = Signal(object)

    def __init__(
        self,
        paths: AppPaths,
        secrets: SecretStore,
        *,
        config_path: Path | None = None,
        environ: Mapping[str, str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._paths = paths
        self._secrets = secrets
        self._config_path = config_path or paths.config_file
        self._environ = environ if environ is not None else os.environ
        self._settings = AppSettings()
        self._config: EffectiveConfig | None = None
        self._key_status = KeyStatus(False, Origin(OriginKind.KEYRING))

    @property
    def config(self) -> EffectiveConfig:
        if self._config is None:
            raise RuntimeError("SettingsService.load() has not run yet")
        return self._config

    @property
    def settings(self) -> AppSettings:
        return self._settings

    @property
    def key_status(self) -> KeyStatus:
        return self._key_status

    @property
    def config_path(self) -> Path:
        return self._config_path

    @property
    def secrets(self) -> SecretStore:
        """The keyring, for other named secrets (agent keys, git tokens)."""
        return self._secrets

    @property
    def paths(self) -> AppPaths:
        return self._paths

    async def load(self) -> EffectiveConfig:
        """Read every source, move a ``config.json`` key into the keyring, check the key."""
        loop = asyncio.get_running_loop()
        environment = from_environment(self._environ)
        if environment.api_key:
            SECRETS.add(environment.api_key)
        file_config, file_problems = await loop.run_in_executor(None, self._read_config_file)
        settings, settings_problems = await loop.run_in_executor(
            None, load_settings, self._paths.settings_file
        )
        self._settings = settings
        problems = [*file_problems, *settings_problems]
        if file_config is not None and file_config.api_key:
            SECRETS.add(file_config.api_key)
            problem = await self._migrate_key(file_config.api_key)
            if problem:
                problems.append(problem)
        self._config = resolve(
            environment,
            file_config,
            settings.as_partial(),
            config_path=self._config_path,
            extra_problems=tuple(problems),
        )
        for item in self._config.problems:
            log.warning("configuration: %s", item)
        self.config_changed.emit(self._config)
        if self._config.problems:
            self.problems_found.emit(self._config.problems)
        await self.refresh_key_status()
        return self._config

    def _read_config_file(self) -> tuple[PartialConfig | None, list[ConfigProblem]]:
        try:
            return load_config_file(self._config_path), []
        except ConfigError as exc:
            return None, [ConfigProblem(exc.source, f"{exc.reason}; using the defaults instead")]

    async def _migrate_key(self, key: Secret) -> ConfigProblem | None:
        """Keyring first; the key leaves the file only once the keyring confirmed the write."""
        source = str(self._config_path)
        try:
            await self._secrets.set_api_key(key)
        except UserFacingError as exc:
            return ConfigProblem(
                source,
                "the API key in this file could not be moved to the system keyring and was "
                f"left in the file: {exc.message.title}. {exc.message.next_step}",
            )
        real = os.path.realpath(self._config_path)
        where = source if real == os.path.abspath(self._config_path) else f"{source} (a link to {real})"
        try:
            removed = await asyncio.get_running_loop().run_in_executor(None, remove_api_key, self._config_path)
        except (OSError, ValueError) as exc:
            return ConfigProblem(
                source,
                f"the API key was saved in the keyring but could not be removed from {where} "
                f"({getattr(exc, 'strerror', None) or exc or type(exc).__name__}); remove \"apiKey\" by hand",
            )
        if not removed:  # the file changed since it was read: nothing to claim
            log.info("config file %s held no key any more when it was rewritten", where)
            return None
        log.info("moved the API key from %s into the keyring", where)
        self.notice.emit(
            UserMessage(
                title="API key moved to the keyring",
                explanation=f"The E2B API key from {where} is now stored in the system keyring "
                "and was removed from that file.",
            )
        )
        return None

    async def refresh_key_status(self) -> KeyStatus:
        """Check whether a key is available (the environment wins over the keyring)."""
        origin = self.config.api_key_origin
        if origin.kind is OriginKind.ENVIRONMENT:
            status = KeyStatus(True, origin)
        else:
            try:
                status = KeyStatus(await self._secrets.get_api_key() is not None, origin)
            except UserFacingError as exc:
                status = KeyStatus(False, origin, exc.message)
        self._key_status = status
        self.key_status_changed.emit(status)
        return status

    async def api_key(self) -> Secret | None:
        """The key to use: ``E2B_API_KEY`` if set, else the keyring's.

        Raises:
            UserFacingError: the keyring cannot be read.
        """
        environment = from_environment(self._environ)
        if environment.api_key:
            return environment.api_key
        return await self._secrets.get_api_key()

    async def save(
        self,
        *,
        provider: Provider,
        timeout_ms: int,
        template: str,
        api_key: Secret | None,
        key_changed: bool,
        scrollback_mb: int | None = None,
    ) -> EffectiveConfig:
        """Save what the settings dialog holds; values set outside the app are left alone.

        Raises:
            UserFacingError: the settings file or the keyring could not be written. What was
                saved before the failure stays saved.
        """
        config = self.config
        changes: dict[str, object] = {}
        for name, value in (("provider", provider), ("timeout_ms", timeout_ms), ("template", template)):
            if not getattr(config, name).origin.locked:
                changes[name] = value
        if scrollback_mb is not None:  # applies to sessions started from now on
            changes["scrollback_mb"] = scrollback_mb
        settings = self._settings.with_changes(**changes)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, save_settings, self._paths.settings_file, settings)
        except ConfigError as exc:
            raise UserFacingError(
                UserMessage(
                    title="Settings not saved",
                    explanation=f"{exc.source} {exc.reason}.",
                    next_step="Check that the folder exists and is writable, then save again.",
                )
            ) from None
        self._settings = settings
        self._config = resolve(
            from_environment(self._environ),
            await loop.run_in_executor(None, self._read_config_file_quiet),
            settings.as_partial(),
            config_path=self._config_path,
        )
        self.config_changed.emit(self._config)
        if key_changed and config.api_key_origin.kind is not OriginKind.ENVIRONMENT:
            if api_key:
                await self._secrets.set_api_key(api_key)
            else:
                await self._secrets.delete_api_key()
        await self.refresh_key_status()
        return self._config

    def _read_config_file_quiet(self) -> PartialConfig | None:
        return self._read_config_file()[0]

    async def dismiss_welcome(self) -> None:
        self._settings = self._settings.with_changes(welcome_dismissed=True)
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, save_settings, self._paths.settings_file, self._settings
            )
        except ConfigError as exc:
            log.warning("could not remember that the welcome was dismissed: %s", exc)
