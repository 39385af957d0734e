"""The questions the main window asks: leftover sandboxes, quitting with open sessions, a
lifetime running out, overwriting files when applying a session's work.

Each is a non-modal message box (plain text: names come from sandboxes); the box shown last
is kept in an attribute (``leftovers_box``, ``quit_confirmation``, ``lifetime_box``,
``apply_box``) for tests and for the app to see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QMessageBox

from sesame_desktop.ui.messages import MessageCenter, plain_box, set_informative

if TYPE_CHECKING:  # asyncio, like the services, is loaded after the first window shows
    from PySide6.QtWidgets import QStatusBar

    from sesame_desktop.core.sessions import SessionSnapshot
    from sesame_desktop.services.session_lifecycle import QuitChoice
    from sesame_desktop.services.sessions import SessionManager
    from sesame_desktop.services.tasks import TaskGroupOwner


class WindowQuestions:
    """The main window's message-box flows (a mixin of :class:`MainWindow`, which provides
    ``_sessions``, ``_tasks``, ``messages`` and ``statusBar``).

    Attributes:
        leftovers_box, quit_confirmation, lifetime_box, apply_box: the last box of each kind.
    """

    _sessions: SessionManager
    _tasks: TaskGroupOwner
    messages: MessageCenter
    statusBar: Callable[[], QStatusBar]
    leftovers_box: QMessageBox | None = None
    quit_confirmation: QMessageBox | None = None
    lifetime_box: QMessageBox | None = None
    apply_box: QMessageBox | None = None

    def _parent(self) -> Any:
        return self  # the QMainWindow this is mixed into

    def offer_to_end_leftovers(self, sandboxes: tuple, end, adopt=None) -> QMessageBox:  # noqa: ANN001
        """Tell about sandboxes an earlier run left running; ``end(sandboxes)`` stops them,
        ``adopt(sandboxes)`` (when given) makes sessions of them."""
        names = ", ".join(s.name or s.sandbox_id for s in sandboxes[:5]) + ("…" if len(sandboxes) > 5 else "")
        count = len(sandboxes)
        box = plain_box(QMessageBox.Icon.Question, "Sandboxes still running",
                        f"{count} E2B sandbox{'es' if count > 1 else ''} from an earlier run "
                        f"{'are' if count > 1 else 'is'} still running.", QMessageBox.StandardButton.NoButton,
                        self._parent())
        set_informative(box, f"They use your E2B account until their lifetime ends: {names}.")
        end_button = box.addButton("End Them", QMessageBox.ButtonRole.DestructiveRole)
        adopt_button = box.addButton("Adopt as Sessions", QMessageBox.ButtonRole.AcceptRole) if adopt else None
        box.addButton("Keep Running", QMessageBox.ButtonRole.RejectRole)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: end(sandboxes) if button is end_button
                                  else adopt(sandboxes) if adopt and button is adopt_button else None)
        self.leftovers_box = box
        box.show()
        return box

    async def confirm_quit(self) -> QuitChoice | None:
        """Ask what to do with open sessions: End all, Pause all (E2B) or Cancel (None)."""
        import asyncio

        from sesame_desktop.core.config import Provider
        from sesame_desktop.services.session_lifecycle import QuitChoice

        open_sessions = self._sessions.open_sessions()
        if not open_sessions:
            return QuitChoice.END_ALL
        count = len(open_sessions)
        box = plain_box(QMessageBox.Icon.Question, "Quit Sesame Desktop",
                        f"{count} session{'s are' if count > 1 else ' is'} still open.",
                        QMessageBox.StandardButton.Cancel, self._parent())
        end_button = box.addButton("End All and Quit", QMessageBox.ButtonRole.DestructiveRole)
        pause_button = None
        if any(s.provider is Provider.E2B for s in open_sessions):
            pause_button = box.addButton("Pause All and Quit", QMessageBox.ButtonRole.AcceptRole)
        names = ", ".join(s.name for s in open_sessions[:5]) + ("…" if count > 5 else "")
        set_informative(box,
                        f"{names}.\n\nEnd All saves each session's work on this computer, then stops its sandbox. "
                        + ("Pause All keeps E2B sandboxes paused (no compute billed) to resume at the next start; "
                           "local sessions stop. " if pause_button is not None else ""))
        self.quit_confirmation = box
        answered: asyncio.Future[QuitChoice | None] = asyncio.get_running_loop().create_future()

        def on_finished(_result: int) -> None:
            clicked = box.clickedButton()
            if not answered.done():
                answered.set_result(QuitChoice.END_ALL if clicked is end_button
                                    else QuitChoice.PAUSE_ALL if pause_button is not None and clicked is pause_button
                                    else None)

        box.finished.connect(on_finished)
        box.open()
        try:
            return await answered
        finally:
            self.quit_confirmation = None
            box.finished.disconnect(on_finished)
            box.deleteLater()

    @Slot(object)
    def _on_sessions_lifetime_running_out(self, snapshot: SessionSnapshot) -> None:
        self.statusBar().showMessage(
            f"The session \u201c{snapshot.name}\u201d ends in under 5 minutes: select it and press Extend "
            "to keep its sandbox.", 60_000)
        box = plain_box(QMessageBox.Icon.Information, "Lifetime running out",
                        f"The session \u201c{snapshot.name}\u201d reaches the end of its lifetime in under "
                        "5 minutes.", QMessageBox.StandardButton.NoButton, self._parent())
        set_informative(box, "Its work is being saved on this computer. When the lifetime ends the sandbox "
                        "is paused; Extend gives it its full lifetime again, from now.")
        extend = box.addButton("Extend", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not Now", QMessageBox.ButtonRole.RejectRole)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        session_id = snapshot.id
        box.buttonClicked.connect(lambda button: button is extend and self._sessions.request_extend(session_id))
        self.lifetime_box = box
        box.show()

    @Slot(str)
    def apply_work_later(self, session_id: str) -> None:
        """Start :meth:`apply_work` as the window's task."""
        self._tasks.start(self.apply_work(session_id), key=f"apply-{session_id}")

    async def apply_work(self, session_id: str) -> None:
        """*Apply changes to my folder*, asking before overwriting files changed locally."""
        import asyncio

        from sesame_desktop.core.errors import UserFacingError

        try:
            plan = await self._sessions.plan_apply(session_id)
        except UserFacingError as exc:
            self.messages.show_message(exc.message)
            return
        overwrite = False
        if plan.conflicts:
            names = sorted(plan.conflicts)
            box = plain_box(QMessageBox.Icon.Warning, "Files changed in your folder",
                            f"{len(names)} file{'s' if len(names) > 1 else ''} in {plan.folder} changed since the "
                            "upload, and the session changed them too.", QMessageBox.StandardButton.Cancel,
                            self._parent())
            set_informative(box, "\n".join(names[:15]) + ("\n…" if len(names) > 15 else ""))
            overwrite_button = box.addButton("Overwrite Them", QMessageBox.ButtonRole.DestructiveRole)
            keep_button = box.addButton("Keep Mine", QMessageBox.ButtonRole.AcceptRole)
            self.apply_box = box
            answered: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            box.finished.connect(lambda _r: answered.done() or answered.set_result(box.clickedButton()))
            box.open()
            try:
                clicked = await answered
            finally:
                self.apply_box = None
                box.deleteLater()
            if clicked not in (overwrite_button, keep_button):
                return
            overwrite = clicked is overwrite_button
        try:
            written, deleted = await self._sessions.apply(plan, overwrite_conflicts=overwrite)
        except UserFacingError as exc:
            self.messages.show_message(exc.message)
            return
        kept = 0 if overwrite else len(plan.conflicts)
        self.statusBar().showMessage(
            f"Applied to {plan.folder}: {written} file{'s' if written != 1 else ''} written, {deleted} deleted"
            + (f", {kept} of yours kept" if kept else ""), 15_000)
