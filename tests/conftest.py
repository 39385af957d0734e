"""Test harness shared by the whole suite.

- Qt runs on the offscreen platform (set before any QApplication exists).
- One qasync event loop for the session, installed as asyncio's loop, so that async slots and
  ``asyncio.sleep`` advance whenever Qt processes events (``qtbot.wait*``).
- A test that leaves asyncio tasks running once its fixtures are torn down fails; the tasks
  are cancelled then, so they never resume in the next test on deleted objects.
- A test that leaves a started ``QTimer`` running, or a Python thread it started still alive
  (after a short grace period), once its fixtures are torn down fails too.
- ``run_async`` drives a coroutine to completion from a synchronous test through qtbot.
- hypothesis is imported up front: its pytest plugin otherwise imports (and compiles) it in
  the terminal summary, after the Qt tests, where CPython 3.11.7 can fail with "AST
  constructor recursion depth mismatch" and turn a green run red.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QT_API"] = "pyside6"
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

import asyncio  # noqa: E402
import threading  # noqa: E402
import weakref  # noqa: E402
from collections.abc import Awaitable, Callable, Iterator  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import hypothesis.internal.observability  # noqa: E402,F401  (see below)
import PySide6  # noqa: E402,F401  (qasync picks its binding at import: PySide6 first)
import pytest  # noqa: E402
import qasync  # noqa: E402
import shiboken6  # noqa: E402
from PySide6.QtCore import QCoreApplication, QEvent, QTimer  # noqa: E402

T = TypeVar("T")

pytest_plugins = ["tests.fixtures.keyring_service", "tests.fixtures.app_env", "tests.fixtures.git_repos", "tests.fixtures.agent_cli", "tests.fixtures.git_server", "tests.e2b_server.pytest_plugin"]


@pytest.fixture(scope="session")
def qasync_loop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    """The qasync loop on top of pytest-qt's QApplication, set as asyncio's loop."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    executor = qasync.QThreadExecutor(4)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    executor.shutdown(wait=True)


@pytest.fixture(autouse=True)
def _event_loop_for_every_test(qasync_loop) -> asyncio.AbstractEventLoop:
    """Every test sees the qasync loop as asyncio's current loop."""
    return qasync_loop


def _pending_tasks(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks(loop) if not t.done()]


# -- QTimers and threads left running ---------------------------------------------------------

_started_timers: weakref.WeakSet[QTimer] = weakref.WeakSet()
_original_timer_start = QTimer.start


def _tracking_start(self: QTimer, *args: Any) -> None:
    _started_timers.add(self)
    _original_timer_start(self, *args)


QTimer.start = _tracking_start  # type: ignore[method-assign]

THREAD_GRACE_S = 3.0
_THREADS_KEY = pytest.StashKey[set[int]]()


def _python_threads() -> list[threading.Thread]:
    # _DummyThread: a Qt or library thread that once ran Python code; it cannot be joined.
    return [t for t in threading.enumerate() if t.is_alive() and not isinstance(t, threading._DummyThread)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    _started_timers.clear()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Note the threads alive once the fixtures are set up (theirs are not the test's)."""
    item.stash[_THREADS_KEY] = {id(t) for t in _python_threads()}
    return (yield)


def _running_timers() -> list[str]:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # closed widgets go first
    running = []
    for timer in list(_started_timers):
        if shiboken6.isValid(timer) and timer.isActive():
            parent = timer.parent()
            running.append(f"QTimer every {timer.interval()} ms"
                           f"{' of ' + type(parent).__name__ if parent is not None else ''}"
                           f"{' (' + timer.objectName() + ')' if timer.objectName() else ''}")
            timer.stop()
    _started_timers.clear()
    return running


def _leftover_threads(item: pytest.Item) -> list[str]:
    before = item.stash.get(_THREADS_KEY, None)
    if before is None:
        return []
    new = [t for t in _python_threads() if id(t) not in before]
    for thread in new:
        thread.join(THREAD_GRACE_S / max(1, len(new)))
    return [f"thread {t.name!r}" for t in new if t.is_alive()]


def _leftover_tasks(item: pytest.Item) -> list[str]:
    """Pending asyncio tasks, cancelled (and waited for) so they never resume in the next test."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return []
    if not isinstance(loop, qasync.QEventLoop):
        return []
    pending = _pending_tasks(loop)
    if not pending:
        return []
    leftovers = [repr(t.get_coro()) for t in pending]
    for task in pending:
        task.cancel()
    from pytestqt.qtbot import QtBot  # local: only when needed

    try:
        QtBot(item).waitUntil(lambda: not _pending_tasks(loop), timeout=5000)
    except Exception:  # noqa: BLE001 - reported below with the task list
        leftovers.append("(some tasks did not finish within 5 s of cancel)")
    return leftovers


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After the test's fixtures are torn down, fail the test if tasks, timers or threads remain.

    Fixtures may end what they started (a session manager's ``close()``); whatever is still
    pending afterwards is cancelled or stopped here, before the next test, so it never
    resumes there.
    """
    result = yield
    tasks = _leftover_tasks(item)
    others = _running_timers() + _leftover_threads(item)
    if item.config.getoption("--allow-leftover-tasks"):
        return result
    if tasks:
        pytest.fail("test left asyncio tasks running:\n  " + "\n  ".join(tasks + others), pytrace=False)
    if others:
        pytest.fail("test left timers or threads running:\n  " + "\n  ".join(others), pytrace=False)
    return result


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--allow-leftover-tasks",
        action="store_true",
        default=False,
        help="do not fail tests that leave asyncio tasks, QTimers or threads running (debugging only)",
    )


@pytest.fixture
def run_async(qtbot, qasync_loop) -> Callable[..., Any]:
    """Run a coroutine on the qasync loop and return its result (or raise its exception)."""

    def run(awaitable: Awaitable[T], timeout: float = 20.0) -> T:
        task = asyncio.ensure_future(awaitable, loop=qasync_loop)
        try:
            qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        except Exception:
            task.cancel()
            qtbot.waitUntil(task.done, timeout=5000)
            raise
        return task.result()

    return run
