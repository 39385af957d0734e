"""The work comes home: saved before the sandbox ends, shown in its folder, applied to the user's."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from PySide6.QtCore import QUrl

from sesame_desktop.core.sessions import SessionState
from tests.ui.test_e2b_sessions_ui import set_key_in_settings, start_e2b_session
from tests.ui.test_sessions_ui import start_session, state_of


def end_from_the_panel(window, qtbot, session_id):
    window.select_session(session_id)
    window.session_panel.end_button.click()
    next(b for b in window.session_panel.end_confirmation.buttons() if b.text() == "End Session").click()
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.ENDED, timeout=60_000)
    return window._sessions.snapshot(session_id)


def latest(work_dir: str) -> Path:
    return sorted(p for p in Path(work_dir).iterdir() if p.is_dir())[-1]


def test_an_e2b_git_session_brings_a_bundle_and_a_patch_home(real_keyring, e2b_env, make_window, qtbot,
                                                             git_http_url, git_project, tmp_path, url_catcher):
    window = make_window(store=True)
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    session_id = start_e2b_session(window, qtbot, url=git_http_url,
                                   task="echo changed >> README.md && echo new > new.txt")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    snap = end_from_the_panel(window, qtbot, session_id)
    assert not e2b_env.is_alive(snap.sandbox_id)
    saved = latest(snap.work_dir)
    assert {"work.bundle", "work.patch", "changed-files.tar.gz", "files.txt"} <= {p.name for p in saved.iterdir()}
    clone = tmp_path / "from-bundle"
    subprocess.run(["git", "clone", "-q", str(saved / "work.bundle"), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "fetch", "-q", str(saved / "work.bundle"), "refs/sesame/work"], check=True)
    shown = subprocess.run(["git", "-C", str(clone), "show", "FETCH_HEAD:new.txt"], capture_output=True, text=True)
    assert shown.stdout == "new\n"
    check = subprocess.run(["git", "-C", str(git_project), "apply", "--check", str(saved / "work.patch")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "Work saved on this computer: a git bundle and a patch" in window._sessions.buffer(session_id).plain_text() \
        or window._sessions.output(session_id).loading
    window.select_session(session_id)
    assert window.session_panel.show_folder_action.isEnabled()
    assert not window.session_panel.apply_action.isEnabled()  # a clone, not an upload
    window.session_panel.show_folder_action.trigger()
    assert url_catcher.urls == [QUrl.fromLocalFile(snap.work_dir).toString()]


def test_apply_changes_to_my_folder_asks_before_overwriting_my_edits(make_window, qtbot, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(f"{name} original\n")
    window = make_window(store=True)
    session_id = start_session(window, qtbot, folder=str(folder),
                               task="echo A2 > a.txt; echo sandbox > b.txt; rm c.txt; echo D > d.txt")
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    (folder / "b.txt").write_text("mine\n")
    os.utime(folder / "b.txt", ns=(1, 1))  # surely another time than at the upload
    snap = end_from_the_panel(window, qtbot, session_id)
    assert snap.work_dir
    panel = window.session_panel
    window.select_session(session_id)
    assert panel.apply_action.isEnabled()
    panel.apply_action.trigger()
    qtbot.waitUntil(lambda: window.apply_box is not None and window.apply_box.isVisible(), timeout=20_000)
    box = window.apply_box
    assert "1 file" in box.text() and box.informativeText() == "b.txt"
    next(b for b in box.buttons() if b.text() == "Keep Mine").click()
    qtbot.waitUntil(lambda: "Applied to" in window.statusBar().currentMessage(), timeout=20_000)
    assert (folder / "a.txt").read_text() == "A2\n"
    assert (folder / "b.txt").read_text() == "mine\n"
    assert not (folder / "c.txt").exists()
    assert (folder / "d.txt").read_text() == "D\n"
    assert "1 of yours kept" in window.statusBar().currentMessage()


def test_the_lifetime_warning_saves_the_work(real_keyring, e2b_env, make_window, qtbot):
    window = make_window(environ={"E2B_SANDBOX_TIMEOUT": "240000"}, store=True)  # under the 5-min warning
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    session_id = start_e2b_session(window, qtbot, empty=True, task="echo early > early.txt")
    qtbot.waitUntil(lambda: window._sessions.snapshot(session_id).work_dir != "", timeout=60_000)
    saved = latest(window._sessions.snapshot(session_id).work_dir)
    assert (saved / "changed-files.tar.gz").exists() and (saved / "files.txt").exists()
    assert state_of(window, session_id).open  # saving does not end anything
