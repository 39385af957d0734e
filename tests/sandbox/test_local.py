"""The local provider with real processes, real bubblewrap and real git."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.sessions import FolderProject, GitProject
from sesame_desktop.sandbox.base import PROJECT_DIR, SandboxSpec
from sesame_desktop.sandbox.local import LocalProvider, bubblewrap_works
from tests.sandbox.output import Output


@pytest.fixture(params=[True, False], ids=["bwrap", "plain"])
def sandbox(request, tmp_path, run_async):
    if request.param and not run_async(bubblewrap_works()):
        pytest.fail("bubblewrap is needed for the isolated local provider (scripts/system-packages.txt)")
    provider = LocalProvider(tmp_path / "workspaces", isolate=request.param)
    box = run_async(provider.create(SandboxSpec(session_id="s1", name="test")))
    run_async(box.get_project(None, lambda _m: None))
    yield box
    run_async(box.kill())


def run(run_async, box, command, **kw):
    output = Output()
    result = run_async(box.run(command, on_stdout=output.on_out, on_stderr=output.on_err, **kw), timeout=30)
    return result, output


def test_output_exit_code_and_streams(sandbox, run_async):
    result, output = run(run_async, sandbox, "echo out; echo err >&2; pwd; exit 3")
    assert result.exit_code == 3 and result.signal_name is None
    assert output.out.decode().splitlines() == ["out", sandbox.project_dir]
    assert output.err == b"err\n"


def test_isolation_presents_the_e2b_layout(sandbox, run_async):
    result, output = run(run_async, sandbox, "echo $HOME; ls /tmp | wc -l; ps -e --no-headers | wc -l")
    home, tmp_count, procs = output.out.decode().split()
    if sandbox.isolated:
        assert sandbox.project_dir == PROJECT_DIR
        assert home == "/home/user"
        assert tmp_count == "0"  # a private /tmp
        assert int(procs) < 6    # its own process view: bwrap's init, bash, ps, wc
    else:
        assert sandbox.project_dir.endswith("/s1/home/project")
        assert home == str(Path(sandbox.project_dir).parent)


def test_stdin_is_passed_to_the_command(sandbox, run_async):
    output = Output()

    async def scenario():
        handle = await sandbox.start("read a; read b; echo \"got $a $b\"", on_stdout=output.on_out,
                                     on_stderr=output.on_err, stdin=True)
        await handle.send_stdin(b"one\n")
        await handle.send_stdin(b"two\n")
        return await handle.wait()

    result = run_async(scenario())
    assert result.ok and output.out == b"got one two\n"


def test_kill_ends_the_whole_process_group(sandbox, run_async):
    output = Output()

    async def scenario():
        handle = await sandbox.start("sleep 300 & sleep 301; echo never", on_stdout=output.on_out,
                                     on_stderr=output.on_err)
        await asyncio.sleep(0.2)
        await handle.kill()
        return await handle.wait()

    result = run_async(scenario())
    assert result.exit_code is None and result.signal_name == "killed"
    assert b"never" not in output.out
    left = subprocess.run(["pgrep", "-f", "sleep 30[01]"], capture_output=True, text=True).stdout
    assert left == ""


def test_timeout_kills_the_command(sandbox, run_async):
    result, _ = run(run_async, sandbox, "sleep 30", timeout_s=0.5)
    assert result.signal_name == "killed" and result.duration_s < 10


def test_files_round_trip_and_paths_cannot_escape(sandbox, run_async):
    run_async(sandbox.write_file(f"{sandbox.project_dir}/dir/a b ü.txt", b"hello"))
    assert run_async(sandbox.read_file(f"{sandbox.project_dir}/dir/a b ü.txt")) == b"hello"
    (entry,) = run_async(sandbox.list_dir(f"{sandbox.project_dir}/dir"))
    assert (entry.name, entry.size, entry.is_dir) == ("a b ü.txt", 5, False)
    result, output = run(run_async, sandbox, "cat 'dir/a b ü.txt'")
    assert output.out == b"hello"
    for bad in (f"{sandbox.project_dir}/../../../etc/passwd", "/etc/passwd"):
        with pytest.raises(UserFacingError, match="outside"):
            run_async(sandbox.read_file(bad))


def test_preview_url_is_loopback(sandbox, run_async):
    assert run_async(sandbox.preview_url(5173)) == "http://127.0.0.1:5173"


@pytest.fixture
def git_repo(tmp_path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README.md").write_text("hello from git\n")
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "debug.log").write_text("ignored\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], check=True)
    subprocess.run([*git, "checkout", "-q", "-b", "feature"], check=True)
    (repo / "feature.txt").write_text("on the branch\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "feature"], check=True)
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    (repo / "untracked.txt").write_text("new\n")
    return repo


def test_git_clone_with_branch(sandbox, run_async, git_repo):
    messages: list[str] = []
    run_async(sandbox.get_project(GitProject(str(git_repo), "feature"), messages.append), timeout=60)
    result, output = run(run_async, sandbox, "cat README.md feature.txt; git branch --show-current")
    assert output.out.decode().splitlines() == ["hello from git", "on the branch", "feature"]
    assert messages[0].startswith("Cloning")


def test_git_clone_failure_carries_gits_words(sandbox, run_async, tmp_path):
    with pytest.raises(UserFacingError) as info:
        run_async(sandbox.get_project(GitProject(str(tmp_path / "nope")), lambda _m: None), timeout=60)
    message = info.value.message
    assert message.title == "Could not get the project"
    assert "does not exist" in message.explanation or "not a git repository" in message.details.lower() \
        or "does not appear to be a git repository" in message.details


def test_folder_upload_takes_tracked_and_untracked_not_ignored(tmp_path, run_async, git_repo):
    provider = LocalProvider(tmp_path / "ws", isolate=False)
    box = run_async(provider.create(SandboxSpec(session_id="up", name="up")))
    report = run_async(box.get_project(FolderProject(git_repo), lambda _m: None))
    project = Path(box.project_dir)
    assert sorted(p.name for p in project.iterdir()) == [".gitignore", "README.md", "untracked.txt"]
    assert report.files == 3 and report.skipped == (".git/ (repository internals)",)
    run_async(box.kill())


def test_plain_folder_upload_skips_git_internals_and_links(tmp_path, run_async):
    folder = tmp_path / "plain"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.py").write_text("print(1)\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref\n")
    (folder / "link").symlink_to("/etc/passwd")
    box = run_async(LocalProvider(tmp_path / "ws", isolate=False).create(SandboxSpec(session_id="p", name="p")))
    report = run_async(box.get_project(FolderProject(folder), lambda _m: None))
    assert report.files == 1
    assert set(report.skipped) == {".git/ (repository internals)", "link (symbolic link)"}
    assert (Path(box.project_dir) / "src" / "main.py").read_text() == "print(1)\n"
    run_async(box.kill())


def test_a_child_that_left_the_process_group_does_not_hold_the_end(sandbox, run_async):
    """A daemon started with setsid keeps the output pipes open; the command still ends."""
    result, output = run(run_async, sandbox, "setsid sleep 30 & echo started")
    assert result.ok and output.out == b"started\n"
    subprocess.run(["pkill", "-f", "^sleep 30$"], check=False)
