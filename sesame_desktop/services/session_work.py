"""The work comes home: saved before a sandbox ends, shown, applied to the user's folder.

Mixin of :class:`~sesame_desktop.services.sessions.SessionManager`, filling the hooks of
:class:`~sesame_desktop.services.session_lifecycle.SessionLifecycle`:

- when the project is in place, a marker is touched in the sandbox (changes are counted from
  it) and, for a project uploaded from a local folder, the upload's manifest is kept;
- before the app ends a sandbox (End, quit with End all) and when the lifetime warning
  fires, the changes are exported (:mod:`sesame_desktop.sandbox.work_export`) and written
  under the session's folder (``sessions/<id>/work/<time>/``), a new folder each time;
- *Apply changes to my folder* copies the changed files back to the uploaded folder, asking
  before overwriting files changed locally since the upload (:mod:`sesame_desktop.core.work_apply`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.sessions import FolderProject

if TYPE_CHECKING:  # the work code loads when a session first needs it, not at start-up
    from sesame_desktop.core.work_apply import ApplyPlan
    from sesame_desktop.services.sessions import Session, SessionManager

log = logging.getLogger(__name__)

MANIFEST = "upload-manifest.json"


class SessionWork:
    """Saving a session's work on this computer and applying it to the user's folder."""

    def session_folder(self: SessionManager, session_id: str) -> Path | None:
        store = self._store
        return None if store is None else store.sessions_dir / session_id

    async def mark_start_of_work(self: SessionManager, session: Session) -> None:
        sandbox = session.sandbox
        folder = self.session_folder(session.snapshot.id)
        if sandbox is None or folder is None:
            return
        from sesame_desktop.core.work_apply import dump_manifest, make_manifest
        from sesame_desktop.sandbox.project_files import select_files
        from sesame_desktop.sandbox.work_export import mark_start

        try:
            await mark_start(sandbox)
        except UserFacingError as exc:
            log.info("session %s: no start marker: %s", session.snapshot.id, exc.message.title)
        project = session.request.project
        if isinstance(project, FolderProject) and self._store is not None:
            def manifest() -> None:
                selection = select_files(project.path)
                data = dump_manifest(make_manifest(project.path, list(selection.files)))
                folder.mkdir(parents=True, exist_ok=True)
                (folder / MANIFEST).write_bytes(data)

            await self._store.run(manifest)

    async def on_lifetime_warning(self: SessionManager, session: Session) -> None:
        try:
            await self.save_work(session)
        except UserFacingError as exc:
            session.output.meta(f"The work could not be saved now ({exc.message.title}).")

    async def save_work(self: SessionManager, session: Session) -> None:
        sandbox = session.sandbox
        base = self.session_folder(session.snapshot.id)
        if sandbox is None or base is None or self._store is None:
            return
        self._update(session, step="Saving the work on this computer…")
        from sesame_desktop.sandbox.work_export import export_work

        try:
            exported = await export_work(sandbox)
        except OSError as exc:
            raise UserFacingError(UserMessage("Work not saved", f"The changes could not be packed: {exc}.")) from None
        folder = base / "work" / time.strftime("%Y%m%d-%H%M%S")
        files = exported.files

        def write() -> None:
            target = folder
            n = 1
            while target.exists():  # never over an earlier save
                n += 1
                target = folder.with_name(f"{folder.name}-{n}")
            target.mkdir(parents=True)
            for name, data in files.items():
                (target / name).write_bytes(data)

        await self._store.run(write)
        what = "a git bundle and a patch, and " if exported.git else ""
        session.output.meta(f"Work saved on this computer: {what}{len(exported.changed)} changed file"
                            f"{'s' if len(exported.changed) != 1 else ''} in {base / 'work'}")
        self._update(session, work_dir=str(base / "work"), step="")

    def latest_work(self: SessionManager, session_id: str) -> Path | None:
        """The newest saved-work folder of the session (touches the disk: call on an executor)."""
        snapshot = self._sessions[session_id].snapshot
        if not snapshot.work_dir:
            return None
        saves = sorted(p for p in Path(snapshot.work_dir).iterdir() if p.is_dir())
        return saves[-1] if saves else None

    async def plan_apply(self: SessionManager, session_id: str) -> ApplyPlan:
        """What *Apply changes to my folder* would write (and which files conflict)."""
        session = self._sessions[session_id]
        project = session.request.project
        base = self.session_folder(session_id)
        if not isinstance(project, FolderProject) or base is None or self._store is None:
            raise UserFacingError(UserMessage("Nothing to apply", "Only sessions made from a local folder can "
                                              "apply their changes to it."))
        from sesame_desktop.core.work_apply import load_manifest, plan_apply

        def plan() -> ApplyPlan:
            latest = self.latest_work(session_id)
            if latest is None:
                raise FileNotFoundError("no saved work")
            manifest_path = base / MANIFEST
            manifest = load_manifest(manifest_path.read_bytes()) if manifest_path.exists() else {}
            files_now = (latest / "files.txt").read_text(errors="replace").splitlines()
            files_now = [f.removeprefix("./") for f in files_now]
            return plan_apply(project.path, (latest / "changed-files.tar.gz").read_bytes(), manifest, files_now)

        try:
            return await self._store.run(plan)
        except (OSError, ValueError) as exc:
            raise UserFacingError(UserMessage("Nothing to apply", f"The saved work could not be read ({exc}).",
                                              "End the session (its work is saved first), then try again.")) from None

    async def apply(self: SessionManager, plan: ApplyPlan, *, overwrite_conflicts: bool) -> tuple[int, int]:
        """Write ``plan`` into the user's folder; returns (written, deleted)."""
        assert self._store is not None
        from sesame_desktop.core.work_apply import apply_plan

        try:
            return await self._store.run(lambda: apply_plan(plan, overwrite_conflicts=overwrite_conflicts))
        except OSError as exc:
            raise UserFacingError(UserMessage("Changes not applied", f"Writing into {plan.folder} failed: "
                                              f"{exc.strerror or exc}.", "Check that the folder is writable.")) from None
