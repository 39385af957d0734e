"""The settings dialog: provider, E2B API key, sandbox lifetime, template.

The key is read from and written to the keyring through :class:`SettingsService`, on an
executor; the dialog only awaits. A value set outside the app (environment or ``config.json``)
shows locked, naming its source. A failed save leaves the dialog open with everything typed.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.config import (
    DEFAULT_SCROLLBACK_MB,
    ENV_API_KEY,
    MAX_SCROLLBACK_MB,
    MAX_TIMEOUT_MS,
    MIN_SCROLLBACK_MB,
    Origin,
    OriginKind,
    Provider,
    parse_api_key,
    parse_template,
)
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.services.settings_service import SettingsService
from sesame_desktop.services.tasks import TaskGroupOwner
from sesame_desktop.ui.messages import plain_label
from sesame_desktop.ui.provider_notes import ProviderNotes

log = logging.getLogger(__name__)

DASHBOARD_URL = "https://e2b.dev/dashboard?tab=keys"
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MIN_WIDTH = 520  # wide enough that notes and errors wrap into a few readable lines


def split_lifetime(ms: int) -> tuple[int, int]:
    """Milliseconds as (amount, unit in ms): whole hours when exact, else minutes (rounded up)."""
    if ms % MS_PER_HOUR == 0:
        return ms // MS_PER_HOUR, MS_PER_HOUR
    return max(1, -(-ms // MS_PER_MINUTE)), MS_PER_MINUTE


class SettingsDialog(QDialog):
    """Edits the configuration; saving is asynchronous and never blocks the window.

    Signals:
        saved(EffectiveConfig): the settings (and the key, if changed) were written.
        key_loaded(): the keyring read that fills the key field has finished.
    """

    saved = Signal(object)
    key_loaded = Signal()

    def __init__(self, settings: SettingsService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self._settings = settings
        self._tasks = TaskGroupOwner("settings-dialog", on_error=self._show_unexpected)
        self._loaded_key = ""
        self._key_problem: UserMessage | None = None
        config = settings.config

        self.provider_combo = QComboBox()
        for provider in Provider:
            self.provider_combo.addItem(provider.label, provider)
        self.provider_combo.setCurrentIndex(self.provider_combo.findData(config.provider.value))

        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("apiKeyEdit")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("e2b_…")
        self.key_edit.setClearButtonEnabled(True)
        self.key_edit.setEnabled(False)  # until the keyring read finishes
        self.show_key_button = QToolButton()
        self.show_key_button.setText("Show")
        self.show_key_button.setCheckable(True)
        self.show_key_button.setToolTip("Show or hide the API key")
        self.show_key_button.toggled.connect(self._on_show_key_button_toggled)
        key_row = QHBoxLayout()
        key_row.setContentsMargins(0, 0, 0, 0)
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.show_key_button)
        key_widget = QWidget()
        key_widget.setLayout(key_row)
        self.dashboard_link = QLabel(f'<a href="{DASHBOARD_URL}">Create a key in the E2B dashboard</a>')
        self.dashboard_link.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                                    | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.dashboard_link.linkActivated.connect(self._on_dashboard_link_activated)
        self.key_note = self._note_label("Reading the keyring…")

        amount, unit = split_lifetime(config.timeout_ms.value)
        self.lifetime_spin = QSpinBox()
        self.lifetime_spin.setObjectName("lifetimeSpin")
        self.lifetime_unit = QComboBox()
        self.lifetime_unit.addItem("minutes", MS_PER_MINUTE)
        self.lifetime_unit.addItem("hours", MS_PER_HOUR)
        self.lifetime_unit.currentIndexChanged.connect(self._on_lifetime_unit_changed)
        self.lifetime_unit.setCurrentIndex(self.lifetime_unit.findData(unit))
        self._on_lifetime_unit_changed()
        self.lifetime_spin.setValue(amount)
        lifetime_row = QHBoxLayout()
        lifetime_row.setContentsMargins(0, 0, 0, 0)
        lifetime_row.addWidget(self.lifetime_spin, 1)
        lifetime_row.addWidget(self.lifetime_unit)
        lifetime_widget = QWidget()
        lifetime_widget.setLayout(lifetime_row)

        self.template_edit = QLineEdit(config.template.value)
        self.template_edit.setObjectName("templateEdit")
        self.template_edit.setPlaceholderText("E2B default template")

        form = QFormLayout()
        # rows keep their height whatever a note says (wrapped notes never squeeze the fields)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Provider:", self.provider_combo)
        self.provider_note = self._locked_note(config.provider.origin)
        form.addRow("", self.provider_note)
        self.provider_notes = ProviderNotes(self.provider_combo, show_shell=False)  # full rights without a sandbox
        form.addRow("", self.provider_notes)
        form.addRow("E2B API &key:", key_widget)
        form.addRow("", self.key_note)
        form.addRow("", self.dashboard_link)
        form.addRow("Sandbox &lifetime:", lifetime_widget)
        self.lifetime_note = self._locked_note(config.timeout_ms.origin)
        form.addRow("", self.lifetime_note)
        form.addRow("&Template:", self.template_edit)
        self.template_note = self._locked_note(config.template.origin)
        form.addRow("", self.template_note)
        self.scrollback_spin = QSpinBox()  # applies to sessions started after saving
        self.scrollback_spin.setObjectName("scrollbackSpin")
        self.scrollback_spin.setRange(MIN_SCROLLBACK_MB, MAX_SCROLLBACK_MB)
        self.scrollback_spin.setSuffix(" MB")
        self.scrollback_spin.setValue(config.scrollback_mb or DEFAULT_SCROLLBACK_MB)
        form.addRow("Console &scrollback:", self.scrollback_spin)
        form.labelForField(self.provider_combo).setBuddy(self.provider_combo)
        self.agents_button = QPushButton("Agent Keys and Secrets\u2026")  # the Agents page (ui/agent_settings.py)
        self.agents_button.setObjectName("agentsButton")
        self.agents_button.clicked.connect(self._on_agents_button_clicked)
        self.agents_dialog = None
        form.addRow("&Agents:", self.agents_button)

        self.error_label = plain_label()
        self.error_label.setObjectName("settingsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: palette(highlighted-text); background: #b3261e;"
                                       " padding: 6px; border-radius: 4px;")
        self.error_label.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        self.intro_label = intro = plain_label()
        intro.setObjectName("settingsIntro")
        intro.setWordWrap(True)
        self._update_intro()
        self.provider_combo.currentIndexChanged.connect(self._update_intro)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(MIN_WIDTH)  # the dialog grows in height with what it shows (adjustSize)

        self._lock(self.provider_combo, config.provider.origin)
        self._lock(self.lifetime_spin, config.timeout_ms.origin)
        self._lock(self.lifetime_unit, config.timeout_ms.origin)
        self._lock(self.template_edit, config.template.origin)
        self._tasks.start(self._load_key(), key="load-key")

    # -- building ---------------------------------------------------------------------------

    @staticmethod
    def _note_label(text: str) -> QLabel:
        label = plain_label(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: palette(mid); font-size: small;")
        return label

    def _locked_note(self, origin: Origin) -> QLabel:
        label = self._note_label(f"Locked: {origin.describe()}." if origin.locked else "")
        label.setVisible(origin.locked)
        return label

    @staticmethod
    def _lock(widget: QWidget, origin: Origin) -> None:
        if origin.locked:
            widget.setEnabled(False)
            widget.setToolTip(f"Locked: {origin.describe()}.")

    # -- the key ----------------------------------------------------------------------------

    async def _load_key(self) -> None:
        origin = self._settings.config.api_key_origin
        try:
            if origin.kind is OriginKind.ENVIRONMENT:
                self.key_edit.setText("")
                self.key_edit.setPlaceholderText(f"Set by {ENV_API_KEY}")
                self.key_note.setText(f"Locked: {origin.describe()}.")
                self.key_edit.setToolTip(f"Locked: {origin.describe()}.")
                self.show_key_button.setEnabled(False)
                return
            try:
                key = await self._settings.api_key()
            except UserFacingError as exc:
                self._key_problem = exc.message
                self.key_note.setText(f"{exc.message.title}: {exc.message.text()}")
                self.key_edit.setEnabled(True)
                return
            self._loaded_key = key.reveal() if key else ""
            self.key_edit.setText(self._loaded_key)
            self.key_edit.setEnabled(True)
            self.key_note.setText("Stored in the system keyring." if key
                                  else "No key stored yet. Sessions use the Local provider until one is set.")
        finally:
            self._update_intro()
            self.adjustSize()
            self.key_loaded.emit()

    @property
    def key_loading(self) -> bool:
        return self._tasks.running("load-key")

    # -- saving -----------------------------------------------------------------------------

    def _validate(self) -> tuple[dict, str | None]:
        """The values to save, or the first problem in plain words."""
        values: dict = {
            "provider": self.provider_combo.currentData(),
            "timeout_ms": self.lifetime_spin.value() * self.lifetime_unit.currentData(),
            "scrollback_mb": (self.scrollback_spin.value()  # saved when changed (None: left as it is)
                              if self.scrollback_spin.value() != self._settings.config.scrollback_mb else None),
        }
        try:
            values["template"] = parse_template(self.template_edit.text())
        except ValueError as exc:
            return values, f"Template: {exc}."
        text = self.key_edit.text().strip()
        if problem := self._e2b_problem(values["provider"], text):
            return values, problem
        values["key_changed"] = (self.key_edit.isEnabled() and text != self._loaded_key
                                 and self._settings.config.api_key_origin.kind is not OriginKind.ENVIRONMENT)
        values["api_key"] = None
        if text and values["key_changed"]:
            try:
                values["api_key"] = parse_api_key(text)
            except ValueError as exc:
                return values, f"API key: {exc}."
        return values, None

    async def _save(self, values: dict) -> None:
        self.buttons.setEnabled(False)
        self.error_label.hide()
        try:
            config = await self._settings.save(**values)
        except UserFacingError as exc:
            self._show_error(exc.message)
            return
        finally:
            self.buttons.setEnabled(True)
        if values["key_changed"]:
            self._loaded_key = values["api_key"].reveal() if values["api_key"] else ""
        self.saved.emit(config)
        self.accept()

    def _show_error(self, message: UserMessage) -> None:
        self.error_label.setText(f"{message.title}\n{message.text()}")
        self.error_label.show()
        self.adjustSize()

    def _e2b_problem(self, provider: Provider, typed_key: str) -> str | None:
        """Why E2B cannot be saved as the provider (no key, or no keyring to keep one), or None."""
        if provider is not Provider.E2B or self._settings.config.api_key_origin.kind is OriginKind.ENVIRONMENT:
            return None
        if self.provider_combo.isEnabled() is False:
            return None  # locked by the environment: not this dialog's choice
        if self._key_problem is not None:
            return (f"Provider E2B needs an API key, and it cannot be kept: {self._key_problem.title.lower()}. "
                    f"Choose Local, or set the {ENV_API_KEY} environment variable and restart.")
        if not typed_key:
            return ("Provider E2B needs an API key: enter it in E2B API key (from the E2B dashboard), "
                    "or choose Local.")
        return None

    @Slot()
    def _update_intro(self) -> None:
        e2b = self.provider_combo.currentData() is Provider.E2B
        has_key = bool(self._loaded_key) or self._settings.config.api_key_origin.kind is OriginKind.ENVIRONMENT
        self.intro_label.setText(
            "New sessions run in E2B cloud sandboxes with your API key. Choose Local to run them on this computer."
            if e2b and has_key else
            "New sessions run in E2B cloud sandboxes once an API key is set below." if e2b else
            "New sessions run on this computer with the Local provider. With an E2B API key they can run "
            "in E2B cloud sandboxes.")

    def _show_unexpected(self, exc: BaseException) -> None:
        self._show_error(UserMessage("Could not finish", f"An unexpected error occurred: {type(exc).__name__}.",
                                     "The log file has the details."))

    @property
    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisible() else ""

    # -- slots ------------------------------------------------------------------------------

    @Slot()
    def _on_agents_button_clicked(self) -> None:
        from sesame_desktop.ui.agent_settings import open_agent_settings

        self.agents_dialog = open_agent_settings(self._settings.secrets, self, self._settings.paths.config_dir)

    @Slot(bool)
    def _on_show_key_button_toggled(self, shown: bool) -> None:
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_key_button.setText("Hide" if shown else "Show")

    @Slot()
    def _on_lifetime_unit_changed(self) -> None:
        unit = self.lifetime_unit.currentData() or MS_PER_MINUTE
        self.lifetime_spin.setRange(1, MAX_TIMEOUT_MS // unit)

    @Slot(str)
    def _on_dashboard_link_activated(self, url: str) -> None:
        QDesktopServices.openUrl(QUrl(url))

    @Slot()
    def _on_buttons_accepted(self) -> None:
        values, problem = self._validate()
        if problem:
            self._show_error(UserMessage("Check the settings", problem))
            return
        self._tasks.start(self._save(values), key="save")

    # -- Qt overrides -----------------------------------------------------------------------

    def done(self, result: int) -> None:  # noqa: N802 - Qt override
        self._tasks.cancel_all()
        self.key_edit.clear()  # the key does not linger in a hidden widget
        super().done(result)
