"""The Files tab: a live tree of the project, viewer, download, upload, rename, delete."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QUrl
from PySide6.QtWidgets import QMessageBox

from sesame_desktop.core.file_tree import FileEntry
from sesame_desktop.core.sessions import SessionState
from tests.ui.test_e2b_sessions_ui import set_key_in_settings, start_e2b_session
from tests.ui.test_sessions_ui import start_session, state_of, type_command

WEIRD = "we$ird 'name' & ü (1).txt"
Q = shlex.quote(WEIRD)


@pytest.fixture(params=["local", "e2b"])
def session(request, make_window, qtbot):
    """A window with one idle session on an empty project, on each provider."""
    if request.param == "e2b":
        request.getfixturevalue("real_keyring")
        server = request.getfixturevalue("e2b_env")
        window = make_window()
        set_key_in_settings(window, qtbot, server.api_key)
        session_id = start_e2b_session(window, qtbot, empty=True)
    else:
        window = make_window()
        session_id = start_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    qtbot.waitUntil(lambda: window.file_panel.model is not None)
    return window, session_id


def rows(model, parent=QModelIndex()) -> list[str]:
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def find(model, name: str, parent=QModelIndex()) -> QModelIndex:
    for r in range(model.rowCount(parent)):
        index = model.index(r, 0, parent)
        if index.data() == name:
            return index
    raise AssertionError(f"{name} not in {rows(model, parent)}")


def run(window, qtbot, session_id, command: str) -> None:
    """Run ``command`` from the input line and wait for its closing line in the console."""
    buffer = window._sessions.buffer(session_id)
    ended = buffer.plain_text().count("\n■ ")
    type_command(window, qtbot, command)
    qtbot.waitUntil(lambda: buffer.plain_text().count("\n■ ") > ended, timeout=30_000)


def test_tree_follows_what_commands_do(session, qtbot):
    window, session_id = session
    model = window.file_panel.model
    assert window.files_view.currentWidget() is window.file_panel
    run(window, qtbot, session_id, f"mkdir -p src/deep && echo hi > src/a.txt && echo x > {Q}")
    qtbot.waitUntil(lambda: rows(model) == ["src", WEIRD], timeout=5000)
    src = find(model, "src")
    window.file_panel.tree.expand(src)
    qtbot.waitUntil(lambda: rows(model, src) == ["deep", "a.txt"], timeout=5000)
    assert model.index(1, 1, src).data() == "3 B"
    run(window, qtbot, session_id, f"echo more text >> src/a.txt && rm {Q} && touch src/b.txt")
    qtbot.waitUntil(lambda: rows(model) == ["src"], timeout=5000)
    qtbot.waitUntil(lambda: rows(model, src) == ["deep", "a.txt", "b.txt"], timeout=5000)
    qtbot.waitUntil(lambda: model.index(1, 1, src).data() == "13 B", timeout=5000)


def test_open_shows_text_and_refuses_binary(session, qtbot):
    window, session_id = session
    run(window, qtbot, session_id, "printf 'line one\\nline two\\n' > notes.md && head -c 3000 /dev/urandom > blob.bin")
    model = window.file_panel.model
    qtbot.waitUntil(lambda: rows(model) == ["blob.bin", "notes.md"], timeout=5000)
    window.file_panel.tree.setCurrentIndex(find(model, "notes.md"))
    window.file_panel.open_action.trigger()
    qtbot.waitUntil(lambda: window.file_panel.viewer is not None and window.file_panel.viewer.isVisible())
    viewer = window.file_panel.viewer
    assert viewer.code.toPlainText() == "line one\nline two\n" and not viewer.refused
    viewer.close()
    window.file_panel.viewer = None
    window.file_panel.open_entry(model.entry_at(find(model, "blob.bin")))
    qtbot.waitUntil(lambda: window.file_panel.viewer is not None and window.file_panel.viewer.isVisible())
    assert window.file_panel.viewer.refused
    assert "not text" in window.file_panel.viewer.notice.text()
    window.file_panel.viewer.close()


def digest_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_download_a_folder_byte_for_byte(session, qtbot, tmp_path):
    window, session_id = session
    run(window, qtbot, session_id,
        f"mkdir -p out/sub && head -c 100000 /dev/urandom > out/sub/data.bin && echo hi > out/{Q} "
        f"&& cd out && sha256sum sub/data.bin {Q} > ../sums.txt")
    model = window.file_panel.model
    qtbot.waitUntil(lambda: "out" in rows(model), timeout=5000)
    window.file_panel.download(model.entry_at(find(model, "out")), tmp_path)
    qtbot.waitUntil(lambda: (tmp_path / "out" / "sub" / "data.bin").exists()
                    and (tmp_path / "out" / WEIRD).exists(), timeout=20_000)
    qtbot.waitUntil(lambda: transfers_done(window, session_id), timeout=20_000)
    qtbot.waitUntil(lambda: "sums.txt" in rows(model), timeout=10_000)  # the watch's news may trail
    sums_index = find(model, "sums.txt")
    sums = {}
    run(window, qtbot, session_id, "cat sums.txt")
    for line in window.session_panel.console.plain_text().splitlines():
        if line[:64].isalnum() and len(line) > 66:
            digest, name = line.split(None, 1)
            sums[name.lstrip("*")] = digest
    assert sums_index.isValid()
    assert digest_tree(tmp_path / "out") == {"sub/data.bin": sums["sub/data.bin"], WEIRD: sums[WEIRD]}


def test_upload_by_drop_rename_new_folder_delete(session, qtbot, tmp_path):
    window, session_id = session
    panel, model = window.file_panel, window.file_panel.model
    local = tmp_path / "drop me"
    (local / "inner").mkdir(parents=True)
    (local / "inner" / WEIRD).write_bytes(bytes(range(256)) * 10)
    single = tmp_path / "single.txt"
    single.write_text("solo\n")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(local)), QUrl.fromLocalFile(str(single))])
    assert model.canDropMimeData(data, model.supportedDropActions(), -1, -1, QModelIndex())
    assert model.dropMimeData(data, model.supportedDropActions(), -1, -1, QModelIndex())
    qtbot.waitUntil(lambda: rows(model) == ["drop me", "single.txt"], timeout=10_000)
    run(window, qtbot, session_id, f"sha256sum 'drop me'/inner/{Q}")
    expected = hashlib.sha256(bytes(range(256)) * 10).hexdigest()
    assert expected in window.session_panel.console.plain_text()

    panel.tree.setCurrentIndex(QModelIndex())
    panel.new_folder_action.trigger()
    panel.prompt.setTextValue("new dir ü")
    panel.prompt.accept()
    qtbot.waitUntil(lambda: "new dir ü" in rows(model), timeout=10_000)

    panel.tree.setCurrentIndex(find(model, "single.txt"))
    panel.rename_action.trigger()
    panel.prompt.setTextValue("renamed & ok.txt")
    panel.prompt.accept()
    qtbot.waitUntil(lambda: "renamed & ok.txt" in rows(model), timeout=10_000)

    panel.tree.setCurrentIndex(find(model, "drop me"))
    panel.delete_action.trigger()
    box = panel.confirmation
    next(b for b in box.buttons() if b.text() == "Delete").click()
    qtbot.waitUntil(lambda: rows(model) == ["new dir ü", "renamed & ok.txt"], timeout=10_000)


def test_bad_names_and_failures_are_plain_words(session, qtbot):
    window, session_id = session
    panel, model = window.file_panel, window.file_panel.model
    run(window, qtbot, session_id, "touch a.txt b.txt")
    qtbot.waitUntil(lambda: rows(model) == ["a.txt", "b.txt"], timeout=5000)
    with qtbot.waitSignal(panel.problem) as problem:
        panel.tree.setCurrentIndex(find(model, "a.txt"))
        panel.rename_action.trigger()
        panel.prompt.setTextValue("../outside.txt")
        panel.prompt.accept()
    assert problem.args[0].title == "Not a valid name"
    with qtbot.waitSignal(panel.problem) as problem:
        panel.rename_action.trigger()
        panel.prompt.setTextValue("b.txt")
        panel.prompt.accept()
    assert problem.args[0].title == "Already exists"
    assert rows(model) == ["a.txt", "b.txt"]


def test_download_never_writes_outside_the_chosen_folder(session, qtbot, tmp_path, run_async):
    """A hostile listing (names with separators) and a link in the destination are refused."""
    window, session_id = session
    run(window, qtbot, session_id, "mkdir -p proj && echo secret > proj/f.txt")
    files = window.file_panel._files
    sandbox_project = window._sessions.sandbox(session_id).project_dir
    hostile = FileEntry("../escaped.txt", f"{sandbox_project}/proj/f.txt", False, 7, 0)
    dest = tmp_path / "dest"
    dest.mkdir()
    report = run_async(files.download(session_id, hostile, dest))
    assert report.files == 0 and report.refused and not (tmp_path / "escaped.txt").exists()
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "proj").symlink_to(outside)
    folder = FileEntry("proj", f"{sandbox_project}/proj", True, 0, 0)
    report = run_async(files.download(session_id, folder, dest))
    assert report.files == 0 and report.refused
    assert list(outside.iterdir()) == []


def test_delete_asks_first(session, qtbot):
    window, session_id = session
    run(window, qtbot, session_id, "touch keep.txt")
    model = window.file_panel.model
    qtbot.waitUntil(lambda: rows(model) == ["keep.txt"], timeout=5000)
    window.file_panel.tree.setCurrentIndex(find(model, "keep.txt"))
    window.file_panel.delete_action.trigger()
    box = window.file_panel.confirmation
    assert isinstance(box, QMessageBox) and box.isVisible()
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(300)
    assert rows(model) == ["keep.txt"]


def test_a_change_reported_while_a_listing_is_on_its_way_is_not_lost(session, qtbot):
    """The listing that is answered may be older than the change: the folder is listed again."""
    window, session_id = session
    model, files = window.file_panel.model, window.file_panel._files
    run(window, qtbot, session_id, "touch first.txt")
    qtbot.waitUntil(lambda: rows(model) == ["first.txt"], timeout=5000)
    requests: list[str] = []
    original = files.request_listing
    files.request_listing = lambda sid, path: (requests.append(path), original(sid, path))[1]
    model.refresh()  # a listing is on its way…
    files.folders_changed.emit(session_id, (model.root.path,))  # …when a change is reported
    qtbot.waitUntil(lambda: len(requests) == 2 and not model.root.loading, timeout=10_000)
    assert requests == [model.root.path, model.root.path]


def transfers_done(window, session_id) -> bool:
    """No download or upload runs: they are the session's tasks (ending it cancels them)."""
    tasks = window._sessions._sessions[session_id].tasks.tasks
    return not any("FilePanel._run" in task.get_name() for task in tasks)


def test_ending_the_session_cancels_its_transfers(session, qtbot, tmp_path):
    window, session_id = session
    panel, model = window.file_panel, window.file_panel.model
    run(window, qtbot, session_id, "echo new > taken.txt")
    qtbot.waitUntil(lambda: "taken.txt" in rows(model), timeout=5000)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "taken.txt").write_text("mine\n")
    panel.download(model.entry_at(find(model, "taken.txt")), dest)  # waits on the question
    qtbot.waitUntil(lambda: panel.conflict_box is not None and panel.conflict_box.isVisible(), timeout=20_000)
    assert not transfers_done(window, session_id) and not panel._tasks.tasks  # the session's work
    window.session_panel.end_button.click()
    next(b for b in window.session_panel.end_confirmation.buttons() if b.text() == "End Session").click()
    qtbot.waitUntil(lambda: transfers_done(window, session_id), timeout=30_000)
    qtbot.waitUntil(lambda: panel.conflict_box is None, timeout=5000)
    assert (dest / "taken.txt").read_text() == "mine\n" and len(list(dest.iterdir())) == 1


def answer_conflict(panel, qtbot, button: str, for_all: bool = False) -> str:
    """Wait for the "already exists" question, answer it; returns the name it asked about."""
    qtbot.waitUntil(lambda: panel.conflict_box is not None and panel.conflict_box.isVisible(), timeout=20_000)
    box = panel.conflict_box
    asked = box.text()
    box.checkBox().setChecked(for_all)
    next(b for b in box.buttons() if b.text() == button).click()
    qtbot.waitUntil(lambda: panel.conflict_box is not box, timeout=5000)
    return asked


def test_download_asks_before_touching_an_existing_file(session, qtbot, tmp_path):
    window, session_id = session
    panel, model = window.file_panel, window.file_panel.model
    run(window, qtbot, session_id, "mkdir -p out && echo new-a > out/a.txt && echo new-b > out/b.txt")
    qtbot.waitUntil(lambda: "out" in rows(model), timeout=5000)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("mine-a\n")
    (tmp_path / "out" / "b.txt").write_text("mine-b\n")
    entry = model.entry_at(find(model, "out"))

    panel.download(entry, tmp_path)  # keep both, for all: one question, numbered copies
    assert "already exists" in answer_conflict(panel, qtbot, "Keep Both", for_all=True)
    qtbot.waitUntil(lambda: transfers_done(window, session_id), timeout=20_000)
    assert panel.conflict_box is None
    out = tmp_path / "out"
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "a.txt": "mine-a\n", "b.txt": "mine-b\n", "a (1).txt": "new-a\n", "b (1).txt": "new-b\n"}

    panel.download(entry, tmp_path)  # one by one: skip the first asked, replace the second
    skipped = answer_conflict(panel, qtbot, "Skip")
    answer_conflict(panel, qtbot, "Replace")
    qtbot.waitUntil(lambda: transfers_done(window, session_id), timeout=20_000)
    kept, replaced = ("a", "b") if "a.txt" in skipped else ("b", "a")
    assert (out / f"{kept}.txt").read_text() == f"mine-{kept}\n"
    assert (out / f"{replaced}.txt").read_text() == f"new-{replaced}\n"
    assert (out / f"{kept} (1).txt").read_text() == f"new-{kept}\n"  # the copies never get asked about
    assert not (out / "a (2).txt").exists() and not (out / "b (2).txt").exists()


def test_symlinked_folders_are_skipped_and_named_in_the_summary(session, qtbot, tmp_path):
    window, session_id = session
    panel, model = window.file_panel, window.file_panel.model
    run(window, qtbot, session_id, "mkdir -p out/real && echo x > out/real/f.txt && ln -s real out/link "
        "&& ln -s / out/root")
    qtbot.waitUntil(lambda: "out" in rows(model), timeout=5000)
    with qtbot.waitSignal(panel.problem, timeout=20_000) as problem:
        panel.download(model.entry_at(find(model, "out")), tmp_path)
    qtbot.waitUntil(lambda: transfers_done(window, session_id), timeout=20_000)
    message = problem.args[0]
    assert message.title == "Some items were skipped"
    assert "/out/link" in message.explanation and "/out/root" in message.explanation
    assert "Downloaded 1 file (" in message.explanation  # not "1 files"
    assert (tmp_path / "out" / "real" / "f.txt").read_text() == "x\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["real"]
