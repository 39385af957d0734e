"""Settings ▸ Agents: each agent's key and the named session secrets, in the OS keyring.

Keys are never read back into the page: a field shows whether a key is stored, and a value
typed into it replaces the stored one on Save. Everything goes through
:class:`~sesame_desktop.services.secret_store.SecretStore` on an executor.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sesame_desktop.core.agents import PRESETS, AgentPreset
from sesame_desktop.core.costs import CostRates, load_rates, save_rates
from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.secret import Secret
from sesame_desktop.services.agent_env import agent_key_name, session_secret_name
from sesame_desktop.services.secret_store import SecretStore
from sesame_desktop.services.tasks import TaskGroupOwner
from sesame_desktop.ui.session_usage import UsageRates

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class AgentKeyRow(QWidget):
    """One agent's key: a password field (empty: keep what is stored) and Remove."""

    def __init__(self, agent: AgentPreset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent = agent
        self.edit = QLineEdit()
        self.edit.setObjectName(f"agentKey-{agent.id}")
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText("Reading the keyring\u2026")
        self.edit.setClearButtonEnabled(True)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setEnabled(False)
        self.stored = False
        self.remove_requested = False
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.remove_button)

    def set_stored(self, stored: bool) -> None:
        self.stored = stored
        self.remove_requested = False
        self.edit.setPlaceholderText("Stored in the keyring (type to replace)" if stored else "Not set")
        self.remove_button.setEnabled(stored)

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        self.remove_requested = True
        self.edit.clear()
        self.edit.setPlaceholderText("Removed on Save")
        self.remove_button.setEnabled(False)


class AgentSettingsDialog(QDialog):
    """The Agents page.

    Signals:
        saved(): every change was written to the keyring.
        loaded(): the page knows which keys are stored.
    """

    saved = Signal()
    loaded = Signal()

    def __init__(self, secrets: SecretStore, parent: QWidget | None = None, *, config_dir: Path | None = None) -> None:
        super().__init__(parent)
        self._config_dir = config_dir
        self.setWindowTitle("Agents")
        self.setObjectName("agentSettingsDialog")
        self.setMinimumWidth(560)
        self._secrets = secrets
        self._tasks = TaskGroupOwner("agent-settings", on_error=self._on_task_error)
        intro = _plain_label("Each agent's key is kept in the system keyring, like the E2B key, and given "
                             "only to the commands of sessions that run that agent.")
        keys = QGroupBox("Agent keys")
        form = QFormLayout(keys)
        self.rows: dict[str, AgentKeyRow] = {}
        for agent in PRESETS:
            row = AgentKeyRow(agent)
            self.rows[agent.id] = row
            form.addRow(f"{agent.label} ({agent.key_var}):", row)

        secrets_box = QGroupBox("Session secrets")
        self.secret_name_edit = QLineEdit()
        self.secret_name_edit.setObjectName("secretNameEdit")
        self.secret_name_edit.setPlaceholderText("NAME (as the variable the commands see)")
        self.secret_value_edit = QLineEdit()
        self.secret_value_edit.setObjectName("secretValueEdit")
        self.secret_value_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_value_edit.setPlaceholderText("value")
        secret_form = QFormLayout(secrets_box)
        secret_form.addRow(_plain_label("A project lists the names of the secrets its sessions get (New Session "
                                        "\u25b8 Secrets); their values live here, in the keyring."))
        secret_form.addRow("Name:", self.secret_name_edit)
        secret_form.addRow("Value:", self.secret_value_edit)

        costs = QGroupBox("E2B cost estimate")
        cost_form = QFormLayout(costs)
        cost_form.addRow(_plain_label("E2B bills every second a sandbox runs, for the CPU and memory its "
                                      "template allocates. Defaults: E2B's published prices and default sandbox."))
        self.rate_spins: dict[str, QDoubleSpinBox] = {}
        rates = UsageRates.current
        for name, label, decimals, suffix in (("vcpu_per_s", "Per vCPU-second:", 8, " $"),
                                              ("gib_per_s", "Per GiB-second:", 8, " $"),
                                              ("vcpus", "vCPUs per sandbox:", 1, ""),
                                              ("memory_gib", "Memory per sandbox:", 2, " GiB")):
            spin = QDoubleSpinBox()
            spin.setObjectName(f"rate-{name}")
            spin.setDecimals(decimals)
            spin.setRange(0, 1000)
            spin.setSingleStep(10 ** -decimals if decimals > 2 else 0.5)
            spin.setSuffix(suffix)
            spin.setValue(getattr(rates, name))
            self.rate_spins[name] = spin
            cost_form.addRow(label, spin)

        self.status_label = _plain_label()
        self.status_label.setObjectName("agentSettingsStatus")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(keys)
        layout.addWidget(secrets_box)
        layout.addWidget(costs)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self._tasks.start(self._load(), key="load")

    @property
    def loading(self) -> bool:
        return self._tasks.running("load")

    def rates(self) -> CostRates:
        return CostRates(**{name: spin.value() for name, spin in self.rate_spins.items()})

    async def _load(self) -> None:
        if self._config_dir is not None:
            rates = await asyncio.get_running_loop().run_in_executor(None, load_rates, self._config_dir)
            for name, spin in self.rate_spins.items():
                spin.setValue(getattr(rates, name))
        try:
            for agent_id, row in self.rows.items():
                try:
                    stored = await self._secrets.get_secret(agent_key_name(agent_id)) is not None
                except UserFacingError as exc:
                    self.status_label.setText(f"{exc.message.title}: {exc.message.text()}")
                    row.edit.setPlaceholderText("The keyring cannot be read")
                    continue
                row.set_stored(stored)
        finally:
            self.loaded.emit()

    async def _save(self) -> None:
        self.buttons.setEnabled(False)
        try:
            for agent_id, row in self.rows.items():
                value = row.edit.text().strip()
                if value:
                    await self._secrets.set_secret(agent_key_name(agent_id), Secret(value))
                elif row.remove_requested:
                    await self._secrets.delete_secret(agent_key_name(agent_id))
            name, value = self.secret_name_edit.text().strip(), self.secret_value_edit.text()
            if name or value:
                await self._secrets.set_secret(session_secret_name(name), Secret(value))
            rates = self.rates()
            if self._config_dir is not None:
                await asyncio.get_running_loop().run_in_executor(None, save_rates, self._config_dir, rates)
            UsageRates.set(rates)
        except OSError as exc:
            self.status_label.setText(f"The cost rates could not be saved: {exc.strerror or exc}.")
            return
        except UserFacingError as exc:
            self.status_label.setText(f"{exc.message.title}: {exc.message.text()}")
            return
        finally:
            self.buttons.setEnabled(True)
        self.saved.emit()
        self.accept()

    def _validate(self) -> str | None:
        name, value = self.secret_name_edit.text().strip(), self.secret_value_edit.text()
        if name or value:
            if not _NAME.match(name):
                return "A secret's name is a variable name: letters, digits and _, not starting with a digit."
            if not value:
                return f"Enter the value of {name}."
        return None

    @Slot()
    def _on_buttons_accepted(self) -> None:
        problem = self._validate()
        if problem:
            self.status_label.setText(problem)
            return
        self._tasks.start(self._save(), key="save")

    def _on_task_error(self, exc: BaseException) -> None:
        self.status_label.setText(f"Could not finish: {type(exc).__name__}. The log file has the details.")

    def done(self, result: int) -> None:  # noqa: N802 - Qt override
        self._tasks.cancel_all()
        for row in self.rows.values():
            row.edit.clear()  # no key lingers in a hidden widget
        self.secret_value_edit.clear()
        super().done(result)


def open_agent_settings(secrets: SecretStore, parent: QWidget | None, config_dir: Path | None = None
                        ) -> AgentSettingsDialog:
    """Open the Agents page (non-blocking); it deletes itself when closed."""
    dialog = AgentSettingsDialog(secrets, parent, config_dir=config_dir)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
