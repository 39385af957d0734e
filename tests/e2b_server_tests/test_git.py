"""The SDK's git helpers in a sandbox: clone from a server on the host (through the
sandbox's network), configure, stage, commit, branch, status, push."""

from __future__ import annotations

from e2b import AsyncSandbox, Sandbox


def test_git_helpers_clone_commit_branch_push_sync(e2b_server, git_http_url) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    sbx.git.clone(git_http_url, path="/home/user/demo")
    assert sbx.files.read("/home/user/demo/README.md").startswith("# Demo")
    sbx.git.configure_user("Sandbox User", "user@example.com")
    sbx.git.init("/home/user/remote.git", bare=True, initial_branch="main")
    sbx.git.remote_add("/home/user/demo", "mine", "/home/user/remote.git")
    sbx.git.create_branch("/home/user/demo", "feature")
    sbx.files.write("/home/user/demo/new.txt", "new")
    status = sbx.git.status("/home/user/demo")
    assert status.current_branch == "feature"
    assert [f.name for f in status.file_status] == ["new.txt"]
    sbx.git.add("/home/user/demo")
    sbx.git.commit("/home/user/demo", "add new.txt")
    sbx.git.push("/home/user/demo", remote="mine", branch="feature")
    branches = sbx.git.branches("/home/user/demo")
    assert branches.current_branch == "feature" and set(branches.branches) >= {"main", "feature"}
    log = sbx.commands.run("git -C /home/user/remote.git log --format='%an %s' feature").stdout
    assert log.splitlines()[0] == "Sandbox User add new.txt"


def test_git_helpers_async(e2b_env, git_http_url, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        await sbx.git.clone(git_http_url, path="repo")
        await sbx.files.write("repo/README.md", "changed\n")
        status = await sbx.git.status("repo")
        return status

    status = run_async(go(), timeout=60)
    assert status.current_branch == "main"
    assert [(f.name, f.status) for f in status.file_status] == [("README.md", "modified")]
