"""The test harness itself: private home, qasync loop, the leftover-task check."""

import asyncio
import os
from pathlib import Path

import qasync

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]


def test_home_is_private():
    home = Path(os.environ["HOME"])
    assert home.name.startswith("sesame-test-home-")
    assert os.environ["XDG_CONFIG_HOME"].startswith(str(home))


def test_async_code_runs_on_the_qt_loop(run_async):
    async def work():
        await asyncio.sleep(0.01)
        return asyncio.get_running_loop()

    assert isinstance(run_async(work()), qasync.QEventLoop)


def test_a_test_that_leaves_a_task_running_fails(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makeconftest((REPO / "tests" / "conftest.py").read_text())
    pytester.makepyfile(
        """
        import asyncio

        def test_leaks(qtbot):
            asyncio.ensure_future(asyncio.sleep(3600))

        def test_clean(run_async):
            assert run_async(asyncio.sleep(0, result=7)) == 7
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["test left asyncio tasks running:", "*coroutine object sleep*"])
