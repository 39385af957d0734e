"""Agent sessions end to end: the real Claude Code CLI from npm against a scripted model server.

The CLI is installed into each sandbox by the app's own install step (from an npm cache filled
once per test run from the real registry), gets its key from the keyring through the Agents
page, and edits the project with real tool calls; the transcript shows the steps.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from PySide6.QtCore import Qt

from sesame_desktop.core.sessions import SessionState
from tests.ui.test_e2b_sessions_ui import set_key_in_settings
from tests.ui.test_sessions_ui import console_text, state_of

PROJECT = "/home/user/project"
PROMPT = ("Fix the \"README\" \u2014 it's wrong; $(touch ~/injected) `touch ~/injected2` & echo 'x' > ~/injected3\n"
          "Second line:\t\\n is not a newline; ${HOME} stays as written.")
SCRIPT = [
    [{"type": "text", "text": "I will read the README first."},
     {"type": "tool_use", "name": "Read", "input": {"file_path": f"{PROJECT}/README.md"}}],
    [{"type": "tool_use", "name": "Edit", "input": {"file_path": f"{PROJECT}/README.md",
                                                    "old_string": "hello from the demo project",
                                                    "new_string": "hello from the agent"}}],
    [{"type": "tool_use", "name": "Write", "input": {"file_path": f"{PROJECT}/notes/agent.txt",
                                                     "content": "written by the agent\n"}}],
    [{"type": "tool_use", "name": "Bash", "input": {"command": "rm greet.sh", "description": "Remove the script"}}],
    [{"type": "text", "text": "Done: README updated, notes added, greet.sh removed."}],
]


def save_agent_key(window, qtbot, agent_id: str, key: str) -> None:
    """Settings ▸ Agents, with clicks: type the key, Save."""
    settings = window.open_settings()
    qtbot.waitUntil(lambda: not settings.key_loading)
    settings.agents_button.click()
    page = settings.agents_dialog
    qtbot.waitUntil(lambda: not page.loading, timeout=20_000)
    qtbot.keyClicks(page.rows[agent_id].edit, key)
    with qtbot.waitSignal(page.saved, timeout=20_000):
        qtbot.mouseClick(page.buttons.button(page.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    settings.reject()


def start_agent_session(window, qtbot, *, provider: str, url: str, agent: str, prompt: str,
                        setup: str = "", env: str = "") -> str:
    dialog = window.open_new_session()
    qtbot.keyClicks(dialog.url_edit, url)
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findText(provider))
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData(agent))
    dialog.prompt_edit.setPlainText(prompt)
    qtbot.keyClicks(dialog.setup_edit, setup)
    dialog.env_edit.setPlainText(env)
    with qtbot.waitSignal(window._sessions.session_added) as added:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    return added.args[0].id


def first_user_text(request: dict) -> str:
    content = request["messages"][0]["content"]
    if isinstance(content, str):
        return content
    return "\n".join(block.get("text", "") for block in content if isinstance(block, dict))


def run_claude_code(window, qtbot, *, provider: str, url: str, cache, server, host: str = "127.0.0.1") -> str:
    """``host``: how the sandbox reaches this computer's loopback (the model server's address)."""
    server.script = SCRIPT
    session_id = start_agent_session(
        window, qtbot, provider=provider, url=url, agent="claude-code", prompt=PROMPT,
        setup=cache.copy_command(),
        env="\n".join(f"{k}={v}" for k, v in (("ANTHROPIC_BASE_URL", server.url.replace("127.0.0.1", host)),
                                              ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
                                              *cache.offline_env())))
    qtbot.waitUntil(lambda: state_of(window, session_id) in (SessionState.IDLE, SessionState.FAILED),
                    timeout=180_000)
    assert state_of(window, session_id) is SessionState.IDLE, console_text(window)[-3000:]
    return session_id


def check_agent_run(window, server, key: str) -> None:
    # the app installed the CLI (it was missing from the template) and showed npm's output
    console = console_text(window)
    assert "Claude Code is not in this sandbox's template: installing it." in console
    assert "npm install --global" in console
    # the prompt reached the agent as one argument, exactly as typed
    main = server.main_requests()
    assert PROMPT in first_user_text(main[0])
    # the agent's key came from the keyring, through the session's environment only
    assert {h.get("X-Api-Key") or h.get("x-api-key") for h in server.headers} == {key}
    assert len(main) == len(SCRIPT)
    # the transcript shows the steps
    text = window.transcript_view.plain_text()
    for step in ("Claude Code started", "I will read the README first.", f"Read {PROJECT}/README.md",
                 f"Edit {PROJECT}/README.md", "hello from the agent", f"Write {PROJECT}/notes/agent.txt",
                 "Bash: rm greet.sh", "Final answer", "Done: README updated, notes added, greet.sh removed.",
                 f"Files touched: {PROJECT}/README.md, {PROJECT}/notes/agent.txt"):
        assert step in text, step
    assert text.index("Read ") < text.index("Edit ") < text.index("Write ") < text.index("Final answer")
    assert window.side_tabs.currentWidget() is window.transcript_pane


def check_changes_tab(window, qtbot) -> None:
    """The Changes tab lists what the agent changed against the cloned commit, with coloured diffs."""
    window.side_tabs.setCurrentWidget(window.changes_pane)
    view = window.changes_view
    qtbot.waitUntil(lambda: view.file_paths() == ["README.md", "greet.sh", "notes/agent.txt"], timeout=30_000)
    assert view.summary.text() == "3 files changed, +2 \u22124"
    with qtbot.waitSignal(view.diff_shown, timeout=20_000):
        view.select_file("README.md")
    diff = view.diff_text()
    assert "-hello from the demo project\n+hello from the agent" in diff
    cursor = view.diff.document().find("+hello from the agent")
    assert cursor.charFormat().foreground().color().name() == "#0d652d"
    with qtbot.waitSignal(view.diff_shown, timeout=20_000):
        view.select_file("greet.sh")
    assert "deleted file mode" in view.diff_text()


def check_push(window, qtbot, server, url_catcher, host: str = "127.0.0.1") -> str:
    """Commit and Push with clicks: refused without the token, delivered with it; then the PR page."""
    view = window.changes_view
    assert view.push_button.isEnabled()
    view.push_button.click()
    dialog = window.push_dialog
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20_000)
    assert dialog.token_edit.placeholderText() == "A token that may push to this repository"
    branch = dialog.branch_edit.text()
    assert branch.startswith("sesame/")
    assert dialog.message_edit.toPlainText() == PROMPT.splitlines()[0][:72]
    with qtbot.waitSignal(dialog.failed, timeout=60_000) as failed:
        dialog.push_button.click()
    assert failed.args[0].title == "The push was refused"
    assert server.rejected >= 1 and server.branches("demo.git") == ["main"]
    qtbot.keyClicks(dialog.token_edit, server.token)
    with qtbot.waitSignal(dialog.pushed, timeout=60_000) as pushed:
        dialog.push_button.click()
    assert pushed.args[0].branch == branch and pushed.args[0].base == "main"
    assert sorted(server.branches("demo.git")) == ["main", branch]
    shown = server.show("demo.git", branch)
    assert "+hello from the agent" in shown and "written by the agent" in shown
    assert dialog.pr_button.isEnabled()
    dialog.pr_button.click()
    web = server.url.replace("127.0.0.1", host)
    assert url_catcher.urls == [f"{web}/demo/compare/main...{branch.replace('/', '%2F')}?expand=1"]
    assert not any(server.token in path for path in server.paths)
    assert server.token not in dialog.output.toPlainText()
    dialog.reject()
    return branch


def check_secret_kept(window, qtbot, key: str, app_dirs: list[Path], log_text: str, *, provider: str) -> None:
    """The key is in no file the app wrote, no log line and no other session's environment."""
    for folder in app_dirs:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert key.encode() not in path.read_bytes(), path
    assert key not in log_text
    dialog = window.open_new_session()
    dialog.empty_radio.setChecked(True)
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findText(provider))
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData(""))
    qtbot.keyClicks(dialog.task_edit, "env; echo env-listed")
    with qtbot.waitSignal(window._sessions.session_added) as added:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    other = added.args[0].id
    qtbot.waitUntil(lambda: state_of(window, other) is SessionState.IDLE, timeout=60_000)
    window.select_session(other)
    assert "env-listed" in console_text(window)
    assert key not in console_text(window)
    assert "ANTHROPIC_API_KEY" not in console_text(window)


def test_claude_code_on_the_local_provider(real_keyring, make_window, qtbot, token_git_server, claude_code_cache,
                                           model_server, app_paths, caplog, url_catcher):
    caplog.set_level(logging.DEBUG)
    key = f"sk-ant-sentinel-{uuid.uuid4().hex}"
    window = make_window()
    save_agent_key(window, qtbot, "claude-code", key)
    session_id = run_claude_code(window, qtbot, provider="Local", url=token_git_server.repo_url("demo.git"),
                                 cache=claude_code_cache, server=model_server)
    check_agent_run(window, model_server, key)
    check_changes_tab(window, qtbot)
    check_push(window, qtbot, token_git_server, url_catcher)
    home = Path(window._sessions.sandbox(session_id).home)
    assert (home / "project" / "README.md").read_text() == "# Demo\nhello from the agent\n"
    assert not any((home / name).exists() for name in ("injected", "injected2", "injected3"))
    assert "ghp_" not in (home / "project" / ".git" / "config").read_text()
    for secret in (key, token_git_server.token):
        check_secret_kept(window, qtbot, secret, [app_paths.config_dir, app_paths.data_dir, app_paths.log_dir],
                          caplog.text, provider="Local")


def test_claude_code_on_e2b(real_keyring, e2b_env, e2b_host_alias, make_window, qtbot, token_git_server,
                            claude_code_cache, model_server, app_paths, caplog, url_catcher):
    caplog.set_level(logging.DEBUG)
    key = f"sk-ant-sentinel-{uuid.uuid4().hex}"
    window = make_window()
    set_key_in_settings(window, qtbot, e2b_env.api_key)
    save_agent_key(window, qtbot, "claude-code", key)
    run_claude_code(window, qtbot, provider="E2B", url=token_git_server.repo_url("demo.git").replace(
        "127.0.0.1", e2b_host_alias), cache=claude_code_cache, server=model_server, host=e2b_host_alias)
    check_agent_run(window, model_server, key)
    check_changes_tab(window, qtbot)
    check_push(window, qtbot, token_git_server, url_catcher, host=e2b_host_alias)
    for secret in (key, token_git_server.token):
        check_secret_kept(window, qtbot, secret, [app_paths.config_dir, app_paths.data_dir, app_paths.log_dir],
                          caplog.text, provider="E2B")
