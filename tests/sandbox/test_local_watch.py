"""The local provider's file watch: a burst of changes reaches the app a slice at a time.

Real inotify (through watchfiles), real files written by a real command in the session. A
ticker task counts the turns of the event loop; no turn may carry more than ``MAX_PER_TURN``
reported changes, so a build writing thousands of files cannot freeze the window while its
changes are handed on. (How long a turn takes is measured by bench/file_tree.py.)
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter

import pytest

from sesame_desktop.sandbox.base import SandboxSpec
from sesame_desktop.sandbox.local import LocalProvider, bubblewrap_works
from tests.sandbox.output import Output

FILES = 10_000
MAX_PER_TURN = 500  # changes handed on in one turn of the event loop


@pytest.fixture(params=[True, False], ids=["bwrap", "plain"])
def sandbox(request, tmp_path, run_async):
    if os.name == "nt":
        pytest.skip("inotify and bash: Linux only")
    if request.param and not run_async(bubblewrap_works()):
        pytest.fail("bubblewrap is needed for the isolated local provider (scripts/system-packages.txt)")
    box = run_async(LocalProvider(tmp_path / "workspaces", isolate=request.param).create(
        SandboxSpec(session_id="s1", name="watch")))
    run_async(box.get_project(None, lambda _m: None))
    yield box
    run_async(box.kill())


def test_a_burst_of_changes_is_handed_on_in_slices_with_sandbox_paths(sandbox, run_async):
    project = sandbox.project_dir
    turn = 0
    seen: list[tuple[int, str]] = []

    async def ticker() -> None:
        nonlocal turn
        while True:
            turn += 1
            await asyncio.sleep(0)

    async def scenario() -> None:
        ticking = asyncio.ensure_future(ticker())
        watch = await sandbox.watch(project, lambda path: seen.append((turn, path)))
        try:
            for attempt in range(200):  # until the watch is set up and reports
                await run_command(f"touch ready-{attempt}")
                await asyncio.sleep(0.05)
                if seen:
                    break
            seen.clear()
            await run_command(f"mkdir -p many node_modules/pkg && cd many && python3 -c \"import os\n"
                              f"for i in range({FILES}): open(f'file-{{i:05}}.txt', 'w').close()\" "
                              f"&& touch ../node_modules/pkg/inside.js")
            count = -1
            while count != len(seen):  # until the watch has been quiet for half a second
                count = len(seen)
                await asyncio.sleep(0.5)
        finally:
            await watch.stop()
            ticking.cancel()

    async def run_command(command: str) -> None:
        output = Output()
        result = await sandbox.run(command, on_stdout=output.on_out, on_stderr=output.on_err)
        assert result.ok, output.err

    run_async(scenario(), timeout=120)
    paths = {path for _turn, path in seen}
    files = {path for path in paths if path.startswith(f"{project}/many/file-")}
    # A busy machine's kernel may drop some events of such a burst (inotify's queue holds
    # 16,384); most of them arrive, each as the path commands see.
    assert len(files) >= FILES // 2 and files <= {f"{project}/many/file-{i:05}.txt" for i in range(FILES)}
    assert f"{project}/node_modules" in paths  # a heavy folder itself is shown…
    assert not any("/node_modules/" in path for path in paths)  # …what happens inside it is left out
    busiest = max(Counter(t for t, _p in seen).values())
    assert busiest <= MAX_PER_TURN, f"{busiest:,} changes handed on in one turn of the event loop"
