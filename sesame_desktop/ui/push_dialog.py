"""Commit and Push: the session's changes as a branch on the project's remote, then a pull request.

The token is asked for only when none is stored for the host; it goes to the keyring and,
for the push, to git through an askpass helper (see :mod:`sesame_desktop.sandbox.git_push`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.git_hosts import branch_from_name, remote_host, validate_push_branch
from sesame_desktop.core.secret import Secret
from sesame_desktop.services.push import Pushed, PushService
from sesame_desktop.services.tasks import TaskGroupOwner
from sesame_desktop.ui.url_opener import SafeUrlOpener


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class PushDialog(QDialog):
    """Asks for the branch and message, pushes, then offers the pull request page.

    Signals:
        pushed(Pushed): the branch is on the remote.
        failed(UserMessage): the push did not happen.
    """

    pushed = Signal(object)
    failed = Signal(object)

    def __init__(self, service: PushService, opener: SafeUrlOpener, session_id: str, *, name: str, prompt: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Commit and Push")
        self.setObjectName("pushDialog")
        self.setMinimumWidth(520)
        self._service = service
        self._opener = opener
        self._session_id = session_id
        self._tasks = TaskGroupOwner("push-dialog", on_error=lambda exc: self.status.setText(
            f"Could not finish: {type(exc).__name__}. The log file has the details."))
        self.result_: Pushed | None = None
        remote = service.remote(session_id) or ""
        self.branch_edit = QLineEdit(branch_from_name(name))
        self.branch_edit.setObjectName("pushBranchEdit")
        first_line = (prompt.strip().splitlines() or [""])[0][:72]
        self.message_edit = QPlainTextEdit(first_line or f"Changes from the session \u201c{name}\u201d")
        self.message_edit.setObjectName("pushMessageEdit")
        self.message_edit.setMaximumHeight(80)
        self.token_edit = QLineEdit()
        self.token_edit.setObjectName("pushTokenEdit")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("Reading the keyring\u2026")
        self.remember_check = QCheckBox("Keep the token in the system keyring")
        self.remember_check.setChecked(True)
        self.status = _plain()
        self.status.setObjectName("pushStatus")
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.hide()
        form = QFormLayout()
        form.addRow("Repository:", _plain(remote))
        form.addRow("&Branch:", self.branch_edit)
        form.addRow("&Message:", self.message_edit)
        form.addRow(f"&Token for {remote_host(remote) or 'the host'}:", self.token_edit)
        form.addRow("", self.remember_check)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.push_button = self.buttons.addButton("Commit and Push", QDialogButtonBox.ButtonRole.AcceptRole)
        self.pr_button = QPushButton("Open Pull Request")
        self.pr_button.setEnabled(False)
        self.buttons.addButton(self.pr_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.push_button.clicked.connect(self._on_push_button_clicked)
        self.pr_button.clicked.connect(self._on_pr_button_clicked)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.output)
        layout.addWidget(self.buttons)
        self._tasks.start(self._check_token(), key="token")

    @property
    def busy(self) -> bool:
        return self._tasks.running("push") or self._tasks.running("token")

    async def _check_token(self) -> None:
        stored = await self._service.has_token(self._session_id)
        self.token_edit.setPlaceholderText("Stored in the keyring (type to replace)" if stored
                                           else "A token that may push to this repository")

    async def _push(self, branch: str, message: str, token: Secret | None) -> None:
        self.push_button.setEnabled(False)
        self.status.setText(f"Pushing {branch}\u2026")
        try:
            pushed = await self._service.push(self._session_id, branch=branch, message=message, token=token,
                                              remember=self.remember_check.isChecked())
        except UserFacingError as exc:
            self.status.setText(f"{exc.message.title}: {exc.message.text()}")
            self.output.setPlainText(exc.message.details)
            self.output.setVisible(bool(exc.message.details))
            self.push_button.setEnabled(True)
            self.failed.emit(exc.message)
            return
        finally:
            self.token_edit.clear()
        self.result_ = pushed
        self.status.setText(f"Pushed the branch {pushed.branch}." + (
            " Open a pull request on the host's page." if pushed.pull_request_url else ""))
        self.output.setPlainText(pushed.output)
        self.output.show()
        self.pr_button.setEnabled(pushed.pull_request_url is not None)
        self.pushed.emit(pushed)

    @Slot()
    def _on_push_button_clicked(self) -> None:
        branch = self.branch_edit.text().strip()
        problem = validate_push_branch(branch)
        if problem:
            self.status.setText(problem)
            return
        message = self.message_edit.toPlainText().strip() or f"Changes on {branch}"
        token = Secret(self.token_edit.text().strip()) if self.token_edit.text().strip() else None
        self._tasks.start(self._push(branch, message, token), key="push")

    @Slot()
    def _on_pr_button_clicked(self) -> None:
        if self.result_ is not None and self.result_.pull_request_url:
            self._opener.open(self.result_.pull_request_url)

    def done(self, result: int) -> None:  # noqa: N802 - Qt override
        self._tasks.cancel_all()
        self.token_edit.clear()
        super().done(result)
