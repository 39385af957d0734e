"""The shell and the full-rights warning where the provider is chosen and on each local session."""

from __future__ import annotations

import pytest

from sesame_desktop.core.isolation import FULL_RIGHTS_WARNING, full_rights_note
from sesame_desktop.core.shells import system_shell
from sesame_desktop.sandbox import local
from sesame_desktop.ui import provider_notes
from tests.ui.test_sessions_ui import start_session, state_of
from tests.ui.test_settings_dialog import open_dialog


def choose(dialog, label: str) -> None:
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findText(label))


def test_new_session_dialog_names_the_shell_and_warns_without_a_sandbox(make_window, monkeypatch):
    dialog = make_window().open_new_session()
    notes = dialog.provider_notes
    choose(dialog, "E2B")
    assert notes.shell_label.text() == "Commands run in bash inside the E2B sandbox."
    assert notes.rights_label.isHidden()
    choose(dialog, "Local")
    assert notes.shell_label.text() == "Commands run in bash, isolated with bubblewrap on this computer."
    assert notes.rights_label.isHidden()  # this Linux machine has bubblewrap
    dialog.reject()

    # macOS, Windows, or Linux without bubblewrap: the system's shell, and the warning.
    monkeypatch.setattr(provider_notes, "_local_isolated", lambda: False)
    dialog = make_window().open_new_session()
    choose(dialog, "Local")
    assert dialog.provider_notes.shell_label.text() == f"Commands run in {system_shell().name} on this computer."
    assert not dialog.provider_notes.rights_label.isHidden()
    assert dialog.provider_notes.rights_label.text() == full_rights_note()
    choose(dialog, "E2B")
    assert dialog.provider_notes.rights_label.isHidden()
    dialog.reject()


def test_settings_dialog_warns_where_the_provider_is_chosen(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(provider_notes, "_local_isolated", lambda: False)
    dialog = open_dialog(make_window(), qtbot)
    choose(dialog, "Local")
    assert not dialog.provider_notes.rights_label.isHidden()
    assert FULL_RIGHTS_WARNING in dialog.provider_notes.rights_label.text()
    assert dialog.provider_notes.shell_label.isHidden()
    choose(dialog, "E2B")
    assert dialog.provider_notes.rights_label.isHidden()
    dialog.reject()


@pytest.mark.parametrize("isolated", [True, False], ids=["bwrap", "no-bwrap"])
def test_each_local_session_without_a_sandbox_says_so(make_window, qtbot, monkeypatch, isolated):
    if not isolated:  # as where bubblewrap is missing (and on macOS and Windows)
        async def no_bubblewrap() -> bool:
            return False

        monkeypatch.setattr(local, "bubblewrap_works", no_bubblewrap)
    window = make_window()
    session_id = start_session(window, qtbot, empty=True)
    panel = window.session_panel
    qtbot.waitUntil(lambda: state_of(window, session_id).accepts_commands, timeout=30_000)
    assert panel.rights_label.isHidden() is isolated
    if not isolated:
        assert FULL_RIGHTS_WARNING in panel.rights_label.text()
