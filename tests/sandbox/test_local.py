"""The local provider with real processes, real bubblewrap and real git."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.core.sessions import FolderProject, GitProject
from sesame_desktop.core.shells import system_shell
from sesame_desktop.sandbox.base import PROJECT_DIR, SandboxSpec
from sesame_desktop.sandbox.local import LocalProvider, bubblewrap_works
from tests.sandbox.output import Output


@pytest.fixture(params=[True, False], ids=["bwrap", "plain"])
def sandbox(request, tmp_path, run_async):
    if os.name == "nt":
        pytest.skip("bash commands; test_local_cross_platform.py runs the same paths in PowerShell")
    if request.param and not sys.platform.startswith("linux"):
        pytest.skip("bubblewrap isolates local sessions on Linux only")
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

    members: list[psutil.Process] = []

    async def scenario():
        handle = await sandbox.start("sleep 300 & sleep 301; echo never", on_stdout=output.on_out,
                                     on_stderr=output.on_err)
        while len([p for p in handle.tree.members() if p.name() == "sleep"]) < 2:
            await asyncio.sleep(0.02)
        members.extend(handle.tree.members())
        await handle.kill()
        return await handle.wait()

    result = run_async(scenario())
    assert result.exit_code is None and result.signal_name == "killed"
    assert b"never" not in output.out
    # (This machine's other sleeps are not the command's: only its own processes are checked.
    # SIGKILL is sent; a process may take a moment to be gone.)
    wait_for(run_async, lambda: not [p for p in members if alive(p)])


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
    result, output = run(run_async, sandbox, "setsid sleep 30 & echo started $!")
    word, pid = output.out.decode().split()
    assert result.ok and word == "started"
    if not sandbox.isolated:  # (isolated, it ended with its PID namespace)
        os.kill(int(pid), 9)


# -- ending commands: interrupt with escalation, the whole tree ------------------------------

def start(run_async, box, command, output=None):
    output = output or Output()
    return run_async(box.start(command, on_stdout=output.on_out, on_stderr=output.on_err)), output


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_for(run_async, condition, timeout=10.0):
    """Wait for ``condition`` with the event loop running (output arrives through it)."""
    async def poll():
        while not condition():
            await asyncio.sleep(0.02)

    run_async(poll(), timeout=timeout)


@pytest.mark.parametrize(("script", "ended_by", "cleaned"), [
    # Handles Ctrl+C: cleans up and exits with its own status, within the grace period.
    ("trap 'echo cleaned; exit 5' INT; echo ready; while :; do sleep 0.05; done", None, True),
    # Ignores SIGINT: SIGTERM ends it.
    ("trap '' INT; echo ready; sleep 300", "terminated", False),
    # Ignores both: SIGKILL ends it.
    ("trap '' INT TERM; echo ready; while :; do sleep 0.05; done", "killed", False),
], ids=["handles-int", "ignores-int", "ignores-int-and-term"])
def test_interrupt_escalates_int_term_kill(sandbox, run_async, script, ended_by, cleaned):
    handle, output = start(run_async, sandbox, script)
    wait_for(run_async, lambda: b"ready" in output.out)
    started = time.monotonic()
    result = run_async(handle.interrupt(grace_s=0.5), timeout=30)
    assert result.signal_name == ended_by
    assert (result.exit_code == 5) is cleaned and (b"cleaned" in output.out) is cleaned
    steps = {None: 0, "terminated": 1, "killed": 2}[ended_by]
    assert time.monotonic() - started >= 0.5 * steps  # each step waited its grace period
    wait_for(run_async, lambda: not handle.tree.members())  # (a killed process may take a moment)


needs_setsid = pytest.mark.skipif(shutil.which("setsid") is None, reason="setsid (util-linux) is Linux's")


@needs_setsid
def test_interrupt_and_kill_reach_a_child_that_left_the_group(sandbox, run_async, tmp_path):
    """A child in a session of its own is still the command's: Stop ends it too."""
    handle, output = start(run_async, sandbox, "setsid sleep 307 & echo child=$!; wait")
    wait_for(run_async, lambda: b"child=" in output.out)
    wait_for(run_async, lambda: any(p.cmdline()[-2:] == ["sleep", "307"] for p in handle.tree.members()))
    (child,) = [p for p in handle.tree.members() if p.cmdline()[-2:] == ["sleep", "307"]]
    run_async(handle.interrupt(grace_s=0.5), timeout=30)
    wait_for(run_async, lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE)


@needs_setsid
def test_a_daemon_seen_in_the_tree_ends_with_the_session(tmp_path, run_async):
    """Without isolation a double-forked daemon leaves the tree; once seen, the session still ends it."""
    box = run_async(LocalProvider(tmp_path / "ws", isolate=False).create(SandboxSpec("d", "d")))
    run_async(box.get_project(None, lambda _m: None))
    handle, output = start(run_async, box, "(setsid sleep 308 & echo pid=$!; sleep 1) ; wait")
    wait_for(run_async, lambda: b"pid=" in output.out)
    daemon = int(output.out.decode().split("pid=")[1].split()[0])
    wait_for(run_async, lambda: daemon in {p.pid for p in box.process_trees()[0].members()})  # a port scan's look
    run_async(handle.wait(), timeout=30)  # the command ended; the daemon did not
    assert psutil.pid_exists(daemon)
    run_async(box.kill())
    wait_for(run_async, lambda: not psutil.pid_exists(daemon) or psutil.Process(daemon).status() == psutil.STATUS_ZOMBIE)


def test_the_shell_is_named_and_used(sandbox, run_async):
    assert sandbox.shell_name == ("bash" if sandbox.isolated else system_shell().name)
    assert sandbox.full_rights is not sandbox.isolated
    result, output = run(run_async, sandbox, "echo $BASH_VERSION")
    assert output.out.strip()  # bash ran it
