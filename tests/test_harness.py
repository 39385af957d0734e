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


def test_a_test_that_leaves_a_timer_or_a_thread_running_fails(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makeconftest((REPO / "tests" / "conftest.py").read_text())
    pytester.makepyfile(
        """
        import threading
        from PySide6.QtCore import QTimer

        KEEP = []
        STOP = threading.Event()

        def test_leaks_a_timer(qtbot):
            timer = QTimer()
            timer.start(1000)
            KEEP.append(timer)

        def test_leaks_a_thread():
            threading.Thread(target=STOP.wait, name="forgotten-worker", daemon=True).start()

        def test_clean(qtbot):
            STOP.set()
            timer = QTimer()
            timer.start(1000)
            timer.stop()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*test left timers or threads running:*", "*QTimer every 1000 ms*"])
    result.stdout.fnmatch_lines(["*thread 'forgotten-worker'*"])


def test_warnings_fail_tests(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makeconftest((REPO / "tests" / "conftest.py").read_text())
    import tomllib

    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    pytester.makeini("[pytest]\nqt_api = pyside6\n"
                     f"qt_log_level_fail = {options['qt_log_level_fail']}\n"
                     "filterwarnings =\n" + "".join(f"    {w}\n" for w in options["filterwarnings"]))
    pytester.makepyfile(
        """
        import warnings
        from PySide6.QtCore import qWarning

        def test_python_warning():
            warnings.warn("careful", DeprecationWarning)

        def test_qt_warning(qtbot):
            qWarning("something is off")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(failed=2)
