"""What the session changed, computed inside the sandbox with git, against where it started.

The start point is kept in the sandbox itself, under ``$HOME/.sesame/changes`` (outside the
project, so the agent and the Files tab do not see it):

- a **cloned** project: the commit that was cloned (``base``), and a private index file, so
  the project's own index and history are never touched;
- an **uploaded** (or empty) project: a snapshot taken right after the upload, committed to a
  private repository whose work tree is the project folder.

Either way ``git add -A`` into the private index then ``git diff --cached <base>`` lists what
changed, new files included, ``.gitignore`` respected (``node_modules`` stays out). The base
survives an app restart because it lives in the sandbox.
"""

from __future__ import annotations

import shlex

from sesame_desktop.core.changes import MAX_DIFF_BYTES, SECTION_MARK, ChangedFile, ChangeList, FileDiff, file_diff, parse_changes
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.sandbox.base import Sandbox

STATE_DIR = "$HOME/.sesame/changes"
GIT_ID = "-c user.name=Sesame -c user.email=sesame@localhost -c commit.gpgsign=false"
TIMEOUT_S = 120.0


def _env(sandbox: Sandbox, shadow: bool) -> str:
    project = shlex.quote(sandbox.project_dir)
    common = f"S={STATE_DIR}; export GIT_INDEX_FILE=\"$S/index\" GIT_OPTIONAL_LOCKS=0 GIT_LITERAL_PATHSPECS=1; cd {project} || exit 3; "
    if shadow:
        return common + f"export GIT_DIR=\"$S/repo.git\" GIT_WORK_TREE={project}; "
    return common


def _mode(sandbox: Sandbox) -> str:
    return f"S={STATE_DIR}; cat \"$S/mode\" 2>/dev/null"


async def _capture(sandbox: Sandbox, command: str) -> tuple[int | None, str]:
    out = bytearray()
    err = bytearray()
    result = await sandbox.run(command, on_stdout=out.extend, on_stderr=err.extend, cwd=sandbox.project_dir,
                               timeout_s=TIMEOUT_S)
    text = out.decode("utf-8", "replace")
    if result.exit_code != 0:
        text += err.decode("utf-8", "replace")
    return result.exit_code, text


async def take_base(sandbox: Sandbox, *, cloned: bool) -> None:
    """Record where the session starts (call once the project is in place, before any task)."""
    if cloned:
        script = (f"S={STATE_DIR}; rm -rf \"$S\"; mkdir -p \"$S\" && "
                  f"git -C {shlex.quote(sandbox.project_dir)} rev-parse HEAD > \"$S/base\" && echo git > \"$S/mode\"")
    else:
        script = (f"S={STATE_DIR}; rm -rf \"$S\"; mkdir -p \"$S\" && git init -q --bare \"$S/repo.git\" && "
                  f"{_env(sandbox, True)}git add -A && "
                  f"git {GIT_ID} commit -q --allow-empty --no-verify -m 'start of the session' && "
                  "git rev-parse HEAD > \"$S/base\" && echo shadow > \"$S/mode\"")
    code, output = await _capture(sandbox, script)
    if code != 0:
        raise UserFacingError(UserMessage(
            "Changes cannot be tracked",
            "The start point for the Changes tab could not be recorded (git may be missing in the sandbox).",
            "The session goes on; the Changes tab stays empty.", details=output[-2000:]))


async def _shadow(sandbox: Sandbox) -> bool | None:
    """True for an upload's private repository, False for a clone, None when no base exists."""
    _code, mode = await _capture(sandbox, _mode(sandbox))
    mode = mode.strip()
    if mode not in ("git", "shadow"):
        return None
    return mode == "shadow"


_REFRESH_INDEX = "[ -f \"$GIT_INDEX_FILE\" ] || git read-tree \"$(cat \"$S/base\")\" || exit 4; git add -A || exit 5; "


async def list_changes(sandbox: Sandbox) -> ChangeList | None:
    """The files changed since the start point; None when the session has no start point."""
    shadow = await _shadow(sandbox)
    if shadow is None:
        return None
    mark = SECTION_MARK.replace("\x00", "\\0")
    script = (_env(sandbox, shadow) + _REFRESH_INDEX + "B=$(cat \"$S/base\"); "
              "git diff --cached --no-renames -z --name-status \"$B\" && "
              f"printf '{mark}' && git diff --cached --no-renames -z --numstat \"$B\"")
    code, output = await _capture(sandbox, script)
    if code != 0:
        raise UserFacingError(UserMessage("Changes not read", "git could not list the session's changes.",
                                          "They are read again when files change.", details=output[-2000:]))
    return parse_changes(output)


async def diff_of(sandbox: Sandbox, change: ChangedFile) -> FileDiff:
    """The unified diff of one changed file against the start point (large ones are named only)."""
    shadow = await _shadow(sandbox)
    if shadow is None or change.binary:
        return file_diff(change, "", truncated=False)
    path = shlex.quote(change.path)
    script = (_env(sandbox, shadow) + _REFRESH_INDEX + "B=$(cat \"$S/base\"); "
              f"git diff --cached --no-renames --no-color --no-ext-diff \"$B\" -- {path} | head -c {MAX_DIFF_BYTES + 1}")
    code, output = await _capture(sandbox, script)
    if code != 0:
        return FileDiff(change.path, note=f"{change.path}: the diff could not be read.")
    return file_diff(change, output, truncated=len(output.encode()) > MAX_DIFF_BYTES)
