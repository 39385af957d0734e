"""Folders a command creates (a virtual environment's .venv) appear in the tree at once."""

from __future__ import annotations

from tests.ui.test_files_ui import rows, run, session  # noqa: F401 - the fixture, on each provider


def test_a_venv_style_folder_appears_without_another_change(session, qtbot):  # noqa: F811
    window, session_id = session
    model = window.file_panel.model
    run(window, qtbot, session_id, "mkdir -p .venv/lib/python3/site-packages/pkg && "
                                   "touch .venv/lib/python3/site-packages/pkg/__init__.py .venv/pyvenv.cfg")
    qtbot.waitUntil(lambda: ".venv" in rows(model), timeout=5000)
