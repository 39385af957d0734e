"""The work comes home: a session's changes, packed in its sandbox and read back.

Before a sandbox ends (and when its lifetime warning fires) the project's changes are saved
on this computer:

- a git project: ``work.bundle`` (every ref, plus ``refs/sesame/work``, a commit of the
  working tree as it is, uncommitted and untracked files included) and ``work.patch`` (that
  commit against ``HEAD``, binary-safe: ``git apply`` or ``git am`` takes it);
- always: ``changed-files.tar.gz``, the files changed since the session started (found by a
  marker file touched then), and ``files.txt``, every file of the project now (so a folder
  the session came from can learn what was deleted).

Everything is packed inside the sandbox, next to the project (``~/.sesame-export``), and read
back through the provider's file API. Nothing here writes on this computer: the caller does,
under the session's own folder.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from sesame_desktop.sandbox.base import Sandbox

MARKER = ".sesame-work-start"
EXPORT_DIR = ".sesame-export"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
GIT_IDENTITY = "-c user.name='Sesame Desktop' -c user.email=sesame-desktop@localhost -c commit.gpgsign=false"

_EXPORT_SCRIPT = r"""
set -u
out={out}
rm -rf "$out" && mkdir -p "$out" || exit 90
if [ -e ../{marker} ]; then
  find . -path ./.git -prune -o -type f -newer ../{marker} -print0 > "$out/changed.lst"
else
  find . -path ./.git -prune -o -type f -print0 > "$out/changed.lst"
fi
tar --null -czf "$out/changed-files.tar.gz" -T "$out/changed.lst" 2>"$out/tar.err" || true
find . -path ./.git -prune -o -type f -print > "$out/files.txt"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  export GIT_INDEX_FILE="$out/index"
  if base=$(git rev-parse --verify -q HEAD); then parent="-p $base"; git read-tree HEAD; else base={empty}; parent=""; fi
  git add -A . && tree=$(git write-tree) &&
  work=$(git {identity} commit-tree "$tree" $parent -m "Work of the session (uncommitted changes included)") &&
  git update-ref refs/sesame/work "$work" &&
  git {identity} diff --binary "$base" "$work" > "$out/work.patch" &&
  unset GIT_INDEX_FILE &&
  git bundle create "$out/work.bundle" --all 2>"$out/bundle.err" && echo git > "$out/kind"
fi
echo done > "$out/status"
"""


@dataclass(frozen=True)
class ExportedWork:
    """What was read back from the sandbox: file name → bytes.

    Attributes:
        git: the project is a git repository (``work.bundle`` and ``work.patch`` are there).
        changed: paths (relative to the project) of the files changed since the start.
    """

    files: dict[str, bytes]
    git: bool
    changed: tuple[str, ...]
    all_files: tuple[str, ...]


async def mark_start(sandbox: Sandbox) -> None:
    """Touch the marker next to the project: files newer than it are the session's changes."""
    await sandbox.run(f"touch ../{MARKER}", on_stdout=_ignore, on_stderr=_ignore)


async def export_work(sandbox: Sandbox) -> ExportedWork:
    """Pack the project's changes in the sandbox and read them back."""
    out = f"{sandbox.project_dir.rsplit('/', 1)[0]}/{EXPORT_DIR}"
    script = _EXPORT_SCRIPT.format(out=shlex.quote(out), marker=MARKER, empty=EMPTY_TREE, identity=GIT_IDENTITY)
    errors = bytearray()
    result = await sandbox.run(script, on_stdout=_ignore, on_stderr=errors.extend, timeout_s=120)
    if result.exit_code == 90:
        raise OSError(f"the sandbox could not make {out}")
    files: dict[str, bytes] = {}
    git = (await _read_optional(sandbox, f"{out}/kind")).strip() == b"git"
    names = ["changed-files.tar.gz", "files.txt"] + (["work.bundle", "work.patch"] if git else [])
    for name in names:
        files[name] = await sandbox.read_file(f"{out}/{name}")
    changed = tuple(_relative(p) for p in (await _read_optional(sandbox, f"{out}/changed.lst")).split(b"\0") if p)
    all_files = tuple(_relative(p) for p in files["files.txt"].splitlines() if p)
    await sandbox.remove(out)
    return ExportedWork(files, git, changed, all_files)


async def _read_optional(sandbox: Sandbox, path: str) -> bytes:
    try:
        return await sandbox.read_file(path)
    except Exception:  # noqa: BLE001 - a missing file reads as empty
        return b""


def _relative(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return text[2:] if text.startswith("./") else text


def _ignore(_chunk: bytes) -> None:
    return None
