"""Where the app keeps its files: config, data (workspaces), logs; where downloads go.

Each system's own convention, through platformdirs:

| folder | Linux (XDG) | macOS | Windows |
|---|---|---|---|
| config | ``~/.config/sesame-desktop`` | ``~/Library/Application Support/sesame-desktop`` | ``%LOCALAPPDATA%\\sesame-desktop`` |
| data (workspaces) | ``~/.local/share/sesame-desktop`` | ``~/Library/Application Support/sesame-desktop`` | ``%LOCALAPPDATA%\\sesame-desktop`` |
| logs | ``~/.local/state/sesame-desktop/log`` | ``~/Library/Logs/sesame-desktop`` | ``%LOCALAPPDATA%\\sesame-desktop\\Logs`` |
| downloads (first offer) | ``XDG_DOWNLOAD_DIR`` (``~/Downloads``) | ``~/Downloads`` | the Downloads known folder |
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs
from platformdirs.api import PlatformDirsABC

from sesame_desktop import APP_ID

CONFIG_FILE_NAME = "config.json"
SETTINGS_FILE_NAME = "desktop-settings.json"
LOG_FILE_NAME = "sesame-desktop.log"
WORKSPACES_DIR_NAME = "workspaces"


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
    def default(cls, dirs: PlatformDirsABC | None = None) -> AppPaths:
        """This system's folders (``dirs``: another system's conventions, for tests)."""
        dirs = dirs or platformdirs.PlatformDirs(APP_ID, appauthor=False)
        return cls(config_dir=Path(dirs.user_config_dir), data_dir=Path(dirs.user_data_dir),
                   log_dir=Path(dirs.user_log_dir))

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

    @property
    def workspaces_dir(self) -> Path:
        """Where local sessions' workspaces are made."""
        return self.data_dir / WORKSPACES_DIR_NAME

    @property
    def private_folders(self) -> tuple[Path, ...]:
        """The app's own folders, hidden from isolated local sessions."""
        return tuple(dict.fromkeys((self.config_dir, self.data_dir, self.log_dir)))


def default_download_dir(dirs: PlatformDirsABC | None = None) -> Path:
    """The folder a download is first offered to go to: the user's Downloads folder (or home)."""
    dirs = dirs or platformdirs.PlatformDirs(APP_ID, appauthor=False)
    try:
        folder = Path(dirs.user_downloads_dir)
    except (OSError, NotImplementedError):
        return Path.home()
    return folder if folder.is_dir() else Path.home()
