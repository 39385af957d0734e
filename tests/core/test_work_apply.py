"""Applying a session's changed files: only safe names, never over a local edit unasked."""

from __future__ import annotations

import io
import tarfile

from sesame_desktop.core.work_apply import apply_plan, make_manifest, plan_apply


def archive(entries: list[tuple[str, bytes | None, str]]) -> bytes:
    """``(name, data, kind)``: kind "file", "link" (data = target) or "dir"."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data or b"")
                tar.addfile(info, io.BytesIO(data or b""))
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, (data or b"").decode()
                tar.addfile(info)
            else:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
    return buf.getvalue()


def test_unsafe_names_are_refused_and_nothing_is_written_outside(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (tmp_path / "outside").mkdir()
    (folder / "escape").symlink_to(tmp_path / "outside")
    data = archive([("../evil.txt", b"x", "file"), ("/etc/evil", b"x", "file"), ("link", b"/etc/passwd", "link"),
                    ("escape/inside.txt", b"x", "file"), ("./ok/new.txt", b"fine", "file"), ("dir", None, "dir")])
    plan = plan_apply(folder, data, {}, ["ok/new.txt"])
    assert set(plan.refused) == {"../evil.txt", "/etc/evil", "link", "escape/inside.txt", "dir"}
    assert plan.writes == {"ok/new.txt": b"fine"}
    assert apply_plan(plan, overwrite_conflicts=True) == (1, 0)
    assert (folder / "ok" / "new.txt").read_bytes() == b"fine"
    assert list((tmp_path / "outside").iterdir()) == [] and not (tmp_path / "evil.txt").exists()


def test_local_edits_are_conflicts_and_deletions_spare_them(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    for name in ("same.txt", "edited.txt", "gone.txt", "gone-but-edited.txt"):
        (folder / name).write_text("v1")
    manifest = make_manifest(folder, ["same.txt", "edited.txt", "gone.txt", "gone-but-edited.txt"])
    (folder / "edited.txt").write_text("local edit")
    (folder / "gone-but-edited.txt").write_text("local edit too")
    (folder / "new-local.txt").write_text("mine")
    data = archive([("same.txt", b"v2", "file"), ("edited.txt", b"v2", "file"), ("new-local.txt", b"theirs", "file")])
    plan = plan_apply(folder, data, manifest, ["same.txt", "edited.txt", "new-local.txt"])
    assert set(plan.writes) == {"same.txt"}
    assert set(plan.conflicts) == {"edited.txt", "new-local.txt"}
    assert plan.deletes == ("gone.txt",)
    assert apply_plan(plan, overwrite_conflicts=False) == (1, 1)
    assert (folder / "edited.txt").read_text() == "local edit" and (folder / "new-local.txt").read_text() == "mine"
    assert (folder / "gone-but-edited.txt").exists() and not (folder / "gone.txt").exists()
    assert apply_plan(plan, overwrite_conflicts=True) == (3, 0)
    assert (folder / "edited.txt").read_text() == "v2"
