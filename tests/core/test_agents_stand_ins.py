"""The stand-in CLIs accept exactly their preset's command line and need its key.

Each stand-in (tests/fixtures/stand_ins) is run through the preset's real shell command, the
way a session runs it: with its key it edits the project and answers; without the key, or with
a command line the real CLI's documentation does not give, it fails like the CLI would.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sesame_desktop.core.agents import OutputFormat, agent_command, preset
from sesame_desktop.core.transcript import EntryKind, TranscriptParser

STAND_INS = Path(__file__).resolve().parents[1] / "fixtures" / "stand_ins"
PROMPT = "Write \"this\" down; $(touch injected) `id` stays text\nsecond line"
CASES = [  # agent, key variable, the file it writes, a line of its answer
    ("opencode", "ANTHROPIC_API_KEY", "OPENCODE_DID_THIS.md", "Wrote OPENCODE_DID_THIS.md."),
    ("amp", "AMP_API_KEY", "AMP_DID_THIS.md", "Wrote AMP_DID_THIS.md."),
    ("copilot", "COPILOT_GITHUB_TOKEN", "COPILOT_DID_THIS.md", "Wrote COPILOT_DID_THIS.md."),
    ("aider", "OPENAI_API_KEY", "AIDER_DID_THIS.md", "Wrote AIDER_DID_THIS.md."),
]


@pytest.fixture
def home(tmp_path) -> Path:
    bin_dir = tmp_path / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    for script in STAND_INS.iterdir():
        shutil.copy(script, bin_dir / script.name)
        (bin_dir / script.name).chmod(0o755)
    (tmp_path / "project").mkdir()
    return tmp_path


def run(command: str, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], env={"HOME": str(home), "PATH": "/usr/bin:/bin", **env},
                          cwd=home / "project", capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(("agent_id", "key_var", "written", "answer"), CASES, ids=[c[0] for c in CASES])
def test_stand_in_runs_its_preset(home, agent_id, key_var, written, answer):
    agent = preset(agent_id)
    assert agent is not None and key_var in agent.key_vars
    out = run(agent_command(agent, PROMPT), home, {key_var: "k-123"})
    assert out.returncode == 0, out.stderr
    assert (home / "project" / written).read_text() == PROMPT + "\n"
    assert not (home / "project" / "injected").exists()
    if agent.output is OutputFormat.PLAIN:
        assert answer in out.stdout.splitlines()
    else:
        parser = TranscriptParser(agent.output)
        entries = parser.feed(out.stdout) + parser.finish()
        assert entries[-1].kind is EntryKind.ANSWER and entries[-1].text == answer


@pytest.mark.parametrize(("agent_id", "key_var", "written", "answer"), CASES, ids=[c[0] for c in CASES])
def test_stand_in_needs_its_key(home, agent_id, key_var, written, answer):
    out = run(agent_command(preset(agent_id), PROMPT), home, {})
    assert out.returncode != 0 and not (home / "project" / written).exists()


@pytest.mark.parametrize(("agent_id", "key_var", "written", "answer"), CASES, ids=[c[0] for c in CASES])
def test_stand_in_refuses_a_command_line_without_the_unattended_flags(home, agent_id, key_var, written, answer):
    agent = preset(agent_id)
    words = [w for w in agent.args if not w.startswith("--") or w in ("--message",)]
    out = run(f"PATH=\"$HOME/.local/bin:$PATH\" {agent.executable} " + " ".join(
        "'p'" if w == "{prompt}" else w for w in words), home, {key_var: "k-123"})
    assert out.returncode != 0 and not (home / "project" / written).exists()
