"""Sessions are things you manage: rename, duplicate, retry, remove (and free their memory)."""

from __future__ import annotations

import gc
import sqlite3
import weakref

from sesame_desktop.core.sessions import SessionState
from tests.ui.test_sessions_ui import start_session, state_of


def test_rename_duplicate_end_and_remove(make_window, qtbot, app_paths):
    window = make_window(store=True)
    manager, panel, model = window._sessions, window.session_panel, window.session_model
    first = start_session(window, qtbot, empty=True, task="echo one")
    qtbot.waitUntil(lambda: state_of(window, first) is SessionState.IDLE, timeout=30_000)
    window.select_session(first)

    panel.rename_action.trigger()
    panel.rename_dialog.setTextValue("  Renamed   session ")
    panel.rename_dialog.accept()
    assert manager.snapshot(first).name == "Renamed session"
    assert model.data(model.index(0)).startswith("Renamed session\n")
    assert panel.title_label.text() == "Renamed session"

    with qtbot.waitSignal(manager.session_added) as added:
        panel.duplicate_action.trigger()
    copy = added.args[0].id
    assert manager.request(copy).task == "echo one" and panel.session_id == copy
    qtbot.waitUntil(lambda: state_of(window, copy) is SessionState.IDLE, timeout=30_000)

    window.select_session(first)
    assert not panel.remove_action.isEnabled()  # an open session cannot be forgotten
    panel.end_button.click()
    next(b for b in panel.end_confirmation.buttons() if b.text() == "End Session").click()
    qtbot.waitUntil(lambda: state_of(window, first) is SessionState.ENDED, timeout=30_000)
    assert panel.remove_action.isEnabled()
    buffer = weakref.ref(manager.buffer(first))
    panel.remove_action.trigger()
    next(b for b in panel.remove_confirmation.buttons() if b.text() == "Remove").click()
    assert first not in [s.id for s in manager.snapshots()]
    assert model.rowCount() == 1 and model.snapshot_at(0).id == copy
    qtbot.waitUntil(lambda: not (app_paths.data_dir / "sessions" / first).exists(), timeout=10_000)
    with sqlite3.connect(app_paths.data_dir / "sessions.db") as db:
        ids = [row[0] for row in db.execute("SELECT id FROM sessions")]
    assert ids == [copy]
    window.select_session(copy)
    # the removed session's output is gone from memory (once its cancelled load has unwound)
    qtbot.waitUntil(lambda: gc.collect() >= 0 and buffer() is None, timeout=5000)


def test_retry_a_failed_session(make_window, qtbot, tmp_path):
    window = make_window(store=True)
    panel = window.session_panel
    failed = start_session(window, qtbot, url=str(tmp_path / "missing-repo"))
    qtbot.waitUntil(lambda: state_of(window, failed) is SessionState.FAILED, timeout=30_000)
    window.select_session(failed)
    assert panel.retry_button.isVisible() and panel.state_label.text().startswith("Failed \u2014")
    project = window._sessions.request(failed).project
    with qtbot.waitSignal(window._sessions.session_added) as added:
        panel.retry_button.click()
    again = added.args[0].id
    assert failed not in [s.id for s in window._sessions.snapshots()]
    assert window._sessions.request(again).project == project and project is not None
    qtbot.waitUntil(lambda: state_of(window, again) is SessionState.FAILED, timeout=30_000)
    assert window.session_model.rowCount() == 1


def test_an_ended_session_gives_its_buffer_up_and_reloads_it_from_disk(make_window, qtbot, run_async):
    window = make_window(store=True)
    manager = window._sessions
    sid = start_session(window, qtbot, empty=True, task="seq 1 5000")
    qtbot.waitUntil(lambda: state_of(window, sid) is SessionState.IDLE, timeout=30_000)
    other = start_session(window, qtbot, empty=True)
    window.select_session(other)
    buffer = weakref.ref(manager.buffer(sid))
    run_async(manager.end_session(sid))
    gc.collect()
    assert buffer() is None and not manager.output(sid).loaded
    window.select_session(sid)
    qtbot.waitUntil(lambda: "5000" in window.session_panel.console.plain_text(), timeout=10_000)
    assert "Session ended" in window.session_panel.console.plain_text()


def test_after_a_crash_a_local_session_shows_stopped_with_restart_here(make_window, qtbot, run_async):
    crashed = make_window(store=True)  # keeps running: as if it had died without quitting
    sid = start_session(crashed, qtbot, empty=True, task="echo before-the-crash")
    qtbot.waitUntil(lambda: state_of(crashed, sid) is SessionState.IDLE, timeout=30_000)
    run_async(crashed._sessions.store.run(lambda: None))  # its last record is on disk
    crashed._sessions.output(sid).flush()
    run_async(crashed._sessions.store.run(lambda: None))

    window = make_window(store=True)
    assert run_async(window._sessions.restore()) == 1
    assert window.session_model.rowCount() == 1
    window.select_session(sid)
    panel = window.session_panel
    assert panel.state_label.text().startswith("Stopped \u2014")
    assert panel.restart_button.isVisible() and not panel.input_edit.isEnabled()
    qtbot.waitUntil(lambda: "before-the-crash" in panel.console.plain_text(), timeout=10_000)
    panel.restart_button.click()
    qtbot.waitUntil(lambda: state_of(window, sid) is SessionState.IDLE, timeout=30_000)
    assert not panel.restart_button.isVisible() and panel.input_edit.isEnabled()
