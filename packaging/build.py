"""Build the one-folder app bundle with PyInstaller, on any OS, and optionally smoke-test it.

    python packaging/build.py [--clean] [--smoke]

Writes ``dist/sesame-desktop/`` (and ``dist/Sesame Desktop.app`` on macOS) from
``packaging/sesame-desktop.spec``; PyInstaller's work files go to ``build/pyinstaller`` and its
cache to a temporary folder (``PYINSTALLER_CONFIG_DIR``), never to the user's home.
``--smoke`` then runs the frozen app's ``--smoke`` mode (see ``sesame_desktop/smoke.py``) and
fails when it fails; it needs a keyring (on Linux a running, unlocked Secret Service).

The per-OS installer scripts (``packaging/linux/build-deb.sh``,
``packaging/windows/build-installer.ps1``, ``packaging/macos/build-dmg.sh``) run this first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "sesame-desktop.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
APP_ID = "sesame-desktop"
APP_NAME = "Sesame Desktop"
ICONS = [ROOT / "resources" / f"{APP_ID}.ico", ROOT / "resources" / f"{APP_ID}.icns"]


def bundle_dir() -> Path:
    """The one-folder bundle."""
    return DIST / APP_ID


def frozen_executable() -> Path:
    """The executable to run: inside the ``.app`` on macOS, in the bundle folder elsewhere."""
    if sys.platform == "darwin":
        return DIST / f"{APP_NAME}.app" / "Contents" / "MacOS" / APP_ID
    return bundle_dir() / (f"{APP_ID}.exe" if sys.platform == "win32" else APP_ID)


def tree_size(path: Path) -> int:
    """Bytes of all regular files under ``path`` (symlinks not followed or counted twice)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build(*, clean: bool) -> float:
    """Run PyInstaller on the spec; returns the seconds it took."""
    missing = [icon for icon in ICONS if not icon.exists()]
    if missing:
        sys.exit(f"missing {', '.join(map(str, missing))}: run python packaging/make_icons.py")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pyinstaller-config-") as config_dir:
        env = {**os.environ, "PYINSTALLER_CONFIG_DIR": config_dir}
        command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                   "--distpath", str(DIST), "--workpath", str(WORK)]
        if clean:
            command.append("--clean")
        subprocess.run([*command, str(SPEC)], check=True, env=env, cwd=ROOT)
    return time.monotonic() - started


def smoke(timeout_s: float = 180.0) -> int:
    """Run the frozen app's smoke mode; returns its exit status."""
    env = dict(os.environ)
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.monotonic()
    result = subprocess.run([str(frozen_executable()), "--smoke"], check=False, env=env, timeout=timeout_s)
    print(f"build: smoke run of the frozen app: exit {result.returncode} "
          f"in {time.monotonic() - started:.1f} s", flush=True)
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the app bundle with PyInstaller.")
    parser.add_argument("--clean", action="store_true", help="remove PyInstaller's work files first")
    parser.add_argument("--smoke", action="store_true", help="run the frozen app's --smoke mode afterwards")
    args = parser.parse_args(argv)
    if args.clean:
        shutil.rmtree(WORK, ignore_errors=True)
    seconds = build(clean=args.clean)
    size = tree_size(bundle_dir())
    print(f"build: {bundle_dir().relative_to(ROOT)} ({size / 1e6:.1f} MB) built in {seconds:.1f} s", flush=True)
    if not frozen_executable().exists():
        print(f"build: {frozen_executable()} is missing", file=sys.stderr)
        return 1
    if args.smoke:
        return smoke()
    return 0


if __name__ == "__main__":
    sys.exit(main())
