"""Sandbox lifecycle through the real SDK: create, connect, list, info, timeout, kill, auth."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from e2b import AsyncSandbox, Sandbox, SandboxQuery, SandboxState
from e2b.exceptions import (
    AuthenticationException,
    SandboxException,
    SandboxNotFoundException,
    SandboxNotRunningException,
)

from .conftest import wait_until


def test_create_with_template_timeout_metadata_envs_async(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create(
            "base", timeout=120, metadata={"session": "s1", "owner": "me"}, envs={"GREETING": "hello"}
        )
        info = await sbx.get_info()
        out = await sbx.commands.run("echo $GREETING-$E2B_SANDBOX")
        return sbx, info, out

    sbx, info, out = run_async(go())
    assert sbx.sandbox_id in e2b_env.sandbox_ids()
    assert info.sandbox_id == sbx.sandbox_id
    assert info.template_id == "base"
    assert info.metadata == {"session": "s1", "owner": "me"}
    assert info.state == SandboxState.RUNNING
    lifetime = (info.end_at - info.started_at).total_seconds()
    assert 119 <= lifetime <= 121
    assert out.stdout == "hello-true\n"
    assert sbx.get_host(3000) == f"3000-{sbx.sandbox_id}.{e2b_env.domain}"


def test_create_connect_info_kill_sync(e2b_server) -> None:
    sbx = Sandbox.create(timeout=60, **e2b_server.sdk_opts)
    again = Sandbox.connect(sbx.sandbox_id, **e2b_server.sdk_opts)
    assert again.commands.run("echo connected").stdout == "connected\n"
    assert Sandbox.get_info(sbx.sandbox_id, **e2b_server.sdk_opts).template_id == "base"
    assert sbx.is_running()
    assert sbx.kill() is True
    assert Sandbox.kill(sbx.sandbox_id, **e2b_server.sdk_opts) is False
    assert not e2b_server.is_alive(sbx.sandbox_id)
    with pytest.raises(SandboxNotFoundException):
        Sandbox.get_info(sbx.sandbox_id, **e2b_server.sdk_opts)
    with pytest.raises(SandboxNotFoundException):
        Sandbox.connect(sbx.sandbox_id, **e2b_server.sdk_opts)
    assert not sbx.is_running()


def test_wrong_api_key_is_401(e2b_server, run_async) -> None:
    opts = {**e2b_server.sdk_opts, "api_key": "e2b_wrong"}
    with pytest.raises(AuthenticationException):
        Sandbox.create(**opts)

    async def go():
        with pytest.raises(AuthenticationException):
            await AsyncSandbox.create(**opts)
        with pytest.raises(AuthenticationException):
            await AsyncSandbox.list(**opts).next_items()

    run_async(go())
    assert e2b_server.sandbox_ids() == []


def test_unknown_template_is_404_with_e2b_message(e2b_server) -> None:
    with pytest.raises(SandboxException) as err:
        Sandbox.create("no-such-template", **e2b_server.sdk_opts)
    assert err.value.status_code == 404
    assert "template 'no-such-template' not found" in str(err.value)
    e2b_server.set_templates(["no-such-template"])
    sbx = Sandbox.create("no-such-template", **e2b_server.sdk_opts)
    assert Sandbox.get_info(sbx.sandbox_id, **e2b_server.sdk_opts).template_id == "no-such-template"
    with pytest.raises(SandboxException) as err:
        Sandbox.create("base", **e2b_server.sdk_opts)
    assert err.value.status_code == 404


def test_list_filters_by_state_and_metadata_and_paginates(e2b_env, run_async) -> None:
    async def go():
        a = await AsyncSandbox.create(metadata={"app": "sesame", "n": "1"})
        b = await AsyncSandbox.create(metadata={"app": "sesame", "n": "2"})
        c = await AsyncSandbox.create(metadata={"app": "other & more", "n": "3"})
        everything = await AsyncSandbox.list().next_items()
        mine = await AsyncSandbox.list(query=SandboxQuery(metadata={"app": "sesame"})).next_items()
        odd = await AsyncSandbox.list(query=SandboxQuery(metadata={"app": "other & more"})).next_items()
        paused = await AsyncSandbox.list(query=SandboxQuery(state=[SandboxState.PAUSED])).next_items()
        running = await AsyncSandbox.list(query=SandboxQuery(state=[SandboxState.RUNNING])).next_items()
        pager = AsyncSandbox.list(limit=2)
        pages = []
        while pager.has_next:
            pages.append([s.sandbox_id for s in await pager.next_items()])
        return (a, b, c), everything, mine, odd, paused, running, pages

    (a, b, c), everything, mine, odd, paused, running, pages = run_async(go())
    ids = {a.sandbox_id, b.sandbox_id, c.sandbox_id}
    assert {s.sandbox_id for s in everything} == ids
    assert {s.sandbox_id for s in mine} == {a.sandbox_id, b.sandbox_id}
    assert [s.sandbox_id for s in odd] == [c.sandbox_id]
    assert paused == []
    assert {s.sandbox_id for s in running} == ids
    assert [len(p) for p in pages] == [2, 1]
    assert {i for p in pages for i in p} == ids
    assert all(s.metadata["n"] in "123" for s in everything)


def test_set_timeout_moves_end_and_lifetime_end_kills(e2b_server) -> None:
    sbx = Sandbox.create(timeout=1, **e2b_server.sdk_opts)
    sbx.set_timeout(60)
    info = sbx.get_info()
    remaining = (info.end_at - dt.datetime.now(dt.UTC)).total_seconds()
    assert 55 < remaining <= 60
    time.sleep(1.2)  # past the first lifetime: set_timeout really moved it
    assert sbx.is_running()

    short = Sandbox.create(timeout=1, **e2b_server.sdk_opts)
    proc = short.commands.run("sleep 60", background=True)
    assert proc.pid > 0
    wait_until(lambda: not e2b_server.is_alive(short.sandbox_id), timeout=5)
    assert not short.is_running()
    with pytest.raises(SandboxNotFoundException):
        short.get_info()
    assert e2b_server.sandboxes()[short.sandbox_id]["reason"] == "expired"


def test_connect_extends_but_never_shortens(e2b_server) -> None:
    sbx = Sandbox.create(timeout=100, **e2b_server.sdk_opts)
    Sandbox.connect(sbx.sandbox_id, timeout=10, **e2b_server.sdk_opts)
    end = sbx.get_info().end_at
    assert (end - dt.datetime.now(dt.UTC)).total_seconds() > 90
    Sandbox.connect(sbx.sandbox_id, timeout=500, **e2b_server.sdk_opts)
    end = sbx.get_info().end_at
    assert (end - dt.datetime.now(dt.UTC)).total_seconds() > 490


def test_external_kill_looks_like_dashboard_kill(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        assert e2b_env.kill_sandbox(sbx.sandbox_id) is True
        assert e2b_env.kill_sandbox(sbx.sandbox_id) is False
        running = await sbx.is_running()
        with pytest.raises(SandboxNotRunningException):
            await sbx.commands.run("echo hi")
        with pytest.raises(SandboxNotRunningException):
            await sbx.files.read("/etc/hostname")
        with pytest.raises(SandboxNotFoundException):
            await sbx.get_info()
        listed = await AsyncSandbox.list().next_items()
        return running, listed, await sbx.kill()

    running, listed, killed_again = run_async(go())
    assert running is False
    assert listed == []
    assert killed_again is False


def test_pagination_survives_changes_between_pages_and_orders(e2b_server) -> None:
    made = [Sandbox.create(**e2b_server.sdk_opts).sandbox_id for _ in range(3)]
    pager = Sandbox.list(limit=2, **e2b_server.sdk_opts)  # newest first, as E2B lists
    first = [s.sandbox_id for s in pager.next_items()]
    assert first == [made[2], made[1]] and pager.has_next
    Sandbox.kill(first[0], **e2b_server.sdk_opts)
    second = [s.sandbox_id for s in pager.next_items()]
    assert second == [made[0]] and not pager.has_next
    oldest_first = [s.sandbox_id for s in Sandbox.list(order="asc", **e2b_server.sdk_opts).next_items()]
    assert oldest_first == [made[0], made[1]]


def test_list_newest_first_with_template_time_and_state_filters(e2b_server, run_async) -> None:
    opts = e2b_server.sdk_opts
    e2b_server.set_templates(["base", "desktop"])
    first = Sandbox.create("base", **opts)
    time.sleep(0.02)
    middle = Sandbox.create("desktop", **opts)
    time.sleep(0.02)
    last = Sandbox.create("base", **opts)
    last.pause()
    started = {s.sandbox_id: s.started_at for s in Sandbox.list(**opts).next_items()}
    ids = [s.sandbox_id for s in Sandbox.list(**opts).next_items()]
    assert ids == [last.sandbox_id, middle.sandbox_id, first.sandbox_id]  # running and paused
    base = Sandbox.list(query=SandboxQuery(template="base"), **opts).next_items()
    assert [s.sandbox_id for s in base] == [last.sandbox_id, first.sandbox_id]
    since = Sandbox.list(query=SandboxQuery(started_after=started[middle.sandbox_id]), **opts).next_items()
    assert [s.sandbox_id for s in since] == [last.sandbox_id, middle.sandbox_id]

    async def go():
        pager = AsyncSandbox.list(query=SandboxQuery(state=[SandboxState.RUNNING]), limit=1, order="asc", **opts)
        pages = []
        while pager.has_next:
            pages.append([s.sandbox_id for s in await pager.next_items()])
        return pages

    assert run_async(go()) == [[first.sandbox_id], [middle.sandbox_id]]
    # startedBefore and the v1 listing (running only), which the SDK has no parameter for
    before = started[middle.sandbox_id].isoformat()
    with httpx.Client(base_url=e2b_server.api_url, headers={"X-API-KEY": e2b_server.api_key}) as client:
        older = client.get("/v2/sandboxes", params={"startedBefore": before}).json()
        v1 = client.get("/sandboxes").json()
        bad = client.get("/v2/sandboxes", params={"limit": 0})
        state = client.get("/v2/sandboxes", params={"state": "sleeping"})
    assert [s["sandboxID"] for s in older] == [middle.sandbox_id, first.sandbox_id]
    assert {s["sandboxID"] for s in v1} == {first.sandbox_id, middle.sandbox_id}
    assert bad.status_code == 400 and state.status_code == 400
