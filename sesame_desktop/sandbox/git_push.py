"""Commit a session's work to a branch and push it, from inside the sandbox.

The token for the push is handed to git through an askpass helper for that one command: the
helper (a file in the sandbox, holding no secret) prints the token from an environment
variable that only the push command gets. The token is never part of a URL, the remote's
configuration, a command line or the output.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass

from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.logs import scrub
from sesame_desktop.core.secret import Secret
from sesame_desktop.sandbox.base import Sandbox

ASKPASS = """#!/bin/sh
# Answers git's credential questions from this one command's environment.
case "$1" in
  Username*) printf '%s\\n' "${SESAME_GIT_USERNAME:-x-access-token}" ;;
  *) printf '%s\\n' "$SESAME_GIT_TOKEN" ;;
esac
"""
BASE_MARK = "sesame-base-branch:"
PUSH_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class PushResult:
    """A pushed branch.

    Attributes:
        base: the branch it was started from (for the pull request), "" when unknown.
        output: what git printed (scrubbed), for people.
    """

    branch: str
    base: str
    output: str


def askpass_path(sandbox: Sandbox) -> str:
    return posixpath.join(posixpath.dirname(sandbox.project_dir.rstrip("/")), ".sesame", "git-askpass")


def push_script(branch: str, message: str) -> str:
    """The shell script that commits everything to ``branch`` and pushes it to ``origin``."""
    b, m = shlex.quote(branch), shlex.quote(message)
    return "\n".join([
        "set -e",
        "git config user.name >/dev/null 2>&1 || export GIT_AUTHOR_NAME='Sesame Desktop' "
        "GIT_COMMITTER_NAME='Sesame Desktop'",
        "git config user.email >/dev/null 2>&1 || export GIT_AUTHOR_EMAIL='sesame@localhost' "
        "GIT_COMMITTER_EMAIL='sesame@localhost'",
        "base=$(git symbolic-ref --quiet --short HEAD 2>/dev/null || true)",
        f"if [ -z \"$base\" ] || [ \"$base\" = {b} ]; then "
        "base=$(git symbolic-ref --quiet --short refs/remotes/origin/HEAD 2>/dev/null | sed 's|^origin/||'); fi",
        f"printf '{BASE_MARK}%s\\n' \"$base\"",
        f"git checkout -q -B {b}",
        "git add -A",
        f"git diff --cached --quiet || git -c commit.gpgsign=false commit -q --no-verify -m {m}",
        f"git -c credential.helper= push --porcelain origin HEAD:refs/heads/{b}",
    ])


async def push_branch(sandbox: Sandbox, *, branch: str, message: str, token: Secret | None,
                      username: str = "") -> PushResult:
    """Commit the project's changes to ``branch`` and push it to ``origin``.

    Raises:
        UserFacingError: git refused (no remote, rejected token, conflict); its words included.
    """
    helper = askpass_path(sandbox)
    await sandbox.write_file(helper, ASKPASS.encode())
    output = bytearray()
    envs = {"GIT_ASKPASS": helper, "GIT_TERMINAL_PROMPT": "0", "SESAME_GIT_TOKEN": token.reveal() if token else ""}
    if username:
        envs["SESAME_GIT_USERNAME"] = username
    result = await sandbox.run(f"chmod 700 {shlex.quote(helper)} && " + push_script(branch, message),
                               on_stdout=output.extend, on_stderr=output.extend, timeout_s=PUSH_TIMEOUT_S,
                               envs=envs)
    text = scrub(output.decode("utf-8", "replace"))
    if token:
        text = text.replace(token.reveal(), "********")
    base = ""
    lines = []
    for line in text.splitlines():
        if line.startswith(BASE_MARK):
            base = line.removeprefix(BASE_MARK).strip()
        else:
            lines.append(line)
    shown = "\n".join(lines).strip()
    if not result.ok:
        lowered = shown.lower()
        if "authentication failed" in lowered or "401" in lowered or "could not read username" in lowered \
                or "could not read password" in lowered or "403" in lowered:
            raise UserFacingError(UserMessage(
                "The push was refused", "The git host did not accept the token for this repository.",
                "Check that the token is valid and may push to this repository, then try again.", details=shown[-3000:]))
        if "no such remote" in lowered or "'origin' does not appear" in lowered:
            raise UserFacingError(UserMessage(
                "Nowhere to push", "This project has no remote repository (it was not cloned from one).",
                "Use Save patch or Apply to my folder instead.", details=shown[-3000:]))
        raise UserFacingError(UserMessage("The push failed", "git could not push the branch.",
                                          "Read git's message below, fix the cause and try again.",
                                          details=shown[-3000:]))
    return PushResult(branch, base if base != branch else "", shown)
