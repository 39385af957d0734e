"""Where the app keeps its files: config, data (workspaces), state (logs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

from sesame_desktop import APP_ID

CONFIG_FILE_NAME = "config.json"
SETTINGS_FILE_NAME = "desktop-settings.json"
LOG_FILE_NAME = "sesame-desktop.log"


@dataclass(frozen=True)
class AppPaths:
    """The app's folders.

    Attributes:
        config_dir: ``config.json`` (Sesame conventions) and the app's own saved settings.
        data_dir: local-provider workspaces and session records.
        log_dir: the log file.
    """

    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def default(cls) -> AppPaths:
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_ID, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_ID, appauthor=False)),
            log_dir=Path(platformdirs.user_log_dir(APP_ID, appauthor=False)),
        )

    @classmethod
    def under(cls, base: Path) -> AppPaths:
        """Every folder under one base folder (``--base-dir``: tests, portable use)."""
        return cls(config_dir=base / "config", data_dir=base / "data", log_dir=base / "logs")

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE_NAME

    @property
    def settings_file(self) -> Path:
        return self.config_dir / SETTINGS_FILE_NAME

    @property
    def log_file(self) -> Path:
        return self.log_dir / LOG_FILE_NAME
