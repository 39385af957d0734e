"""Changes against the start point, computed by real git in real local sandboxes."""

from __future__ import annotations

import pytest

from sesame_desktop.core.changes import ChangeKind
from sesame_desktop.core.sessions import FolderProject, GitProject
from sesame_desktop.sandbox import changes
from sesame_desktop.sandbox.base import SandboxSpec
from sesame_desktop.sandbox.local import LocalProvider
from tests.fixtures.git_repos import make_repo
from tests.sandbox.output import Output


@pytest.fixture(params=[True, False], ids=["bwrap", "plain"])
def provider(request, tmp_path):
    return LocalProvider(tmp_path / "workspaces", isolate=request.param)


@pytest.fixture
def make_sandbox(provider, run_async):
    made = []

    def make(project):
        box = run_async(provider.create(SandboxSpec(session_id=f"s{len(made)}", name="test")))
        made.append(box)
        run_async(box.get_project(project, lambda _m: None))
        return box

    yield make
    for box in made:
        run_async(box.kill())


def sh(run_async, box, command):
    output = Output()
    result = run_async(box.run(command, on_stdout=output.on_out, on_stderr=output.on_err), timeout=30)
    assert result.ok, output.err
    return output.out.decode()


def listed(run_async, box):
    found = run_async(changes.list_changes(box), timeout=30)
    return {f.path: (f.kind, f.added, f.deleted) for f in found.files}


def test_a_clone_against_the_cloned_commit(make_sandbox, run_async, tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.txt": "one\ntwo\n", "gone.txt": "bye\n", ".gitignore": "build/\n"})
    box = make_sandbox(GitProject(str(repo)))
    assert run_async(changes.list_changes(box)) is None  # no start point yet
    run_async(changes.take_base(box, cloned=True))
    assert listed(run_async, box) == {}
    sh(run_async, box, "echo three >> a.txt; rm gone.txt; mkdir -p 'odd dir' build; echo x > 'odd dir/n\u00e4me *.txt';"
                       " echo ignored > build/out; printf '\\0\\1\\2' > blob.bin;"
                       " git -c user.name=a -c user.email=a@b commit -qam 'agent commit'")
    assert listed(run_async, box) == {
        "a.txt": (ChangeKind.MODIFIED, 1, 0), "gone.txt": (ChangeKind.DELETED, 0, 1),
        "odd dir/n\u00e4me *.txt": (ChangeKind.ADDED, 1, 0), "blob.bin": (ChangeKind.ADDED, None, None)}
    by_path = {f.path: f for f in run_async(changes.list_changes(box)).files}
    diff = run_async(changes.diff_of(box, by_path["odd dir/n\u00e4me *.txt"]))
    assert diff.text.endswith("@@ -0,0 +1 @@\n+x\n") and not diff.note
    assert run_async(changes.diff_of(box, by_path["blob.bin"])).note == "blob.bin: binary file added; not shown."
    # the project's own index and history are untouched by the Changes tab
    assert sh(run_async, box, "git status --porcelain -z").split("\0")[:2] == ["?? blob.bin", "?? odd dir/"]


def test_an_upload_against_a_snapshot_taken_at_upload(make_sandbox, run_async, tmp_path):
    folder = tmp_path / "folder"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text("print('v1')\n")
    (folder / ".gitignore").write_text("node_modules/\n")
    box = make_sandbox(FolderProject(folder))
    run_async(changes.take_base(box, cloned=False))
    sh(run_async, box, "mkdir -p node_modules/x && echo dep > node_modules/x/i.js; echo \"print('v2')\" > src/app.py;"
                       " seq 1 6000 > big.txt")
    assert listed(run_async, box) == {"src/app.py": (ChangeKind.MODIFIED, 1, 1), "big.txt": (ChangeKind.ADDED, 6000, 0)}
    by_path = {f.path: f for f in run_async(changes.list_changes(box)).files}
    assert "-print('v1')\n+print('v2')" in run_async(changes.diff_of(box, by_path["src/app.py"])).text
    big = run_async(changes.diff_of(box, by_path["big.txt"]))
    assert big.text == "" and big.note == "big.txt: added, 6,000 lines changed; too large to show here."
    assert not (folder / ".git").exists()  # the user's folder is never touched


def test_an_empty_project(make_sandbox, run_async):
    box = make_sandbox(None)
    run_async(changes.take_base(box, cloned=False))
    sh(run_async, box, "echo hi > hello.txt")
    assert listed(run_async, box) == {"hello.txt": (ChangeKind.ADDED, 1, 0)}
