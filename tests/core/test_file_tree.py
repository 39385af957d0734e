"""The file tree's pure logic: sorting, finding, and refreshes as minimal row operations."""

from __future__ import annotations

import gc
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sesame_desktop.core.file_tree import (
    INSERT,
    NAME,
    REMOVE,
    UPDATE,
    FileEntries,
    FileEntry,
    FileNode,
    entry_of,
    plan_refresh,
    row_of,
    sort_entries,
    sort_rows,
)
from sesame_desktop.core.pacing import paced


def entry(name: str, is_dir: bool = False, size: int = 1, modified: float = 0.0) -> FileEntry:
    return FileEntry(name, f"/p/{name}", is_dir, size, modified)


def apply(shown: list[FileEntry], ops) -> list[FileEntry]:
    rows = list(shown)
    for kind, row, new in ops:
        assert type(new) is tuple or (kind == REMOVE and new is None)  # plain tuples: not tracked by the GC
        if kind == REMOVE:
            del rows[row]
        elif kind == INSERT:
            rows.insert(row, entry_of(new))
        elif kind == UPDATE:
            rows[row] = entry_of(new)
        else:
            raise AssertionError(kind)
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
    assert (REMOVE, 2, None) in ops and (UPDATE, 1, row_of(entry("a", size=9))) in ops


def test_new_entries_after_the_shown_rows_stay_pending():
    shown = [entry(f"f{i:03}") for i in range(10)]
    fresh = [entry(f"f{i:03}") for i in range(20)] + [entry("a-first")]
    ops, pending = plan_refresh(shown, True, sort_entries(fresh))
    assert [e.name for e in apply(shown, ops)] == ["a-first"] + [f"f{i:03}" for i in range(10)]
    assert [row[NAME] for row in pending] == [f"f{i:03}" for i in range(10, 20)]


def test_find_rows_and_batches():
    root = FileNode(FileEntry("project", "/home/user/project", True, 0, 0))
    root.pending = [FileEntry("src", "/home/user/project/src", True, 0, 0),
                    FileEntry("a b.txt", "/home/user/project/a b.txt", False, 1, 0)]
    assert [row[NAME] for row in root.take_batch()] == ["src", "a b.txt"]
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
    assert plan_refresh(shown, False, fresh, worker=True) == (ops, pending)  # pausing changes nothing


@settings(max_examples=300, deadline=None)
@given(listing, listing)
def test_refresh_with_pending_shows_a_sorted_prefix(shown, fresh):
    ops, pending = plan_refresh(shown, True, fresh)
    rows = apply(shown, ops)
    assert rows + pending == fresh


def test_rows_sort_as_entries_do():
    pick = random.Random(12)
    entries = [entry("".join(pick.choices("abAB.-_ü", k=pick.randint(1, 6))), pick.random() < 0.2)
               for _ in range(10_000)]
    rows = sort_rows([row_of(e) for e in entries])  # over 4096 rows: sorted in runs and merged
    assert rows == sort_entries(entries) and all(type(row) is tuple for row in rows)


def test_a_listing_reads_as_entries_and_keeps_plain_rows():
    entries = [entry("b"), entry("a", True)]
    listing = FileEntries.of(entries)
    listing.append(entry("c"))
    assert listing == [*entries, entry("c")] and listing != entries and listing != "ab"
    assert listing[1] == entry("a", True) and isinstance(listing[1], FileEntry) and listing[1].is_dir
    assert listing[1:] == FileEntries([row_of(entry("a", True)), row_of(entry("c"))])
    assert [e.name for e in listing] == ["b", "a", "c"]
    assert all(type(row) is tuple for row in listing.rows)


def tracked_objects() -> int:
    gc.collect()  # where CPython stops tracking plain tuples of strings and numbers
    return len(gc.get_objects())


def test_a_100000_entry_folder_leaves_no_object_per_entry_to_the_garbage_collector():
    """Every full collection walks every tracked object while holding the GIL: 100,000 of
    them (one per entry) made it stall the window for 40-130 ms."""
    before = tracked_objects()
    listing = FileEntries()  # as a provider lists a folder, entry by entry
    for i in range(100_000):
        listing.append(FileEntry(f"file-{i:06}.txt", f"/p/file-{i:06}.txt", i % 10 == 0, i, 1.7e9 + i))
    ordered = sort_rows(listing.rows)
    node = FileNode(entry("p", True))
    node.shown, node.pending = [], ordered
    while node.pending:
        node.take_batch()
    fresh = sort_rows(ordered + [row_of(entry(f"new-{i:06}.txt")) for i in range(100_000)])
    ops, pending = plan_refresh(node.shown, False, fresh)  # a build wrote 100,000 more files
    assert len(ops) == 100_000 and not pending and len(node.shown) == 100_000
    grown = tracked_objects() - before
    assert grown < 11_000, f"{grown:,} more objects tracked by the garbage collector"  # the 10,000 folder nodes


def test_paced_work_keeps_every_item_in_order():
    items = [str(i) for i in range(200_000)]  # long enough to pause a few times
    assert list(paced(items)) == items
