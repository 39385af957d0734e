"""*Apply changes to my folder*: a session's changed files copied back to the folder it came from.

The files come from the sandbox (untrusted): only regular files with plain relative names
are taken; a name that is absolute, climbs out (``..``), or leads through a link out of the
folder is refused. A file the user changed locally since the upload (size or modification
time differ from the upload's manifest), or one that did not exist then and exists now, is a
*conflict*: it is overwritten only when the user said so. Deletions are applied only to files
unchanged since the upload.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

Manifest = dict[str, tuple[int, int]]  # relative path -> (size, mtime_ns) at upload


def make_manifest(folder: Path, files: list[str]) -> Manifest:
    manifest: Manifest = {}
    for rel in files:
        try:
            st = (folder / rel).stat()
        except OSError:
            continue
        manifest[rel] = (st.st_size, st.st_mtime_ns)
    return manifest


def dump_manifest(manifest: Manifest) -> bytes:
    return json.dumps({k: list(v) for k, v in manifest.items()}).encode()


def load_manifest(data: bytes) -> Manifest:
    raw = json.loads(data)
    return {str(k): (int(v[0]), int(v[1])) for k, v in raw.items()}


@dataclass(frozen=True)
class ApplyPlan:
    """What applying would do.

    Attributes:
        writes: relative path → new content, for files not changed locally.
        conflicts: relative path → new content, for files changed locally since the upload.
        deletes: files the session deleted, unchanged locally (removed when applied).
        refused: names from the sandbox that were not safe to write.
    """

    folder: Path
    writes: dict[str, bytes] = field(default_factory=dict)
    conflicts: dict[str, bytes] = field(default_factory=dict)
    deletes: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


def _safe_name(name: str) -> str | None:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(part in ("..", "") for part in path.parts) or "\\" in name:
        return None
    parts = [p for p in path.parts if p != "."]
    return "/".join(parts) if parts else None


def _inside(folder: Path, rel: str) -> bool:
    target = (folder / rel).resolve()
    root = folder.resolve()
    return target == root or root in target.parents


def _changed_locally(folder: Path, rel: str, manifest: Manifest) -> bool:
    path = folder / rel
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False  # gone locally: writing it back overwrites nothing
    before = manifest.get(rel)
    return before is None or before != (st.st_size, st.st_mtime_ns)


def plan_apply(folder: Path, archive: bytes, manifest: Manifest, files_now: list[str]) -> ApplyPlan:
    """Read the changed-files archive and sort each file: write, conflict or refused."""
    writes: dict[str, bytes] = {}
    conflicts: dict[str, bytes] = {}
    refused: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            rel = _safe_name(member.name)
            if rel is None or not member.isfile() or not _inside(folder, rel):
                refused.append(member.name)
                continue
            extracted = tar.extractfile(member)
            if extracted is None:
                refused.append(member.name)
                continue
            data = extracted.read()
            (conflicts if _changed_locally(folder, rel, manifest) else writes)[rel] = data
    now = set(files_now)
    deletes = tuple(sorted(rel for rel in manifest if rel not in now and _safe_name(rel) == rel
                           and _inside(folder, rel) and (folder / rel).exists()
                           and not _changed_locally(folder, rel, manifest)))
    return ApplyPlan(folder, writes, conflicts, deletes, tuple(refused))


def apply_plan(plan: ApplyPlan, *, overwrite_conflicts: bool) -> tuple[int, int]:
    """Write the plan into its folder; returns (files written, files deleted)."""
    written = 0
    items = list(plan.writes.items()) + (list(plan.conflicts.items()) if overwrite_conflicts else [])
    for rel, data in items:
        target = plan.folder / rel
        if not _inside(plan.folder, rel):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        tmp = target.with_name(f".{target.name}.sesame-tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written += 1
    deleted = 0
    for rel in plan.deletes:
        try:
            (plan.folder / rel).unlink()
            deleted += 1
        except OSError:
            pass
    return written, deleted
