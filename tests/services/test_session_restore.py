"""Records and output on disk: the store, bounded output files, restore of each kind of session."""

from __future__ import annotations

import sqlite3
import time

import pytest
from e2b import Sandbox

from sesame_desktop.core.config import Provider, from_environment, resolve
from sesame_desktop.core.secret import Secret
from sesame_desktop.core.session_record import CommandRecord, SessionRecord, from_json, to_json
from sesame_desktop.core.sessions import FolderProject, GitProject, SessionRequest, SessionSnapshot, SessionState
from sesame_desktop.core.settings import AppSettings
from sesame_desktop.sandbox.e2b_provider import E2BProvider
from sesame_desktop.sandbox.local import LocalProvider
from sesame_desktop.services.leftovers import LeftoverSandboxes
from sesame_desktop.services.session_output import SessionOutput
from sesame_desktop.services.session_store import SessionStore, iter_output
from sesame_desktop.services.sessions import SessionManager


def record(state=SessionState.IDLE, provider=Provider.E2B, sandbox_id="", **kw) -> SessionRecord:
    snap = SessionSnapshot(id=kw.pop("id", "s1"), name="restored", provider=provider, state=state,
                           sandbox_id=sandbox_id, created_at=time.time())
    return SessionRecord(snap, SessionRequest("restored", provider, GitProject("https://x/y.git", "dev"), task="make"),
                         **kw)


def test_a_record_survives_json_both_ways():
    rec = record(commands=(CommandRecord("npm run dev", 42, True, False, 1.5),), ports=(5173,))
    rec2 = SessionRecord(rec.snapshot.but(work_dir="/w"), SessionRequest("n", Provider.LOCAL, FolderProject(
        __import__("pathlib").Path("/home/me/p"))))
    assert from_json(to_json(rec)) == rec
    assert from_json(to_json(rec2)) == rec2


def test_store_writes_in_order_and_bounds_output(tmp_path, run_async):
    store = SessionStore(tmp_path, max_output_bytes=64 * 1024)
    for state in (SessionState.CREATING, SessionState.IDLE, SessionState.ENDED):
        store.save(record(state=state))
    output = SessionOutput("s1", store, 1000)
    for i in range(3000):
        output.feed(f"line {i:05d} {'x' * 40}\n".encode(), "stdout")
    output.meta("the end")
    output.close()
    loaded = run_async(store.load())
    data = run_async(store.read_output("s1"))
    run_async(store.aclose())
    assert [r.snapshot.state for r in loaded] == [SessionState.ENDED]
    assert sum(p.stat().st_size for p in (tmp_path / "sessions" / "s1").iterdir()) <= 64 * 1024 + 70 * 1024
    records = list(iter_output(data))
    assert records[-1] == (b"m", b"the end")
    assert b"line 02999" in records[-2][1] and b"line 00000" not in data  # the oldest was dropped
    with sqlite3.connect(tmp_path / "sessions.db") as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (1,)


def test_a_damaged_record_is_skipped(tmp_path, run_async):
    store = SessionStore(tmp_path)
    store.save(record())
    run_async(store.run(lambda: store._conn().execute("INSERT INTO sessions VALUES ('bad', 0, '{\"x\": 1}')")))
    assert [r.snapshot.id for r in run_async(store.load())] == ["s1"]
    run_async(store.aclose())


@pytest.fixture
def manager_factory(tmp_path, run_async):
    made = []

    def make(provider) -> SessionManager:
        async def providers(kind):
            return provider

        config = resolve(from_environment({}), None, AppSettings().as_partial())
        manager = SessionManager(providers, lambda: config, store=SessionStore(tmp_path / "data"))
        made.append(manager)
        return manager

    yield make
    for manager in made:
        if not manager._closed:
            run_async(manager.close(timeout=10))


def test_a_local_session_comes_back_stopped_and_restarts_in_its_workspace(manager_factory, tmp_path, qtbot,
                                                                           run_async):
    provider = LocalProvider(tmp_path / "ws")
    first = manager_factory(provider)
    sid = first.start_session(SessionRequest("local one", Provider.LOCAL, None, task="echo made > made.txt; echo hi"))
    qtbot.waitUntil(lambda: first.snapshot(sid.id).state is SessionState.IDLE, timeout=30_000)
    first._store.save(first._record(first._sessions[sid.id]))  # as if the app died here
    first._sessions[sid.id].output.flush()
    run_async(first._store.run(lambda: None))
    second = manager_factory(provider)
    run_async(second.restore())
    snap = second.snapshot(sid.id)
    assert snap.state is SessionState.STOPPED and snap.title.startswith("Stopped \u2014")
    second.buffer(sid.id)
    run_async(second.output(sid.id).loaded_from_disk())
    assert "hi" in second.buffer(sid.id).plain_text() and "Restart here" in second.buffer(sid.id).plain_text()
    second.request_restart(sid.id)
    qtbot.waitUntil(lambda: second.snapshot(sid.id).state is SessionState.IDLE, timeout=30_000)
    second.run_command(sid.id, "cat made.txt")
    qtbot.waitUntil(lambda: "made" in second.buffer(sid.id).plain_text().split("cat made.txt")[-1], timeout=20_000)


def test_a_sandbox_recorded_without_its_id_is_given_back_to_its_session(manager_factory, e2b_env, qtbot, run_async,
                                                                        tmp_path):
    store = SessionStore(tmp_path / "data")
    store.save(record(state=SessionState.CREATING, id="died-while-creating"))
    run_async(store.aclose())
    sbx = Sandbox.create(metadata={"app": "sesame-desktop", "session": "died-while-creating", "name": "restored"},
                         **e2b_env.sdk_opts)
    provider = E2BProvider(Secret(e2b_env.api_key))
    manager = manager_factory(provider)
    run_async(manager.restore())
    assert manager.snapshot("died-while-creating").state is SessionState.FAILED

    async def providers(kind):
        return provider

    leftovers = LeftoverSandboxes(providers, manager)
    found: list = []
    leftovers.found.connect(found.append)
    leftovers.check()
    qtbot.waitUntil(lambda: manager.snapshot("died-while-creating").state is SessionState.IDLE, timeout=30_000)
    assert manager.snapshot("died-while-creating").sandbox_id == sbx.sandbox_id and found == []
    run_async(leftovers.aclose())
