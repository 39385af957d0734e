"""The agent flow with clicks: presets run by stand-ins, setup, secrets, remembered choices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from sesame_desktop.core.sessions import SessionState
from tests.fixtures.git_repos import make_repo
from tests.ui.test_agent_sessions import save_agent_key, start_agent_session
from tests.ui.test_sessions_ui import console_text, state_of

STAND_INS = Path(__file__).resolve().parents[1] / "fixtures" / "stand_ins"
INSTALL_STAND_INS = "mkdir -p ~/.local/bin && cp tools/* ~/.local/bin/ && chmod +x ~/.local/bin/*"


@pytest.fixture
def project_with_stand_ins(tmp_path) -> Path:
    files = {"README.md": "# Demo\n"}
    for script in STAND_INS.iterdir():
        files[f"tools/{script.name}"] = script.read_text()
    return make_repo(tmp_path / "agent-project", files)


def wait_done(window, qtbot, session_id, state=SessionState.IDLE):
    qtbot.waitUntil(lambda: state_of(window, session_id) in (SessionState.IDLE, SessionState.FAILED), timeout=60_000)
    assert state_of(window, session_id) is state, console_text(window)[-2000:]


@pytest.mark.parametrize(("agent", "key_var", "written", "steps", "shown_in"), [
    ("codex", "OPENAI_API_KEY", "CODEX_DID_THIS.md",
     ["Codex started", "Thinking", "Ran: bash -lc ls", "Changed 1 file", "Wrote CODEX_DID_THIS.md.", "Turn completed"],
     "transcript"),
    ("gemini", "GEMINI_API_KEY", "GEMINI_DID_THIS.md", ["Final answer", "Wrote GEMINI_DID_THIS.md."], "transcript"),
    ("opencode", "ANTHROPIC_API_KEY", "OPENCODE_DID_THIS.md", ["Wrote OPENCODE_DID_THIS.md."], "console"),
    ("amp", "AMP_API_KEY", "AMP_DID_THIS.md",
     ["Amp started", "create_file AMP_DID_THIS.md", "create_file done", "Final answer \u00b7 2 turns",
      "Wrote AMP_DID_THIS.md."], "transcript"),
    ("copilot", "COPILOT_GITHUB_TOKEN", "COPILOT_DID_THIS.md", ["Wrote COPILOT_DID_THIS.md."], "console"),
    ("aider", "ANTHROPIC_API_KEY", "AIDER_DID_THIS.md", ["Applied edit to AIDER_DID_THIS.md", "Wrote AIDER_DID_THIS.md."],
     "console"),
])
def test_presets_with_stand_in_clis(real_keyring, make_window, qtbot, project_with_stand_ins, agent, key_var,
                                    written, steps, shown_in):
    window = make_window()
    save_agent_key(window, qtbot, agent, "stand-in-key-123")
    prompt = "Write \"this\" down; $(rm -rf ~) stays text"
    session_id = start_agent_session(window, qtbot, provider="Local", url=str(project_with_stand_ins), agent=agent,
                                     prompt=prompt, setup=INSTALL_STAND_INS)
    wait_done(window, qtbot, session_id)
    home = Path(window._sessions.sandbox(session_id).home)
    assert (home / "project" / written).read_text() == prompt + "\n"
    text = window.transcript_view.plain_text() if shown_in == "transcript" else console_text(window)
    for step in steps:
        assert step in text
    assert key_var not in console_text(window)
    assert "No key for" not in console_text(window)


def test_stand_in_without_its_key_shows_the_failure(real_keyring, make_window, qtbot, project_with_stand_ins):
    window = make_window()
    session_id = start_agent_session(window, qtbot, provider="Local", url=str(project_with_stand_ins), agent="codex",
                                     prompt="anything", setup=INSTALL_STAND_INS)
    wait_done(window, qtbot, session_id)
    assert "\u2716 Failed\nMissing OPENAI_API_KEY" in window.transcript_view.plain_text()
    assert "No key for Codex CLI is set: add it in Settings" in console_text(window)


def test_failed_setup_stops_the_session_naming_the_step(make_window, qtbot, git_project):
    window = make_window()
    session_id = start_agent_session(window, qtbot, provider="Local", url=str(git_project), agent="claude-code",
                                     prompt="never runs", setup="echo installing deps; echo 'npm ERR! missing' >&2; exit 3")
    wait_done(window, qtbot, session_id, SessionState.FAILED)
    error = window._sessions.snapshot(session_id).error
    assert error.title == "Setup failed"
    assert "\u201cecho installing deps; echo 'npm ERR! missing' >&2; exit 3\u201d ended with exit code 3" in error.explanation
    assert "npm ERR! missing" in error.details and "installing deps" in error.details
    assert "never runs" not in console_text(window).replace("Setup", "")
    assert "is not in this sandbox's template" not in console_text(window)


def test_missing_agent_is_installed_and_an_install_failure_is_named(make_window, qtbot, git_project):
    window = make_window()
    session_id = start_agent_session(window, qtbot, provider="Local", url=str(git_project), agent="claude-code",
                                     prompt="x", env="npm_config_registry=http://127.0.0.1:9/\nnpm_config_fetch_retries=0")
    wait_done(window, qtbot, session_id, SessionState.FAILED)
    assert window._sessions.snapshot(session_id).error.title == "Claude Code could not be installed"
    assert "npm install --global --prefix \"$HOME/.local\"" in console_text(window)


def test_secrets_and_variables_reach_only_their_session(real_keyring, make_window, qtbot):
    window = make_window()
    settings = window.open_settings()
    qtbot.waitUntil(lambda: not settings.key_loading)
    settings.agents_button.click()
    page = settings.agents_dialog
    qtbot.waitUntil(lambda: not page.loading, timeout=20_000)
    qtbot.keyClicks(page.secret_name_edit, "DEPLOY_TOKEN")
    qtbot.keyClicks(page.secret_value_edit, "tok-secret-987")
    with qtbot.waitSignal(page.saved, timeout=20_000):
        page.buttons.button(page.buttons.StandardButton.Save).click()
    settings.reject()

    def command_session(command: str, env: str = "", secrets: str = "") -> str:
        dialog = window.open_new_session()
        dialog.empty_radio.setChecked(True)
        dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findText("Local"))
        dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData(""))
        qtbot.keyClicks(dialog.task_edit, command)
        dialog.env_edit.setPlainText(env)
        dialog.secrets_edit.setText(secrets)  # the same (empty) project: its last secrets come back otherwise
        with qtbot.waitSignal(window._sessions.session_added) as added:
            qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        return added.args[0].id

    first = command_session("echo \"[$DEPLOY_TOKEN|$STAGE]\"", env="STAGE=blue green", secrets="DEPLOY_TOKEN")
    wait_done(window, qtbot, first)
    assert "[tok-secret-987|blue green]" in console_text(window)
    second = command_session("echo \"<$DEPLOY_TOKEN|$STAGE>\"")
    wait_done(window, qtbot, second)
    window.select_session(second)
    assert "<|>" in console_text(window)


@pytest.mark.parametrize(("arrange", "label", "message"), [
    (lambda d: None, "prompt_problem", "Write what the agent should do."),
    (lambda d: (d.agent_combo.setCurrentIndex(d.agent_combo.findData("custom")), d.prompt_edit.setPlainText("p"),
                d.custom_edit.setText("my-agent --yes")), "custom_problem", "Put {prompt} in the command"),
    (lambda d: (d.prompt_edit.setPlainText("p"), d.env_edit.setPlainText("1BAD=x")), "env_problem", "Line 1"),
    (lambda d: (d.prompt_edit.setPlainText("p"), d.secrets_edit.setText("ok not-ok")), "env_problem", "not-ok"),
])
def test_agent_fields_are_validated(make_window, qtbot, arrange, label, message):
    window = make_window()
    dialog = window.open_new_session()
    dialog.empty_radio.setChecked(True)
    arrange(dialog)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    problem = getattr(dialog, label)
    assert dialog.isVisible() and problem.isVisible() and message in problem.text()
    assert window._sessions.snapshots() == []
    dialog.reject()


def test_choices_are_remembered_per_project(make_window, qtbot, git_project, app_paths, tmp_path):
    window = make_window()
    session_id = start_agent_session(window, qtbot, provider="Local", url=str(git_project), agent="gemini",
                                     prompt="p", setup="exit 7", env="A=1")
    wait_done(window, qtbot, session_id, SessionState.FAILED)  # the setup fails: the choices are kept anyway
    saved = app_paths.config_dir / "agent-choices.json"
    qtbot.waitUntil(saved.exists)
    assert json.loads(saved.read_text())["last"]["agent"] == "gemini"
    other = make_repo(tmp_path / "other", {"a": "b"})
    other_id = start_agent_session(window, qtbot, provider="Local", url=str(other), agent="codex", prompt="p",
                                   setup="exit 8")
    wait_done(window, qtbot, other_id, SessionState.FAILED)

    dialog = window.open_new_session()
    assert dialog.agent_id() == "codex"  # the last choice, for a project not chosen yet
    qtbot.keyClicks(dialog.url_edit, str(git_project))
    assert (dialog.agent_id(), dialog.setup_edit.text(), dialog.env_edit.toPlainText()) == ("gemini", "exit 7", "A=1")
    dialog.reject()
    restarted = make_window()  # a new window reads the file again
    dialog = restarted.open_new_session()
    qtbot.waitUntil(lambda: restarted._choices.loaded)
    assert dialog.agent_id() == "codex"
    dialog.reject()


def test_hidden_rows_leave_no_gaps(make_window, qtbot):
    """Switching from an agent (tall prompt box) to a plain command shrinks the dialog to the
    rows it shows, instead of spreading the remaining rows over the old height."""
    window = make_window()
    dialog = window.open_new_session()
    qtbot.waitExposed(dialog)
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData("claude-code"))
    tall = dialog.height()
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData(""))
    assert dialog.height() < tall
    assert dialog.height() == dialog.minimumSizeHint().height()
    dialog.empty_radio.setChecked(True)
    assert dialog.height() == dialog.minimumSizeHint().height()
    dialog.reject()
