"""Agent presets: the prompt reaches the agent as one argument, through a real bash."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sesame_desktop.core.agents import (
    PRESETS,
    agent_command,
    custom_command,
    install_command,
    preset,
    present_command,
    validate_custom_command,
    validate_prompt,
)

ARGV_PRINTER = "#!/usr/bin/env python3\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n"


@pytest.fixture(scope="module")
def home_with_agents(tmp_path_factory) -> Path:
    """A HOME whose ~/.local/bin holds stand-ins for every preset: each prints its arguments."""
    home = tmp_path_factory.mktemp("home")
    bin_dir = home / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    for agent in PRESETS:
        script = bin_dir / agent.executable
        script.write_text(ARGV_PRINTER)
        script.chmod(0o755)
    return home


def run_bash(command: str, home: Path) -> list[str]:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(["bash", "-l", "-c", command], env=env, capture_output=True, text=True, timeout=20,
                         cwd=home)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("agent", PRESETS, ids=[a.id for a in PRESETS])
def test_every_preset_gets_the_prompt_as_one_argument(agent, home_with_agents):
    prompt = "Fix \"it\"; $(touch ~/injected) `id` & echo 'x' > ~/out\nline two\t${HOME} \\ end"
    argv = run_bash(agent_command(agent, prompt), home_with_agents)
    assert argv.count(prompt) == 1
    expected = [prompt if word == "{prompt}" else word for word in agent.args]
    assert argv == expected
    assert not (home_with_agents / "injected").exists() and not (home_with_agents / "out").exists()


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1))
def test_any_prompt_survives_the_shell(home_with_agents, prompt):
    assert run_bash(agent_command(preset("claude-code"), prompt), home_with_agents)[1] == prompt


def test_custom_command_places_the_prompt(home_with_agents):
    template = f"{home_with_agents}/.local/bin/claude --flag 'two words' {{prompt}} --after"
    assert validate_custom_command(template) is None
    argv = run_bash(custom_command(template, "a 'b' $c"), home_with_agents)
    assert argv == ["--flag", "two words", "a 'b' $c", "--after"]


@pytest.mark.parametrize(("template", "problem"), [
    ("", "Enter the agent's command"),
    ("my-agent --yes", "Put {prompt} in the command"),
    ("my-agent 'unclosed {prompt}", "cannot be read"),
])
def test_custom_command_problems(template, problem):
    assert problem in (validate_custom_command(template) or "")


@pytest.mark.parametrize(("prompt", "problem"), [
    ("", "Write what the agent should do."), ("   \n", "Write what"), ("a\x00b", "NUL"), ("x" * 100_001, "longer"),
])
def test_prompt_problems(prompt, problem):
    assert problem in (validate_prompt(prompt) or "")


def test_presence_check_and_install_commands(home_with_agents, tmp_path):
    env = {"HOME": str(home_with_agents), "PATH": "/usr/bin:/bin"}
    claude = preset("claude-code")
    assert subprocess.run(["bash", "-c", present_command(claude)], env=env).returncode == 0
    env["HOME"] = str(tmp_path)
    assert subprocess.run(["bash", "-c", present_command(claude)], env=env).returncode != 0
    assert install_command(claude).startswith("npm install --global --prefix \"$HOME/.local\"")
    assert install_command(preset("aider")).startswith("python3 -m pip install --user")
    assert {a.id for a in PRESETS} == {"claude-code", "codex", "gemini", "opencode", "amp", "copilot", "aider"}
    assert all(a.key_var for a in PRESETS)
