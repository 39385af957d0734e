"""The New Session dialog: name, project, task, and per-session overrides.

Everything is validated before the session starts, each problem shown beside its field.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.config import MAX_TIMEOUT_MS, EffectiveConfig, Provider, parse_template
from sesame_desktop.core.sessions import (
    FolderProject,
    GitProject,
    Project,
    SessionRequest,
    suggest_name,
    validate_branch,
    validate_git_url,
    validate_timeout_ms,
)
from sesame_desktop.ui.messages import plain_label
from sesame_desktop.ui.provider_notes import ProviderNotes

MS_PER_MINUTE = 60_000


def _problem_label() -> QLabel:
    label = plain_label()
    label.setWordWrap(True)
    label.setStyleSheet("color: #b3261e;")
    label.hide()
    return label


def _row(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
    return box


class NewSessionDialog(QDialog):
    """Asks what a new session should do.

    Signals:
        requested(SessionRequest): the user pressed Start and everything is valid.
    """

    requested = Signal(object)

    def __init__(self, config: EffectiveConfig, *, e2b_ready: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Session")
        self.setObjectName("newSessionDialog")
        self.setMinimumWidth(560)
        self._config = config
        self._name_edited = False

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Named after the project")
        self.name_edit.textEdited.connect(self._on_name_edit_text_edited)

        self.git_radio = QRadioButton("&Git repository")
        self.folder_radio = QRadioButton("Local &folder")
        self.empty_radio = QRadioButton("&Empty project")
        self.source_group = QButtonGroup(self)
        for button in (self.git_radio, self.folder_radio, self.empty_radio):
            self.source_group.addButton(button)
        self.git_radio.setChecked(True)
        self.source_group.buttonToggled.connect(self._on_source_group_toggled)

        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("gitUrlEdit")
        self.url_edit.setPlaceholderText("https://github.com/owner/repo.git")
        self.url_edit.textChanged.connect(self._on_project_changed)
        self.branch_edit = QLineEdit()
        self.branch_edit.setPlaceholderText("default branch")
        self.branch_edit.setMaximumWidth(180)
        self.branch_edit.textChanged.connect(self._on_project_changed)
        self.url_problem = _problem_label()

        self.folder_edit = QLineEdit()
        self.folder_edit.setObjectName("folderEdit")
        self.folder_edit.setPlaceholderText("A folder on this computer")
        self.folder_edit.textChanged.connect(self._on_project_changed)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_button_clicked)
        self.folder_problem = _problem_label()

        self.task_edit = QLineEdit()
        self.task_edit.setObjectName("taskEdit")
        self.task_edit.setPlaceholderText("e.g. claude -p \"fix the failing test\" — or leave empty to start idle")

        self.provider_combo = QComboBox()
        for provider in Provider:
            self.provider_combo.addItem(provider.label, provider)
        self.provider_combo.setCurrentIndex(self.provider_combo.findData(config.provider.value))
        self.provider_note = plain_label("" if e2b_ready else "E2B needs an API key: set one in Settings.")
        self.provider_note.setStyleSheet("color: palette(mid);")
        self.provider_note.setVisible(not e2b_ready)

        self.template_edit = QLineEdit()
        self.template_edit.setPlaceholderText(config.template.value or "E2B default template")
        self.template_problem = _problem_label()
        self.lifetime_check = QCheckBox("Override:")
        self.lifetime_spin = QSpinBox()
        self.lifetime_spin.setRange(1, MAX_TIMEOUT_MS // MS_PER_MINUTE)
        self.lifetime_spin.setSuffix(" min")
        self.lifetime_spin.setValue(max(1, config.timeout_ms.value // MS_PER_MINUTE))
        self.lifetime_spin.setEnabled(False)
        self.lifetime_check.toggled.connect(self.lifetime_spin.setEnabled)
        self.lifetime_problem = _problem_label()

        form = QFormLayout()
        form.addRow("&Name:", self.name_edit)
        form.addRow("Project:", _row(self.git_radio, self.folder_radio, self.empty_radio))
        self.git_row = _row(self.url_edit, QLabel("branch"), self.branch_edit)
        form.addRow("Repository:", self.git_row)
        form.addRow("", self.url_problem)
        self.folder_row = _row(self.folder_edit, self.browse_button)
        form.addRow("Folder:", self.folder_row)
        form.addRow("", self.folder_problem)
        form.addRow("&Task:", self.task_edit)
        form.addRow("&Provider:", self.provider_combo)
        form.addRow("", self.provider_note)
        self.provider_notes = ProviderNotes(self.provider_combo)  # shell; full rights without a sandbox
        form.addRow("", self.provider_notes)
        form.addRow("Te&mplate:", self.template_edit)
        form.addRow("", self.template_problem)
        form.addRow("Lifetime:", _row(self.lifetime_check, self.lifetime_spin))
        form.addRow("", self.lifetime_problem)
        self._form = form

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setDefault(True)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._on_source_group_toggled()

    # -- reading the form -------------------------------------------------------------------

    def project(self) -> Project:
        if self.git_radio.isChecked():
            return GitProject(self.url_edit.text().strip(), self.branch_edit.text().strip())
        if self.folder_radio.isChecked():
            return FolderProject(Path(self.folder_edit.text().strip()).expanduser())
        return None

    def validate(self) -> SessionRequest | None:
        """The request, or None after showing each problem beside its field."""
        problems: dict[QLabel, str | None] = {label: None for label in (
            self.url_problem, self.folder_problem, self.template_problem, self.lifetime_problem)}
        project = self.project()
        if isinstance(project, GitProject):
            problems[self.url_problem] = validate_git_url(project.url) or validate_branch(project.branch)
        elif isinstance(project, FolderProject):
            text = self.folder_edit.text().strip()
            if not text:
                problems[self.folder_problem] = "Choose the folder to upload."
            elif not project.path.is_dir():
                problems[self.folder_problem] = f"There is no folder at {project.path}."
        template: str | None = None
        if self.template_edit.text().strip():
            try:
                template = parse_template(self.template_edit.text())
            except ValueError as exc:
                problems[self.template_problem] = f"{str(exc).capitalize()}."
        timeout_ms: int | None = None
        if self.lifetime_check.isChecked():
            timeout_ms = self.lifetime_spin.value() * MS_PER_MINUTE
            problems[self.lifetime_problem] = validate_timeout_ms(timeout_ms)
        for label, text in problems.items():
            label.setText(text or "")
            label.setVisible(bool(text))
        if any(problems.values()):
            return None
        return SessionRequest(
            name=self.name_edit.text().strip() or suggest_name(project),
            provider=self.provider_combo.currentData(),
            project=project,
            task=self.task_edit.text().strip(),
            template=template,
            timeout_ms=timeout_ms,
        )

    # -- slots ------------------------------------------------------------------------------

    @Slot(str)
    def _on_name_edit_text_edited(self, text: str) -> None:
        self._name_edited = bool(text)

    @Slot()
    def _on_project_changed(self) -> None:
        if not self._name_edited:
            project = self.project()
            has_text = bool(self.url_edit.text().strip() if self.git_radio.isChecked()
                            else self.folder_edit.text().strip())
            self.name_edit.setText(suggest_name(project) if has_text else "")

    @Slot()
    def _on_source_group_toggled(self) -> None:
        git, folder = self.git_radio.isChecked(), self.folder_radio.isChecked()
        for widget, visible in ((self.git_row, git), (self.folder_row, folder)):
            widget.setVisible(visible)
            self._form.labelForField(widget).setVisible(visible)
        if not git:
            self.url_problem.hide()
        if not folder:
            self.folder_problem.hide()
        self._on_project_changed()

    @Slot()
    def _on_browse_button_clicked(self) -> None:
        chooser = QFileDialog(self, "Choose the project folder", self.folder_edit.text() or str(Path.home()))
        chooser.setFileMode(QFileDialog.FileMode.Directory)
        chooser.setOption(QFileDialog.Option.ShowDirsOnly, True)
        chooser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        chooser.fileSelected.connect(self.folder_edit.setText)
        chooser.open()

    @Slot()
    def _on_buttons_accepted(self) -> None:
        request = self.validate()
        if request is not None:
            self.requested.emit(request)
            self.accept()
