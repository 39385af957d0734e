"""Transcript parsing of recorded agent output (Claude Code from a real run; Codex and Gemini
from their documented formats)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sesame_desktop.core.agents import OutputFormat
from sesame_desktop.core.transcript import EntryKind, TranscriptParser

CLAUDE = "\n".join(json.dumps(e) for e in [
    {"type": "system", "subtype": "init", "cwd": "/home/user/project", "model": "claude-x", "tools": ["Read"]},
    {"type": "assistant", "message": {"content": [{"type": "text", "text": "Reading the README."}]}},
    {"type": "assistant", "message": {"content": [{"type": "tool_use", "id": "t1", "name": "Read",
                                                   "input": {"file_path": "/home/user/project/README.md"}}]}},
    {"type": "user", "message": {"content": [{"tool_use_id": "t1", "type": "tool_result", "content": "1\t# Demo"}]}},
    {"type": "assistant", "message": {"content": [{"type": "tool_use", "id": "t2", "name": "Edit", "input": {
        "file_path": "/home/user/project/README.md", "old_string": "# Demo", "new_string": "# Better"}}]}},
    {"type": "user", "message": {"content": [{"tool_use_id": "t2", "type": "tool_result", "content": "failed!",
                                              "is_error": True}]}},
    {"type": "assistant", "message": {"content": [{"type": "tool_use", "id": "t3", "name": "Bash",
                                                   "input": {"command": "npm test\nmore", "description": "run"}}]}},
    {"type": "result", "subtype": "success", "is_error": False, "result": "All done.", "num_turns": 4,
     "duration_ms": 2500, "total_cost_usd": 0.0123},
]) + "\n"

CODEX = "\n".join(json.dumps(e) for e in [
    {"type": "thread.started", "thread_id": "th_1"},
    {"type": "turn.started"},
    {"type": "item.completed", "item": {"id": "i0", "type": "reasoning", "text": "Looking at tests"}},
    {"type": "item.completed", "item": {"id": "i1", "type": "command_execution", "command": "bash -lc 'npm test'",
                                        "aggregated_output": "1 failing", "exit_code": 1, "status": "failed"}},
    {"type": "item.completed", "item": {"id": "i2", "type": "file_change", "status": "completed",
                                        "changes": [{"path": "src/app.js", "kind": "update"},
                                                    {"path": "src/new.js", "kind": "add"}]}},
    {"type": "item.completed", "item": {"id": "i3", "type": "agent_message", "text": "Fixed the test."}},
    {"type": "turn.completed", "usage": {"input_tokens": 10, "output_tokens": 5}},
]) + "\n"

GEMINI = json.dumps({"response": "The capital of France is Paris.",
                     "stats": {"models": {}, "tools": {"totalCalls": 0}}}, indent=2) + "\n"


def parse(fmt: OutputFormat, text: str) -> tuple[TranscriptParser, list]:
    parser = TranscriptParser(fmt)
    return parser, parser.feed(text) + parser.finish()


def test_claude_code_stream_json():
    parser, entries = parse(OutputFormat.CLAUDE_STREAM_JSON, "npm warn something\n" + CLAUDE)
    assert [e.kind for e in entries] == [EntryKind.START, EntryKind.MESSAGE, EntryKind.TOOL, EntryKind.TOOL_RESULT,
                                         EntryKind.TOOL, EntryKind.TOOL_RESULT, EntryKind.TOOL, EntryKind.ANSWER]
    assert entries[0].title == "Claude Code started (claude-x)"
    assert entries[2].title == "Read /home/user/project/README.md"
    assert entries[3].title == "Read done" and entries[3].text == "1\t# Demo"
    assert entries[4].title == "Edit /home/user/project/README.md" and entries[4].text == "# Better"
    assert entries[5].failed and entries[5].title == "Edit failed"
    assert entries[6].title == "Bash: npm test"
    answer = entries[-1]
    assert answer.title == "Final answer \u00b7 4 turns, 2.5 s, $0.0123 reported by the agent"
    assert answer.text == "All done." and answer.files == ("/home/user/project/README.md",)
    assert parser.files_touched == ["/home/user/project/README.md"]


def test_codex_json_events():
    parser, entries = parse(OutputFormat.CODEX_JSON, CODEX)
    titles = [e.title for e in entries]
    assert titles == ["Codex started", "Thinking", "Ran: bash -lc 'npm test' (exit code 1)", "Changed 2 files",
                      "Agent", "Turn completed"]
    assert entries[2].failed and entries[2].text == "1 failing"
    assert entries[4].text == "Fixed the test."
    assert parser.files_touched == ["src/app.js", "src/new.js"]
    failed = parse(OutputFormat.CODEX_JSON, json.dumps({"type": "turn.failed", "error": {"message": "quota"}}))[1]
    assert failed[0].kind is EntryKind.ERROR and failed[0].text == "quota"


def test_gemini_json_document_and_stream():
    entries = parse(OutputFormat.GEMINI_JSON, GEMINI)[1]
    assert [(e.kind, e.text) for e in entries] == [(EntryKind.ANSWER, "The capital of France is Paris.")]
    error = parse(OutputFormat.GEMINI_JSON, json.dumps({"response": None, "error": {"message": "bad key"}}))[1]
    assert error[0].kind is EntryKind.ERROR and error[0].text == "bad key"
    stream = "\n".join(json.dumps(e) for e in [
        {"type": "init", "model": "gemini-x"},
        {"type": "message", "role": "assistant", "content": "On it."},
        {"type": "tool_use", "tool_name": "write_file", "tool_id": "w1", "parameters": {"file_path": "a.txt"}},
        {"type": "tool_result", "tool_id": "w1", "status": "success", "output": "ok"},
        {"type": "result", "status": "success"},
    ]) + "\n"
    parser, entries = parse(OutputFormat.GEMINI_JSON, stream)
    assert [e.title for e in entries] == ["Gemini CLI started", "Agent", "write_file a.txt", "write_file done",
                                          "Finished"]
    assert parser.files_touched == ["a.txt"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(CLAUDE)), max_size=30))
def test_chunks_split_anywhere_give_the_same_transcript(cuts):
    whole = parse(OutputFormat.CLAUDE_STREAM_JSON, CLAUDE)[1]
    parser = TranscriptParser(OutputFormat.CLAUDE_STREAM_JSON)
    entries, start = [], 0
    for cut in sorted(cuts) + [len(CLAUDE)]:
        entries += parser.feed(CLAUDE[start:cut])
        start = cut
    assert entries + parser.finish() == whole


def test_garbage_and_long_text_are_harmless():
    parser, entries = parse(OutputFormat.CLAUDE_STREAM_JSON, "{not json\n[1,2]\n{\"type\": 3}\n\x1b[31mred\n")
    assert entries == []
    long = json.dumps({"type": "assistant", "message": {"content": [{"type": "text", "text": "x" * 10_000}]}})
    entry = parse(OutputFormat.CLAUDE_STREAM_JSON, long + "\n")[1][0]
    assert len(entry.text) < 4100 and entry.text.endswith("(6,000 more characters)")
