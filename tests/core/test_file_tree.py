"""The file tree's pure logic: sorting, finding, and refreshes as minimal row operations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sesame_desktop.core.file_tree import (
    FileEntry,
    FileNode,
    Insert,
    Remove,
    Update,
    plan_refresh,
    sort_entries,
)


def entry(name: str, is_dir: bool = False, size: int = 1, modified: float = 0.0) -> FileEntry:
    return FileEntry(name, f"/p/{name}", is_dir, size, modified)


def apply(shown: list[FileEntry], ops) -> list[FileEntry]:
    rows = list(shown)
    for op in ops:
        if isinstance(op, Remove):
            del rows[op.row]
        elif isinstance(op, Insert):
            rows.insert(op.row, op.entry)
        elif isinstance(op, Update):
            rows[op.row] = op.entry
    return rows


def test_folders_first_then_names_without_case():
    names = [e.name for e in sort_entries([entry("b"), entry("Z", True), entry("a"), entry("c", True)])]
    assert names == ["c", "Z", "a", "b"]


def test_refresh_removes_updates_and_inserts():
    shown = sort_entries([entry("a"), entry("b"), entry("src", True)])
    fresh = sort_entries([entry("a", size=9), entry("c"), entry("src", True), entry("docs", True)])
    ops, pending = plan_refresh(shown, False, fresh)
    assert pending == []
    assert apply(shown, ops) == fresh
    assert Remove(2) in ops and Update(1, entry("a", size=9)) in ops


def test_new_entries_after_the_shown_rows_stay_pending():
    shown = [entry(f"f{i:03}") for i in range(10)]
    fresh = [entry(f"f{i:03}") for i in range(20)] + [entry("a-first")]
    ops, pending = plan_refresh(shown, True, sort_entries(fresh))
    assert [e.name for e in apply(shown, ops)] == ["a-first"] + [f"f{i:03}" for i in range(10)]
    assert [e.name for e in pending] == [f"f{i:03}" for i in range(10, 20)]


def test_find_rows_and_batches():
    root = FileNode(FileEntry("project", "/home/user/project", True, 0, 0))
    root.pending = [FileEntry("src", "/home/user/project/src", True, 0, 0),
                    FileEntry("a b.txt", "/home/user/project/a b.txt", False, 1, 0)]
    assert [e.name for e in root.take_batch()] == ["src", "a b.txt"]
    src = root.find("/home/user/project/src")
    assert src is root.folders["src"] and not src.loaded
    assert root.find("/home/user/project/") is root
    assert root.find("/home/user/other") is None
    assert root.find("/home/user/project/a b.txt") is None  # files have no node
    src.pending = [entry(str(i)) for i in range(2500)]
    assert len(src.take_batch()) == 1000 and len(src.pending) == 1500 and len(src.shown) == 1000
    assert all(type(row) is tuple for row in src.shown)  # plain tuples: not tracked by the GC
    root.remove_row(0)
    assert root.find("/home/user/project/src") is None
    assert root.insert_row(0, FileEntry("new", "/home/user/project/new", True, 0, 0)) is root.folders["new"]
    assert root.shown_entries()[0].name == "new"


names = st.text(alphabet="abcXYZ.-_ ü", min_size=1, max_size=4)
listing = st.dictionaries(names, st.tuples(st.booleans(), st.integers(0, 3)), max_size=12).map(
    lambda d: sort_entries(entry(n, is_dir, size) for n, (is_dir, size) in d.items()))


@settings(max_examples=300, deadline=None)
@given(listing, listing)
def test_refresh_always_reaches_the_fresh_listing(shown, fresh):
    ops, pending = plan_refresh(shown, False, fresh)
    assert apply(shown, ops) == fresh and pending == []


@settings(max_examples=300, deadline=None)
@given(listing, listing)
def test_refresh_with_pending_shows_a_sorted_prefix(shown, fresh):
    ops, pending = plan_refresh(shown, True, fresh)
    rows = apply(shown, ops)
    assert rows + pending == fresh
