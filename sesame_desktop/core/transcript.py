"""Agents' structured output as a readable transcript: messages, tool calls, files, answer.

One parser per format (see :class:`~sesame_desktop.core.agents.OutputFormat`):

- Claude Code ``--output-format stream-json``: one JSON object a line (``system``,
  ``assistant`` with ``text``/``tool_use`` blocks, ``user`` with ``tool_result`` blocks,
  ``result``); Amp's ``-x --stream-json`` prints the same events;
- Codex ``exec --json``: JSON lines (``thread.started``, ``item.started``/``item.completed``
  with ``agent_message``, ``reasoning``, ``command_execution``, ``file_change``…,
  ``turn.completed``, ``turn.failed``, ``error``);
- Gemini ``--output-format json``: one JSON object at the end (``response``, ``stats``,
  ``error``); its ``stream-json`` lines (``message``, ``tool_use``, ``tool_result``,
  ``result``) are read too.

Lines that are not JSON (an install's progress, a shell's message) are skipped: the raw
console keeps them. Everything here is untrusted text from a sandbox, shown as plain text.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from sesame_desktop.core.agents import OutputFormat

MAX_TEXT = 4000
MAX_LINE = 4 * 1024 * 1024


class EntryKind(enum.Enum):
    START = "start"
    MESSAGE = "message"
    THINKING = "thinking"
    TOOL = "tool"
    TOOL_RESULT = "tool result"
    ANSWER = "answer"
    ERROR = "error"


@dataclass(frozen=True)
class TranscriptEntry:
    """One step of an agent's run.

    Attributes:
        title: a short line ("Edit README.md", "Ran: npm test").
        text: the body (a message, a command's output), cut to :data:`MAX_TEXT`.
        files: files the step touched (relative to nothing: as the agent named them).
        failed: a tool result or an answer that reports an error.
    """

    kind: EntryKind
    title: str
    text: str = ""
    files: tuple[str, ...] = ()
    failed: bool = False


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"\u2026 ({len(text) - MAX_TEXT:,} more characters)"


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


_FILE_KEYS = ("file_path", "path", "notebook_path", "filePath", "absolute_path")
_EDIT_TOOLS = {"Edit", "Write", "MultiEdit", "NotebookEdit", "write_file", "replace", "edit", "write",
               "create_file", "edit_file"}


def _tool_files(tool_input: dict[str, Any]) -> tuple[str, ...]:
    return tuple(v for k in _FILE_KEYS if isinstance(v := tool_input.get(k), str) and v)


def _tool_title(name: str, tool_input: dict[str, Any]) -> str:
    files = _tool_files(tool_input)
    if files:
        return f"{name} {files[0]}"
    for key in ("command", "pattern", "query", "url", "description", "prompt"):
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            first = value.strip().splitlines()[0] if value.strip() else value
            return f"{name}: {first[:200]}"
    return name


def _result_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_str(part.get("text")) for part in content if isinstance(part, dict))
    return ""


class TranscriptParser:
    """Turns an agent's output, fed in chunks as it arrives, into :class:`TranscriptEntry` values.

    Attributes:
        files_touched: every file a tool wrote or edited, in first-touch order.
    """

    def __init__(self, output: OutputFormat) -> None:
        self.output = output
        self.files_touched: list[str] = []
        self._partial = ""
        self._tools: dict[str, str] = {}
        self._whole = ""  # Gemini's JSON document (several lines)

    def feed(self, text: str) -> list[TranscriptEntry]:
        """Entries for the complete lines in ``text`` (the rest waits for the next chunk)."""
        data = self._partial + text
        lines = data.split("\n")
        self._partial = lines.pop()
        if len(self._partial) > MAX_LINE:
            self._partial = ""
        entries: list[TranscriptEntry] = []
        for line in lines:
            entries.extend(self._line(line.strip()))
        return entries

    def finish(self) -> list[TranscriptEntry]:
        """Entries for what is left when the command ended (a last line without a newline)."""
        rest, self._partial = self._partial, ""
        entries = self._line(rest.strip()) if rest.strip() else []
        if self.output is OutputFormat.GEMINI_JSON and self._whole:
            whole, self._whole = self._whole, ""
            entries.extend(self._gemini_document(whole))
        return entries

    def _line(self, line: str) -> list[TranscriptEntry]:
        if self.output is OutputFormat.GEMINI_JSON and (self._whole or line == "{"):
            return self._gemini_collect(line)
        if not line.startswith("{"):
            return []
        try:
            event = json.loads(line)
        except ValueError:
            return []
        if not isinstance(event, dict):
            return []
        if self.output in (OutputFormat.CLAUDE_STREAM_JSON, OutputFormat.AMP_STREAM_JSON):
            return self._claude(event)
        if self.output is OutputFormat.CODEX_JSON:
            return self._codex(event)
        if self.output is OutputFormat.GEMINI_JSON:
            return self._gemini(event)
        return []

    def _touch(self, files: tuple[str, ...]) -> None:
        for path in files:
            if path not in self.files_touched:
                self.files_touched.append(path)

    # -- Claude Code ----------------------------------------------------------------------

    def _claude(self, event: dict[str, Any]) -> list[TranscriptEntry]:
        kind = event.get("type")
        if kind == "system" and event.get("subtype") == "init":
            model = _str(event.get("model"))
            agent = "Amp" if self.output is OutputFormat.AMP_STREAM_JSON else "Claude Code"
            return [TranscriptEntry(EntryKind.START, f"{agent} started" + (f" ({model})" if model else ""),
                                    _str(event.get("cwd")))]
        message = event.get("message")
        blocks = message.get("content") if isinstance(message, dict) else None
        if kind == "assistant" and isinstance(blocks, list):
            return [e for b in blocks if isinstance(b, dict) for e in self._claude_block(b)]
        if kind == "user" and isinstance(blocks, list):
            out = []
            for block in blocks:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    name = self._tools.get(_str(block.get("tool_use_id")), "Tool")
                    failed = block.get("is_error") is True
                    out.append(TranscriptEntry(EntryKind.TOOL_RESULT, f"{name} {'failed' if failed else 'done'}",
                                               _cut(_result_text(block.get("content"))), failed=failed))
            return out
        if kind == "result":
            failed = event.get("is_error") is True or event.get("subtype") not in (None, "success")
            facts = []
            if isinstance(event.get("num_turns"), int):
                facts.append(f"{event['num_turns']} turns")
            if isinstance(event.get("duration_ms"), int | float):
                facts.append(f"{event['duration_ms'] / 1000:.1f} s")
            if isinstance(event.get("total_cost_usd"), int | float):
                facts.append(f"${event['total_cost_usd']:.4f} reported by the agent")
            title = ("Failed" if failed else "Final answer") + (f" \u00b7 {', '.join(facts)}" if facts else "")
            return [TranscriptEntry(EntryKind.ERROR if failed else EntryKind.ANSWER, title,
                                    _cut(_str(event.get("result"))), tuple(self.files_touched), failed)]
        return []

    def _claude_block(self, block: dict[str, Any]) -> list[TranscriptEntry]:
        kind = block.get("type")
        if kind == "text" and _str(block.get("text")).strip():
            return [TranscriptEntry(EntryKind.MESSAGE, "Agent", _cut(_str(block.get("text")).strip()))]
        if kind == "thinking" and _str(block.get("thinking")).strip():
            return [TranscriptEntry(EntryKind.THINKING, "Thinking", _cut(_str(block.get("thinking")).strip()))]
        if kind == "tool_use":
            name = _str(block.get("name")) or "Tool"
            tool_input = block.get("input") if isinstance(block.get("input"), dict) else {}
            assert isinstance(tool_input, dict)
            self._tools[_str(block.get("id"))] = name
            files = _tool_files(tool_input)
            if name in _EDIT_TOOLS:
                self._touch(files)
            body = _str(tool_input.get("command")) or _str(tool_input.get("new_string")) or _str(tool_input.get("content"))
            return [TranscriptEntry(EntryKind.TOOL, _tool_title(name, tool_input), _cut(body), files)]
        return []

    # -- Codex ------------------------------------------------------------------------------

    def _codex(self, event: dict[str, Any]) -> list[TranscriptEntry]:
        kind = _str(event.get("type"))
        if kind == "thread.started":
            return [TranscriptEntry(EntryKind.START, "Codex started", _str(event.get("thread_id")))]
        if kind in ("turn.failed", "error"):
            error = event.get("error")
            text = _str(error.get("message")) if isinstance(error, dict) else _str(event.get("message"))
            return [TranscriptEntry(EntryKind.ERROR, "Failed", _cut(text), failed=True)]
        if kind == "turn.completed":
            return [TranscriptEntry(EntryKind.ANSWER, "Turn completed", "", tuple(self.files_touched))]
        item = event.get("item")
        if kind != "item.completed" or not isinstance(item, dict):
            return []
        item_type = _str(item.get("type") or item.get("item_type"))
        if item_type in ("agent_message", "assistant_message"):
            return [TranscriptEntry(EntryKind.MESSAGE, "Agent", _cut(_str(item.get("text"))))]
        if item_type == "reasoning":
            return [TranscriptEntry(EntryKind.THINKING, "Thinking", _cut(_str(item.get("text"))))]
        if item_type == "command_execution":
            code = item.get("exit_code")
            failed = isinstance(code, int) and code != 0
            title = f"Ran: {_str(item.get('command'))[:200]}" + (f" (exit code {code})" if failed else "")
            return [TranscriptEntry(EntryKind.TOOL, title, _cut(_str(item.get("aggregated_output"))), failed=failed)]
        if item_type == "file_change":
            changes = item.get("changes") if isinstance(item.get("changes"), list) else []
            assert isinstance(changes, list)
            files = tuple(_str(c.get("path")) for c in changes if isinstance(c, dict) and _str(c.get("path")))
            self._touch(files)
            detail = "\n".join(f"{_str(c.get('kind'))} {_str(c.get('path'))}" for c in changes if isinstance(c, dict))
            return [TranscriptEntry(EntryKind.TOOL, f"Changed {len(files)} file{'s' if len(files) != 1 else ''}",
                                    detail, files)]
        if item_type == "error":
            return [TranscriptEntry(EntryKind.ERROR, "Error", _cut(_str(item.get("message"))), failed=True)]
        if item_type in ("mcp_tool_call", "web_search", "todo_list"):
            return [TranscriptEntry(EntryKind.TOOL, item_type.replace("_", " ").capitalize(),
                                    _cut(_str(item.get("query")) or _str(item.get("tool"))))]
        return []

    # -- Gemini -------------------------------------------------------------------------------

    def _gemini_collect(self, line: str) -> list[TranscriptEntry]:
        self._whole += line + "\n"
        if len(self._whole) > MAX_LINE:
            self._whole = ""
            return []
        if line == "}":
            try:
                json.loads(self._whole)
            except ValueError:
                return []
            whole, self._whole = self._whole, ""
            return self._gemini_document(whole)
        return []

    def _gemini_document(self, text: str) -> list[TranscriptEntry]:
        try:
            document = json.loads(text)
        except ValueError:
            return []
        return self._gemini(document) if isinstance(document, dict) else []

    def _gemini(self, event: dict[str, Any]) -> list[TranscriptEntry]:
        kind = event.get("type")
        if kind is None and ("response" in event or "error" in event):
            error = event.get("error")
            if isinstance(error, dict) and error:
                return [TranscriptEntry(EntryKind.ERROR, "Failed", _cut(_str(error.get("message"))), failed=True)]
            return [TranscriptEntry(EntryKind.ANSWER, "Final answer", _cut(_str(event.get("response"))),
                                    tuple(self.files_touched))]
        if kind == "init":
            return [TranscriptEntry(EntryKind.START, "Gemini CLI started", _str(event.get("model")))]
        if kind == "message" and event.get("role") == "assistant":
            return [TranscriptEntry(EntryKind.MESSAGE, "Agent", _cut(_str(event.get("content"))))]
        if kind == "tool_use":
            name = _str(event.get("tool_name")) or "Tool"
            params = event.get("parameters") if isinstance(event.get("parameters"), dict) else {}
            assert isinstance(params, dict)
            files = _tool_files(params)
            if name in _EDIT_TOOLS:
                self._touch(files)
            self._tools[_str(event.get("tool_id"))] = name
            return [TranscriptEntry(EntryKind.TOOL, _tool_title(name, params), "", files)]
        if kind == "tool_result":
            failed = event.get("status") == "error"
            name = self._tools.get(_str(event.get("tool_id")), "Tool")
            return [TranscriptEntry(EntryKind.TOOL_RESULT, f"{name} {'failed' if failed else 'done'}",
                                    _cut(_str(event.get("output"))), failed=failed)]
        if kind == "result":
            failed = event.get("status") == "error"
            return [TranscriptEntry(EntryKind.ERROR if failed else EntryKind.ANSWER,
                                    "Failed" if failed else "Finished", "", tuple(self.files_touched), failed)]
        return []
