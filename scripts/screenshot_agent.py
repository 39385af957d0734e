"""The README's agent-session pictures: the real Claude Code CLI against a scripted model server.

Called by ``scripts/screenshots.py``. Installs ``@anthropic-ai/claude-code`` from npm into a
throw-away folder of the repository (sandboxes hide the host's ``/tmp``), starts the scripted
model server of the tests, fills in the New Session dialog as a user would, and grabs the
dialog, the transcript and the Changes tab.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PROMPT = ("The README still says \"hello from the demo project\". Make it greet the reader, add a "
          "CONTRIBUTING note, and remove the old greet.sh script.")
PROJECT = "/home/user/project"


def _script() -> list[list[dict[str, Any]]]:
    return [
        [{"type": "text", "text": "I'll start by reading the README."},
         {"type": "tool_use", "name": "Read", "input": {"file_path": f"{PROJECT}/README.md"}}],
        [{"type": "tool_use", "name": "Edit", "input": {"file_path": f"{PROJECT}/README.md",
                                                        "old_string": "hello from the demo project",
                                                        "new_string": "Welcome! This project greets you."}}],
        [{"type": "tool_use", "name": "Write", "input": {"file_path": f"{PROJECT}/CONTRIBUTING.md",
                                                         "content": "# Contributing\n\nOpen a pull request.\n"}}],
        [{"type": "tool_use", "name": "Bash", "input": {"command": "git rm -q greet.sh",
                                                        "description": "Remove the old script"}}],
        [{"type": "text", "text": "Done: the README greets the reader, CONTRIBUTING.md is new and greet.sh "
                                  "is gone."}],
    ]


async def _wait(predicate: Any, timeout: float = 120.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the agent session did not get there in time")


async def shoot_agent(window: Any, sessions: Any, settings: Any, home: Path, out: Path) -> list[str]:
    """Grab new-session.png, agent-transcript.png and agent-changes.png; returns the names written."""
    from sesame_desktop.core.secret import Secret
    from sesame_desktop.core.sessions import SessionState
    from tests.fixtures.git_repos import make_repo
    from tests.fixtures.model_server import ScriptedModelServer

    npm = shutil.which("npm")
    if npm is None:
        print("npm is not installed: no agent pictures")
        return []
    folder = REPO / ".test-cache" / f"shots-{uuid.uuid4().hex[:8]}"
    server = ScriptedModelServer(_script()).start()
    try:
        await asyncio.to_thread(subprocess.run, [npm, "install", "--prefix", str(folder / "install"), "--cache",
                                                 str(folder / "npm-cache"), "--no-fund", "--no-audit",
                                                 "@anthropic-ai/claude-code"], check=True, capture_output=True)
        subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
        await settings.secrets.set_secret("agent:claude-code", Secret("sk-ant-demo-key-for-the-pictures"))
        project = make_repo(home / "acme-site", {"README.md": "# Acme site\nhello from the demo project\n",
                                                 "greet.sh": "#!/bin/sh\necho hello\n"})
        dialog = window.open_new_session()
        dialog.url_edit.setText(str(project))
        dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findText("Local"))
        dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData("claude-code"))
        dialog.prompt_edit.setPlainText(PROMPT)
        dialog.adjustSize()
        await asyncio.sleep(0.3)
        dialog.grab().save(str(out / "new-session.png"))
        # what the picture leaves out: the scripted model server, and npm installing offline
        dialog.setup_edit.setText(f"cp -r {folder / 'npm-cache'} ~/.npm-cache")
        dialog.env_edit.setPlainText(f"ANTHROPIC_BASE_URL={server.url}\nnpm_config_cache=/home/user/.npm-cache\n"
                                     "npm_config_offline=true")
        dialog.start_button.click()
        session_id = sessions.snapshots()[-1].id
        await _wait(lambda: sessions.snapshot(session_id).state in (SessionState.IDLE, SessionState.FAILED))
        window.select_session(session_id)
        from PySide6.QtWidgets import QSplitter

        window.resize(1600, 860)
        await asyncio.sleep(0.1)
        window.findChild(QSplitter, "mainSplitter").setSizes([220, 760, 600])
        window.side_tabs.setCurrentWidget(window.transcript_pane)
        await asyncio.sleep(0.5)
        window.grab().save(str(out / "agent-transcript.png"))
        window.side_tabs.setCurrentWidget(window.changes_pane)
        view = window.changes_view
        await _wait(lambda: "README.md" in view.file_paths(), 30)
        view.select_file("README.md")
        await _wait(lambda: "Welcome!" in view.diff_text(), 30)
        await asyncio.sleep(0.3)
        window.grab().save(str(out / "agent-changes.png"))
        return ["new-session.png", "agent-transcript.png", "agent-changes.png"]
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
