"""The New Session dialog: name, project, agent and prompt, setup, and per-session overrides.

It asks *What should the agent do?* and *Which agent?* (a preset, a custom agent command, or
a plain command). The prompt is handed to the agent as one argument, whatever it contains.
Everything is validated before the session starts, each problem shown beside its field. The
last choices made for a project come back when the same project is chosen again.
"""

from __future__ import annotations

import re
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
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.agents import (
    CUSTOM_ID,
    PRESETS,
    agent_command,
    custom_command,
    preset,
    validate_custom_command,
    validate_prompt,
)
from sesame_desktop.core.config import MAX_TIMEOUT_MS, EffectiveConfig, Provider, parse_template
from sesame_desktop.core.project_choices import ProjectChoices, RememberedChoices
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
COMMAND_ID = ""
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_env_lines(text: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """``NAME=value`` lines as pairs, or the first problem in plain words."""
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _ENV_NAME.match(name):
            return (), f"Line {number}: write NAME=value (a name of letters, digits and _)."
        pairs.append((name, value))
    return tuple(pairs), None


def parse_secret_names(text: str) -> tuple[tuple[str, ...], str | None]:
    names = tuple(n for n in (part.strip() for part in text.replace(",", " ").split()) if n)
    bad = [n for n in names if not _ENV_NAME.match(n)]
    if bad:
        return (), f"\u201c{bad[0]}\u201d is not a variable name (letters, digits and _)."
    return names, None


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

    def __init__(self, config: EffectiveConfig, *, e2b_ready: bool, choices: RememberedChoices | None = None,
                 parent: QWidget | None = None) -> None:
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

        self.agent_combo = QComboBox()
        self.agent_combo.setObjectName("agentCombo")
        for agent in PRESETS:
            self.agent_combo.addItem(agent.label, agent.id)
        self.agent_combo.addItem("Custom agent command", CUSTOM_ID)
        self.agent_combo.addItem("A command (no agent)", COMMAND_ID)
        self.agent_combo.currentIndexChanged.connect(self._on_agent_combo_current_index_changed)
        self.agent_note = QLabel()
        self.agent_note.setTextFormat(Qt.TextFormat.PlainText)
        self.agent_note.setWordWrap(True)
        self.agent_note.setStyleSheet("color: palette(mid);")
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setPlaceholderText("Describe the task: what to change, where, and how to check it.")
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setMinimumHeight(140)
        self.prompt_problem = _problem_label()
        self.custom_edit = QLineEdit()
        self.custom_edit.setObjectName("customAgentEdit")
        self.custom_edit.setPlaceholderText("my-agent --yes {prompt}")
        self.custom_problem = _problem_label()
        self.task_edit = QLineEdit()
        self.task_edit.setObjectName("taskEdit")
        self.task_edit.setPlaceholderText("e.g. make test \u2014 or leave empty to start idle")
        self.setup_edit = QLineEdit()
        self.setup_edit.setObjectName("setupEdit")
        self.setup_edit.setPlaceholderText("optional, e.g. npm ci or pip install -r requirements.txt")
        self.env_edit = QPlainTextEdit()
        self.env_edit.setObjectName("envEdit")
        self.env_edit.setPlaceholderText("NAME=value, one a line (optional)")
        self.env_edit.setTabChangesFocus(True)
        self.env_edit.setMaximumHeight(60)
        self.secrets_edit = QLineEdit()
        self.secrets_edit.setObjectName("secretsEdit")
        self.secrets_edit.setPlaceholderText("names of secrets kept in Settings \u25b8 Agents (optional)")
        self.env_problem = _problem_label()

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
        form.addRow("Which &agent?", self.agent_combo)
        form.addRow("", self.agent_note)
        form.addRow("Agent co&mmand:", self.custom_edit)
        form.addRow("", self.custom_problem)
        form.addRow("What should the\nagent &do?", self.prompt_edit)
        form.addRow("", self.prompt_problem)
        form.addRow("&Command:", self.task_edit)
        form.addRow("Set&up:", self.setup_edit)
        form.addRow("&Variables:", self.env_edit)
        form.addRow("Secre&ts:", self.secrets_edit)
        form.addRow("", self.env_problem)
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
        self._choices = choices or RememberedChoices()
        self._choices_edited = False
        self._applying = False
        self._apply_choices(self._choices.last.general())
        self._on_agent_combo_current_index_changed()
        self._on_source_group_toggled()
        for signal in (self.agent_combo.activated, self.setup_edit.textEdited, self.env_edit.textChanged,
                       self.secrets_edit.textEdited, self.custom_edit.textEdited):
            signal.connect(self._on_choice_edited)

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
            self.url_problem, self.folder_problem, self.template_problem, self.lifetime_problem,
            self.prompt_problem, self.custom_problem, self.env_problem)}
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
        agent_id = self.agent_id()
        prompt = self.prompt_edit.toPlainText()
        task = self.task_edit.text().strip()
        if agent_id != COMMAND_ID:
            problems[self.prompt_problem] = validate_prompt(prompt)
        if agent_id == CUSTOM_ID:
            problems[self.custom_problem] = validate_custom_command(self.custom_edit.text())
        env_vars, env_problem = parse_env_lines(self.env_edit.toPlainText())
        secret_names, secrets_problem = parse_secret_names(self.secrets_edit.text())
        problems[self.env_problem] = env_problem or secrets_problem
        for label, text in problems.items():
            label.setText(text or "")
            label.setVisible(bool(text))
        if any(problems.values()):
            return None
        agent = preset(agent_id)
        if agent is not None:
            task = agent_command(agent, prompt)
        elif agent_id == CUSTOM_ID:
            task = custom_command(self.custom_edit.text(), prompt)
        return SessionRequest(
            name=self.name_edit.text().strip() or suggest_name(project),
            provider=self.provider_combo.currentData(),
            project=project,
            task=task,
            template=template,
            timeout_ms=timeout_ms,
            agent=agent_id,
            prompt=prompt if agent_id != COMMAND_ID else "",
            setup=self.setup_edit.text().strip(),
            env_vars=env_vars,
            secret_names=secret_names,
        )

    def agent_id(self) -> str:
        return str(self.agent_combo.currentData() or "")

    def current_choices(self) -> ProjectChoices:
        """What to remember for the chosen project."""
        env_vars, _ = parse_env_lines(self.env_edit.toPlainText())
        names, _ = parse_secret_names(self.secrets_edit.text())
        provider = self.provider_combo.currentData()
        return ProjectChoices(agent=self.agent_id(), custom_command=self.custom_edit.text().strip(),
                              setup=self.setup_edit.text().strip(), env_vars=env_vars, secret_names=names,
                              provider=provider.value if isinstance(provider, Provider) else "")

    def apply_remembered(self, choices: RememberedChoices) -> None:
        """Use ``choices`` (loaded after the dialog opened) unless the user changed something."""
        self._choices = choices
        if not self._choices_edited:
            self._apply_choices(choices.for_project(self.project()) or choices.last.general())

    def _apply_choices(self, choices: ProjectChoices) -> None:
        self._applying = True
        try:
            self._apply_choices_now(choices)
        finally:
            self._applying = False

    def _apply_choices_now(self, choices: ProjectChoices) -> None:
        index = self.agent_combo.findData(choices.agent)
        if index >= 0:
            self.agent_combo.setCurrentIndex(index)
        self.custom_edit.setText(choices.custom_command)
        self.setup_edit.setText(choices.setup)
        self.env_edit.setPlainText("\n".join(f"{name}={value}" for name, value in choices.env_vars))
        self.secrets_edit.setText(" ".join(choices.secret_names))
        provider_index = self.provider_combo.findData(next((p for p in Provider if p.value == choices.provider), None))
        if choices.provider and provider_index >= 0:
            self.provider_combo.setCurrentIndex(provider_index)

    # -- slots ------------------------------------------------------------------------------

    @Slot(str)
    def _on_name_edit_text_edited(self, text: str) -> None:
        self._name_edited = bool(text)

    @Slot()
    def _on_choice_edited(self) -> None:
        if not self._applying:
            self._choices_edited = True

    @Slot()
    def _on_agent_combo_current_index_changed(self) -> None:
        agent_id = self.agent_id()
        agent = preset(agent_id)
        for widget, visible in ((self.prompt_edit, agent_id != COMMAND_ID), (self.custom_edit, agent_id == CUSTOM_ID),
                                (self.task_edit, agent_id == COMMAND_ID)):
            widget.setVisible(visible)
            label = self._form.labelForField(widget)
            if label is not None:
                label.setVisible(visible)
        if agent is not None:
            self.agent_note.setText(f"Runs {agent.executable} unattended; installed first if the template lacks it. "
                                    f"Its key ({agent.key_var}) comes from Settings \u25b8 Agents.")
        elif agent_id == CUSTOM_ID:
            self.agent_note.setText("Any command: {prompt} stands for the prompt, passed as one argument.")
        else:
            self.agent_note.setText("Runs a command in the project folder, or nothing when left empty.")
        if agent_id == COMMAND_ID:
            self.prompt_problem.hide()
        if agent_id != CUSTOM_ID:
            self.custom_problem.hide()
        self._fit_height()

    @Slot()
    def _on_project_changed(self) -> None:
        remembered = self._choices.for_project(self.project()) if hasattr(self, "_choices") else None
        if remembered is not None and not self._choices_edited:
            self._apply_choices(remembered)
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
        self._fit_height()

    def _fit_height(self) -> None:
        """Shrink to the rows now shown, so hidden rows leave no gaps between the others."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
            self.resize(self.width(), self.minimumSizeHint().height())

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
