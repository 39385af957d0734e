"""The app's folders follow each system's convention (platformdirs)."""

from __future__ import annotations

import ntpath
import sys
from pathlib import Path

import platformdirs.windows
import pytest
from platformdirs.macos import MacOS
from platformdirs.unix import Unix

from sesame_desktop import APP_ID
from sesame_desktop.core.paths import AppPaths, default_download_dir


def test_linux_uses_the_xdg_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "d"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    paths = AppPaths.default(Unix(APP_ID, appauthor=False))
    assert paths == AppPaths(tmp_path / "c" / APP_ID, tmp_path / "d" / APP_ID, tmp_path / "s" / APP_ID / "log")
    assert paths.workspaces_dir == tmp_path / "d" / APP_ID / "workspaces"
    assert paths.private_folders == (paths.config_dir, paths.data_dir, paths.log_dir)


def test_macos_uses_library(monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)  # set for the test run; a Mac has none
    paths = AppPaths.default(MacOS(APP_ID, appauthor=False))
    home = Path.home()
    assert paths.config_dir == paths.data_dir == home / "Library" / "Application Support" / APP_ID
    assert paths.log_dir == home / "Library" / "Logs" / APP_ID
    assert paths.private_folders == (paths.config_dir, paths.log_dir)  # each folder once


def test_windows_uses_local_appdata(monkeypatch):
    if sys.platform != "win32":  # the known-folder lookup needs Windows; its answer is given here
        monkeypatch.setattr(platformdirs.windows, "get_win_folder",
                            lambda csidl: {"CSIDL_LOCAL_APPDATA": r"C:\Users\ada\AppData\Local"}[csidl])
    paths = AppPaths.default(platformdirs.windows.Windows(APP_ID, appauthor=False))
    local = str(paths.config_dir)
    assert ntpath.basename(local) == APP_ID and "AppData" in local and "Local" in local
    assert paths.data_dir == paths.config_dir
    assert str(paths.log_dir).replace("/", "\\").endswith(f"{APP_ID}\\Logs")


def test_under_one_base_folder(tmp_path):
    paths = AppPaths.under(tmp_path)
    assert paths.workspaces_dir == tmp_path / "data" / "workspaces"
    assert paths.log_file == tmp_path / "logs" / "sesame-desktop.log"


def test_downloads_are_offered_in_the_downloads_folder(monkeypatch, tmp_path):
    downloads = tmp_path / "Downloads"
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(downloads))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))  # the home on Windows
    dirs = Unix(APP_ID, appauthor=False)
    assert default_download_dir(dirs) == tmp_path  # no such folder yet: the home
    downloads.mkdir()
    assert default_download_dir(dirs) == downloads


@pytest.mark.skipif(sys.platform != "darwin", reason="runs on the macOS runner only")
def test_macos_only_default_paths_are_the_libraries():
    paths = AppPaths.default()
    assert "Library" in paths.config_dir.parts and "Library" in paths.log_dir.parts
