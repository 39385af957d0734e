"""Listing a sandbox folder over E2B keeps the decoding off the loop (GUI) thread.

Real SDK against the local E2B-compatible server; the only spies are on the envd messages'
``from_json``, to see on which thread the listing is decoded (a timed assertion would be flaky; the stall itself is
measured by bench/file_tree.py).
"""

from __future__ import annotations

import gc
import json
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from e2b.envd.filesystem import filesystem_pb

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.file_tree import FileEntries
from sesame_desktop.core.secret import Secret
from sesame_desktop.sandbox.base import PROJECT_DIR, SandboxSpec
from sesame_desktop.sandbox.e2b_listing import _array_items
from sesame_desktop.sandbox.e2b_provider import E2BProvider


@pytest.fixture
def box(e2b_env, run_async):
    provider = E2BProvider(Secret(e2b_env.api_key))
    sandbox = run_async(provider.create(SandboxSpec(session_id="sess-l", name="listing")))
    yield sandbox
    run_async(sandbox.kill())


def test_listing_is_parsed_off_the_loop_thread(box, run_async, monkeypatch):
    folder = f"{PROJECT_DIR}/many"
    script = (f"mkdir -p {folder}/sub && cd {folder} && for i in $(seq 1 300); do : > marker-$i.txt; done"
              " && ln -s marker-1.txt link")
    assert run_async(box.run(script, on_stdout=lambda c: None, on_stderr=lambda c: None, cwd="/")).ok
    parsed_on: list[int] = []

    def spy(message_class):
        real = message_class.from_json

        def from_json(text, *args, **kwargs):
            parsed_on.append(threading.get_ident())
            return real(text, *args, **kwargs)

        return from_json

    with monkeypatch.context() as patch:
        for message_class in (filesystem_pb.ListDirResponse, filesystem_pb.EntryInfo):
            patch.setattr(message_class, "from_json", spy(message_class))
        entries = run_async(box.list_dir(folder))

    assert parsed_on, "the listing's JSON was never seen being parsed"
    assert threading.get_ident() not in parsed_on, "the listing was decoded on the loop thread"
    by_name = {e.name: e for e in entries}
    assert len(by_name) == 302 and by_name["sub"].is_dir and not by_name["marker-7.txt"].is_dir
    assert by_name["marker-7.txt"].path == f"{folder}/marker-7.txt" and by_name["marker-7.txt"].modified > 0
    assert by_name["link"].is_link and not by_name["marker-7.txt"].is_link
    gc.collect()  # the collector stops tracking plain tuples of strings and numbers here
    assert isinstance(entries, FileEntries) and not any(gc.is_tracked(row) for row in entries.rows), \
        "the listing keeps an object per entry for every full garbage collection to walk"


def test_listing_errors_are_translated(box, run_async):
    with pytest.raises(UserFacingError) as info:
        run_async(box.list_dir(f"{PROJECT_DIR}/no-such-folder"))
    assert info.value.message.title == "File not found"


def test_listing_after_the_sandbox_ended_is_sandbox_gone(e2b_env, box, run_async):
    assert run_async(box.list_dir("/")) != []  # the synchronous client is made
    e2b_env.kill_sandbox(box.id)
    with pytest.raises(UserFacingError) as info:
        run_async(box.list_dir("/"))
    assert info.value.message.title == "Sandbox gone"


def test_array_items_of_a_json_object():
    text = ' { "other" : {"entries": [1]}, "entries" : [ {"a": "]"} , [2, {}] ,3 ] , "x": null } '
    assert _array_items(text.encode(), "entries") == ['{"a": "]"}', "[2, {}]", "3"]
    assert _array_items(b"{}", "entries") == []
    assert _array_items(b'{"entries": []}', "entries") == []
    for bad in ("", "[]", '{"entries": [1,]}', '{"entries": [1]} x', '{"entries" [1]}', '{"entries": [1',
                '{"entries": [1 2]}', '{"entries": [1]', '{3: [1]}', '{"entries": [1]}}', "{\"entries\": [\"\xff\"]}"):
        with pytest.raises(ValueError):
            _array_items(bad.encode("latin-1" if "\xff" in bad else "utf-8"), "entries")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=8), st.integers(), st.floats(
    allow_nan=False), st.booleans(), st.none())), max_size=20), st.integers(1, 40), st.sampled_from(["", " ", "\n  "]))
def test_array_items_read_a_piece_at_a_time_as_at_once(entries, piece, space):
    """Pieces of a few bytes cut names, numbers and multi-byte characters anywhere."""
    data = json.dumps({"before": 12345, "entries": entries, "after": [1.5e300, "ü€"]}, ensure_ascii=False,
                      separators=("," + space, ":" + space)).encode()
    items = _array_items(data, "entries", piece=piece)
    assert [json.loads(item) for item in items] == entries
    assert _array_items(memoryview(data), "entries", piece=piece) == items
