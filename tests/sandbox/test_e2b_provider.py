"""The E2B provider through the real SDK against the local E2B-compatible server."""

from __future__ import annotations

import asyncio

import pytest

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.secret import Secret
from sesame_desktop.core.sessions import FolderProject, GitProject
from sesame_desktop.sandbox.base import PROJECT_DIR, SandboxSpec
from sesame_desktop.sandbox.e2b_provider import E2BProvider, preview_scheme
from tests.sandbox.output import Output


def spec(**kw) -> SandboxSpec:
    return SandboxSpec(**{"session_id": "sess-1", "name": "test session", **kw})


@pytest.fixture
def provider(e2b_env) -> E2BProvider:
    return E2BProvider(Secret(e2b_env.api_key))


def test_create_runs_commands_and_tags_the_sandbox(provider, e2b_env, run_async):
    box = run_async(provider.create(spec()))
    meta = e2b_env.sandboxes()[box.id]["metadata"]
    assert meta == {"app": "sesame-desktop", "session": "sess-1", "name": "test session"}
    output = Output()
    run_async(box.get_project(None, lambda _m: None))
    result = run_async(box.run("pwd; echo err >&2; exit 4", on_stdout=output.on_out, on_stderr=output.on_err))
    assert result.exit_code == 4 and result.signal_name is None
    assert output.out == f"{PROJECT_DIR}\n".encode() and output.err == b"err\n"
    run_async(box.kill())
    assert not e2b_env.is_alive(box.id)
    run_async(box.kill())  # twice is fine


def test_stdin_kill_and_signal(provider, run_async):
    box = run_async(provider.create(spec()))
    run_async(box.get_project(None, lambda _m: None))
    output = Output()

    async def scenario():
        handle = await box.start("read x; echo got $x; sleep 600", on_stdout=output.on_out,
                                 on_stderr=output.on_err, stdin=True)
        await handle.send_stdin(b"42\n")
        while b"got 42" not in output.out:
            await asyncio.sleep(0.02)
        await handle.kill()
        return await handle.wait()

    result = run_async(scenario())
    assert result.exit_code is None and result.signal_name == "killed"
    assert output.kinds == {str}  # the SDK's text, not encoded to bytes for the console to decode again
    run_async(box.kill())


def test_git_project_and_folder_upload(provider, run_async, git_http_url, tmp_path, git_project):
    box = run_async(provider.create(spec()))
    steps: list[str] = []
    run_async(box.get_project(GitProject(git_http_url), steps.append), timeout=60)
    assert steps[0].startswith("Cloning")
    output = Output()
    run_async(box.run("cat README.md", on_stdout=output.on_out, on_stderr=output.on_err))
    assert b"hello from the demo project" in output.out
    run_async(box.kill())

    other = run_async(provider.create(spec(session_id="sess-2")))
    (git_project / "notes.txt").write_text("untracked but wanted\n")
    (git_project / "ignored.log").write_text("x")
    (git_project / ".gitignore").write_text("*.log\n")
    report = run_async(other.get_project(FolderProject(git_project), lambda _m: None), timeout=60)
    assert report.files == 4 and report.skipped == (".git/ (repository internals)",)
    names = sorted(e.name for e in run_async(other.list_dir(PROJECT_DIR)))
    assert names == [".gitignore", "README.md", "greet.sh", "notes.txt"]
    assert run_async(other.read_file(f"{PROJECT_DIR}/notes.txt")) == b"untracked but wanted\n"
    run_async(other.kill())


def test_preview_url_reaches_the_sandbox_port(provider, e2b_env, run_async):
    box = run_async(provider.create(spec()))
    url = run_async(box.preview_url(5173))
    assert url == f"http://5173-{box.id}.{e2b_env.domain}"
    assert preview_scheme("5173-abc.e2b.app") == "https"
    assert preview_scheme("5173-abc.localhost:4000") == "http"
    run_async(box.kill())


@pytest.mark.parametrize(
    ("arrange", "title"),
    [
        (lambda srv, kw: kw.update(key="e2b_wrong_key_0000"), "E2B rejected the API key"),
        (lambda srv, kw: kw.update(template="no-such-template"), "Template not found"),
        (lambda srv, kw: srv.fail_next(4, status=429), "Too many requests to E2B"),
        (lambda srv, kw: srv.fail_next(4, status=503), "E2B had a problem"),
    ],
)
def test_create_errors_are_plain_words(e2b_env, run_async, arrange, title):
    kw = {"key": e2b_env.api_key, "template": ""}
    arrange(e2b_env, kw)
    provider = E2BProvider(Secret(kw["key"]))
    with pytest.raises(UserFacingError) as info:
        run_async(provider.create(spec(template=kw["template"])), timeout=60)
    message = info.value.message
    assert message.title == title
    assert message.next_step
    assert "e2b_wrong_key_0000" not in message.text() + message.details


def test_network_down(e2b_env, run_async, monkeypatch):
    monkeypatch.setenv("E2B_API_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(UserFacingError) as info:
        run_async(E2BProvider(Secret(e2b_env.api_key)).create(spec()), timeout=60)
    assert info.value.message.title == "E2B cannot be reached"


def test_sandbox_gone_and_lifetime_reached(provider, e2b_env, run_async, qtbot):
    box = run_async(provider.create(spec()))
    run_async(box.get_project(None, lambda _m: None))
    e2b_env.kill_sandbox(box.id)
    with pytest.raises(UserFacingError) as info:
        run_async(box.run("echo hi", on_stdout=lambda c: None, on_stderr=lambda c: None), timeout=60)
    assert info.value.message.title == "Sandbox gone"
    assert run_async(box.is_alive()) is False

    short = run_async(provider.create(spec(session_id="sess-3", timeout_ms=2000)))
    e2b_env.expire_sandbox(short.id)
    qtbot.wait(2100)  # let the lifetime pass on the client side too
    with pytest.raises(UserFacingError) as info:
        run_async(short.run("echo hi", on_stdout=lambda c: None, on_stderr=lambda c: None), timeout=60)
    assert info.value.message.title == "Sandbox lifetime reached"
    assert "E2B_SANDBOX_TIMEOUT" in info.value.message.next_step
