"""Coding-agent presets: how each agent CLI runs unattended, with the user's prompt.

A preset knows the agent's non-interactive command line and the flags that let it work
without asking (it runs in a sandbox), the environment variables its key goes in, how to
install it where the template lacks it, and which structured output it prints (read by
:mod:`sesame_desktop.core.transcript`).

The prompt always reaches the agent as **one argument**: the command is built from a list
of arguments, each quoted for the POSIX shell that runs session commands, so no character in
a prompt (quotes, ``$``, backticks, new lines) can change the command.
"""

from __future__ import annotations

import enum
import shlex
from dataclasses import dataclass

AGENT_BIN = "$HOME/.local/bin"
"""Where presets install agents missing from the template (user-writable on E2B and locally)."""

PROMPT_PLACEHOLDER = "{prompt}"
MAX_PROMPT_CHARS = 100_000


class OutputFormat(enum.Enum):
    """What an agent prints, for the transcript."""

    PLAIN = "plain"
    CLAUDE_STREAM_JSON = "claude-stream-json"
    AMP_STREAM_JSON = "amp-stream-json"
    """Amp's ``--stream-json``: Claude Code's stream-json events, with Amp's tool names."""
    CODEX_JSON = "codex-json"
    GEMINI_JSON = "gemini-json"


@dataclass(frozen=True)
class AgentPreset:
    """One agent CLI.

    Attributes:
        id: a stable name, kept in settings ("claude-code").
        label: for people ("Claude Code").
        executable: the command's name, looked up on ``PATH``.
        args: the arguments, with :data:`PROMPT_PLACEHOLDER` where the prompt goes.
        key_vars: the environment variables the agent reads its key from (the first is the
            one the Agents settings page fills).
        install: the shell command that installs the agent for the sandbox's user.
        output: the structured output it prints, if any.
        env: fixed environment variables it needs to run unattended.
        docs: where its documentation is.
    """

    id: str
    label: str
    executable: str
    args: tuple[str, ...]
    key_vars: tuple[str, ...]
    install: str
    output: OutputFormat = OutputFormat.PLAIN
    env: tuple[tuple[str, str], ...] = ()
    docs: str = ""

    @property
    def key_var(self) -> str:
        return self.key_vars[0] if self.key_vars else ""


def _npm(package: str) -> str:
    return f"npm install --global --prefix \"$HOME/.local\" --no-fund --no-audit {package}"


def _pip(package: str) -> str:
    return f"python3 -m pip install --user --progress-bar on {package}"


P = PROMPT_PLACEHOLDER

PRESETS: tuple[AgentPreset, ...] = (
    AgentPreset(
        "claude-code", "Claude Code", "claude",
        ("-p", P, "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"),
        ("ANTHROPIC_API_KEY",), _npm("@anthropic-ai/claude-code"), OutputFormat.CLAUDE_STREAM_JSON,
        # IS_SANDBOX: the CLI refuses to skip permissions as root unless told it is in a sandbox.
        env=(("IS_SANDBOX", "1"), ("DISABLE_TELEMETRY", "1")),
        docs="https://docs.anthropic.com/en/docs/claude-code/cli-reference"),
    AgentPreset(
        "codex", "Codex CLI", "codex",
        ("exec", "--json", "--dangerously-bypass-approvals-and-sandbox", "--skip-git-repo-check", P),
        ("OPENAI_API_KEY", "CODEX_API_KEY"), _npm("@openai/codex"), OutputFormat.CODEX_JSON,
        docs="https://developers.openai.com/codex/noninteractive"),
    AgentPreset(
        "gemini", "Gemini CLI", "gemini",
        ("-p", P, "--output-format", "json", "--yolo"),
        ("GEMINI_API_KEY", "GOOGLE_API_KEY"), _npm("@google/gemini-cli"), OutputFormat.GEMINI_JSON,
        docs="https://geminicli.com/docs/cli/headless/"),
    AgentPreset(
        # `run` prints the answer as plain text; --auto approves permission requests not denied.
        "opencode", "OpenCode", "opencode", ("run", "--auto", P),
        ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"), _npm("opencode-ai"),
        docs="https://opencode.ai/docs/cli/"),
    AgentPreset(
        # -x (execute mode) runs the prompt and exits; with --stream-json it prints Claude Code
        # compatible stream-json events instead of only the last message. The npm package
        # moved from @sourcegraph/amp (now an empty pointer) to @ampcode/cli.
        "amp", "Amp", "amp", ("--dangerously-allow-all", "-x", P, "--stream-json"),
        ("AMP_API_KEY",), _npm("@ampcode/cli"), OutputFormat.AMP_STREAM_JSON,
        docs="https://ampcode.com/manual"),
    AgentPreset(
        # --allow-all = --allow-all-tools --allow-all-paths --allow-all-urls (a sandbox);
        # --no-ask-user keeps it from stopping to ask. COPILOT_GITHUB_TOKEN comes first in the
        # CLI's own order and, unlike GH_TOKEN, is not also picked up by `gh` inside the run.
        "copilot", "GitHub Copilot CLI", "copilot", ("-p", P, "--allow-all", "--no-ask-user"),
        ("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"), _npm("@github/copilot"),
        docs="https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-programmatic-reference"),
    AgentPreset(
        # --yes-always would also say yes to the first-run analytics question and to adding
        # .aider* to .gitignore: --analytics-disable and --no-gitignore keep both out; the
        # session's changes stay uncommitted for review (--no-auto-commits).
        "aider", "Aider", "aider",
        ("--message", P, "--yes-always", "--no-pretty", "--no-check-update", "--analytics-disable",
         "--no-auto-commits", "--no-gitignore"),
        ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"), _pip("aider-chat"),
        docs="https://aider.chat/docs/scripting.html"),
)

CUSTOM_ID = "custom"


def preset(agent_id: str) -> AgentPreset | None:
    """The preset called ``agent_id``; None for a custom command or an unknown name."""
    return next((p for p in PRESETS if p.id == agent_id), None)


def validate_prompt(prompt: str) -> str | None:
    """A problem with ``prompt`` in plain words, or None."""
    if not prompt.strip():
        return "Write what the agent should do."
    if "\x00" in prompt:
        return "The prompt contains a NUL character, which no command can receive."
    if len(prompt) > MAX_PROMPT_CHARS:
        return f"The prompt is longer than {MAX_PROMPT_CHARS:,} characters."
    return None


def validate_custom_command(template: str) -> str | None:
    if not template.strip():
        return "Enter the agent's command, with {prompt} where the prompt goes."
    try:
        words = shlex.split(template)
    except ValueError as exc:
        return f"The command cannot be read: {exc}."
    if PROMPT_PLACEHOLDER not in words:
        return "Put {prompt} in the command, as a word of its own, where the prompt goes."
    return None


def _with_prompt(words: tuple[str, ...] | list[str], prompt: str) -> list[str]:
    return [prompt if word == PROMPT_PLACEHOLDER else word for word in words]


def agent_command(agent: AgentPreset, prompt: str) -> str:
    """The shell command that runs ``agent`` on ``prompt``; the prompt is one quoted word.

    ``$HOME/.local/bin`` leads ``PATH`` so an agent installed by :func:`install_command`
    is found.
    """
    argv = [agent.executable, *_with_prompt(agent.args, prompt)]
    return f"PATH=\"{AGENT_BIN}:$PATH\" {shlex.join(argv)}"


def custom_command(template: str, prompt: str) -> str:
    """``template`` (shell words, ``{prompt}`` one of them) with the prompt as one quoted word."""
    return shlex.join(_with_prompt(shlex.split(template), prompt))


def present_command(agent: AgentPreset) -> str:
    """The shell test that succeeds when ``agent`` is installed."""
    return f"PATH=\"{AGENT_BIN}:$PATH\" command -v {shlex.quote(agent.executable)} >/dev/null 2>&1"


def install_command(agent: AgentPreset) -> str:
    return agent.install
