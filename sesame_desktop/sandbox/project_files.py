"""Which files of a local folder go into a sandbox, and getting a git project."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sesame_desktop.core.errors import UserFacingError, UserMessage

SKIPPED_DIRS = frozenset({".git"})


@dataclass(frozen=True)
class FileSelection:
    """Files to upload (relative POSIX paths) and what was left out, with why."""

    root: Path
    files: tuple[str, ...]
    skipped: tuple[str, ...]

    @property
    def total_bytes(self) -> int:
        return sum((self.root / f).stat().st_size for f in self.files)


def _git_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files, or None when ``root`` is no git work tree."""
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            [git, "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = sorted({n for n in out.decode("utf-8", "surrogateescape").split("\0") if n})
    return [n for n in names if (root / n).is_file() and not (root / n).is_symlink()]


def select_files(root: Path) -> FileSelection:
    """Choose what to upload from ``root`` (blocking: run it on an executor).

    A git work tree gives its tracked and untracked-but-not-ignored files; any folder leaves
    out ``.git`` internals, symbolic links and special files, and says so.

    Raises:
        UserFacingError: ``root`` is not a readable folder.
    """
    if not root.is_dir():
        raise UserFacingError(UserMessage(
            "Project folder not found", f"{root} is not a folder.", "Choose an existing folder."))
    skipped: list[str] = []
    git_files = _git_files(root)
    if git_files is not None:
        if (root / ".git").exists():
            skipped.append(".git/ (repository internals)")
        return FileSelection(root, tuple(git_files), tuple(skipped))
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: skipped.append(f"{e.filename}: {e.strerror}")):
        rel_dir = PurePosixPath(Path(dirpath).relative_to(root).as_posix())
        for name in sorted(dirnames):
            if name in SKIPPED_DIRS:
                skipped.append(f"{rel_dir / name}/ (repository internals)".removeprefix("./"))
                dirnames.remove(name)
            elif (Path(dirpath) / name).is_symlink():
                skipped.append(f"{rel_dir / name} (symbolic link)".removeprefix("./"))
                dirnames.remove(name)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = str(rel_dir / name).removeprefix("./")
            if path.is_symlink():
                skipped.append(f"{rel} (symbolic link)")
            elif not path.is_file():
                skipped.append(f"{rel} (not a regular file)")
            else:
                files.append(rel)
    return FileSelection(root, tuple(sorted(files)), tuple(skipped))


def report_progress(chunk: bytes, progress: Callable[[str], None]) -> None:
    """Pass the last line of git's progress output (``\r``-separated updates) to ``progress``."""
    lines = chunk.decode(errors="replace").replace("\r", "\n").strip().splitlines()
    if lines:
        progress(lines[-1])


def git_clone_failed(url: str, git_output: str) -> UserFacingError:
    """The message for a failed clone, with git's own words."""
    lines = [line for line in git_output.strip().splitlines() if line.strip()]
    tail = "\n".join(lines[-6:])
    private = any(word in git_output.lower() for word in
                  ("authentication", "could not read username", "permission denied", "403", "401"))
    return UserFacingError(UserMessage(
        title="Could not get the project",
        explanation=f"git could not clone {url}: {lines[-1] if lines else 'no message'}",
        next_step=("A private repository needs credentials: use a URL with an access token, or "
                   "upload the folder instead." if private else
                   "Check the URL and the branch name, and that the repository is reachable."),
        details=tail,
    ))
