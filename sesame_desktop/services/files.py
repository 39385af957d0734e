"""The project's files: listing folders, watching for changes, and file operations.

Every operation awaits the session's sandbox; nothing blocks the GUI thread. Changes seen by
the sandbox's directory watch are collected per folder and reported at most every
``DEBOUNCE_S`` seconds, so a build writing thousands of files sends a handful of signals.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import stat
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.file_tree import FileEntries, FileEntry, rows_of, sort_rows
from sesame_desktop.core.safe_paths import UnsafeName, safe_local_path
from sesame_desktop.core.session_words import plural
from sesame_desktop.core.sessions import SessionState
from sesame_desktop.core.cancels import raise_if_cancel_swallowed
from sesame_desktop.sandbox.base import Sandbox, Watch
from sesame_desktop.services.sessions import SessionManager
from sesame_desktop.services.tasks import TaskGroupOwner

log = logging.getLogger(__name__)

DEBOUNCE_S = 0.3
VIEW_LIMIT_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Listing:
    """A folder's entries (sorted; a :class:`FileEntries` when listed), or why they could not be read."""

    session_id: str
    path: str
    entries: Sequence[FileEntry] = ()
    error: UserMessage | None = None


@dataclass(frozen=True)
class TransferReport:
    """What a transfer did.

    Attributes:
        files, bytes: what was written.
        refused: names that would have been written outside the chosen folder.
        skipped: what was left out on purpose or could not be read, each with why
            (a symbolic link, an existing file the user chose to keep, an unreadable file).
    """

    files: int
    bytes: int
    refused: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


class Conflict(enum.Enum):
    """What to do with a download whose name already exists in the destination."""

    REPLACE = "replace"
    KEEP_BOTH = "keep both"
    SKIP = "skip"


@dataclass(frozen=True)
class ConflictAnswer:
    choice: Conflict
    for_all: bool = False


AskConflict = Callable[[Path], Awaitable[ConflictAnswer]]


async def _skip_all(_target: Path) -> ConflictAnswer:
    return ConflictAnswer(Conflict.SKIP, for_all=True)


class TooLargeToView(UserFacingError):
    """The file is larger than the viewer shows; it can still be downloaded."""


def parent_of(path: str) -> str:
    """The folder of a sandbox path (string work only: a build may report 100,000 changes)."""
    trimmed = path.rstrip("/")
    if "/" not in trimmed:
        return "." if trimmed else "/"
    head = trimmed.rpartition("/")[0].rstrip("/")
    return head or "/"


class FileService(QObject):
    """File work for every session.

    Signals:
        listed(Listing): a folder listing asked for with :meth:`request_listing` arrived.
        folders_changed(str, tuple): folders of a session (absolute paths) whose contents
            changed in the sandbox; debounced.
    """

    listed = Signal(object)
    folders_changed = Signal(str, tuple)

    def __init__(self, manager: SessionManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._tasks = TaskGroupOwner("files")
        self._changed: dict[str, set[str]] = {}
        self._flush_handles: dict[str, asyncio.TimerHandle] = {}
        manager.sandbox_ready.connect(self._on_manager_sandbox_ready)

    def _sandbox(self, session_id: str) -> Sandbox:
        sandbox = self._manager.sandbox(session_id)
        if sandbox is None or not self._manager.snapshot(session_id).state.open:
            raise UserFacingError(UserMessage("Session not running", "This session has no running sandbox.",
                                              "Start a new session to work with files."))
        return sandbox

    # -- listing ----------------------------------------------------------------------------

    def request_listing(self, session_id: str, path: str) -> None:
        """List ``path``; the result comes as :attr:`listed`. A newer request wins."""
        self._tasks.start(self._list(session_id, path), key=f"list:{session_id}:{path}")

    async def _list(self, session_id: str, path: str) -> None:
        try:
            entries = await self._sandbox(session_id).list_dir(path)
            ordered = await asyncio.get_running_loop().run_in_executor(None, lambda: sort_rows(rows_of(entries)))
            self.listed.emit(Listing(session_id, path, FileEntries(ordered)))
        except UserFacingError as exc:
            if self._ending(session_id):  # the sandbox went because the user ended the session
                log.info("listing %s of ending session %s: %s", path, session_id, exc.message.title)
                return
            self.listed.emit(Listing(session_id, path, error=exc.message))

    def _ending(self, session_id: str) -> bool:
        try:
            state = self._manager.snapshot(session_id).state
        except KeyError:
            return True
        return state in (SessionState.ENDING, SessionState.ENDED)

    # -- watching ---------------------------------------------------------------------------

    def _on_manager_sandbox_ready(self, session_id: str) -> None:
        self._manager.start_session_task(session_id, self._watch(session_id), key="file-watch")

    async def _watch(self, session_id: str) -> None:
        sandbox = self._sandbox(session_id)
        try:
            watch: Watch = await sandbox.watch(sandbox.project_dir, lambda p: self._on_change(session_id, p))
        except UserFacingError as exc:
            log.warning("session %s: no file watch (%s); the tree refreshes on demand only",
                        session_id, exc.message.title)
            return
        try:
            raise_if_cancel_swallowed()  # by the SDK while it started the watch
            # Anything that changed between the first listing and the watch starting is not
            # reported by the watch: have the folder listed again now that it is watched.
            self.folders_changed.emit(session_id, (sandbox.project_dir,))
            await asyncio.Event().wait()  # until the session's end cancels this task
        finally:
            try:
                await watch.stop()
            finally:  # after the watch stopped: a change it reported meanwhile re-arms the timer
                handle = self._flush_handles.pop(session_id, None)
                if handle is not None:
                    handle.cancel()

    def _on_change(self, session_id: str, path: str) -> None:
        self._changed.setdefault(session_id, set()).add(parent_of(path))
        if session_id not in self._flush_handles:
            self._flush_handles[session_id] = asyncio.get_running_loop().call_later(
                DEBOUNCE_S, self._flush, session_id)

    def _flush(self, session_id: str) -> None:
        self._flush_handles.pop(session_id, None)
        folders = self._changed.pop(session_id, set())
        if folders:
            self.folders_changed.emit(session_id, tuple(sorted(folders)))

    # -- operations (each raises UserFacingError) -------------------------------------------

    async def read_for_view(self, session_id: str, path: str, size: int) -> bytes:
        if size > VIEW_LIMIT_BYTES:
            raise TooLargeToView(UserMessage("File too large to show",
                                              f"The file is {size / 1_048_576:.1f} MB; the viewer shows up to "
                                              f"{VIEW_LIMIT_BYTES // 1_048_576} MB.", "Download it instead."))
        return await self._sandbox(session_id).read_file(path)

    async def make_dir(self, session_id: str, folder: str, name: str) -> str:
        path = f"{folder.rstrip('/')}/{check_name(name)}"
        await self._sandbox(session_id).make_dir(path)
        return path

    async def rename(self, session_id: str, path: str, new_name: str) -> str:
        new_path = f"{parent_of(path)}/{check_name(new_name)}"
        await self._sandbox(session_id).rename(path, new_path)
        return new_path

    async def remove(self, session_id: str, path: str) -> None:
        await self._sandbox(session_id).remove(path)

    async def download(self, session_id: str, entry: FileEntry, destination: Path,
                       progress: Callable[[str], None] = lambda _m: None,
                       ask: AskConflict = _skip_all) -> TransferReport:
        """Copy a file, or a folder as the same tree, into the local folder ``destination``.

        Names that would land outside ``destination`` (``..``, absolute, separators) are
        refused and reported, never written. An existing file is never overwritten unasked:
        ``ask`` chooses (replace, keep both, skip; the default skips). Symbolic links in the
        sandbox and entries that cannot be read are skipped and reported; the rest goes on.
        """
        sandbox = self._sandbox(session_id)
        loop = asyncio.get_running_loop()
        files = total = 0
        refused: list[str] = []
        skipped: list[str] = []
        for_all: Conflict | None = None
        queue: list[tuple[FileEntry, tuple[str, ...]]] = [(entry, (entry.name,))]
        while queue:
            item, parts = queue.pop()
            try:
                target = safe_local_path(destination, parts)
            except UnsafeName as exc:
                refused.append(f"{item.path} ({exc})")
                continue
            if item.is_link:
                skipped.append(f"{item.path} (a symbolic link{' to a folder' if item.is_dir else ''})")
                continue
            exists = await loop.run_in_executor(None, _existing_kind, target)
            if exists is not None and not (item.is_dir and exists == "dir"):
                answer = ConflictAnswer(for_all) if for_all is not None else await ask(target)
                if answer.for_all:
                    for_all = answer.choice
                if answer.choice is Conflict.SKIP:
                    skipped.append(f"{item.path} (kept the existing {target.name})")
                    continue
                if answer.choice is Conflict.KEEP_BOTH:
                    target = await loop.run_in_executor(None, _free_name, target)
                elif item.is_dir:  # replace a file with the folder
                    await loop.run_in_executor(None, target.unlink)
            try:
                if item.is_dir:
                    children = await sandbox.list_dir(item.path)
                    await loop.run_in_executor(None, lambda t=target: t.mkdir(parents=True, exist_ok=True))
                    for child in children:
                        queue.append((child, (*target.relative_to(destination.resolve()).parts, child.name)))
                    continue
                data = await sandbox.read_file(item.path)
                await loop.run_in_executor(None, _write, target, data, exists is not None)
            except UserFacingError as exc:
                skipped.append(f"{item.path} ({exc.message.title.lower()})")
                continue
            except OSError as exc:
                skipped.append(f"{item.path} (not written: {exc.strerror or type(exc).__name__})")
                continue
            files += 1
            total += len(data)
            progress(f"Downloaded {plural(files, 'file')}")
        return TransferReport(files, total, tuple(refused), tuple(skipped))

    async def upload(self, session_id: str, sources: list[Path], folder: str,
                     progress: Callable[[str], None] = lambda _m: None) -> TransferReport:
        """Copy local files and folders (as trees) into the sandbox folder ``folder``."""
        sandbox = self._sandbox(session_id)
        loop = asyncio.get_running_loop()
        plan = await loop.run_in_executor(None, _upload_plan, sources)
        files = total = 0
        for local, rel in plan:
            data = await loop.run_in_executor(None, local.read_bytes)
            await sandbox.write_file(f"{folder.rstrip('/')}/{rel}", data)
            files += 1
            total += len(data)
            progress(f"Uploaded {files} of {len(plan)} files")
        return TransferReport(files, total)

    def start_transfer(self, session_id: str, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a download or upload as the session's work: ending the session cancels it."""
        self._manager.start_session_task(session_id, coro)

    async def aclose(self) -> None:
        await self._tasks.close()


def check_name(name: str) -> str:
    """A single file name as typed by the user; raises UserFacingError when it is not one."""
    text = name.strip()
    if not text or text in (".", "..") or "/" in text or "\0" in text:
        raise UserFacingError(UserMessage("Not a valid name", f"\u201c{name}\u201d cannot be a file name.",
                                          "Use a name without slashes."))
    return text


def _existing_kind(target: Path) -> str | None:
    """"dir", "file" (anything else that is there), or None when nothing is at ``target``."""
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return None
    return "dir" if stat.S_ISDIR(mode) else "file"


def _free_name(target: Path) -> Path:
    """``name (1).ext``, ``name (2).ext``…: the first that does not exist beside ``target``."""
    stem, suffix = (target.stem, target.suffix) if target.suffix != target.name else (target.name, "")
    for n in range(1, 10_000):
        candidate = target.with_name(f"{stem} ({n}){suffix}")
        if not os.path.lexists(candidate):
            return candidate
    raise UserFacingError(UserMessage("Too many copies", f"{target.name} has too many numbered copies.",
                                      "Choose another folder."))


def _write(target: Path, data: bytes, replace: bool) -> None:
    """Write a new file (never over one that appeared meanwhile), or replace it atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not replace:
        try:
            with open(target, "xb") as handle:
                handle.write(data)
            return
        except FileExistsError:
            raise UserFacingError(UserMessage(
                "File appeared meanwhile", f"{target.name} was created while downloading and was left as it is.",
                "Download again to choose what to do with it.")) from None
    tmp = target.with_name(f".{target.name}.download")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _upload_plan(sources: list[Path]) -> list[tuple[Path, str]]:
    """(local file, relative path in the sandbox folder) for each file under ``sources``."""
    plan: list[tuple[Path, str]] = []
    for source in sources:
        if source.is_dir():
            for dirpath, dirnames, filenames in os.walk(source):
                dirnames[:] = [d for d in dirnames if not (Path(dirpath) / d).is_symlink()]
                for name in filenames:
                    path = Path(dirpath) / name
                    if path.is_file() and not path.is_symlink():
                        plan.append((path, f"{source.name}/{path.relative_to(source).as_posix()}"))
        elif source.is_file():
            plan.append((source, source.name))
    return plan
