"""The desktop entry and the AppStream metadata the .deb installs, checked by the real tools.

Needs ``desktop-file-validate`` (Debian package desktop-file-utils) and ``appstreamcli``
(package appstream).
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sesame_desktop import APP_ID, APP_NAME

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = ROOT / "resources" / f"{APP_ID}.desktop"
METAINFO = ROOT / "resources" / "io.github.sesame_desktop.SesameDesktop.metainfo.xml"


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: install the Debian package {package} (scripts/system-packages.txt)")
    return path


def test_desktop_entry_passes_desktop_file_validate():
    result = subprocess.run([tool("desktop-file-validate", "desktop-file-utils"), str(DESKTOP)],
                            check=False, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_desktop_entry_starts_the_installed_command_with_the_theme_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(DESKTOP)
    section = entry["Desktop Entry"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["gui-scripts"]
    assert section["Exec"].split()[0] == APP_ID in scripts  # /usr/bin/sesame-desktop in the .deb
    assert section["Name"] == APP_NAME
    assert section["Icon"] == APP_ID
    assert (ROOT / "resources" / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png").exists()
    # Qt tells the desktop which entry a window belongs to with the desktop file name.
    assert section["StartupWMClass"] == APP_ID


def test_appstream_metadata_passes_appstreamcli_validate():
    result = subprocess.run([tool("appstreamcli", "appstream"), "validate", "--no-net", str(METAINFO)],
                            check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_appstream_metadata_names_the_desktop_entry_and_this_version():
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == APP_ID
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    releases = [r.get("version") for r in root.iter("release")]
    assert releases and releases[0] == version, "add a <release> for the new version to the metainfo"
