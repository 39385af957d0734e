"""Start-up cost: what the first window needs, and nothing it does not.

The e2b SDK is imported only when E2B is really asked for. The services and the asyncio loop
they run on, the session workspace (console, terminal, files, ports, processes, agent tabs),
the sandbox providers, psutil and keyring are imported only after the first window has been
painted (or when a session needs them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Modules a start-up imports before the window shows; none of them may pull the e2b SDK in
# (about a third of a second) before a session or the leftover check asks for E2B.
START_UP_MODULES = (
    "sesame_desktop.app",
    "sesame_desktop.services.providers",
    "sesame_desktop.services.leftovers",
    "sesame_desktop.sandbox.ports",
    "sesame_desktop.ui.main_window",
)

HEAVY = ("e2b", "httpx", "sesame_desktop.sandbox.e2b_provider", "sesame_desktop.sandbox.e2b_errors")
#: dialogs imported when first opened
ON_DEMAND = ("sesame_desktop.ui.new_session_dialog", "sesame_desktop.ui.settings_dialog",
             "sesame_desktop.ui.push_dialog")


#: modules the first window with no session does not need: imported after it is painted
DEFERRED = (
    "sesame_desktop.ui.session_panel", "sesame_desktop.ui.console", "sesame_desktop.ui.terminal_tab",
    "sesame_desktop.ui.terminal_view", "sesame_desktop.ui.file_panel", "sesame_desktop.ui.file_tree_model",
    "sesame_desktop.ui.changes_view", "sesame_desktop.ui.agent_tabs", "sesame_desktop.ui.transcript_view",
    "sesame_desktop.ui.ports_view", "sesame_desktop.ui.processes_view", "sesame_desktop.ui.notifications",
    "sesame_desktop.ui.toolbar", "sesame_desktop.services.terminals", "sesame_desktop.services.transcripts",
    "sesame_desktop.services.changes", "sesame_desktop.services.push", "sesame_desktop.core.terminal",
    "re2",  # (the console's chunk check, google-re2)
    "sesame_desktop.core.screen", "sesame_desktop.sandbox.local", "sesame_desktop.sandbox.local_process",
    "sesame_desktop.sandbox.ports", "sesame_desktop.sandbox.project_files", "sesame_desktop.core.work_apply",
    "sesame_desktop.scripted", "psutil", "watchfiles", "keyring", "importlib.metadata", "email",
    # the services and the loop they run on: built once the window is on the screen
    "asyncio", "qasync", "sesame_desktop.services.sessions", "sesame_desktop.services.settings_service",
    "sesame_desktop.services.files", "sesame_desktop.services.ports", "sesame_desktop.services.session_store",
    "sesame_desktop.ui.session_list", "sesame_desktop.ui.workspace",
)


def imported_after(code: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run([sys.executable, "-c", code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, timeout=120, env=env, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("module", START_UP_MODULES)
def test_start_up_modules_do_not_import_the_e2b_sdk(module):
    modules = imported_after(f"import {module}")
    assert module in modules
    assert not {m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY}
    assert not set(ON_DEMAND) & modules


def test_the_check_itself_can_fail():
    """The same check sees the SDK once E2B is really asked for."""
    modules = imported_after("import sesame_desktop.sandbox.e2b_provider")
    assert "e2b" in modules and "httpx" in modules


def test_a_start_with_no_key_never_imports_the_e2b_sdk(tmp_path):
    """Start (settings, restore, leftover check with no key), quit: the SDK stays unloaded."""
    code = f"""
import sys
sys.argv = ["sesame-desktop", "--base-dir", {str(tmp_path / 'base')!r}, "--quit-after-start"]
from sesame_desktop.app import main
assert main() == 0
"""
    modules = imported_after(code)
    assert "sesame_desktop.services.leftovers" in modules
    assert "e2b" not in modules


# Runs the real start-up (``main()``) and notes ``sys.modules`` the moment the main window is
# first exposed, from an application-wide event filter (it only watches).
AT_FIRST_EXPOSE = """
import json, sys
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication
import sesame_desktop.app as app_module
from sesame_desktop.ui.main_window import MainWindow

class Watch(QObject):
    seen = None
    window = None
    def eventFilter(self, watched, event):
        if (Watch.seen is None and event.type() == QEvent.Type.Expose and isinstance(watched, QWindow)
                and watched.isExposed() and Watch.window is not None and watched is Watch.window.windowHandle()):
            Watch.seen = sorted(sys.modules)
        return False

watch = Watch()
frame = MainWindow.frame.__func__
def watched_frame(cls, *args, **kwargs):
    window = frame(cls, *args, **kwargs)
    Watch.window = window
    QApplication.instance().installEventFilter(watch)
    return window
MainWindow.frame = classmethod(watched_frame)
sys.argv = ["sesame-desktop", "--base-dir", BASE, "--quit-after-start"]
assert app_module.main() == 0
print(json.dumps({"exposed": Watch.seen, "end": sorted(sys.modules)}))
"""


def modules_at_first_expose(base: str) -> tuple[set[str], set[str]]:
    """``sys.modules`` when the main window is first exposed, and at the end of a start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run([sys.executable, "-c", f"BASE = {base!r}\n" + AT_FIRST_EXPOSE],
                         capture_output=True, text=True, timeout=120, env=env, check=True).stdout
    seen = json.loads(out.splitlines()[-1])
    assert seen["exposed"] is not None, "the main window was never exposed"
    return set(seen["exposed"]), set(seen["end"])


def _loaded(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {name for name in names if name in modules}


def test_importing_the_app_loads_no_deferred_module():
    assert not _loaded(imported_after("import sesame_desktop.app"), DEFERRED)


def test_the_first_window_is_shown_before_the_services_workspace_and_keyring_load(tmp_path):
    """A start with no sessions: nothing deferred is imported before the window is exposed;
    by the end of the start (settings loaded, after the first paint) the services are."""
    exposed, end = modules_at_first_expose(str(tmp_path / "base"))
    assert "sesame_desktop.ui.main_window" in exposed
    assert not _loaded(exposed, DEFERRED)
    # the same check sees them once they are really loaded
    assert {"keyring", "asyncio", "sesame_desktop.services.sessions"} <= end
