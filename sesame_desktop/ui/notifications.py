"""Desktop notifications when a session's task finishes, fails or waits for input, with the
window in the background. A command waits for input when it has printed nothing for
:data:`QUIET_S` seconds and its last line asks something (``Continue? (y/n)``, ``Name:``). Clicking the notification brings the window forward with that session selected.

The notification is a system-tray message (``QSystemTrayIcon``) where the desktop has a tray;
:attr:`SessionNotifier.notified` carries each one either way. Texts are plain: names and
messages from sandboxes are never rich text.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from sesame_desktop.core.input_wait import looks_like_prompt
from sesame_desktop.core.sessions import SessionSnapshot, SessionState
from sesame_desktop.services.sessions import SessionManager

class NoticeKind(enum.Enum):
    FINISHED = "finished"
    FAILED = "failed"
    WAITING = "waiting"


QUIET_S = 3.0
TAIL_CHARS = 400


@dataclass(frozen=True)
class Notice:
    session_id: str
    kind: NoticeKind
    title: str
    text: str


def notice_for(before: SessionSnapshot | None, after: SessionSnapshot) -> Notice | None:
    """The notice a change of ``after`` deserves, if any."""
    was = before.state if before is not None else None
    if after.state is SessionState.FAILED and was is not SessionState.FAILED:
        reason = after.error.title if after.error is not None else "it stopped"
        return Notice(after.id, NoticeKind.FAILED, f"\u201c{after.name}\u201d failed", reason)
    if was is SessionState.RUNNING_TASK and after.state is SessionState.IDLE:
        return Notice(after.id, NoticeKind.FINISHED, f"\u201c{after.name}\u201d is done",
                      "Its task finished. Review the changes.")
    return None


class SessionNotifier(QObject):
    """Notifies about sessions while ``window`` is not the active window.

    Signals:
        notified(Notice): a notification was given.
        activated(str): the user clicked a notification (the session's id).
    """

    notified = Signal(object)
    activated = Signal(str)

    def __init__(self, manager: SessionManager, window: QWidget, icon: QIcon,
                 in_background: Callable[[], bool] | None = None) -> None:
        super().__init__(window)
        self._window = window
        self._last: dict[str, SessionSnapshot] = {}
        self._clicked_session: str | None = None
        self.in_background = in_background or (lambda: not window.isActiveWindow())
        """Whether the window is in the background (replaceable: a test's seam for focus)."""
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.messageClicked.connect(self._on_tray_message_clicked)
        self._manager = manager
        self._tails: dict[str, tuple[float, str]] = {}
        self._waiting: set[str] = set()
        manager.session_added.connect(self._on_manager_session_changed)
        manager.session_changed.connect(self._on_manager_session_changed)
        manager.add_output_tap(self._on_output)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_clock_timeout)
        self._clock.start()

    def _on_output(self, session_id: str, _stream: str, chunk: bytes | str) -> None:
        _when, tail = self._tails.get(session_id, (0.0, ""))
        text = chunk if isinstance(chunk, str) else chunk.decode("utf-8", "replace")
        self._tails[session_id] = (time.monotonic(), (tail + text)[-TAIL_CHARS:])
        self._waiting.discard(session_id)

    def check_waiting(self, now: float | None = None) -> None:
        """Notify about foreground commands that went quiet on a question (once per question)."""
        now = time.monotonic() if now is None else now
        for session_id, (when, tail) in list(self._tails.items()):
            if session_id in self._waiting or now - when < QUIET_S:
                continue
            snapshot = self._last.get(session_id)
            if snapshot is None or not snapshot.running or not looks_like_prompt(tail):
                continue
            self._waiting.add(session_id)
            self._notify(Notice(session_id, NoticeKind.WAITING, f"\u201c{snapshot.name}\u201d is waiting",
                                "Its task asks for input: " + tail.strip().splitlines()[-1][-120:]))

    @Slot()
    def _on_clock_timeout(self) -> None:
        self.check_waiting()

    def click_last(self) -> None:
        """What clicking the last notification does (also for the tray's click)."""
        if self._clicked_session is not None:
            self.activated.emit(self._clicked_session)

    @Slot(object)
    def _on_manager_session_changed(self, snapshot: SessionSnapshot) -> None:
        before = self._last.get(snapshot.id)
        self._last[snapshot.id] = snapshot
        notice = notice_for(before, snapshot)
        if notice is not None:
            self._notify(notice)

    def _notify(self, notice: Notice) -> None:
        if not self.in_background():
            return
        self._clicked_session = notice.session_id
        if self.tray is not None:
            self.tray.show()
            icon = (QSystemTrayIcon.MessageIcon.Warning if notice.kind is NoticeKind.FAILED
                    else QSystemTrayIcon.MessageIcon.Information)
            self.tray.showMessage(notice.title, notice.text, icon, 10_000)
        self.notified.emit(notice)

    @Slot()
    def _on_tray_message_clicked(self) -> None:
        self.click_last()
